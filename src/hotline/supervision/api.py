"""HTTP resources of supervision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.supervision import service
from hotline.timeutil import china_day, now, parse_day

router = APIRouter(tags=["supervision"])


@router.get("/api/supervision/kpis")
def kpis(
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Work-order and call KPIs over a period (China dates, both included; default: the last 30 days)."""
    end = parse_day(until) if until else china_day(now())
    start = parse_day(since) if since else end - timedelta(days=29)
    return service.report(session, start, end, region=region)
