"""The 热点诉求 page (/hotspots): what citizens called about most over a period, what rose against the period of
the same length just before, and where.

A thin handler over `supervision.service.hotspots` (the function behind `GET /api/supervision/hotspots`); who may
open it is the access table's rule (MONITORS), as for 考核指标. Each category links to the order list narrowed to
it, the period and the region (this period's count and the previous period's), each example order to its page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError
from hotline.supervision import service as supervision
from hotline.supervision.hotspots import RISE_MIN, RISE_RATIO, change_label
from hotline.web.pages import _error_page, render, templates

router = APIRouter(include_in_schema=False)

TITLE = "热点诉求"


def orders_href(since: str, until: str, region: str | None, **narrowed: str) -> str:
    """The order list (/orders) narrowed to the period, the region and NARROWED (a category, or words: the list
    finds a word anywhere in the content or the place, where 热词 counts it as a word jieba cut)."""
    query = {**narrowed, "since": since, "until": until, **({"region": region} if region else {})}
    return f"/orders?{urlencode(query)}"


def order_href(number: str) -> str:
    return f"/orders/{quote(number, safe='')}"


@router.get("/hotspots", response_class=HTMLResponse)
def hotspots_page(
    request: Request, since: str = "", until: str = "", region: str = "", session: Session = SESSION
) -> HTMLResponse:
    context: dict[str, Any] = {"since": since, "until": until, "region": region, "report": None}
    try:
        start, end = supervision.period_of(since, until, days=supervision.HOTSPOT_DAYS)
        report = supervision.hotspots(session, start, end, region=region or None)
    except HotlineError as exc:
        return _error_page(request, "hotspots.html", TITLE, exc, **context)
    region_code = report["region"]
    previous = report["previous"]
    for item in (*report["categories"], *report["rising"]):
        for shown in (item, *item.get("children", ())):
            if shown["category"]:  # 未分类 has no filter of its own
                shown["href"] = orders_href(report["since"], report["until"], region_code, category=shown["category"])
                shown["before_href"] = orders_href(
                    previous["since"], previous["until"], region_code, category=shown["category"]
                )
    for word in report["keywords"]:
        word["href"] = orders_href(report["since"], report["until"], region_code, words=word["name"])
    context.update(
        since=start.isoformat(),
        until=end.isoformat(),
        region=region_code or "",
        report=report,
        rule=f"较上期增加不少于 {RISE_RATIO:.0%} 且不少于 {RISE_MIN} 件",
        latest=_latest(session, report, start, region_code),
    )
    return render(request, "hotspots.html", TITLE, **context)


def _latest(session: Session, report: dict[str, Any], start: date, region: str | None) -> dict[str, str] | None:
    """An empty period (the demo's orders are from the plan's year): the 7 days up to the latest order taken in."""
    if report["orders"]:
        return None
    latest = supervision.latest_order_day(session, region=region)
    if latest is None or latest >= start:
        return None
    first = latest - timedelta(days=supervision.HOTSPOT_DAYS - 1)
    query = {"since": first.isoformat(), "until": latest.isoformat(), **({"region": region} if region else {})}
    return {"day": latest.isoformat(), "href": f"/hotspots?{urlencode(query)}"}


def _change(item: dict[str, Any]) -> str:
    return change_label(item["count"], item["before"])


# The template's helpers: 环比 as +35% / −10% / 新出现, and an order's link.
templates.env.filters["hot_change"] = _change
templates.env.filters["order_href"] = order_href
