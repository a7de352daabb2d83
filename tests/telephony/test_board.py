"""实时监控's figures (`telephony.board`) from calls counted by kind, against `compute_kpis` over the same calls one
by one: every combination of events a call can have, waits below, at and above the threshold, two regions, two
numbers, routed in the last minutes or earlier."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import chain, combinations, product

import pytest

from hotline.errors import InvalidInput
from hotline.telephony import board as b
from hotline.telephony.domain import (
    CallEventType,
    CallFacts,
    EventRecord,
    FactFlags,
    Kpis,
    call_facts,
    compute_kpis,
    flags_of,
)

AT = datetime(2021, 6, 1, 2, 30, tzinfo=UTC)
T = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)
KINDS = [k for k in CallEventType if k is not CallEventType.ENDED]  # `ended` is read by no KPI
WAITS = (0.0, 3.5, 15.0, 15.001, 40.0)
Call = tuple[str, str, bool, CallFacts | None]  # region, number dialed, recent, facts (None: no event)


def _calls() -> list[Call]:
    calls: list[Call] = []
    subsets = chain.from_iterable(combinations(KINDS, n) for n in range(len(KINDS) + 1))
    for i, (kinds, wait, region, dialed, recent) in enumerate(
        product(subsets, WAITS, ("510100", "510700"), ("12345", "12331"), (False, True))
    ):
        times = {
            CallEventType.OFFERED: T,
            CallEventType.QUEUED: T + timedelta(seconds=2),
            CallEventType.ANSWERED: T + timedelta(seconds=2 + wait),
            CallEventType.ABANDONED: T + timedelta(seconds=30),
            CallEventType.TRANSFERRED: T + timedelta(seconds=60),
        }
        events = [EventRecord(kind, times[kind]) for kind in kinds]
        calls.append((region, dialed, recent, call_facts(f"c{i}", events) if events else None))
    return calls


def _counted(calls: Iterable[Call], threshold: int = 15) -> list[b.Counted]:
    """What the database's grouping gives: calls alike by region, number, flags and recent, their waits summed."""
    groups: Counter[tuple[str, str, FactFlags | None, bool]] = Counter()
    waits: dict[tuple[str, str, FactFlags | None, bool], list[float]] = {}
    for region, dialed, recent, facts in calls:
        key = (region, dialed, None if facts is None else flags_of(facts), recent)
        groups[key] += 1
        if facts is not None and facts.answered and facts.wait_seconds is not None:
            waits.setdefault(key, []).append(facts.wait_seconds)
    return [
        b.Counted(*key, calls, len(w), sum(w), sum(1 for x in w if x <= threshold))
        for key, calls in groups.items()
        for w in [waits.get(key, [])]
    ]


def _same(got: Kpis, wanted: Kpis) -> None:
    assert got.to_dict() | {"average_wait_seconds": None} == wanted.to_dict() | {"average_wait_seconds": None}
    assert got.average_wait_seconds == pytest.approx(wanted.average_wait_seconds)


@pytest.mark.parametrize("threshold", [1, 15, 60])
def test_counted_kpis_are_compute_kpis_of_the_same_calls(threshold: int) -> None:
    calls = _calls()
    facts = [f for *_, f in calls if f is not None]
    _same(b.counted_kpis(_counted(calls, threshold), threshold), compute_kpis(facts, threshold))


def test_each_section_is_compute_kpis_of_its_own_calls() -> None:
    calls = _calls()
    board = b.board(_counted(calls), [], AT, top_lines=10)
    assert [s.key for s in board.regions] == ["510100", "510700"]
    assert [s.key for s in board.lines] == ["12331", "12345"]  # as many calls: by number
    for sections, position in ((board.regions, 0), (board.lines, 1)):
        for s in sections:
            mine = [c for c in calls if c[position] == s.key]
            assert s.routed == len(mine)
            _same(s.today, compute_kpis([c[3] for c in mine if c[3] is not None]))
            _same(s.recent, compute_kpis([c[3] for c in mine if c[3] is not None and c[2]]))
    _same(board.total.today, compute_kpis([c[3] for c in calls if c[3] is not None]))
    assert board.total.routed == len(calls)
    assert board.total.waiting == 0 and board.total.longest_wait_seconds is None


def test_waiting_callers_and_the_longest_wait() -> None:
    queued = [
        b.Queued("510100", "12345", 3, AT - timedelta(seconds=95)),
        b.Queued("510700", "12345", 1, AT - timedelta(seconds=20)),
        b.Queued("510700", "12331", 2, AT - timedelta(seconds=400)),
        b.Queued("510700", "12366", 1, AT + timedelta(seconds=3)),  # reported by a clock ahead of ours
    ]
    board = b.board([], queued, AT)
    assert (board.total.waiting, board.total.longest_wait_seconds) == (7, 400.0)
    by_region = {s.key: (s.waiting, s.longest_wait_seconds) for s in board.regions}
    assert by_region == {"510100": (3, 95.0), "510700": (4, 400.0)}
    by_line = {s.key: (s.waiting, s.longest_wait_seconds) for s in board.lines}
    assert by_line == {"12345": (4, 95.0), "12331": (2, 400.0), "12366": (1, 0.0)}
    # Nobody routed today in those sections: no rates, not 0 %.
    assert board.total.today.connection_rate is None and board.total.recent.within_rate is None


def test_the_busiest_lines_and_any_other_with_callers_waiting() -> None:
    counted = [b.Counted("510100", f"1{n:04d}", None, False, n) for n in range(1, 13)]
    queued = [b.Queued("510100", "10001", 1, AT), b.Queued("510100", "12399", 1, AT)]
    lines = [s.key for s in b.board(counted, queued, AT, top_lines=3).lines]
    assert lines == ["10012", "10011", "10010", "10001", "12399"]


def test_a_threshold_must_be_positive() -> None:
    with pytest.raises(InvalidInput) as refused:
        b.counted_kpis([], 0)
    assert refused.value.code == "invalid-threshold"
