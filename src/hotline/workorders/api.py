"""HTTP resources of hotline.workorders."""

from fastapi import APIRouter

router = APIRouter()
