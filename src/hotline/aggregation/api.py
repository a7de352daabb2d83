"""HTTP resources of aggregation: sources post their batches; supervisors read each source's state and KPIs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body, Request
from sqlalchemy.orm import Session

from hotline import workers
from hotline.accounts.api import source_allowed
from hotline.aggregation import service
from hotline.db import session_scope
from hotline.deps import SESSION
from hotline.errors import InvalidInput
from hotline.settings import get_settings
from hotline.timeutil import china_day, now, parse_day

router = APIRouter(tags=["aggregation"])


@router.post("/api/feeds/{source}")
def post_batch(
    source: str,
    request: Request,
    payload: Any = Body(
        ..., description='{"records": [...]}：话务记录 kind=call、工单记录 kind=workorder；空列表即心跳'
    ),
    session: Session = SESSION,
) -> dict[str, Any]:
    """Keep a batch of a sub-centre's or city's records (all or nothing; resending is harmless).

    Signed in, a feed system's account delivers for its own source only."""
    source_allowed(request, source)
    try:
        return service.ingest(session, source, payload).to_dict()
    except InvalidInput as exc:
        # The request's own transaction is rolled back; the refusal is kept in one of its own.
        with session_scope() as own:
            service.reject(own, source, exc, transport="http")
        raise


@router.get("/api/feeds")
def feeds(session: Session = SESSION) -> dict[str, Any]:
    """Every source's connection state and today's figures."""
    return service.overview(session)


@router.get("/api/feeds/{source}/kpis")
def source_kpis(
    source: str, since: str | None = None, until: str | None = None, session: Session = SESSION
) -> dict[str, Any]:
    """A source's KPIs over a period (China dates, both included; default: the last 30 days)."""
    end = parse_day(until) if until else china_day(now())
    start = parse_day(since) if since else end - timedelta(days=29)
    return service.report(session, source, start, end)


# Here rather than in a router of its own: the listener is how batches published to the queue get in, and the
# push relay, the other worker of the same process, is told alongside.
@router.get("/api/system/queue-workers", tags=["system"])
def queue_workers() -> dict[str, Any]:
    """Whether the message-queue workers `hotline serve` keeps (the feed listener, the push relay) are running,
    each one's state since when and why (from `<data dir>/queue-workers.json`)."""
    settings = get_settings()
    return workers.read_status(settings.data_dir, enabled=settings.queue_workers).to_dict()
