"""Use cases of routing: decide where a call goes, from the cached plan snapshot."""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from hotline.db import get_engine, session_scope
from hotline.errors import InvalidInput
from hotline.plan.regions import find_region
from hotline.plan.service import Snapshot, fresh_snapshot, snapshot
from hotline.routing.domain import RouteDecision, route, subcenter_transfer_available, valid_until
from hotline.settings import get_settings


def decide(session: Session, dialed: str, region: str, at: datetime) -> RouteDecision:
    """Where a call to DIALED from REGION (code, name or alias) at instant AT goes.

    A naive AT is China time. Raises `region-not-found` for an unknown region and `invalid-number` for an
    empty number; an unknown number is not an error: the decision is `reject`.
    """
    return _decide(snapshot(session), dialed, region, at)


def _decide(snap: Snapshot, dialed: str, region: str, at: datetime) -> RouteDecision:
    if not dialed.strip():
        raise InvalidInput("被叫号码不能为空", code="invalid-number")
    code = find_region(region).code
    return route(dialed, code, at, snap.state, snap.calendar, snap.hours)


def decide_with_bound(
    session: Session, dialed: str, region: str, at: datetime
) -> tuple[RouteDecision, datetime | None]:
    """`decide`, and the first instant at which that decision may change (None: not while the plan stays
    as it is), both from the same plan snapshot (`hotline.routing.domain.valid_until`)."""
    snap = snapshot(session)
    decision = _decide(snap, dialed, region, at)
    return decision, valid_until(dialed, find_region(region).code, at, snap.state, snap.hours)


def transfer_available(session: Session, number: str, region: str, at: datetime) -> bool:
    """Whether 12345 may transfer a call three-way to sub-centre NUMBER of REGION at AT."""
    code = find_region(region).code
    return subcenter_transfer_available(number, code, at, snapshot(session).state)


@lru_cache(maxsize=8)
def _database_url(_url: str | None, _data_dir: str | None) -> str:
    return get_settings().database_url


def decide_request(dialed: str, region: str, at: datetime) -> RouteDecision:
    """`decide` for the HTTP endpoint: no session at all while the cached snapshot is fresh, and the
    settings resolved once per value of the environment variables."""
    url = _database_url(os.environ.get("HOTLINE_DATABASE_URL"), os.environ.get("HOTLINE_DATA_DIR"))
    snap = fresh_snapshot(get_engine(url))
    if snap is None:
        with session_scope(url) as session:
            snap = snapshot(session)
    return _decide(snap, dialed, region, at)
