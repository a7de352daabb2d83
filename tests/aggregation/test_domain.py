"""The pure rules of aggregation: who may feed, how fresh a feed is, which version wins, what KPIs see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.aggregation.domain import (
    LATE_WITHIN,
    LIVE_WITHIN,
    FeedCall,
    FeedOrder,
    Freshness,
    Outcome,
    SourceKind,
    call_facts,
    freshness,
    latest_versions,
    order_facts,
    outcome,
    sources,
)
from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import Line, Mode, Scope
from hotline.plan.regions import PROVINCE, REGIONS

T0 = datetime(2021, 11, 1, 1, 0, tzinfo=UTC)  # 09:00 China time


def test_sources_are_the_subcentre_and_parallel_lines_and_the_21_cities() -> None:
    catalogue = load_catalogue()
    local = Line("96196", "本地分中心热线", Mode.SUBCENTER, Scope.NATIONAL, local=True)
    found = sources((*catalogue.fixed_lines(), local), REGIONS)
    subcentres = [s.code for s in found if s.kind is SourceKind.SUBCENTRE]
    assert subcentres == ["12360", "12366", "12313", "12367", "12305", "96196"]
    parallel = [s for s in found if s.kind is SourceKind.PARALLEL]
    assert len(parallel) == 14 and parallel[1].code == "12333" and parallel[1].name == "12333 人力资源和社会保障热线"
    cities = [s for s in found if s.kind is SourceKind.CITY]
    assert len(cities) == 21 and PROVINCE.code not in {s.code for s in cities}
    chengdu = next(s for s in cities if s.code == "510100")
    assert chengdu.name == "成都市12345热线" and chengdu.region.name == "成都市"


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(0), Freshness.LIVE),
        (LIVE_WITHIN, Freshness.LIVE),
        (LIVE_WITHIN + timedelta(seconds=1), Freshness.LATE),
        (LATE_WITHIN, Freshness.LATE),
        (LATE_WITHIN + timedelta(seconds=1), Freshness.SILENT),
    ],
)
def test_freshness_by_the_age_of_the_last_batch(age: timedelta, expected: Freshness) -> None:
    assert freshness(T0, T0 + age) is expected


def test_a_source_never_heard_from_is_not_connected() -> None:
    assert freshness(None, T0) is Freshness.NEVER


def test_the_later_version_wins_and_a_retry_changes_nothing() -> None:
    assert outcome(None, T0) is Outcome.INSERTED
    assert outcome(T0, T0 + timedelta(seconds=1)) is Outcome.UPDATED
    assert outcome(T0, T0) is Outcome.UNCHANGED
    assert outcome(T0, T0 - timedelta(seconds=1)) is Outcome.STALE


def test_a_batch_holding_an_order_twice_keeps_its_latest_version() -> None:
    early = FeedCall("A", T0, T0)
    late = FeedCall("A", T0, T0 + timedelta(minutes=3), answered_at=T0 + timedelta(seconds=8))
    other = FeedCall("B", T0, T0)
    assert latest_versions([early, other, late]) == [late, other]
    assert latest_versions([late, early]) == [late]


def test_call_facts_measure_the_wait_and_abandonment() -> None:
    answered = call_facts(FeedCall("A", T0, T0, answered_at=T0 + timedelta(seconds=12)))
    assert answered.answered and not answered.abandoned and answered.wait_seconds == 12
    hung_up = call_facts(FeedCall("B", T0, T0, ended_at=T0 + timedelta(seconds=30)))
    assert hung_up.requested and not hung_up.answered and hung_up.abandoned
    ringing = call_facts(FeedCall("C", T0, T0))  # still queued: neither answered nor abandoned yet
    assert not ringing.answered and not ringing.abandoned
    menu_only = call_facts(FeedCall("D", T0, T0, requested=False, ended_at=T0 + timedelta(seconds=30)))
    assert not menu_only.requested and not menu_only.abandoned


def test_order_facts_use_china_dates_and_today_for_overdue() -> None:
    # Resolved at 23:30 China time on 11-05 (15:30 UTC): on time for a due date of 11-05.
    resolved = FeedOrder(
        "W1", T0, date(2021, 11, 5), T0, resolved_at=datetime(2021, 11, 5, 15, 30, tzinfo=UTC), satisfaction="basic"
    )
    facts = order_facts(resolved, today=date(2021, 11, 20))
    assert facts.resolved_on == date(2021, 11, 5) and not facts.open_overdue
    assert facts.visited and facts.satisfaction == "basic"
    still_open = FeedOrder("W2", T0, date(2021, 11, 5), T0)
    assert not order_facts(still_open, today=date(2021, 11, 5)).open_overdue
    assert order_facts(still_open, today=date(2021, 11, 6)).open_overdue
