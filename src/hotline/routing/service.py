"""Use cases of routing: decide where a call goes, from the cached plan snapshot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.errors import InvalidInput
from hotline.plan.regions import find_region
from hotline.plan.service import snapshot
from hotline.routing.domain import RouteDecision, route, subcenter_transfer_available


def decide(session: Session, dialed: str, region: str, at: datetime) -> RouteDecision:
    """Where a call to DIALED from REGION (code, name or alias) at instant AT goes.

    A naive AT is China time. Raises `region-not-found` for an unknown region and `invalid-number` for an
    empty number; an unknown number is not an error: the decision is `reject`.
    """
    if not dialed.strip():
        raise InvalidInput("被叫号码不能为空", code="invalid-number")
    code = find_region(region).code
    snap = snapshot(session)
    return route(dialed, code, at, snap.state, snap.calendar, snap.hours)


def transfer_available(session: Session, number: str, region: str, at: datetime) -> bool:
    """Whether 12345 may transfer a call three-way to sub-centre NUMBER of REGION at AT."""
    code = find_region(region).code
    return subcenter_transfer_available(number, code, at, snapshot(session).state)
