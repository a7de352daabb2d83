"""The catalogue and the integration plan as plain values. Pure: no database, no clock, no files.

- `Line`: a number the platform knows: an integration line (mode full-merge / parallel / subcenter), 12345
  itself (mode platform) or an emergency number (mode emergency).
- `Milestone`: one step of the plan for a (mode, scope), with its month-day in the plan year.
- `PlanState`: the catalogue, the plan year and the latest record per (line, milestone, region); it answers
  the effective date of every milestone (recorded date, else the plan's date) and the status at a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from hotline.errors import NotFound
from hotline.plan.regions import PROVINCE, REGIONS, Region


class Mode(StrEnum):
    FULL_MERGE = "full-merge"  # 整体并入
    PARALLEL = "parallel"  # 双号并行
    SUBCENTER = "subcenter"  # 设分中心
    PLATFORM = "platform"  # 12345 itself
    EMERGENCY = "emergency"  # 110/119/120/122: never routed by the platform


class Scope(StrEnum):
    NATIONAL = "national"  # set up by a State Council ministry, answered locally
    LOCAL = "local"  # set up by a provincial department or a city (full-merge only)


class RecordKind(StrEnum):
    DONE = "done"
    POSTPONE = "postpone"


class Status(StrEnum):
    DONE = "done"  # recorded done on or before the date asked about
    DUE = "due"  # deadline not passed yet
    OVERDUE = "overdue"  # deadline passed, not recorded done


MODE_LABELS = {
    Mode.FULL_MERGE: "整体并入",
    Mode.PARALLEL: "双号并行",
    Mode.SUBCENTER: "设分中心",
    Mode.PLATFORM: "12345热线",
    Mode.EMERGENCY: "紧急热线",
}
SCOPE_LABELS = {Scope.NATIONAL: "国家部委设立", Scope.LOCAL: "省内自行设立"}
STATUS_LABELS = {Status.DONE: "已完成", Status.DUE: "未到期", Status.OVERDUE: "已逾期"}
KIND_LABELS = {RecordKind.DONE: "完成", RecordKind.POSTPONE: "延期"}

INTEGRATION_MODES = frozenset({Mode.FULL_MERGE, Mode.PARALLEL, Mode.SUBCENTER})


@dataclass(frozen=True)
class Line:
    number: str
    name: str
    mode: Mode
    scope: Scope | None  # None for 12345 and the emergency numbers
    units: tuple[str, ...] = ()
    short_name: str = ""
    local: bool = False  # registered by an administrator (stored in the database)

    @property
    def is_integration_line(self) -> bool:
        return self.mode in INTEGRATION_MODES

    def to_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "name": self.name,
            "short_name": self.short_name or self.name,
            "mode": self.mode.value,
            "mode_label": MODE_LABELS[self.mode],
            "scope": self.scope.value if self.scope else None,
            "units": list(self.units),
            "local": self.local,
        }


@dataclass(frozen=True)
class Milestone:
    id: str
    mode: Mode
    scope: Scope
    month: int
    day: int
    title: str
    description: str

    def plan_date(self, year: int) -> date:
        return date(year, self.month, self.day)


@dataclass(frozen=True)
class Catalogue:
    platform: Line
    emergency: tuple[Line, ...]
    lines: tuple[Line, ...]  # the seed's integration lines, in the seed's order
    milestones: tuple[Milestone, ...]
    shared_unit: str
    local_units: tuple[str, ...]

    def milestones_for(self, mode: Mode, scope: Scope | None) -> tuple[Milestone, ...]:
        return tuple(m for m in self.milestones if m.mode == mode and m.scope == scope)

    def fixed_lines(self) -> tuple[Line, ...]:
        """Every number of the catalogue file: 12345, the integration lines, the emergency numbers."""
        return (self.platform, *self.lines, *self.emergency)


@dataclass(frozen=True)
class Record:
    """One entry of a milestone's history (kept forever; the latest one decides)."""

    line: str
    milestone: str
    region: str
    kind: RecordKind
    day: date
    note: str
    recorded_by: str
    recorded_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "milestone": self.milestone,
            "region": self.region,
            "kind": self.kind.value,
            "date": self.day.isoformat(),
            "note": self.note,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True)
class MilestoneStatus:
    line: Line
    milestone: Milestone
    region: Region
    plan_date: date
    effective_date: date  # recorded date (done or postponed to), else the plan's
    status: Status
    latest: Record | None

    def units(self, shared_unit: str) -> tuple[str, ...]:
        """Responsible units: the line's provincial units, plus the region's government for a city."""
        own = self.line.units
        if self.region.code == PROVINCE.code:
            return own
        return (*own, f"{self.region.name}人民政府")

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line.number,
            "line_name": self.line.name,
            "mode": self.line.mode.value,
            "milestone": self.milestone.id,
            "milestone_title": self.milestone.title,
            "region": self.region.code,
            "region_name": self.region.name,
            "plan_date": self.plan_date.isoformat(),
            "effective_date": self.effective_date.isoformat(),
            "status": self.status.value,
            "status_label": STATUS_LABELS[self.status],
            "latest": self.latest.to_dict() if self.latest else None,
        }


@dataclass(frozen=True)
class PlanState:
    """The plan year, every known line and the latest record per (line, milestone, region)."""

    year: int
    catalogue: Catalogue
    local_lines: tuple[Line, ...] = ()
    latest: Mapping[tuple[str, str, str], Record] = field(default_factory=dict)
    # Values derived from this (immutable) state, remembered by the functions that derive them
    # (routing keeps each line's dates per region and its decisions here).
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_number = {line.number: line for line in (*self.catalogue.fixed_lines(), *self.local_lines)}
        object.__setattr__(self, "_by_number", by_number)
        ms: dict[tuple[Mode, Scope | None], dict[str, Milestone]] = {}
        for m in self.catalogue.milestones:
            ms.setdefault((m.mode, m.scope), {})[m.id] = m
        object.__setattr__(self, "_milestones", ms)

    # -- catalogue -------------------------------------------------------------------------------
    def lines(self) -> tuple[Line, ...]:
        return (self.catalogue.platform, *self.catalogue.lines, *self.local_lines, *self.catalogue.emergency)

    def find_line(self, number: str) -> Line | None:
        by_number: dict[str, Line] = self._by_number  # type: ignore[attr-defined]
        return by_number.get(number)

    def get_line(self, number: str) -> Line:
        line = self.find_line(number.strip())
        if line is None:
            raise NotFound(f"目录中没有号码 {number}", code="line-not-found")
        return line

    def milestones_of(self, line: Line) -> tuple[Milestone, ...]:
        ms: dict[tuple[Mode, Scope | None], dict[str, Milestone]] = self._milestones  # type: ignore[attr-defined]
        return tuple(ms.get((line.mode, line.scope), {}).values())

    def get_milestone(self, line: Line, milestone_id: str) -> Milestone:
        ms: dict[tuple[Mode, Scope | None], dict[str, Milestone]] = self._milestones  # type: ignore[attr-defined]
        found = ms.get((line.mode, line.scope), {}).get(milestone_id.strip())
        if found is None:
            ids = "、".join(m.id for m in self.milestones_of(line)) or "无"
            raise NotFound(f"号码 {line.number} 没有里程碑 {milestone_id}（可用：{ids}）", code="milestone-not-found")
        return found

    # -- plan versus recorded --------------------------------------------------------------------
    def effective_date(self, line: Line, milestone: Milestone, region_code: str) -> date:
        record = self.latest.get((line.number, milestone.id, region_code))
        return record.day if record is not None else milestone.plan_date(self.year)

    def status(self, line: Line, milestone: Milestone, region: Region, on: date) -> MilestoneStatus:
        record = self.latest.get((line.number, milestone.id, region.code))
        deadline = record.day if record is not None else milestone.plan_date(self.year)
        if record is not None and record.kind is RecordKind.DONE and record.day <= on:
            status = Status.DONE
        elif on > deadline:
            status = Status.OVERDUE
        else:
            status = Status.DUE
        return MilestoneStatus(line, milestone, region, milestone.plan_date(self.year), deadline, status, record)

    def statuses(self, on: date, regions: Iterable[Region] = REGIONS) -> list[MilestoneStatus]:
        integration = [line for line in self.lines() if line.is_integration_line]
        return [
            self.status(line, m, region, on)
            for region in regions
            for line in integration
            for m in self.milestones_of(line)
        ]
