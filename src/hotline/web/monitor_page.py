"""The 实时监控 page (/monitor): the live wallboard a call-centre floor keeps up all day.

A thin handler over `supervision.monitor.live_board` (the function behind `GET /api/monitor`); who may open it is the
access table's rule (MONITORS: those who read 考核指标). The page shows the figures as they are when it loads (it
works without JavaScript, reloaded by hand), then follows `GET /api/monitor/stream` (Server-Sent Events) and updates
its numbers in place (static/monitor.js). Counts only: no caller's number is on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError
from hotline.supervision import monitor
from hotline.supervision.api import STREAM_SECONDS
from hotline.timeutil import now
from hotline.web.pages import _error_page, render

router = APIRouter(include_in_schema=False)

TITLE = "实时监控"


def orders_href(region: str | None, **narrowed: str) -> str:
    """The order list narrowed as a work-order figure counts (待派单, 已超期), in the board's region."""
    return "/orders?" + urlencode({**narrowed, **({"region": region} if region else {})})


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, region: str = "", session: Session = SESSION) -> HTMLResponse:
    context: dict[str, Any] = {"region": region.strip(), "board": None, "stream_seconds": STREAM_SECONDS}
    try:
        board = monitor.live_board(session, now(), region=region.strip() or None)
    except HotlineError as exc:
        return _error_page(request, "monitor.html", TITLE, exc, **context)
    code = board["region"]
    stream = "/api/monitor/stream" + (f"?{urlencode({'region': code})}" if code else "")
    context.update(
        region=code or "",
        board=board,
        stream_href=stream,
        to_dispatch_href=orders_href(code, state="registered"),
        overdue_href=orders_href(code, sla="overdue"),
    )
    return render(request, "monitor.html", TITLE, **context)
