"""HTTP resources of hotline.knowledge."""

from fastapi import APIRouter

router = APIRouter()
