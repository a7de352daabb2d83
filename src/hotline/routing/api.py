"""HTTP resources of hotline.routing: GET /api/route."""

from __future__ import annotations

from fastapi import APIRouter, Query

from hotline.plan.regions import PROVINCE
from hotline.routing.service import decide_request
from hotline.timeutil import now, parse_instant

router = APIRouter(tags=["routing"])


@router.get("/api/route")
async def route(
    dialed: str = Query(..., description="被叫号码"),
    region: str = Query(PROVINCE.code, description="来电地区：代码、名称或别名，默认省本级"),
    at: str | None = Query(None, description="时刻 ISO 8601（不带时区按北京时间），默认现在"),
) -> dict[str, str | None]:
    """Where a call goes: action, prompt, skill, target, reason.

    Async on purpose: the decision comes from an in-process snapshot (a small database look at most every
    half second), so running it on the event loop avoids a thread hop per request.
    """
    instant = parse_instant(at) if at is not None else now()
    return decide_request(dialed, region, instant).to_dict()
