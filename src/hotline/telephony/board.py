"""实时监控 (the live wallboard) as plain Python: the floor's figures from what the database counted.

Nothing here touches a database or the web: `supervision.monitor.live_board` has the database count the calls
(a row per group of calls alike, never a row per call) and these functions make the figures of them.

- 排队中 (waiting): calls sent to agents that were queued and of which no answer, abandonment, transfer or end has
  been reported, queued at most STALE_HOURS before the board's instant (an older one with nothing after it is a
  lost report, not a caller still waiting); the longest current wait is from the earliest queued instant.
- 今日 (today so far) and 最近 RECENT_MINUTES 分钟: the KPIs of the calls routed in the China day up to the board's
  instant, and in its last minutes, by the rules of 话务记录 and 考核指标 (`domain.tally_kpis`): 呼入 the calls
  offered to agents, 接通, 放弃, 接通率 = 接通 / 请求人工, 平均等待 of those answered, 服务水平 = answered within the
  threshold / answered.
- The same per 12345 region (every region with a call today or waiting, by code) and per number dialed (the
  TOP_LINES busiest today, then those with callers waiting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from hotline.telephony.domain import FactFlags, Kpis, seconds_between, tally_kpis

RECENT_MINUTES = 15
STALE_HOURS = 2
TOP_LINES = 8
THRESHOLD_SECONDS = 15  # 15秒接通率: the threshold `service.day_report` and `kpi_report` use by default


@dataclass(frozen=True)
class Counted:
    """Calls alike as the database counted them: routed for REGION to DIALED, with these FLAGS (None: no event
    read by the KPIs), RECENT (routed in the last RECENT_MINUTES) or not; of them WAITS answered with a known wait,
    summing WAIT_SUM seconds, WITHIN of them answered within the threshold."""

    region: str
    dialed: str
    flags: FactFlags | None
    recent: bool
    calls: int
    waits: int = 0
    wait_sum: float = 0.0
    within: int = 0


@dataclass(frozen=True)
class Queued:
    """CALLS waiting for an agent now, routed for REGION to DIALED, the first of them queued at SINCE."""

    region: str
    dialed: str
    calls: int
    since: datetime


@dataclass(frozen=True)
class Section:
    """One line of the board: all calls (KEY ""), a region's (its code) or a number dialed's."""

    key: str
    waiting: int
    longest_wait_seconds: float | None
    routed: int  # calls routed today, reported or not
    today: Kpis
    recent: Kpis

    def to_dict(self) -> dict[str, object]:
        return {
            "waiting": self.waiting,
            "longest_wait_seconds": self.longest_wait_seconds,
            "routed": self.routed,
            "today": self.today.to_dict(),
            "recent": self.recent.to_dict(),
        }


@dataclass(frozen=True)
class Board:
    total: Section
    regions: list[Section]
    lines: list[Section]


def counted_kpis(counted: Iterable[Counted], threshold_seconds: int = THRESHOLD_SECONDS) -> Kpis:
    """`domain.compute_kpis` of calls counted by kind (`Counted`): the counts as `tally_kpis` makes them, the waits
    from the sums the database made (the average to the rounding of a sum, not call by call)."""
    items = list(counted)
    base = tally_kpis(((c.flags, c.calls) for c in items if c.flags is not None), (), threshold_seconds)
    answered = [c for c in items if c.flags is not None and c.flags.requested and c.flags.answered]
    waits, within = sum(c.waits for c in answered), sum(c.within for c in answered)
    return replace(
        base,
        answered_within=within,
        within_rate=within / base.answered if base.answered else None,
        average_wait_seconds=sum(c.wait_sum for c in answered) / waits if waits else None,
    )


def section(
    key: str,
    counted: Sequence[Counted],
    queued: Sequence[Queued],
    at: datetime,
    threshold_seconds: int = THRESHOLD_SECONDS,
) -> Section:
    """The figures of COUNTED and QUEUED (those of one section) at AT."""
    first = min((q.since for q in queued), default=None)
    return Section(
        key=key,
        waiting=sum(q.calls for q in queued),
        longest_wait_seconds=seconds_between(first, at),
        routed=sum(c.calls for c in counted),
        today=counted_kpis(counted, threshold_seconds),
        recent=counted_kpis((c for c in counted if c.recent), threshold_seconds),
    )


def board(
    counted: Iterable[Counted],
    queued: Iterable[Queued],
    at: datetime,
    threshold_seconds: int = THRESHOLD_SECONDS,
    top_lines: int = TOP_LINES,
) -> Board:
    """The whole board at AT: all calls, each region with a call today or one waiting (by code), and the numbers
    dialed: the TOP_LINES with the most calls routed today (then by number), and any other with a caller waiting."""
    counts, waits = list(counted), list(queued)

    def by(key: Callable[[Counted | Queued], str]) -> list[Section]:
        keys = {key(c) for c in counts} | {key(q) for q in waits}
        return [
            section(k, [c for c in counts if key(c) == k], [q for q in waits if key(q) == k], at, threshold_seconds)
            for k in keys
        ]

    regions = sorted(by(lambda c: c.region), key=lambda s: s.key)
    ranked = sorted(by(lambda c: c.dialed), key=lambda s: (-s.routed, s.key))
    lines = ranked[:top_lines] + [s for s in ranked[top_lines:] if s.waiting]
    return Board(section("", counts, waits, at, threshold_seconds), regions, lines)
