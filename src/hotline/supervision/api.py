"""HTTP resources of supervision."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hotline import workbooks
from hotline.accounts.api import identity_of
from hotline.db import session_scope
from hotline.deps import SESSION
from hotline.errors import HotlineError
from hotline.plan.regions import find_region
from hotline.quality.api import sees_agents
from hotline.supervision import export, monitor, service
from hotline.timeutil import now

router = APIRouter(tags=["supervision"])
log = logging.getLogger(__name__)


def _period(since: str | None, until: str | None) -> tuple[date, date]:
    """The period a request names (China dates, both included); default: the last 30 days."""
    return service.period_of(since, until, days=service.KPI_DAYS)


@router.get("/api/supervision/kpis")
def kpis(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Work-order and call KPIs over a period (China dates, both included; default: the last 30 days); the 质检
    figures per agent to supervisors and administrators only (`quality.domain.sees_agents`)."""
    start, end = _period(since, until)
    return service.report(session, start, end, region=region, quality_agents=sees_agents(request))


@router.get("/api/supervision/kpis/export.xlsx")
def export_kpis(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    session: Session = SESSION,
) -> Response:
    """The same report as an Excel workbook (考核报表): 总体指标, 承办单位考核, 超期工单. KPI figures, unit names
    and order numbers only, no personal data."""
    start, end = _period(since, until)
    me = identity_of(request)
    by = me.actor if me else "未登录（平台未启用登录）"
    done = export.export_report(session, start, end, region=region or None, by=by, quality_agents=sees_agents(request))
    headers = workbooks.download_headers(done.filename, done.ascii_filename)
    return Response(done.content, media_type=workbooks.XLSX, headers=headers)


@router.get("/api/supervision/hotspots")
def hotspots(
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    session: Session = SESSION,
) -> dict[str, Any]:
    """热点诉求: categories (with 环比 against the period of the same length just before), those rising clearly,
    keywords and places of the orders taken in over a period (China dates, both included; default: the last 7
    days). Counts, words, places and order numbers only: no caller."""
    start, end = service.period_of(since, until, days=service.HOTSPOT_DAYS)
    return service.hotspots(session, start, end, region=region or None)


# -- 实时监控 --------------------------------------------------------------------------------------------------------
STREAM_SECONDS = 5.0  # how often the stream sends the board


@router.get("/api/monitor")
def live_board(region: str | None = None, session: Session = SESSION) -> dict[str, Any]:
    """实时监控: callers waiting now, today's and the last 15 minutes' call figures, per region and per number
    dialed, and today's work orders (`monitor.live_board`), for REGION if named. Counts only: no caller."""
    return monitor.live_board(session, now(), region=region or None)


SHARED_SECONDS = 2.0  # streams of the same board within this long share one reading of it
_shared: dict[tuple[str, str | None], tuple[float, dict[str, Any]]] = {}


def _board_now(region_code: str | None, *, shared: bool) -> dict[str, Any]:
    """The board now, read once for every stream of it (a floor keeps several screens on the same board): with SHARED,
    a reading less than SHARED_SECONDS old is sent again rather than read anew. A stream's first board is read
    afresh, so that it is never older than the page that opened the stream."""
    with session_scope() as session:
        key = (str(session.get_bind().engine.url), region_code)
        clock, hit = time.monotonic(), _shared.get(key)
        if shared and hit is not None and hit[0] > clock:
            return hit[1]
        board = monitor.live_board(session, now(), region=region_code)
    _shared[key] = (clock + SHARED_SECONDS, board)  # a key per database and region: a few dozen at most
    return board


async def _board_events(region_code: str | None) -> AsyncIterator[str]:
    """The board as Server-Sent Events, one every STREAM_SECONDS, each in a unit of work of its own (no session is
    held between them). A board that cannot be read is said as a `failed` event, and the next one tried."""
    yield f"retry: {int(STREAM_SECONDS * 1000)}\n\n"
    shared = False
    while True:
        try:
            board = await run_in_threadpool(partial(_board_now, region_code, shared=shared))
            shared = True
            yield f"data: {json.dumps(board, ensure_ascii=False)}\n\n"
        except (HotlineError, SQLAlchemyError):
            log.exception("the live board could not be read")
            failed = {"code": "monitor-unavailable", "message": "实时数据暂时无法读取，稍后自动重试"}
            yield f"event: failed\ndata: {json.dumps(failed, ensure_ascii=False)}\n\n"
        await asyncio.sleep(STREAM_SECONDS)


@router.get("/api/monitor/stream")
def live_board_stream(region: str | None = None) -> StreamingResponse:
    """The same board as `GET /api/monitor`, sent again every few seconds as Server-Sent Events (text/event-stream,
    each `data:` one board as JSON) until the client goes away. An unknown region is refused before it starts."""
    region_code = find_region(region).code if region else None
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy holds the events back
    return StreamingResponse(_board_events(region_code), media_type="text/event-stream", headers=headers)
