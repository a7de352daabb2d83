"""HTTP resources of supervision."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from hotline import workbooks
from hotline.accounts.api import identity_of
from hotline.deps import SESSION
from hotline.quality.api import sees_agents
from hotline.supervision import export, service

router = APIRouter(tags=["supervision"])


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
