"""Data gathered from sub-centres and city centres (数据汇聚) as plain values. Pure: no database, no clock.

Sichuan's plan has each sub-centre (设分中心: 12360, 12366, 12313, 12367, 12305) connect its own systems to the
provincial platform by 10-31 so that its data is gathered "in real time" (数据实时归集), and each parallel line
(双号并行) connect its business, hotline and complaint systems by 09-30 (系统对接); the 21 city and prefecture
centres feed theirs too. A feed sends records of two kinds, each identified by the sender's own id:

- `FeedCall`: one call the source's agents were offered (started, answered, ended);
- `FeedOrder`: one work order the source handles, as it stands now (a later version replaces an earlier one).

Both map onto the facts the platform's own KPIs are computed from (`telephony.domain.CallFacts`,
`supervision.domain.OrderFacts`), so a sub-centre's 接通率 or 按时办结率 means exactly what 12345's does.
Callers' numbers and names are not part of a feed: supervision does not need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from hotline.plan.domain import Line, Mode
from hotline.plan.regions import PROVINCE, Region
from hotline.supervision.domain import OrderFacts
from hotline.telephony.domain import CallFacts
from hotline.timeutil import china_day


class SourceKind(StrEnum):
    SUBCENTRE = "subcentre"  # a 设分中心 line's own system
    PARALLEL = "parallel"  # a 双号并行 line's business, hotline and complaint systems
    CITY = "city"  # a 市（州） 12345 centre's system


SOURCE_KIND_LABELS = {
    SourceKind.SUBCENTRE: "分中心",
    SourceKind.PARALLEL: "双号并行热线",
    SourceKind.CITY: "市（州）热线",
}
# The plan's milestone by which a line's systems must be connected to the platform.
CONNECTION_MILESTONES = {Mode.SUBCENTER: "data-connected", Mode.PARALLEL: "systems-connected"}


@dataclass(frozen=True)
class Source:
    """Who may feed data: `code` is the line's number for a sub-centre, the region's code for a city."""

    code: str
    name: str
    kind: SourceKind
    region: Region

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind.value,
            "kind_label": SOURCE_KIND_LABELS[self.kind],
            "region": self.region.code,
            "region_name": self.region.name,
        }


def sources(lines: Iterable[Line], regions: Iterable[Region]) -> list[Source]:
    """Every sub-centre line, then every parallel line (seed and locally registered; the plan has their systems
    connected to the platform), then every city centre, each group in catalogue order."""
    lines = list(lines)
    found = [
        Source(line.number, f"{line.number} {line.short_name or line.name}分中心", SourceKind.SUBCENTRE, PROVINCE)
        for line in lines
        if line.mode is Mode.SUBCENTER
    ]
    found += [
        Source(line.number, f"{line.number} {line.short_name or line.name}热线", SourceKind.PARALLEL, PROVINCE)
        for line in lines
        if line.mode is Mode.PARALLEL
    ]
    found += [Source(r.code, f"{r.name}12345热线", SourceKind.CITY, r) for r in regions if r != PROVINCE]
    return found


class Freshness(StrEnum):
    LIVE = "live"  # heard from within LIVE_WITHIN
    LATE = "late"  # within LATE_WITHIN
    SILENT = "silent"  # longer: the connection is probably down
    NEVER = "never"  # nothing received yet


FRESHNESS_LABELS = {Freshness.LIVE: "实时", Freshness.LATE: "延迟", Freshness.SILENT: "中断", Freshness.NEVER: "未接入"}
# A connected system sends at least a heartbeat (an empty batch) every minute or two; five minutes without
# anything is late, half an hour is an outage a duty supervisor should chase.
LIVE_WITHIN = timedelta(minutes=5)
LATE_WITHIN = timedelta(minutes=30)


def freshness(last_seen: datetime | None, at: datetime) -> Freshness:
    if last_seen is None:
        return Freshness.NEVER
    age = at - last_seen
    if age <= LIVE_WITHIN:
        return Freshness.LIVE
    return Freshness.LATE if age <= LATE_WITHIN else Freshness.SILENT


class Kind(StrEnum):
    CALL = "call"
    ORDER = "workorder"


KIND_LABELS = {Kind.CALL: "话务", Kind.ORDER: "工单"}


@dataclass(frozen=True)
class FeedCall:
    id: str
    started_at: datetime
    version: datetime  # the sender's updated_at, else the latest instant the record holds
    requested: bool = True  # the caller asked for an agent (not only the voice menu)
    answered_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class FeedOrder:
    id: str
    created_at: datetime
    due: date
    version: datetime
    region_code: str | None = None
    category: str | None = None
    demand_type: str | None = None
    dispatched: bool = False
    accept_due: date | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    direct: bool = False  # 直接办结 on the call
    returned: bool = False
    reopened: bool = False
    satisfaction: str | None = None  # satisfied | basic | unsatisfied (回访)
    citizen_resolved: bool | None = None


Record = FeedCall | FeedOrder
R = TypeVar("R", FeedCall, FeedOrder)


def latest_versions(records: Sequence[R]) -> list[R]:
    """One record per id, the latest version (the first of equal versions), in first-seen order: a batch may
    carry an order twice as it changed between two polls of the sender."""
    best: dict[str, R] = {}
    for record in records:
        kept = best.get(record.id)
        if kept is None or record.version > kept.version:
            best[record.id] = record
    return list(best.values())


class Outcome(StrEnum):
    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same version again (a retry)
    STALE = "stale"  # older than what is kept: a late, out-of-order delivery


def outcome(stored_version: datetime | None, incoming: datetime) -> Outcome:
    """Last writer by the sender's version wins, so redelivery and reordering are harmless."""
    if stored_version is None:
        return Outcome.INSERTED
    if incoming > stored_version:
        return Outcome.UPDATED
    return Outcome.UNCHANGED if incoming == stored_version else Outcome.STALE


def call_facts(call: FeedCall) -> CallFacts:
    answered = call.answered_at is not None
    return CallFacts(
        call_id=call.id,
        offered_at=call.started_at,
        requested=call.requested,
        answered=answered,
        abandoned=call.requested and not answered and call.ended_at is not None,
        wait_seconds=(call.answered_at - call.started_at).total_seconds() if call.answered_at else None,
    )


def order_facts(order: FeedOrder, today: date) -> OrderFacts:
    """TODAY (China date) decides which open orders are overdue."""
    resolved_on = china_day(order.resolved_at) if order.resolved_at else None
    return OrderFacts(
        direct=order.direct,
        dispatched=order.dispatched,
        accept_due=order.accept_due,
        accepted_on=china_day(order.accepted_at) if order.accepted_at else None,
        due=order.due,
        resolved_on=resolved_on,
        open_overdue=resolved_on is None and order.due < today,
        returned=order.returned,
        reopened=order.reopened,
        visited=order.satisfaction is not None,
        satisfaction=order.satisfaction,
        citizen_resolved=order.citizen_resolved,
    )
