"""HTTP resources of hotline.telephony."""

from fastapi import APIRouter

router = APIRouter()
