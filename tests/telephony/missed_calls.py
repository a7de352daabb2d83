"""Calls for the 漏话回拨 tests: routed by the platform's own lookup and kept as made at their instant, then the events
the ACD reports, each in a transaction of its own (as they arrive)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hotline.db import session_scope
from hotline.telephony import service
from hotline.telephony.service import RoutedCall

T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 China time
LATER = T0 + timedelta(days=3)  # every deadline of these tests has passed
MISSED = (("offered", 0), ("queued", 2), ("abandoned", 40))
ENDED_UNANSWERED = (("offered", 0), ("queued", 2), ("ended", 90))
ANSWERED = (("offered", 0), ("queued", 2), ("answered", 12), ("ended", 200))
Events = tuple[tuple[str, int], ...]


def set_up_lines() -> None:
    """The demo's SIP addresses; 成都市's and 绵阳市's trunks."""
    with session_scope() as s:
        for pattern, uri in service.DEMO_ENDPOINTS.items():
            service.set_endpoint(s, pattern, uri)
        service.set_trunk(s, "cd-telecom", "成都市")
        service.set_trunk(s, "my-telecom", "绵阳市")


def routed(call_id: str, caller: str, minutes: float, dialed: str = "12345", trunk: str = "cd-telecom") -> RoutedCall:
    """What the lookup decides for a call MINUTES after T0 (not stored)."""
    at = T0 + timedelta(minutes=minutes)
    with session_scope() as s:
        decided = service.route_call(s, dialed, caller, trunk, call_id, None, at)
    return dataclasses.replace(decided, decided_at=at)


def call(
    call_id: str, caller: str, minutes: float, events: Events, *, dialed: str = "12345", trunk: str = "cd-telecom"
) -> None:
    """A call routed MINUTES after T0, then its EVENTS (seconds after the call)."""
    decided = routed(call_id, caller, minutes, dialed, trunk)
    with session_scope() as s:
        service.record_decision(s, decided)
    report(call_id, minutes, events)


def report(call_id: str, minutes: float, events: Events) -> None:
    for event, seconds in events:
        with session_scope() as s:
            service.record_event(s, call_id, event, T0 + timedelta(minutes=minutes, seconds=seconds))
