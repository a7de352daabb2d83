"""Use cases of the catalogue and the integration plan.

Reading is cached: `snapshot(session)` builds the plan state (catalogue + local lines + latest records),
the working-day calendar and the sub-centre hours once per process and reuses them. A write to those
tables in this process invalidates the cache at once (engine event); every write here also changes the
token in `plan_revision`, which a reader looks at when its snapshot is older than MAX_AGE seconds, so a
change made by another process (the CLI while the server runs) is seen within MAX_AGE.
"""

from __future__ import annotations

import getpass
import os
import re
import threading
import time as _time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import time as dtime
from functools import lru_cache
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hotline.calendar.service import REVISION_COLUMNS as CALENDAR_REVISION
from hotline.calendar.service import load_calendar
from hotline.errors import Conflict, InvalidInput
from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import (
    Line,
    Milestone,
    MilestoneStatus,
    Mode,
    PlanState,
    Record,
    RecordKind,
    Scope,
    Status,
)
from hotline.plan.regions import REGIONS, Region, find_region
from hotline.plan.store import LocalLine, MilestoneRecord, PlanRevision, SubcenterHours
from hotline.routing.domain import CachedCalendar, HoursTable, ServiceHours
from hotline.settings import get_settings
from hotline.timeutil import china_day, now

UNIT_SEPARATOR = "、"


# -- the cached snapshot ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    state: PlanState
    calendar: CachedCalendar
    hours: HoursTable


Token = tuple[Any, ...]

# How long a snapshot is trusted without looking at the database, when nothing was written in this
# process meanwhile: bounds how late a change made by ANOTHER process (the CLI while the server runs)
# is seen. Writes in this process are seen at once (see _watch).
MAX_AGE = 0.5


@dataclass
class _Entry:
    token: Token
    snapshot: Snapshot
    checked: float
    generation: int


_cache: dict[tuple[Any, int], _Entry] = {}
_lock = threading.Lock()
_generation = 0
_watched: set[Any] = set()
_DIRTY = "hotline.plan.dirty"
# Tables the snapshot is built from; any INSERT/UPDATE/DELETE on them in this process invalidates it.
_WATCHED_TABLES = ("plan_local_lines", "plan_milestone_records", "plan_subcenter_hours", "plan_revision",
                   "calendar_overrides")  # fmt: skip


def _bump(*_args: Any) -> None:
    global _generation
    with _lock:
        _generation += 1


def _on_statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement[:6].upper() in ("INSERT", "UPDATE", "DELETE") and any(t in statement for t in _WATCHED_TABLES):
        conn.info[_DIRTY] = True
        _bump()


def _on_end(conn: Any) -> None:
    if conn.info.pop(_DIRTY, False):
        _bump()


def _watch(engine: Any) -> None:
    """Listen to every statement of this engine: a write to a watched table (by any code in this process,
    including a test fixture emptying tables) invalidates the snapshot at once and again at commit or
    rollback."""
    with _lock:
        if engine in _watched:
            return
        _watched.add(engine)
    event.listen(engine, "before_cursor_execute", _on_statement)
    event.listen(engine, "commit", _on_end)
    event.listen(engine, "rollback", _on_end)


def _changed(session: Session) -> None:
    """Mark the plan as changed for every process: a new token in `plan_revision`."""
    row = session.get(PlanRevision, 1)
    token = uuid.uuid4().hex
    if row is None:
        session.add(PlanRevision(id=1, token=token, changed_at=now()))
    else:
        row.token = token
        row.changed_at = now()
    session.flush()


_PLAN_TOKEN = select(PlanRevision.__table__.c.token).where(PlanRevision.__table__.c.id == 1).scalar_subquery()
# What the plan snapshot depends on, as scalar subqueries a caller can put into its own revision query (the
# telephony proxy's cache follows the same changes).
REVISION_COLUMNS = (_PLAN_TOKEN, *CALENDAR_REVISION)
_TOKEN_QUERY = select(*REVISION_COLUMNS)


def _token(session: Session) -> Token:
    """What the snapshot depends on, in one small query: the plan's revision token and the calendar
    overrides' count and latest change (`hotline.calendar.service.REVISION_COLUMNS`)."""
    return tuple(session.connection().execute(_TOKEN_QUERY).one())


@lru_cache(maxsize=8)
def _plan_year(_raw: str | None) -> int:
    return get_settings().plan_year


def plan_year() -> int:
    """The plan year setting (HOTLINE_PLAN_YEAR), remembered per value of the variable."""
    return _plan_year(os.environ.get("HOTLINE_PLAN_YEAR"))


def _build(session: Session, year: int) -> Snapshot:
    catalogue = load_catalogue()
    local = tuple(_line_of(row, catalogue.local_units) for row in session.scalars(select(LocalLine)))
    latest: dict[tuple[str, str, str], Record] = {}
    rows = session.scalars(select(MilestoneRecord).order_by(MilestoneRecord.recorded_at, MilestoneRecord.id))
    for row in rows:
        latest[(row.line_number, row.milestone_id, row.region_code)] = _record_of(row)
    hours = {
        (h.line_number, h.region_code): ServiceHours(h.opens, h.closes, h.workdays_only)
        for h in session.scalars(select(SubcenterHours))
    }
    state = PlanState(year=year, catalogue=catalogue, local_lines=local, latest=latest)
    return Snapshot(state=state, calendar=CachedCalendar(load_calendar(session)), hours=HoursTable(hours))


def fresh_snapshot(engine: Any) -> Snapshot | None:
    """The cached snapshot of this engine's database if it can be used without a look at the database."""
    entry = _cache.get((engine, plan_year()))
    if entry is not None and entry.generation == _generation and _time.monotonic() - entry.checked < MAX_AGE:
        return entry.snapshot
    return None


def snapshot(session: Session) -> Snapshot:
    """Plan state, calendar and sub-centre hours, cached per database and plan year.

    Served from memory unless something was written to the watched tables in this process since it was
    built (then rebuilt), or it is older than MAX_AGE seconds: then one small query reads the revision
    token (plan tables) and the calendar overrides' count and latest change, and the snapshot is rebuilt
    only if they differ.
    """
    year = plan_year()
    engine = session.get_bind()
    key = (engine, year)
    entry = _cache.get(key)
    generation = _generation
    clock = _time.monotonic()
    if entry is not None and entry.generation == generation and clock - entry.checked < MAX_AGE:
        return entry.snapshot
    _watch(engine)
    token = _token(session)
    if entry is None or entry.generation != generation or entry.token != token:
        entry = _Entry(token, _build(session, year), clock, generation)
        _cache[key] = entry
    else:
        entry.checked, entry.generation = clock, generation
    return entry.snapshot


def plan_state(session: Session) -> PlanState:
    return snapshot(session).state


# -- catalogue -------------------------------------------------------------------------------------
def list_lines(session: Session) -> list[Line]:
    """Every number the platform knows: 12345, the seed's 32 lines, local lines, then 110/119/120/122."""
    return list(plan_state(session).lines())


def get_line(session: Session, number: str) -> Line:
    """One line by number; raises NotFound `line-not-found`."""
    return plan_state(session).get_line(number)


def list_regions() -> list[Region]:
    return list(REGIONS)


def list_milestones(session: Session, number: str) -> list[Milestone]:
    state = plan_state(session)
    return list(state.milestones_of(state.get_line(number)))


def effective_date(session: Session, number: str, milestone_id: str, region_code: str) -> date:
    """The milestone's recorded date for that line and region, else the plan's date.

    Raises `line-not-found`, `milestone-not-found`, `region-not-found`.
    """
    state = plan_state(session)
    line = state.get_line(number)
    region = find_region(region_code)
    return state.effective_date(line, state.get_milestone(line, milestone_id), region.code)


_NUMBER = re.compile(r"^\d{3,20}$")


def add_local_line(
    session: Session,
    number: str,
    name: str,
    *,
    units: list[str] | None = None,
    note: str = "",
    actor: str = "",
) -> Line:
    """Register a line set up by a provincial department or a city (整体并入, local dates)."""
    number = number.strip()
    name = name.strip()
    if not _NUMBER.match(number):
        raise InvalidInput(f"号码只能由3至20位数字组成：{number!r}", code="invalid-number")
    if not name or len(name) > 100:
        raise InvalidInput("热线名称不能为空，且不超过100个字", code="invalid-name")
    if len(note) > 500:
        raise InvalidInput("备注不超过500个字", code="invalid-note")
    if plan_state(session).find_line(number) is not None or session.get(LocalLine, number) is not None:
        raise Conflict(f"号码 {number} 已在热线目录中", code="line-exists")
    clean_units = [u.strip() for u in (units or []) if u.strip()]
    row = LocalLine(
        number=number,
        name=name,
        units=UNIT_SEPARATOR.join(clean_units),
        note=note,
        registered_by=actor or _default_actor(),
        registered_at=now(),
    )
    session.add(row)
    _changed(session)
    return _line_of(row, load_catalogue().local_units)


# -- recording the plan's progress -------------------------------------------------------------------
def record_milestone(
    session: Session,
    number: str,
    milestone_id: str,
    region_code: str,
    *,
    done: date | None = None,
    postpone: date | None = None,
    note: str = "",
    actor: str = "",
) -> Record:
    """Record that a milestone was done on a date, or postpone its deadline, for one line in one region."""
    if (done is None) == (postpone is None):
        raise InvalidInput("请指定完成日期（--done）或延期日期（--postpone）之一", code="record-kind-required")
    state = plan_state(session)
    line = state.get_line(number)
    if not line.is_integration_line:
        raise InvalidInput(f"号码 {line.number} 不在整合归并计划内", code="line-not-in-plan")
    milestone = state.get_milestone(line, milestone_id)
    region = find_region(region_code)
    if len(note) > 500:
        raise InvalidInput("备注不超过500个字", code="invalid-note")
    latest = state.latest.get((line.number, milestone.id, region.code))
    if done is not None:
        kind, day = RecordKind.DONE, done
        if done > china_day(now()):
            raise InvalidInput(f"完成日期 {done} 晚于今天，不能登记为已完成", code="done-in-future")
    else:
        assert postpone is not None
        kind, day = RecordKind.POSTPONE, postpone
        plan_day = milestone.plan_date(state.year)
        if postpone <= plan_day:
            raise InvalidInput(f"延期日期 {postpone} 必须晚于计划日期 {plan_day}", code="postpone-not-later")
        if latest is not None and latest.kind is RecordKind.DONE:
            raise Conflict(
                f"{line.number} 在{region.name}的节点“{milestone.title}”已于 {latest.day} 完成，不能延期",
                code="milestone-already-done",
            )
    row = MilestoneRecord(
        line_number=line.number,
        milestone_id=milestone.id,
        region_code=region.code,
        kind=kind.value,
        day=day,
        note=note,
        recorded_by=actor or _default_actor(),
        recorded_at=now(),
    )
    session.add(row)
    _changed(session)
    return _record_of(row)


def history(session: Session, number: str | None = None, region_code: str | None = None) -> list[Record]:
    """Every record (oldest first), optionally for one line and/or one region."""
    query = select(MilestoneRecord).order_by(MilestoneRecord.recorded_at, MilestoneRecord.id)
    if number is not None:
        query = query.where(MilestoneRecord.line_number == get_line(session, number).number)
    if region_code is not None:
        query = query.where(MilestoneRecord.region_code == find_region(region_code).code)
    return [_record_of(row) for row in session.scalars(query)]


def status(session: Session, region_code: str | None = None, on: date | None = None) -> list[MilestoneStatus]:
    """Every (line, milestone) in one region (or all regions) with done / due / overdue at date ON."""
    state = plan_state(session)
    regions = [find_region(region_code)] if region_code else list(REGIONS)
    return state.statuses(on or china_day(now()), regions)


def overdue(
    session: Session,
    on: date | None = None,
    region_code: str | None = None,
    *,
    statuses: Sequence[MilestoneStatus] | None = None,
) -> dict[str, list[MilestoneStatus]]:
    """Overdue milestones (deadline passed, not recorded done) per responsible unit, units sorted.

    `statuses`: what `status(session, region_code, on)` already returned, so a page showing both reads once.
    """
    shared = load_catalogue().shared_unit
    by_unit: dict[str, list[MilestoneStatus]] = defaultdict(list)
    for item in status(session, region_code, on) if statuses is None else statuses:
        if item.status is Status.OVERDUE:
            for unit in item.units(shared):
                by_unit[unit].append(item)
    return dict(sorted(by_unit.items()))


# -- sub-centre hours ------------------------------------------------------------------------------
def set_subcenter_hours(
    session: Session,
    number: str,
    opens: dtime,
    closes: dtime,
    *,
    region_code: str | None = None,
    workdays_only: bool = True,
    actor: str = "",
) -> ServiceHours:
    """Service hours of a sub-centre before 7×24, for one region or (region None) for all its regions."""
    line = get_line(session, number)
    if line.mode is not Mode.SUBCENTER:
        raise InvalidInput(f"号码 {line.number} 不是分中心热线", code="not-a-subcenter")
    if opens >= closes:
        raise InvalidInput("开始时间必须早于结束时间", code="invalid-hours")
    region = find_region(region_code).code if region_code else "*"
    row = session.get(SubcenterHours, (line.number, region))
    if row is None:
        row = SubcenterHours(line_number=line.number, region_code=region)
        session.add(row)
    row.opens, row.closes, row.workdays_only = opens, closes, workdays_only
    row.set_by = actor or _default_actor()
    row.set_at = now()
    _changed(session)
    return ServiceHours(opens, closes, workdays_only)


def subcenter_hours(session: Session, number: str, region_code: str) -> ServiceHours:
    line = get_line(session, number)
    if line.mode is not Mode.SUBCENTER:
        raise InvalidInput(f"号码 {line.number} 不是分中心热线", code="not-a-subcenter")
    return snapshot(session).hours.for_subcenter(line.number, find_region(region_code).code)


# -- demo --------------------------------------------------------------------------------------------
DEMO_LOCAL_LINE = ("96128", "演示：成都市城市管理服务热线", ["成都市城市管理委员会"])


def load_demo(session: Session) -> str:
    """A demo local line and a few records (early, postponed) so the status view shows differences."""
    year = get_settings().plan_year
    added = 0
    number, name, units = DEMO_LOCAL_LINE
    if session.get(LocalLine, number) is None:
        add_local_line(session, number, name, units=units, note="演示数据", actor="demo")
    today = china_day(now())
    demo: list[tuple[str, str, str, RecordKind, date, str]] = [
        ("12331", "transition", "510100", RecordKind.DONE, date(year, 5, 20), "成都市提前完成座席归并"),
        ("12396", "transition", "510700", RecordKind.POSTPONE, date(year, 6, 15), "绵阳市场地改造延后"),
        ("12366", "full-time", "510100", RecordKind.DONE, date(year, 7, 1), "成都税务分中心提前实现7×24小时"),
        ("12333", "systems-connected", "510100", RecordKind.DONE, date(year, 9, 20), "系统对接完成"),
        ("12333", "transfer", "511300", RecordKind.POSTPONE, date(year, 11, 1), "南充市人员划转未完成"),
        ("12360", "transfer-mechanism", "510000", RecordKind.DONE, date(year, 3, 25), "三方转接已联调"),
    ]
    existing = {(r.line, r.milestone, r.region) for r in history(session)}
    for line, milestone, region, kind, day, note in demo:
        if (line, milestone, region) in existing or (kind is RecordKind.DONE and day > today):
            continue
        record_milestone(
            session,
            line,
            milestone,
            region,
            done=day if kind is RecordKind.DONE else None,
            postpone=day if kind is RecordKind.POSTPONE else None,
            note=note,
            actor="demo",
        )
        added += 1
    return f"热线目录与整合计划：演示本地热线 {number}，新增里程碑登记 {added} 条"


# -- helpers -----------------------------------------------------------------------------------------
def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "admin"


def _line_of(row: LocalLine, default_units: tuple[str, ...]) -> Line:
    units = tuple(u for u in row.units.split(UNIT_SEPARATOR) if u) or default_units
    return Line(number=row.number, name=row.name, mode=Mode.FULL_MERGE, scope=Scope.LOCAL, units=units, local=True)


def _record_of(row: MilestoneRecord) -> Record:
    return Record(
        line=row.line_number,
        milestone=row.milestone_id,
        region=row.region_code,
        kind=RecordKind(row.kind),
        day=row.day,
        note=row.note,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def parse_time_of_day(text: str) -> dtime:
    try:
        return dtime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"时间格式不正确：{text!r}（应为 HH:MM）", code="invalid-time") from exc
