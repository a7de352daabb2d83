"""Use cases of the working-day calendar. Each change to a day is recorded as its actor's (`changelog`)."""

from __future__ import annotations

import calendar as months
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.calendar.domain import WorkCalendar, is_weekend, official_covers, official_is_workday
from hotline.calendar.store import CalendarOverride
from hotline.changelog import service as changelog
from hotline.changelog.domain import DayState, calendar_change
from hotline.errors import InvalidInput
from hotline.tables import Table, parse_date
from hotline.timeutil import now

DAY_KINDS = {"workday": True, "holiday": False}
# How a day's kind is written in an imported arrangement (the State Council's notices say 放假 and 上班).
KIND_WORDS = {
    **DAY_KINDS,
    "工作日": True, "上班": True, "班": True, "调休上班": True,
    "休息日": False, "休息": False, "休": False, "放假": False, "节假日": False,
}  # fmt: skip
MAX_NOTE = 200
# Deadlines reach this far ahead (the longest limits plus an extension): a year the calendar does not know
# within it is warned about before orders are due in it.
HORIZON_DAYS = 60
IMPORT_COLUMNS = ("日期", "类型")
IMPORTED = "导入放假安排"  # said of each day an import changed, in its change record
MAX_IMPORT_DAYS = 3660

_OVERRIDES = CalendarOverride.__table__
# What a cache of the calendar depends on: the overrides' count and latest change, as two scalar subqueries
# a caller can put into its own revision query (one round trip for everything it caches).
REVISION_COLUMNS = (
    select(func.count()).select_from(_OVERRIDES).scalar_subquery(),
    select(func.max(_OVERRIDES.c.set_at)).scalar_subquery(),
)


def load_calendar(session: Session) -> WorkCalendar:
    rows = session.scalars(select(CalendarOverride)).all()
    return WorkCalendar({row.day: row.is_workday for row in rows})


def set_override(session: Session, day: date, kind: str, *, note: str = "", actor: str = "") -> CalendarOverride:
    """Record that DAY is a working day or a holiday, whatever the official calendar says, as ACTOR's change. The
    same kind and note again change nothing (not even who set it)."""
    if kind not in DAY_KINDS:
        raise InvalidInput(f"日期类型只能是 workday 或 holiday，收到 {kind!r}", code="invalid-day-kind")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"说明不超过{MAX_NOTE}个字", code="invalid-note")
    return _set(session, day, DAY_KINDS[kind], note, actor=actor)


def _set(
    session: Session, day: date, is_workday: bool, note: str, *, actor: str, because: str = ""
) -> CalendarOverride:
    row = session.get(CalendarOverride, day)
    change = calendar_change(day, _state(row), DayState(is_workday, note), because=because)
    if row is not None and change is None:
        return row
    changelog.record(session, change, actor=actor)
    if row is None:
        row = CalendarOverride(day=day)
        session.add(row)
    row.is_workday = is_workday
    row.note = note
    row.set_by = actor
    row.set_at = now()
    session.flush()
    return row


def _state(row: CalendarOverride | None) -> DayState | None:
    return DayState(row.is_workday, row.note) if row is not None else None


def clear_override(session: Session, day: date, *, actor: str = "") -> bool:
    """DAY back to the official calendar, as ACTOR's change; False when it had no override."""
    row = session.get(CalendarOverride, day)
    if row is None:
        return False
    changelog.record(session, calendar_change(day, _state(row), None), actor=actor)
    session.delete(row)
    session.flush()
    return True


def describe_day(session: Session, day: date) -> dict[str, object]:
    found = describe(session, day)
    return {
        "date": day.isoformat(),
        "is_workday": found.is_workday,
        "official_is_workday": found.official_is_workday,
        "overridden": found.override is not None,
    }


@dataclass(frozen=True)
class Day:
    """One day as the deadlines count it, and why."""

    day: date
    override: CalendarOverride | None  # an administrator's, which wins over the official calendar

    @property
    def official_is_workday(self) -> bool:
        return official_is_workday(self.day)

    @property
    def official_known(self) -> bool:
        """Whether the State Council's arrangement for the day's year is in the package."""
        return official_covers(self.day.year)

    @property
    def is_workday(self) -> bool:
        return self.official_is_workday if self.override is None else self.override.is_workday

    @property
    def label(self) -> str:
        return "工作日" if self.is_workday else "休息日"

    @property
    def tag(self) -> str:
        """What sets the day apart from an ordinary week: 调休上班 on a weekend, 放假 on a weekday."""
        if self.is_workday and is_weekend(self.day):
            return "调休上班"
        if not self.is_workday and not is_weekend(self.day):
            return "放假"
        return ""


def month_days(session: Session, year: int, month: int) -> list[Day]:
    """Every day of a month with its kind, the official one and the administrator's override if any."""
    first = date(year, month, 1)
    last = first + timedelta(days=months.monthrange(year, month)[1] - 1)
    rows = session.scalars(select(CalendarOverride).where(CalendarOverride.day.between(first, last))).all()
    overrides = {row.day: row for row in rows}
    days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return [Day(day, overrides.get(day)) for day in days]


def parse_month(text: str) -> tuple[int, int]:
    """YYYY-MM as (year, month)."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
    except ValueError:
        raise InvalidInput(f"月份格式不正确：{text!r}（应为 YYYY-MM）", code="invalid-month") from None
    if not (1 <= month <= 12 and 1900 <= year <= 2200):
        raise InvalidInput(f"月份不正确：{text!r}", code="invalid-month")
    return year, month


def describe(session: Session, day: date) -> Day:
    """One day as `month_days` gives it."""
    return Day(day, session.get(CalendarOverride, day))


def unentered_years(session: Session, today: date, horizon_days: int = HORIZON_DAYS) -> list[int]:
    """Years from TODAY to HORIZON_DAYS ahead whose holiday arrangement is neither in the package nor entered:
    their deadlines count Monday to Friday until someone enters it. Every year's notice gives 1 January (元旦)
    off, so a year counts as entered once its 1 January is recorded as a holiday; a local change to some other
    day of the year does not."""
    years = range(today.year, (today + timedelta(days=horizon_days)).year + 1)
    missing = [year for year in years if not official_covers(year)]
    if not missing:
        return []
    new_years = [date(year, 1, 1) for year in missing]
    entered = set(
        session.scalars(
            select(CalendarOverride.day).where(
                CalendarOverride.day.in_(new_years), CalendarOverride.is_workday.is_(False)
            )
        )
    )
    return [year for year in missing if date(year, 1, 1) not in entered]


@dataclass(frozen=True)
class Imported:
    days: int
    workdays: int
    holidays: int
    first: date
    last: date


def import_days(session: Session, table: Table, *, actor: str = "") -> Imported:
    """A year's holiday arrangement as an administrator copies it from the notice: rows of 日期 (a day, or a range
    written 2027-02-06至2027-02-12 or with ~), 类型 (放假/休息日 or 上班/工作日) and an optional 说明. Every row is
    checked before any day is written: a wrong row stops the import with its row number and nothing changes."""
    header = list(table.header)
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"文件中没有“{'、'.join(missing)}”列（现有列：{'、'.join(header) or '无'}）", code="missing-column"
        )
    wanted: dict[date, tuple[bool, str, int]] = {}
    for number, row in zip(table.numbers, table, strict=True):
        written, kind_text, note = row.get("日期", ""), row.get("类型", "").strip(), row.get("说明", "").strip()
        if not written.strip() and not kind_text:
            continue
        kind = KIND_WORDS.get(kind_text.lower())
        if kind is None:
            raise InvalidInput(
                f"第 {number} 行类型不正确：{kind_text!r}（应为 放假、休息日、上班 或 工作日）",
                code="invalid-day-kind",
                row=number,
            )
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"第 {number} 行说明超过{MAX_NOTE}个字", code="invalid-note", row=number)
        for day in _days_written(written, number):
            earlier = wanted.get(day)
            if earlier is not None and earlier[0] != kind:
                raise InvalidInput(
                    f"第 {number} 行与第 {earlier[2]} 行对 {day} 的类型不一致", code="conflicting-days", row=number
                )
            wanted[day] = (kind, note, number)
        if len(wanted) > MAX_IMPORT_DAYS:
            raise InvalidInput(f"一次最多导入 {MAX_IMPORT_DAYS} 天", code="too-many-rows", row=number)
    if not wanted:
        raise InvalidInput("文件中没有日期", code="empty-file")
    for day, (kind, note, _) in sorted(wanted.items()):
        _set(session, day, kind, note, actor=actor, because=IMPORTED)
    workdays = sum(1 for kind, _, _ in wanted.values() if kind)
    ordered = sorted(wanted)
    return Imported(len(wanted), workdays, len(wanted) - workdays, ordered[0], ordered[-1])


_RANGE_MARKS = ("至", "~", "～", "—", "到")


def _days_written(written: str, number: int) -> list[date]:
    text = written.strip()
    mark = next((m for m in _RANGE_MARKS if m in text), None)
    parts = text.split(mark, 1) if mark else [text]
    try:
        days = [parse_date(part) for part in parts]
    except ValueError:
        raise InvalidInput(
            f"第 {number} 行日期不正确：{text!r}（应为 YYYY-MM-DD，或 2027-02-06至2027-02-12 这样的范围）",
            code="invalid-date",
            row=number,
        ) from None
    first, last = days[0], days[-1]
    if last < first or (last - first).days > 366:
        raise InvalidInput(f"第 {number} 行日期范围不正确：{text!r}", code="invalid-date", row=number)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
