"""设置变更记录: one change to the settings that decide where orders go and how long units have — the handling units
(单位), the dispatch catalogue (派单目录), the time limits (办理时限) and the working-day calendar (工作日历) — as one
record: its kind, its key, the value before and after, and a one-line Chinese summary. Pure: a service builds a
`Change` from what it read before and what it wrote, and stores it (`changelog.service.record`). A change that
changes nothing (the same value set again) is None: nothing to record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from hotline.calendar.domain import official_is_workday
from hotline.errors import InvalidInput
from hotline.workorders.domain import UNIT_KINDS, catalogue_key, entry_label, region_label


class Kind(StrEnum):
    UNIT = "unit"
    CATALOGUE = "catalogue"
    LIMIT = "limit"
    CALENDAR = "calendar"
    QUALITY = "quality"  # 质检标准: built by `quality.domain.sheet_change`


KIND_LABELS = {
    Kind.UNIT: "单位", Kind.CATALOGUE: "派单目录", Kind.LIMIT: "办理时限", Kind.CALENDAR: "工作日历", Kind.QUALITY: "质检标准",
}  # fmt: skip
WEEKDAYS = "一二三四五六日"
NO_PARENT = "无"


def parse_kind(text: str | None) -> Kind | None:
    """A kind by its code (`catalogue`) or its label (派单目录); None (every kind) when empty."""
    raw = (text or "").strip()
    if not raw:
        return None
    found = next((k for k, label in KIND_LABELS.items() if raw in (k.value, label)), None)
    if found is None:
        raise InvalidInput(
            f"变更类型不正确：{raw}（可选：{'、'.join(KIND_LABELS.values())}）", code="invalid-change-kind", kind=raw
        )
    return found


@dataclass(frozen=True)
class Change:
    kind: Kind
    key: str  # a unit's code; an entry's category|region|line; a limit's key; a day (YYYY-MM-DD)
    before: dict[str, Any] | None  # None: it did not exist (a new unit or entry; a day as the official calendar has it)
    after: dict[str, Any] | None  # None: it no longer exists (an entry removed; a day back to the official calendar)
    summary: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def _said(what: str, said: str, because: str) -> str:
    return f"{what}：{said}" + (f"（{because}）" if because else "")


# -- 单位 ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitState:
    """What the settings keep of a unit. Its parent's name is for the summary only: the code decides."""

    name: str
    kind: str
    region_code: str
    parent: str | None
    active: bool
    parent_name: str | None = field(default=None, compare=False)


def _parent_text(state: UnitState) -> str:
    return f"{state.parent_name or state.parent}（{state.parent}）" if state.parent else NO_PARENT


_UNIT_FIELDS: tuple[tuple[str, Callable[[UnitState], str]], ...] = (
    ("名称", lambda u: u.name),
    ("类型", lambda u: UNIT_KINDS[u.kind]),
    ("地区", lambda u: region_label(u.region_code)),
    ("上级单位", _parent_text),
)


def unit_change(code: str, before: UnitState | None, after: UnitState, *, because: str = "") -> Change | None:
    """A unit added (BEFORE None), updated, 停用 or 启用; None when nothing it keeps changed."""
    if before == after:
        return None
    if before is None:
        said = f"新增，{UNIT_KINDS[after.kind]}，{region_label(after.region_code)}，上级单位 {_parent_text(after)}"
    else:
        parts = [
            f"{label} {text(before)} → {text(after)}" for label, text in _UNIT_FIELDS if text(before) != text(after)
        ]
        if before.active != after.active:
            parts.append("启用" if after.active else "停用")
        said = "；".join(parts)
    before_value = asdict(before) if before is not None else None
    return Change(Kind.UNIT, code, before_value, asdict(after), _said(f"单位 {after.name}（{code}）", said, because))


# -- 派单目录 ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holder:
    """The unit a catalogue entry names. Its name is for the summary only: the code decides."""

    code: str
    name: str = field(compare=False)


def catalogue_change(
    category: str, region_code: str, line: str, before: Holder | None, after: Holder | None, *, because: str = ""
) -> Change | None:
    """An entry added (BEFORE None), given to another unit, or removed (AFTER None); None when its unit stays."""
    if before == after:
        return None
    if before is None:
        said = f"新增，由{after.name}承办" if after is not None else ""
    elif after is None:
        said = f"删除（原由{before.name}承办）"
    else:
        said = f"{before.name} → {after.name}"
    return Change(
        Kind.CATALOGUE,
        catalogue_key(category, region_code, line),
        {"unit": before.code, "unit_name": before.name} if before else None,
        {"unit": after.code, "unit_name": after.name} if after else None,
        _said(f"派单目录 {entry_label(category, region_code, line)}", said, because),
    )


# -- 办理时限 ------------------------------------------------------------------------------------------------------
def limit_change(key: str, before: int, after: int) -> Change | None:
    """A time limit (an order type, 签收, 退单 or 回访) from BEFORE to AFTER working days."""
    if before == after:
        return None
    said = f"{before} → {after} 个工作日"
    return Change(Kind.LIMIT, key, {"days": before}, {"days": after}, _said(f"办理时限 {key}", said, ""))


# -- 工作日历 ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayState:
    """A day an administrator set: a working day or not, with its note."""

    is_workday: bool
    note: str = ""


def _day_text(day: date, state: DayState | None) -> str:
    if state is None:
        return f"按官方日历（{'工作日' if official_is_workday(day) else '休息日'}）"
    kind = "工作日" if state.is_workday else "休息日"
    return f"{kind}（{state.note}）" if state.note else kind


def calendar_change(day: date, before: DayState | None, after: DayState | None, *, because: str = "") -> Change | None:
    """A day set (AFTER a state) or back to the official calendar (AFTER None); None when it stays as it was."""
    if before == after:
        return None
    return Change(
        Kind.CALENDAR,
        day.isoformat(),
        asdict(before) if before is not None else None,
        asdict(after) if after is not None else None,
        _said(
            f"工作日历 {day.isoformat()}（星期{WEEKDAYS[day.weekday()]}）",
            f"{_day_text(day, before)} → {_day_text(day, after)}",
            because,
        ),
    )
