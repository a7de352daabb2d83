"""HTTP resources of hotline.routing: GET /api/route.

This is the platform's hot path (the telephony proxy asks it for every call), so the handler reads the
query string itself and returns ready-made JSON bytes: FastAPI's per-parameter validation and response
encoding cost more than the decision. The parameters are still documented in the OpenAPI schema.
"""

from __future__ import annotations

import json
from functools import lru_cache

from fastapi import APIRouter, Request, Response

from hotline.errors import InvalidInput
from hotline.plan.regions import PROVINCE
from hotline.routing.domain import RouteDecision
from hotline.routing.service import decide_request
from hotline.timeutil import now, parse_instant

router = APIRouter(tags=["routing"])

_PARAMETERS = [
    {"name": "dialed", "in": "query", "required": True, "schema": {"type": "string"}, "description": "被叫号码"},
    {
        "name": "region",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "default": PROVINCE.code},
        "description": "来电地区：代码、名称或别名，默认省本级",
    },
    {
        "name": "at",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "时刻 ISO 8601（不带时区按北京时间），默认现在",
    },
]
_RESPONSES = {
    200: {
        "description": "路由决定：action, prompt, skill, target, reason",
        "content": {
            "application/json": {
                "example": {
                    "action": "queue",
                    "prompt": "transition:12331",
                    "skill": "12331",
                    "target": "queue:510100",
                    "reason": "12331已并入12345热线，过渡期双号接听……",
                }
            }
        },
    },
    404: {"description": "未知地区 (region-not-found)"},
    422: {"description": "参数不正确 (invalid-input, invalid-time, invalid-number)"},
}


@lru_cache(maxsize=4096)
def _json(decision: RouteDecision) -> bytes:
    return json.dumps(decision.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


async def route(request: Request) -> Response:
    """Where a call goes: action, prompt, skill, target, reason (same JSON as `hotline route --json`)."""
    query = request.query_params
    dialed = query.get("dialed")
    if dialed is None:
        raise InvalidInput("缺少参数 dialed（被叫号码）", code="invalid-input")
    at = query.get("at")
    instant = parse_instant(at) if at else now()
    decision = decide_request(dialed, query.get("region") or PROVINCE.code, instant)
    return Response(_json(decision), media_type="application/json")


# Served by a plain Starlette route registered first: it skips FastAPI's per-request dependency
# machinery, which costs more than the decision (about half of the server's time per request). The
# same handler is registered again as a FastAPI route after it, only so that OpenAPI documents it.
router.add_route("/api/route", route, methods=["GET"], include_in_schema=False)
router.add_api_route(
    "/api/route",
    route,
    methods=["GET"],
    openapi_extra={"parameters": _PARAMETERS},
    responses=_RESPONSES,  # type: ignore[arg-type]
)
