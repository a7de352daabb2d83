"""HTTP resources of hotline.routing."""

from fastapi import APIRouter

router = APIRouter()
