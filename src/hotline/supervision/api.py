"""HTTP resources of supervision."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from hotline import workbooks
from hotline.accounts.api import identity_of
from hotline.deps import SESSION
from hotline.supervision import export, service
from hotline.timeutil import china_day, now, parse_day

router = APIRouter(tags=["supervision"])


def _period(since: str | None, until: str | None) -> tuple[date, date]:
    """The period a request names (China dates, both included); default: the last 30 days."""
    end = parse_day(until) if until else china_day(now())
    return (parse_day(since) if since else end - timedelta(days=29)), end


@router.get("/api/supervision/kpis")
def kpis(
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Work-order and call KPIs over a period (China dates, both included; default: the last 30 days)."""
    start, end = _period(since, until)
    return service.report(session, start, end, region=region)


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
    done = export.export_report(session, start, end, region=region or None, by=by)
    headers = workbooks.download_headers(done.filename, done.ascii_filename)
    return Response(done.content, media_type=workbooks.XLSX, headers=headers)
