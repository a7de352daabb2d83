"""HTTP resources of hotline.plan."""

from fastapi import APIRouter

router = APIRouter()
