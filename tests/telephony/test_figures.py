"""A period's call figures (`kpi_report`, the /telephony/kpis figures, and `day_report`, the 话务记录 page's KPIs and
table per number dialed) are counted in the database by the flags of each call's facts. They must be the figures
of the rule stated call by call — `call_facts` of each call's events, `call_outcome`, `compute_kpis` — to the last
digit, whatever the calls: every combination of events, events out of order, calls reported or not, calls at the
period's edges, other regions, events long after the call (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.telephony import service
from hotline.telephony.domain import (
    CallEventType,
    CallFacts,
    EventRecord,
    Kpis,
    LineCalls,
    call_facts,
    call_flags,
    call_outcome,
    compute_kpis,
    flags_of,
    tally_kpis,
)
from hotline.telephony.store import CallDecision, CallEvent
from tests.conftest import query_plan

SINCE = datetime(2021, 8, 31, 16, 0, tzinfo=UTC)  # 2021-09-01 in China
UNTIL = SINCE + timedelta(days=1)
KINDS = list(CallEventType)
DIALED = ("12345", "12331", "12315", "12366", "99999")
DECISIONS = ("queue", "legacy", "subcenter", "cancelled", "reject")
REGIONS = ("510100", "510700")


# -- the rule, call by call (what the figures were computed from before they were counted in the database) ---------


def _facts(session: Session) -> dict[str, CallFacts]:
    """`call_facts` of every call with an event `call_facts` reads (`ended` alone is no facts: not reported)."""
    events: dict[str, list[EventRecord]] = {}
    for call_id, event, at in session.execute(select(CallEvent.call_id, CallEvent.event, CallEvent.at)):
        if event != CallEventType.ENDED.value:
            events.setdefault(call_id, []).append(EventRecord(CallEventType(event), at))
    return {call_id: call_facts(call_id, found) for call_id, found in events.items()}


def _line(dialed: str, calls: list[tuple[str, CallFacts | None]], threshold: int) -> LineCalls:
    routed: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    for decision, facts in calls:
        routed[decision] = routed.get(decision, 0) + 1
        outcome = call_outcome(facts, decision).value
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    reported = [facts for _, facts in calls if facts is not None]
    return LineCalls(dialed, len(calls), routed, outcomes, compute_kpis(reported, threshold))


def _day_by_rule(session: Session, since: datetime, until: datetime, region: str, threshold: int) -> service.DayReport:
    """The calls decided in [SINCE, UNTIL) (of REGION), one by one, in call-id order (the order the facts were
    read in, so that the averages' sums are the same to the last digit)."""
    facts = _facts(session)
    decided = session.execute(
        select(CallDecision.call_id, CallDecision.dialed, CallDecision.decision, CallDecision.region_code)
        .where(CallDecision.decided_at >= since, CallDecision.decided_at < until)
        .order_by(CallDecision.call_id)
    ).all()
    calls = sorted((c for c in decided if not region or c.region_code == region), key=lambda c: c.call_id)
    by_line: dict[str, list[tuple[str, CallFacts | None]]] = {}
    for call_id, dialed, decision, _ in calls:
        by_line.setdefault(dialed, []).append((decision, facts.get(call_id)))
    lines = sorted(
        (_line(dialed, items, threshold) for dialed, items in by_line.items()),
        key=lambda line: (-line.calls, line.dialed),
    )
    reported = [facts[c.call_id] for c in calls if c.call_id in facts]
    return service.DayReport(compute_kpis(reported, threshold), lines)


def _kpis_by_rule(session: Session, since: datetime, until: datetime, threshold: int) -> Kpis:
    """The calls whose `offered` event is in [SINCE, UNTIL), in call-id order."""
    facts = _facts(session)
    offered = [f for _, f in sorted(facts.items()) if f.offered_at is not None and since <= f.offered_at < until]
    return compute_kpis(offered, threshold)


# -- calls of every kind ------------------------------------------------------------------------------------------


def _store_calls(seed: int = 12345) -> None:
    """Decisions and events of a few hundred calls around the day."""
    rng = random.Random(seed)
    # Every subset of the kinds of event, each several times, at instants with microseconds: answered 0–40 s after
    # the queue (also exactly at the 15 s threshold, a microsecond past it, and before the queue: two clocks).
    subsets = [set(c) for n in range(len(KINDS) + 1) for c in itertools.combinations(KINDS, n)]
    decisions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    special = itertools.cycle([15.0, 15.000001, -3.25, 0.0, None, None, None, None])
    now = datetime(2021, 12, 1, tzinfo=UTC)
    for i in range(6 * len(subsets)):
        call_id = f"call-{rng.randrange(10**6):06d}-{i}"  # ids not in the order they were made
        # Decided across the day and two hours either side, some exactly at its edges.
        at = SINCE + timedelta(hours=rng.uniform(-2, 26), microseconds=rng.randrange(10**6))
        at = {0: SINCE, 1: UNTIL, 2: UNTIL - timedelta(microseconds=1)}.get(i % 37, at)
        kinds = subsets[i % len(subsets)]
        if i % 11 != 10:  # a few calls have events and no decision
            decisions.append(
                {
                    "call_id": call_id,
                    "dialed": DIALED[i % len(DIALED)],
                    "caller": f"1380000{i:04d}",
                    "trunk": "t",
                    "region_code": REGIONS[i % 3 % 2],
                    "decision": DECISIONS[i // 3 % len(DECISIONS)],
                    "proxy_action": "relay",
                    "reason": "",
                    "decided_for": at,
                    "decided_at": at,
                    "cached": False,
                }
            )
        queued = at + timedelta(seconds=rng.uniform(0, 20))
        wait = next(special)
        wait = rng.uniform(0, 40) if wait is None else wait
        answered = queued + timedelta(seconds=wait)
        times = {
            CallEventType.OFFERED: at,
            CallEventType.QUEUED: queued,
            CallEventType.ANSWERED: answered,
            CallEventType.ABANDONED: queued + timedelta(seconds=rng.uniform(-5, 60)),
            CallEventType.TRANSFERRED: answered + timedelta(seconds=rng.uniform(10, 300)),
            CallEventType.ENDED: answered + timedelta(hours=rng.choice([0.1, 30])),  # some reported a day later
        }
        if i % 13 == 0:  # the offered event in the next day: another period's call for /telephony/kpis
            times[CallEventType.OFFERED] = UNTIL + timedelta(seconds=i)
        for kind in kinds:
            events.append(
                {
                    "call_id": call_id,
                    "event": kind.value,
                    "at": times[kind],
                    "agent": "",
                    "data": {},
                    "received_at": now,
                }
            )
    with session_scope() as s:
        s.execute(insert(CallDecision), decisions)
        s.execute(insert(CallEvent), events)


def _outcomes(lines: Iterable[LineCalls]) -> set[str]:
    return {outcome for line in lines for outcome, calls in line.outcomes.items() if calls}


# -- tests --------------------------------------------------------------------------------------------------------


def test_a_calls_flags_come_from_the_kinds_of_event_it_has_alone() -> None:
    """`call_flags` (what the database counts calls by) is `call_facts` for every combination of events, in any
    order of their times."""
    t0 = datetime(2021, 6, 1, tzinfo=UTC)
    for n in range(len(KINDS) + 1):
        for kinds in itertools.combinations(KINDS, n):
            for order in (kinds, tuple(reversed(kinds))):
                events = [EventRecord(kind, t0 + timedelta(seconds=i)) for i, kind in enumerate(order)]
                assert flags_of(call_facts("x", events)) == call_flags(set(kinds)), kinds


def test_kpis_counted_by_flags_are_compute_kpis() -> None:
    rng = random.Random(7)
    t0 = datetime(2021, 6, 1, tzinfo=UTC)
    facts = []
    for i in range(500):
        kinds = [k for k in KINDS if rng.random() < 0.5]
        events = [EventRecord(k, t0 + timedelta(seconds=rng.uniform(0, 60))) for k in kinds]
        facts.append(call_facts(str(i), events))
    counted = Counter(flags_of(f) for f in facts)
    waits = [f.wait_seconds for f in facts if f.requested and f.answered and f.wait_seconds is not None]
    for threshold in (1, 15, 30):
        assert tally_kpis(counted.items(), waits, threshold) == compute_kpis(facts, threshold)
    with pytest.raises(InvalidInput):
        tally_kpis([], [], 0)


def test_the_days_figures_are_those_of_the_rule_call_by_call(db_url: str) -> None:
    _store_calls()
    periods = [
        (SINCE, UNTIL),
        (SINCE - timedelta(hours=1), UNTIL + timedelta(days=3)),
        (UNTIL, UNTIL + timedelta(hours=1)),
    ]
    with session_scope() as s:
        for (since, until), region, threshold in itertools.product(periods, ("", *REGIONS), (15, 1)):
            report = service.day_report(s, since, until, region=region, threshold_seconds=threshold)
            assert report == _day_by_rule(s, since, until, region, threshold), (since, until, region, threshold)
        # A region named by its name is the same region.
        assert service.day_report(s, SINCE, UNTIL, region="绵阳市") == service.day_report(
            s, SINCE, UNTIL, region="510700"
        )
        day = service.day_report(s, SINCE, UNTIL)
        empty = service.day_report(s, UNTIL + timedelta(days=5), UNTIL + timedelta(days=6))
    # Calls of every outcome, on every number, were counted; a day without calls has no figures.
    assert _outcomes(day.lines) == {"answered", "abandoned", "transferred", "unanswered", "unreported"}
    assert [line.dialed for line in day.lines] and day.kpis.answered_within and day.kpis.average_wait_seconds
    assert empty.lines == [] and empty.kpis.requested == 0 and empty.kpis.connection_rate is None
    # The calls can tell a right average from a wrong one: their waits added in another order give another float.
    with session_scope() as s:
        waits = [w for _, w in sorted(_day_waits(s).items())]
    assert sum(waits) != sum(reversed(waits)) and sum(waits) != sum(sorted(waits))


def _day_waits(session: Session) -> dict[str, float]:
    """The waits of the day's calls that have one, by call id."""
    facts = _facts(session)
    decided = session.scalars(
        select(CallDecision.call_id).where(CallDecision.decided_at >= SINCE, CallDecision.decided_at < UNTIL)
    )
    return {
        c: f.wait_seconds
        for c in decided
        if (f := facts.get(c)) is not None and f.answered and f.wait_seconds is not None
    }


def test_the_periods_kpis_are_those_of_the_rule_call_by_call(db_url: str) -> None:
    _store_calls(seed=99)
    with session_scope() as s:
        for since, until in [(SINCE, UNTIL), (SINCE, UNTIL + timedelta(days=3)), (UNTIL, UNTIL + timedelta(hours=2))]:
            for threshold in (15, 1, 40):
                assert service.kpi_report(s, since, until, threshold) == _kpis_by_rule(s, since, until, threshold)
        k = service.kpi_report(s, SINCE, UNTIL)
        assert k.offered and k.requested > k.answered > k.answered_within > 0 and k.abandoned
        with pytest.raises(InvalidInput):
            service.kpi_report(s, UNTIL, SINCE)


@pytest.mark.parametrize("report", ["day_report", "kpi_report"])
def test_a_periods_figures_read_its_calls_through_the_indexes_not_every_call_ever_made(
    db_url: str, report: str
) -> None:
    """Years of calls are kept: the day's decisions (or the period's `offered` events) are found by their time, and
    their events by call, not by reading the tables whole. SQLite (never analysed) must plan so on an empty table;
    PostgreSQL plans its joins by its statistics (an empty table's join says nothing about a large one), and must
    at least find the period's calls through the time index."""
    plan = query_plan(db_url, lambda s: getattr(service, report)(s, SINCE, UNTIL))
    column, index = (
        ("decided_at", "ix_telephony_call_decided_at")
        if report == "day_report"
        else ("at", "ix_telephony_call_event_at")
    )
    if db_url.startswith("sqlite"):
        assert f"USING INDEX {index} ({column}>? AND {column}<?)" in plan, plan
        assert "USING INDEX ix_telephony_call_event_call_id (call_id=?)" in plan, plan
        assert "SCAN" not in plan, plan
    else:
        lines = plan.splitlines()
        found = [i for i, line in enumerate(lines) if index in line]
        assert found and f"({column} >= " in lines[found[0] + 1] and "Index Cond" in lines[found[0] + 1], plan
