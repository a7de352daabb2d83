"""HTTP resources of hotline.dispatch."""

from fastapi import APIRouter

router = APIRouter()
