"""Use cases of the work-order capability. Each function takes the `Session` first and is one unit of work.

Public face for other capabilities:
- `lookup_dispatch_catalogue(session, category, region_code, line) -> Unit | None`
- `create_order(session, *, type, content, phone, region, ...) -> Order` and `order_view(session, order, role)`
- `act(session, number, action, *, role, ...) -> Order`
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib import resources
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, configure_mappers, selectinload
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.instrumentation import manager_of_class

from hotline.calendar.domain import WorkCalendar
from hotline.calendar.service import REVISION_COLUMNS, load_calendar
from hotline.changelog import service as changelog
from hotline.changelog.domain import Holder, UnitState, catalogue_change, limit_change, unit_change
from hotline.errors import Conflict, Forbidden, HotlineError, InvalidInput, NotFound, TooManyAttempts
from hotline.plan.regions import PROVINCE, REGIONS, city_code, find_region
from hotline.privacy import mask_name, mask_phone
from hotline.timeutil import CHINA_TZ, china, china_day, now, parse_day, parse_instant
from hotline.workorders import domain as d
from hotline.workorders import search
from hotline.workorders.store import (
    CatalogueEntry,
    Category,
    History,
    Limit,
    LookupFailure,
    Order,
    Unit,
    dense_match,
    is_lead,
    words_match,
    write_order_words,
)
from hotline.workorders.store import Sequence as SequenceRow

MAX_CONTENT = 4000
UNIT_KINDS = d.UNIT_KINDS

# --- reference data ----------------------------------------------------------------------------------------------


def taxonomy_rows() -> list[tuple[str, str, str]]:
    """The default three-level category tree shipped with the package (TipDM 2020 label taxonomy)."""
    text = resources.files("hotline.workorders").joinpath("data/tipdm_label_taxonomy.csv").read_text("utf-8")
    reader = csv.reader(text.splitlines())
    next(reader)
    return [(a.strip(), b.strip(), c.strip()) for a, b, c in reader if a.strip()]


def load_taxonomy(session: Session, rows: Iterable[tuple[str, str, str]] | None = None) -> int:
    """Load the category tree (idempotent); returns how many leaves were added."""
    have = set(session.scalars(select(Category.path)))
    added = 0
    for a, b, c in rows if rows is not None else taxonomy_rows():
        path = f"{a}/{b}/{c}"
        if path in have:
            continue
        session.add(Category(level1=a, level2=b, level3=c, path=path))
        have.add(path)
        added += 1
    session.flush()
    return added


def category_tree(session: Session) -> list[tuple[str, str, str]]:
    """The category tree (first, second, third level), in the order it was loaded (the default on first use)."""
    rows = session.execute(select(Category.level1, Category.level2, Category.level3).order_by(Category.id)).all()
    if not rows:
        load_taxonomy(session)
        rows = session.execute(select(Category.level1, Category.level2, Category.level3).order_by(Category.id)).all()
    return [(a, b, c) for a, b, c in rows]


def category_revision(session: Session) -> tuple[int, int]:
    """Changes whenever the category tree does (leaves are only ever added): for callers that cache it."""
    count, last = session.execute(select(func.count(), func.max(Category.id)).select_from(Category)).one()
    return int(count or 0), int(last or 0)


def normalize_category(category: str) -> str:
    parts = [p.strip() for p in category.replace(">", "/").replace("／", "/").split("/")]
    return "/".join(p for p in parts if p)


def _category_exists(session: Session, path: str) -> bool:
    return (
        session.scalar(
            select(Category.id)
            .where((Category.path == path) | Category.path.startswith(path + "/", autoescape=True))
            .limit(1)
        )
        is not None
    )


def _check_category(session: Session, category: str) -> str:
    """The normalised category path; it must be a leaf or a prefix of the tree (loaded on first use)."""
    path = normalize_category(category)
    if not path:
        return ""
    known: set[str] = session.info.setdefault("wo_categories", set())
    if path in known:
        return path
    with session.no_autoflush:
        found = _category_exists(session, path)
        if not found and session.scalar(select(Category.id).limit(1)) is None:
            load_taxonomy(session)
            found = _category_exists(session, path)
    if not found:
        raise InvalidInput(f"分类不在分类目录中：{category}", code="category-not-found")
    known.add(path)
    return path


def add_unit(
    session: Session,
    code: str,
    name: str,
    kind: str,
    *,
    region_code: str,
    parent: str | None = None,
    actor: str = "",
) -> Unit:
    """Create or update a unit (idempotent by code), recorded as ACTOR's change (`changelog`) if it changes it. The
    parent must not be the unit itself or one of its descendants (`unit-parent-loop`), and a new parent must be in
    service (`unit-inactive`)."""
    if kind not in UNIT_KINDS:
        raise InvalidInput(f"单位类型不正确：{kind}（可选：{'、'.join(UNIT_KINDS)}）", code="invalid-unit-kind")
    region = unit_region(region_code)
    name = _short(name, 200, "单位名称")
    code = _short(code, 64, "单位代码")
    if not code or not name:
        raise InvalidInput("单位代码和名称不能为空", code="unit-incomplete")
    parent_unit = get_unit(session, parent) if parent else None
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if parent_unit is not None:
        if unit is not None and unit in unit_lineage(parent_unit):
            raise InvalidInput(
                f"上级单位不能是本单位或其下级单位：{parent_unit.name}（{parent_unit.code}）", code="unit-parent-loop"
            )
        if unit is None or unit.parent_id != parent_unit.id:
            require_active(parent_unit)
    before = unit_state(unit) if unit is not None else None
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, region_code=region, active=True)
        session.add(unit)
    unit.name, unit.kind, unit.region_code = name, kind, region
    unit.parent = parent_unit
    changelog.record(session, unit_change(code, before, unit_state(unit)), actor=actor)
    session.flush()
    return unit


def unit_state(unit: Unit) -> UnitState:
    """What the change records keep of UNIT."""
    above = unit.parent
    return UnitState(
        unit.name, unit.kind, unit.region_code, above.code if above else None, bool(unit.active),
        above.name if above else None,
    )  # fmt: skip


def holder(unit: Unit) -> Holder:
    return Holder(unit.code, unit.name)


def unit_lineage(unit: Unit) -> list[Unit]:
    """UNIT, its parent, its parent's parent … up to a unit without one (stopping where a loop left by older data
    would come back)."""
    line = [unit]
    while line[-1].parent is not None and line[-1].parent not in line:
        line.append(line[-1].parent)
    return line


def require_active(unit: Unit, session: Session | None = None) -> Unit:
    """UNIT, refused (`unit-inactive`) once it is out of service (停用): it takes no new orders or catalogue
    entries and heads no new units.

    Given the SESSION about to give it an order, the unit's row is read again under a share lock held to the end
    of the transaction: a 停用 (`units.deactivate_unit`, which locks the row for update before counting the unit's
    open orders) then either waits for this order and refuses, or is seen here. Share locks let orders be given
    to one unit at the same time."""
    if not in_service(unit, session):
        raise Conflict(f"单位已停用：{unit.name}（{unit.code}）", code="unit-inactive", unit=unit.code)
    return unit


def in_service(unit: Unit, session: Session | None = None) -> bool:
    """Whether UNIT is in service; given the SESSION, read under the share lock `require_active` explains."""
    if session is None:
        return bool(unit.active)
    return bool(session.scalar(select(Unit.active).where(Unit.id == unit.id).with_for_update(read=True)))


def successor_in_service(session: Session, unit: Unit) -> Unit | None:
    """Who now does the work of UNIT, out of service: the 接替单位 its 停用 named (`units.deactivate_unit`), or,
    that one out of service too, the one that took over from it in turn; None where a 停用 on the way named none."""
    seen = {unit.id}
    heir = unit.successor
    while heir is not None and not heir.active:
        if heir.id in seen:  # each successor was in service when named, so a loop is only left by edited data
            return None
        seen.add(heir.id)
        heir = heir.successor
    return heir


def unit_region(region_code: str) -> str:
    """A region for a unit: a province or 市（州） (code, name or alias), or a 区（县） code within a known 市（州）."""
    raw = (region_code or "").strip()
    if len(raw) == 6 and raw.isdigit() and raw[4:] != "00":
        find_region(city_code(raw))
        return raw
    return find_region(raw).code


def get_unit(session: Session, code: str) -> Unit:
    cache: dict[str, Unit] = session.info.setdefault("wo_units", {})
    unit = cache.get(code)
    if unit is None:
        with session.no_autoflush:
            unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            raise NotFound(f"未知单位：{code}", code="unit-not-found")
        cache[code] = unit
    return unit


def load_units(session: Session, *, actor: str = "") -> int:
    """The provincial centre and the 21 市（州） centres as units (idempotent); returns how many were added."""
    before = session.scalar(select(func.count()).select_from(Unit)) or 0
    add_unit(
        session, PROVINCE.code, f"{PROVINCE.name}12345热线中心", "province", region_code=PROVINCE.code, actor=actor
    )
    for region in REGIONS:
        if region is not PROVINCE:
            add_unit(
                session,
                region.code,
                f"{region.name}12345热线中心",
                "city",
                region_code=region.code,
                parent=PROVINCE.code,
                actor=actor,
            )
    return (session.scalar(select(func.count()).select_from(Unit)) or 0) - before


def set_catalogue_entry(
    session: Session, category: str, unit: str, *, region_code: str = "", line: str = "", actor: str = ""
) -> CatalogueEntry:
    """Record in the dispatch catalogue that CATEGORY (+ region, + line) goes to UNIT (idempotent), as ACTOR's
    change (`changelog`) if it changes the entry."""
    path = _check_category(session, category)
    if not path:
        raise InvalidInput("派单目录须指定分类", code="category-required")
    region = unit_region(region_code) if region_code else ""
    line = _short(line, 32, "拨打号码")
    target = require_active(get_unit(session, unit))
    entry = _catalogue_entry(session, path, region, line)
    was = holder(entry.unit) if entry is not None else None
    if entry is None:
        entry = CatalogueEntry(category=path, region_code=region, line=line, unit=target)
        session.add(entry)
    entry.unit = target
    changelog.record(session, catalogue_change(path, region, line, was, holder(target)), actor=actor)
    session.flush()
    return entry


def _catalogue_entry(session: Session, path: str, region: str, line: str) -> CatalogueEntry | None:
    return session.scalar(
        select(CatalogueEntry).where(
            CatalogueEntry.category == path, CatalogueEntry.region_code == region, CatalogueEntry.line == line
        )
    )


def remove_catalogue_entry(
    session: Session, category: str, *, region_code: str = "", line: str = "", actor: str = ""
) -> CatalogueEntry:
    """Remove the dispatch-catalogue entry for CATEGORY (+ region, + line), as ACTOR's change (`changelog`): lookups
    fall back to a less specific one. The key is read as `set_catalogue_entry` reads it. Returns the entry removed
    (read it before the transaction ends); `catalogue-entry-not-found` (naming the key as read) when there is none."""
    region = unit_region(region_code) if region_code else ""
    path, line = normalize_category(category), line.strip()
    entry = _catalogue_entry(session, path, region, line)
    if entry is None:
        raise NotFound(
            f"派单目录中没有这一条：{d.entry_label(path, region, line)}",
            code="catalogue-entry-not-found",
            category=path,
            region_code=region,
            line=line,
        )
    change = catalogue_change(entry.category, entry.region_code, entry.line, holder(entry.unit), None)
    changelog.record(session, change, actor=actor)
    session.delete(entry)
    session.flush()
    return entry


def list_catalogue(session: Session) -> list[CatalogueEntry]:
    """The dispatch catalogue by category, then region and line ("any" first), with each entry's unit."""
    order = (CatalogueEntry.category, CatalogueEntry.region_code, CatalogueEntry.line)
    return list(session.scalars(select(CatalogueEntry).order_by(*order)))


def unit_view(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "kind_label": UNIT_KINDS[unit.kind],
        "region_code": unit.region_code,
        "parent": unit.parent.code if unit.parent else None,
        "active": unit.active,
    }


def list_units(session: Session, *, active: bool | None = None) -> list[dict[str, Any]]:
    """The units by code: all, or only those in service (ACTIVE True) or only those out of it (停用, False)."""
    query = select(Unit).order_by(Unit.code)
    if active is not None:
        query = query.where(Unit.active.is_(active))
    return [unit_view(u) for u in session.scalars(query)]


def lookup_dispatch_catalogue(session: Session, category: str, region_code: str, line: str | None) -> Unit | None:
    """The handling unit the dispatch catalogue (派单目录) names for a category in a region (code or name), or
    None.

    `category` is a first-level name (城乡建设), a path (城乡建设/安全生产/事故处理; '>' also separates), or
    a prefix of one. The most specific entry wins: the deepest matching category prefix first, then an entry
    for this very line over one for any line, then the region itself over its 市（州） over the province over
    "any region". Inactive units are skipped.
    """
    path = normalize_category(category)
    if not path:
        return None
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    # A code as orders carry it (a 区（县）'s too), or a 市（州） as people name it (成都市): a name not known is
    # `region-not-found`, not a silent "none".
    code = (region_code or "").strip()
    if code and not code.isdigit():
        code = find_region(code).code
    regions = [r for r in dict.fromkeys([code, city_code(code) if len(code) == 6 else "", PROVINCE.code, ""])]
    lines = [line, ""] if line else [""]
    rows = session.scalars(
        select(CatalogueEntry)
        .join(Unit, CatalogueEntry.unit_id == Unit.id)
        .where(
            CatalogueEntry.category.in_(prefixes),
            CatalogueEntry.region_code.in_(regions),
            CatalogueEntry.line.in_(lines),
            Unit.active.is_(True),
        )
    ).all()
    if not rows:
        return None
    best = max(
        rows,
        key=lambda e: (len(e.category.split("/")), e.line != "", -regions.index(e.region_code)),
    )
    return best.unit


# --- limits and calendar -------------------------------------------------------------------------------------


def get_limits(session: Session) -> dict[str, int]:
    return dict(_reference(session)[1])


def _limits(session: Session) -> dict[str, int]:
    """The limits without a copy, for reading only."""
    return _reference(session)[1]


# The calendar overrides and the limits, shared by the sessions of this process and checked once per session
# against a revision (count and latest change of each table, one small query) instead of loaded each time.
_REFERENCE_KEY = "wo_reference"
_LIMITS = cast(Table, Limit.__table__)
_REVISION = select(
    *REVISION_COLUMNS,
    select(func.count()).select_from(_LIMITS).scalar_subquery(),
    select(func.max(_LIMITS.c.set_at)).scalar_subquery(),
)
_SHARED_REFERENCE: dict[str, tuple[tuple[Any, ...], WorkCalendar, dict[str, int]]] = {}


def _reference(session: Session) -> tuple[WorkCalendar, dict[str, int]]:
    cached = session.info.get(_REFERENCE_KEY)
    if cached is None:
        revision = tuple(session.execute(_REVISION).one())
        shared = _SHARED_REFERENCE.get(_bind_key(session))
        if shared is not None and shared[0] == revision:
            cached = (*shared, False)
        else:
            limits = d.limits_with({row.key: row.days for row in session.scalars(select(Limit))})
            calendar = load_calendar(session)
            # Shared only if nothing changed while loading (each statement may see a newer commit).
            unchanged = tuple(session.execute(_REVISION).one()) == revision
            cached = (revision, calendar, limits, unchanged)
        session.info[_REFERENCE_KEY] = cached
    return cached[1], cached[2]


def _bind_key(session: Session) -> str:
    return str(session.get_bind().engine.url)


@event.listens_for(Session, "after_commit")
def _share_reference(session: Session) -> None:
    """What a session loaded is shared once its transaction has committed (never what a rolled-back one saw),
    and the next transaction of the session checks the revision again."""
    cached = session.info.pop(_REFERENCE_KEY, None)
    if cached is not None and cached[3]:
        _SHARED_REFERENCE[_bind_key(session)] = cached[:3]


def set_limit(session: Session, key: str, days: int, *, actor: str = "") -> dict[str, int]:
    """Change a time limit (an order type, 签收, 退单 or 回访) in working days, as ACTOR's change (`changelog`). The
    limit it already is changes nothing: not even who set it last."""
    if key not in d.DEFAULT_LIMITS:
        raise InvalidInput(f"时限项不正确：{key}（可选：{'、'.join(d.DEFAULT_LIMITS)}）", code="invalid-limit-key")
    if not 0 < days <= 90:
        raise InvalidInput("时限须为 1 至 90 个工作日", code="invalid-limit-days")
    row = session.get(Limit, key)
    change = limit_change(key, row.days if row is not None else d.DEFAULT_LIMITS[key], days)
    if change is None:
        return get_limits(session)
    changelog.record(session, change, actor=actor)
    if row is None:
        row = Limit(key=key, days=days, set_by=actor, set_at=now())
        session.add(row)
    row.days, row.set_by, row.set_at = days, actor, now()
    session.flush()
    session.info.pop(_REFERENCE_KEY, None)
    return get_limits(session)


def limit_settings(session: Session) -> list[dict[str, Any]]:
    """Each time limit (`DEFAULT_LIMITS`' order) with its default and, once changed, who changed it and when."""
    changed = {row.key: row for row in session.scalars(select(Limit))}
    limits = _limits(session)
    return [
        {
            "key": str(key),
            "days": limits[key],
            "default": default,
            "set_by": changed[key].set_by if key in changed else None,
            "set_at": changed[key].set_at if key in changed else None,
        }
        for key, default in d.DEFAULT_LIMITS.items()
    ]


def _calendar(session: Session) -> WorkCalendar:
    return _reference(session)[0]


# --- numbers -----------------------------------------------------------------------------------------------------


_UPSERTS: dict[str, Any] = {}


def _sequence_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last, built once per dialect."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = cast(Table, SequenceRow.__table__)
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(table)
            .values(region_code=bindparam("region"), day=bindparam("day"), last=1)
            .on_conflict_do_update(index_elements=[table.c.region_code, table.c.day], set_={"last": table.c.last + 1})
            .returning(table.c.last)
        )
        _UPSERTS[dialect] = stmt
    return stmt


# PostgreSQL: the day's next number and the new order's id in one round trip, sent straight to the driver
# (a prepared statement after a few uses). Knowing the id before the flush lets the ORM write new orders
# with one prepared INSERT per row instead of building a multi-row statement.
_PG_TAKE_NUMBER = (
    "WITH s AS (INSERT INTO wo_sequences (region_code, day, last) VALUES (%s, %s, 1) "
    "ON CONFLICT (region_code, day) DO UPDATE SET last = wo_sequences.last + 1 RETURNING last) "
    "SELECT s.last, nextval('wo_orders_id_seq') FROM s"
)


def _take_number(session: Session, region_code: str, day: str) -> tuple[int, int | None]:
    """Atomically take the next number for (region, day) with one upsert: (number, id for the new order, or None
    when the database assigns it at the INSERT).

    The upsert holds the row's write lock until commit, so concurrent creators get consecutive numbers.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return int(
            conn.execute(_sequence_upsert(conn.dialect.name), {"region": region_code, "day": day}).scalar_one()
        ), None
    with _driver_errors(conn, _PG_TAKE_NUMBER):
        row = _driver(conn).execute(_PG_TAKE_NUMBER, (region_code, day)).fetchone()
    return int(row[0]), int(row[1])


def _driver(conn: Connection) -> Any:
    """The driver's own connection (psycopg) under CONN, in the same transaction."""
    return conn.connection.driver_connection


@contextmanager
def _driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Driver errors from a statement sent straight to the driver surface as SQLAlchemy's (IntegrityError …)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=conn.dialect) from exc


def order_number(region_code: str, day: date, seq: int) -> str:
    """5101002021060100001: region code, China-time date, five-digit daily sequence."""
    return f"{region_code}{day:%Y%m%d}{seq:05d}"


# --- orders ------------------------------------------------------------------------------------------------------


def _case(order: Order, *, children: Sequence[Order] = ()) -> d.Case:
    # On an order not yet written (no identity) the values are read from the instance's dict, where an
    # attribute never set is None: what the ORM attribute returns, without its descriptor. A stored order is
    # read through its attributes (an expired one is loaded).
    get: Any = order.__dict__.get if instance_state(order).key is None else partial(getattr, order)
    lead_unit, resolved_at, satisfaction = get("lead_unit"), get("resolved_at"), get("satisfaction")
    return d.Case(
        type=d.parse_enum(d.OrderType, get("type"), "工单类型", "invalid-type"),
        state=d.parse_enum(d.State, get("state"), "状态", "invalid-state"),
        due=get("due"),
        accept_due=get("accept_due"),
        return_due=get("return_due"),
        visit_due=get("visit_due"),
        paused_on=get("paused_on"),
        paused_workdays=get("paused_workdays"),
        extension_days=get("extension_days"),
        extension_count=get("extension_count"),
        pending_extension=get("pending_extension"),
        lead_unit=lead_unit.code if lead_unit else None,
        # A co-handling order opened in this unit of work has its parent set but not yet its parent_id.
        is_child=get("parent_id") is not None or order.__dict__.get("parent") is not None,
        open_children=sum(1 for k in children if d.State(k.state) in d.OPEN_STATES),
        has_children=bool(children),
        co_handlers=tuple(k.lead_unit.code for k in children if k.lead_unit is not None),
        master=None,
        reply=get("reply"),
        satisfaction=d.Satisfaction(satisfaction) if satisfaction else None,
        citizen_resolved=get("citizen_resolved"),
        resolved_on=china_day(resolved_at) if resolved_at else None,
        urge_count=get("urge_count"),
        supervise_count=get("supervise_count"),
        return_count=get("return_count"),
        reopen_count=get("reopen_count"),
    )


_PLAIN_FIELDS = frozenset(
    {
        "state",
        "due",
        "accept_due",
        "return_due",
        "visit_due",
        "paused_on",
        "paused_workdays",
        "extension_days",
        "extension_count",
        "pending_extension",
        "reply",
        "satisfaction",
        "citizen_resolved",
        "urge_count",
        "supervise_count",
        "return_count",
        "reopen_count",
    }
)


def _set_columns(order: Order, values: dict[str, Any]) -> None:
    """Set column attributes (never relationships) of ORDER.

    An order not yet written (no identity) takes them straight into its dict, which is what its INSERT is made
    from; a stored order through the ORM attributes, which record the change for the UPDATE (with its version
    check).
    """
    if instance_state(order).key is None:
        order.__dict__.update(values)
    else:
        for name, value in values.items():
            setattr(order, name, value)


def _new_order(values: dict[str, Any]) -> Order:
    """A new Order with these column values, set as the declarative constructor would but straight into the
    instance's dict (see `_set_columns`); relationships are set afterwards through their attributes."""
    if not _ORDERS.mapper.configured:
        configure_mappers()  # as the declarative constructor makes sure of first
    order = _ORDERS.new_instance()
    order.__dict__.update(values)
    return cast(Order, order)


_ORDERS = manager_of_class(Order)


def _record(
    session: Session,
    order: Order,
    *,
    action: str,
    role: str,
    actor: str,
    unit: str,
    at: datetime,
    reason: str,
    from_state: str,
    changes: dict[str, Any],
) -> None:
    """Append one history entry. Entries are plain INSERTs written right after the order in the same flush
    (see `_write_history`): the history is never loaded for writing, so it can never be rewritten."""
    count = order.history_count + 1
    _set_columns(order, {"history_count": count, "version": count, "updated_at": at})
    pending: list[tuple[Order, dict[str, Any]]] = session.info.setdefault(_PENDING, [])
    pending.append(
        (
            order,
            {
                "seq": count,
                "action": action,
                "actor": actor,
                "role": role,
                "unit_code": unit,
                "at": at,
                "reason": reason,
                "from_state": from_state,
                "to_state": order.state,
                "changes": changes,
            },
        )
    )


_PENDING = "wo_history_pending"
_HISTORY_INSERT = cast(Table, History.__table__).insert()
_HISTORY_COLUMNS = ("order_id", "seq", "action", "actor", "role", "unit_code", "at", "reason", "from_state",
                    "to_state", "changes")  # fmt: skip
_PG_HISTORY_COPY = f"COPY wo_history ({', '.join(_HISTORY_COLUMNS)}) FROM STDIN"
_PG_HISTORY_INSERT = f"INSERT INTO wo_history ({', '.join(_HISTORY_COLUMNS)}) VALUES ({', '.join(['%s'] * 11)})"
# Below this many entries one pipelined INSERT per entry beats COPY (which waits for the server once more).
_COPY_FROM = 20


@event.listens_for(Session, "after_flush")
def _write_history(session: Session, _context: Any) -> None:
    """Insert the history entries of the orders this flush just wrote (they now have their ids).

    On PostgreSQL they go straight to the driver (the values are already what the columns hold): COPY for a
    bulk flush, prepared INSERTs for a few; constraints and triggers apply as for any INSERT. SQLite: one
    executemany through SQLAlchemy.
    """
    pending = session.info.get(_PENDING)
    if not pending:
        return
    ready = [(o, row) for o, row in pending if o.id is not None]
    if not ready:
        return
    session.info[_PENDING] = [(o, row) for o, row in pending if o.id is None]
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(_HISTORY_INSERT, [{**row, "order_id": o.id} for o, row in ready])
        return
    rows = [
        (
            o.id, row["seq"], row["action"], row["actor"], row["role"], row["unit_code"],
            row["at"].astimezone(UTC), row["reason"], row["from_state"], row["to_state"], json.dumps(row["changes"]),
        )
        for o, row in ready
    ]  # fmt: skip
    driver = _driver(conn)
    if len(rows) < _COPY_FROM:
        with _driver_errors(conn, _PG_HISTORY_INSERT), driver.cursor() as cur:
            cur.executemany(_PG_HISTORY_INSERT, rows)
        return
    with _driver_errors(conn, _PG_HISTORY_COPY), driver.cursor() as cur, cur.copy(_PG_HISTORY_COPY) as copy:
        for values in rows:
            copy.write_row(values)


@event.listens_for(Session, "after_flush")
def _index_words(session: Session, _context: Any) -> None:
    """Write the 关键词 index entry (`store.write_order_words`) of each order this flush created or whose content
    or place it changed, in the same transaction: whatever path wrote the order (受理, import, Open311, 协办
    orders, the demo), the index never lags behind it. After the flush, so that new orders have their ids;
    `new` and `dirty` still name what the flush wrote."""
    changed = [o for o in session.new if isinstance(o, Order)]
    changed += [o for o in session.dirty if isinstance(o, Order) and _text_changed(o)]
    if changed:
        write_order_words(session.connection(), [(o.id, search.index_words(o.content, o.place)) for o in changed])


def _text_changed(order: Order) -> bool:
    attrs = inspect(order).attrs
    return attrs.content.history.has_changes() or attrs.place.history.has_changes()


_SESSION_CACHES = (_PENDING, "wo_units", "wo_categories", "wo_children", _REFERENCE_KEY)


@event.listens_for(Session, "after_rollback")
def _forget_history(session: Session) -> None:
    """A rolled-back unit of work leaves no pending history and no cached rows behind."""
    for key in _SESSION_CACHES:
        session.info.pop(key, None)


def _drop_pending_history(session: Session, order: Order) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(o, row) for o, row in pending if o is not order]


def _payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _same_or_conflict(order: Order, digest: str) -> Order:
    if order.payload_hash != digest:
        raise Conflict("该幂等键已用于内容不同的工单", code="idempotency-conflict", number=order.number)
    return order


def _short(value: str, limit: int, what: str) -> str:
    """Strip VALUE and refuse it when longer than its column (PostgreSQL would fail the whole transaction)."""
    if not value:
        return ""
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{what}过长（最多 {limit} 字）", code="field-too-long", field=what)
    return value


MEDIA_URL = "media_url"  # the key of the 受理 entry's changes holding the citizen's photo address


def media_urls(session: Session, order_ids: Iterable[int]) -> dict[int, str]:
    """order id -> the address of the citizen's photo given at 受理 (`create_order(media_url=…)`), for those of
    ORDER_IDS that have one."""
    ids = list(order_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(History.order_id, History.changes).where(History.order_id.in_(ids), History.action == "create")
    )
    return {order_id: changes[MEDIA_URL][1] for order_id, changes in rows if MEDIA_URL in (changes or {})}


def check_phone(phone: str) -> str:
    """A caller's number as orders store it (spaces and dashes dropped); `invalid-phone` if it is not one."""
    cleaned = phone.strip().replace("-", "").replace(" ", "")
    if not (cleaned.lstrip("+").isdigit() and 5 <= len(cleaned.lstrip("+")) <= 20):
        raise InvalidInput(f"电话号码不正确：{phone!r}", code="invalid-phone")
    return cleaned


def _fresh_counters() -> dict[str, Any]:
    """Counters of a new order, set explicitly: the lifecycle reads them before the first flush."""
    return {
        "paused_workdays": 0,
        "extension_days": 0,
        "extension_count": 0,
        "reply": "",
        "urge_count": 0,
        "supervise_count": 0,
        "return_count": 0,
        "reopen_count": 0,
        "history_count": 0,
        "child_count": 0,
        "version": 0,
    }


def create_order(
    session: Session,
    *,
    type: str,
    content: str,
    phone: str,
    region: str,
    at: datetime | None = None,
    client_key: str | None = None,
    channel: str = "phone",
    caller_name: str = "",
    line: str = "",
    call_id: str = "",
    category: str = "",
    place: str = "",
    urgency: str = "normal",
    confidential: bool = False,
    actor: str = "",
    role: str = "agent",
    sms: bool = True,
    media_url: str = "",
) -> Order:
    """Register a work order (受理). Same `client_key` and payload → the same order; different payload → 409.

    `sms` False: the citizen declined texts (短信通知, `hotline.sms`), said in the 受理 entry's changes.
    `media_url`: the address of the citizen's photo an Open311 app sent (checked by `hotline.open311`), kept in the
    受理 entry's changes (`media_urls`) and never fetched.

    `at` (tz-aware) dates a historical order imported from a legacy hotline; default now. The number is the
    region code, the China-time date of `at` and a five-digit daily sequence. The due date is the type's limit
    in working days after that date.
    """
    order_type = d.parse_enum(d.OrderType, type, "工单类型", "invalid-type")
    chan = d.parse_enum(d.Channel, channel, "来源渠道", "invalid-channel")
    urg = d.parse_enum(d.Urgency, urgency, "紧急程度", "invalid-urgency")
    actor_role = d.parse_enum(d.Role, role, "角色", "invalid-role")
    if actor_role not in (d.Role.AGENT, d.Role.DISPATCHER, d.Role.ADMIN):
        raise InvalidInput("只有话务员、派单员或管理员可以受理工单", code="role-not-allowed")
    text = content.strip()
    if not text:
        raise InvalidInput("诉求内容不能为空", code="content-required")
    if len(text) > MAX_CONTENT:
        raise InvalidInput(f"诉求内容不能超过 {MAX_CONTENT} 字", code="content-too-long")
    tel = check_phone(phone)
    reg = find_region(region)
    if at is not None and at.tzinfo is None:
        raise InvalidInput("受理时间须带时区", code="invalid-time")
    if client_key is not None and not client_key.strip():
        raise InvalidInput("幂等键不能为空字符串", code="invalid-client-key")
    caller_name = _short(caller_name, 64, "来电人姓名")
    line = _short(line, 32, "拨打号码")
    call_id = _short(call_id, 128, "通话标识")
    place = _short(place, 200, "地点")
    actor = _short(actor, 64, "操作人")
    media_url = _short(media_url, 1000, "图片链接")
    if client_key is not None:
        client_key = _short(client_key, 128, "幂等键")
    path = _check_category(session, _short(category, 200, "分类")) if category else ""
    payload = {
        "type": order_type.value,
        "content": text,
        "phone": tel,
        "region": reg.code,
        "at": at.isoformat() if at else None,
        "channel": chan.value,
        "caller_name": caller_name.strip(),
        "line": line,
        "call_id": call_id,
        "category": path,
        "place": place.strip(),
        "urgency": urg.value,
        "confidential": confidential,
    }
    if not sms:  # only when declined: the digests of orders taken in before 短信通知 stay what they were
        payload["sms"] = False
    if media_url:  # likewise only when given
        payload[MEDIA_URL] = media_url
    digest = _payload_hash(payload)
    if client_key:
        existing = session.scalar(select(Order).where(Order.client_key == client_key))
        if existing is not None:
            return _same_or_conflict(existing, digest)

    when = at or now()
    day = china_day(when)
    calendar = _calendar(session)
    limits = _limits(session)
    seq, order_id = _take_number(session, reg.code, f"{day:%Y%m%d}")
    order = _new_order(
        dict(
            id=order_id,
            number=order_number(reg.code, day, seq),
            client_key=client_key,
            payload_hash=digest,
            region_code=reg.code,
            channel=chan.value,
            caller_name=payload["caller_name"],
            caller_phone=tel,
            line=line,
            call_id=call_id,
            type=order_type.value,
            category=path,
            content=text,
            place=payload["place"],
            urgency=urg.value,
            confidential=confidential,
            state=d.State.REGISTERED.value,
            created_at=when,
            updated_at=when,
            due=d.initial_due(order_type, day, calendar, limits),
            **_fresh_counters(),
        )
    )

    def persist() -> None:
        session.add(order)
        _record(
            session,
            order,
            action="create",
            role=actor_role.value,
            actor=actor,
            unit="",
            at=when,
            reason="",
            from_state="",
            changes={
                "due": [None, order.due.isoformat()],
                **({} if sms else {"sms": [None, False]}),
                **({MEDIA_URL: [None, media_url]} if media_url else {}),
            },
        )

    if not client_key:
        persist()
        return order
    try:
        with session.begin_nested():
            persist()
            session.flush()
    except IntegrityError:
        _drop_pending_history(session, order)
        existing = session.scalar(select(Order).where(Order.client_key == client_key))
        if existing is None:
            raise
        return _same_or_conflict(existing, digest)
    return order


_IMPORT_FIELDS = frozenset(
    {
        "type", "content", "phone", "region", "at", "client_key", "channel", "caller_name", "line", "call_id",
        "category", "place", "urgency", "confidential", "actor",
    }
)  # fmt: skip


def import_orders(session: Session, records: Sequence[tuple[int, dict[str, Any]]]) -> list[Order]:
    """Create a batch of orders from a legacy hotline (one unit of work; numbered records for error messages).

    Each record needs a `client_key`, so that running an interrupted import again creates nothing twice;
    `at` is an ISO 8601 string (China time when it has no offset).
    """
    made: list[Order] = []
    for line_no, record in records:
        unknown = set(record) - _IMPORT_FIELDS
        if unknown:
            raise InvalidInput(f"第 {line_no} 行含未知字段：{'、'.join(sorted(unknown))}", code="invalid-import-line")
        if not record.get("client_key"):
            raise InvalidInput(f"第 {line_no} 行缺少 client_key（导入须可重复执行）", code="import-needs-client-key")
        fields = dict(record)
        if fields.get("at"):
            fields["at"] = parse_instant(str(fields["at"]))
        try:
            made.append(create_order(session, **fields))
        except TypeError as exc:
            raise InvalidInput(f"第 {line_no} 行缺少必填字段：{exc}", code="invalid-import-line") from exc
        except HotlineError as exc:
            raise type(exc)(f"第 {line_no} 行：{exc.message}", code=exc.code) from exc
    session.flush()
    return made


def get_order(session: Session, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number.strip()))
    if order is None:
        raise NotFound(f"工单不存在：{number}", code="workorder-not-found")
    return order


def _children(session: Session, order: Order) -> list[Order]:
    """Co-handling orders of ORDER: those stored, plus those opened in this session and not yet flushed."""
    fresh: list[Order] = session.info.get("wo_children", {}).get(order, [])
    if inspect(order).pending or not order.child_count:
        return list(fresh)
    with session.no_autoflush:
        stored = list(session.scalars(select(Order).where(Order.parent_id == order.id).order_by(Order.number)))
    return stored + [k for k in fresh if k not in stored]


def act(
    session: Session,
    order: Order | str,
    action: str,
    *,
    role: str,
    unit: str = "",
    actor: str = "",
    reason: str = "",
    version: int | None = None,
    at: datetime | None = None,
    target_unit: str | None = None,
    co_units: Sequence[str] = (),
    days: int | None = None,
    reply: str = "",
    satisfaction: str | None = None,
    citizen_resolved: bool | None = None,
    master: str | None = None,
    category: str | None = None,
    article: str | None = None,
    flush: bool = True,
) -> Order:
    """Apply one lifecycle action to an order (by number or row) and append it to the history.

    `version`, when given, must equal the order's current version (else `stale-version`, 409); two actors
    racing without it are still serialised by the version column: the loser gets `stale-version`.
    `category` (派单 and 改派 only) sets or corrects the order's category as the dispatcher sends it.
    `article` (直接办结 only) is the published knowledge article the agent answered from (number or external
    id); the reply defaults to its text. The order keeps the article's external id.
    With `flush=False` (bulk import and replay) the changes stay in the unit of work until the caller calls
    `flush_orders(session)`, which maps a lost race to `stale-version` in the same way.
    """
    act_kind = d.parse_enum(d.Action, action, "操作", "invalid-action")
    actor_role = d.parse_enum(d.Role, role, "角色", "invalid-role")
    sat = d.parse_enum(d.Satisfaction, satisfaction, "满意度", "invalid-satisfaction") if satisfaction else None
    if at is not None and at.tzinfo is None:
        raise InvalidInput("操作时间须带时区", code="invalid-time")
    row = get_order(session, order) if isinstance(order, str) else order
    if version is not None and version != row.version:
        raise Conflict(
            f"工单已被他人更新（当前版本 {row.version}，提交版本 {version}），请刷新后重试",
            code="stale-version",
            current=row.version,
        )
    if at is not None and at < row.updated_at:
        raise InvalidInput(
            f"操作时间 {china(at).isoformat(timespec='seconds')} 早于工单上一步（{china(row.updated_at).isoformat(timespec='seconds')}）",
            code="time-before-last-step",
        )
    when = at or now()
    today = china_day(when)

    unit = _short(unit, 64, "操作单位")
    actor = _short(actor, 64, "操作人")
    reason = _short(reason, MAX_CONTENT, "原因")
    reply = _short(reply, MAX_CONTENT, "答复内容")
    kids: list[Order] = []
    if row.parent_id is None and (act_kind in _FAMILY_ACTIONS or co_units):
        kids = _children(session, row)
    master_row: Order | None = None
    if act_kind is d.Action.MERGE:
        if not master:
            raise InvalidInput("请指定主工单编号", code="master-required")
        master_row = followed_master(get_order(session, master))
        if master_row.id == row.id:
            raise InvalidInput("不能并入自身", code="merge-into-self")
    for code in (target_unit, *co_units):
        if code:
            require_active(get_unit(session, code), session)
    # 重办 goes back to the unit that handled the order unless another is named; out of service, to its 接替单位.
    lead_heir = _lead_heir(session, row) if act_kind is d.Action.REOPEN and not target_unit else None
    new_category: str | None = None
    if category is not None:
        if act_kind not in (d.Action.DISPATCH, d.Action.REDISPATCH):
            raise InvalidInput("只能在派单或改派时设置分类", code="category-not-allowed")
        new_category = _check_category(session, category) or None
    answer_article: str | None = None
    if article is not None:
        if act_kind is not d.Action.DIRECT_RESOLVE:
            raise InvalidInput("只能在直接办结时注明答复所依据的知识", code="article-not-allowed")
        answer_article, article_text = _published_article(session, article)
        reply = reply if reply.strip() else article_text[:MAX_CONTENT]

    case = _case(row, children=kids)
    cmd = d.Command(
        action=act_kind,
        role=actor_role,
        unit=unit,
        reason=reason.strip(),
        target_unit=lead_heir.code if lead_heir is not None else target_unit,
        co_units=tuple(co_units),
        days=days,
        reply=reply,
        satisfaction=sat,
        citizen_resolved=citizen_resolved,
        master=master_row.number if master_row else None,
        master_state=d.State(master_row.state) if master_row else None,
        lead_due=row.parent.due if act_kind is d.Action.REVIEW_REJECT and row.parent is not None else None,
    )
    step = d.apply(case, cmd, today=today, calendar=_calendar(session), limits=_limits(session))
    heirs, takeovers = _heirs(session, row, kids, step) if act_kind is d.Action.REOPEN else ({}, {})
    followers = _followers(kids, step, at, heirs)
    with session.no_autoflush:
        before = row.state
        new = step.case
        values = _row_values(step, case, when)
        if master_row is not None:
            values["master_id"] = master_row.id
        changes = step.changes
        if new_category is not None and new_category != row.category:
            changes = {**changes, "category": [row.category, new_category]}
            values["category"] = new_category
        if answer_article is not None:
            changes = {**changes, "answer_article": [row.answer_article, answer_article]}
            values["answer_article"] = answer_article
        lead_changed = new.lead_unit != case.lead_unit
        lead = get_unit(session, new.lead_unit) if lead_changed and new.lead_unit else None
        was = row.lead_unit
        handover = [d.handover_note(_named(was), _named(lead_heir), lead=True)] if was and lead_heir else []
        entry: dict[str, Any] = {
            "action": act_kind.value,
            "role": actor_role.value,
            "actor": actor,
            "unit": unit,
            "at": when,
            "reason": _with_handover(cmd.reason, [*handover, *takeovers.get(row.id, ())]),
            "from_state": before,
            "changes": changes,
        }
        if flush and not step.spawn and not followers and _writes_directly(session, row):
            _update_directly(session, row, values, lead if lead_changed else _KEEP, entry)
            return row
        _set_columns(row, values)
        if lead_changed:
            row.lead_unit = lead
        _record(session, row, **entry)
        # In the same unit of work, each with its own history entry and version check: a co-handling order
        # changed meanwhile makes the whole step `stale-version`.
        for kid, kid_case, follow in followers:
            kid_before = kid.state
            heir = heirs.get(kid.id)
            kid_handover = [d.handover_note(_named(kid.lead_unit), _named(heir))] if heir and kid.lead_unit else []
            handed = "；".join([*kid_handover, *takeovers.get(kid.id, ())])
            note = d.follow_note(row.number, act_kind, cmd.reason, due=new.due, handover=handed)
            _set_columns(kid, _row_values(follow, kid_case, when))
            if heir is not None:
                kid.lead_unit = heir
            _record(session, kid, **{**entry, "reason": note, "from_state": kid_before, "changes": follow.changes})
        if step.spawn:
            _open_children(session, row, new, step.spawn, role=actor_role.value, actor=actor, at=when)
    if flush:
        flush_orders(session)
    return row


# Lead actions that look at its co-handling orders: blocked by open ones (办结, 归档), refused for a family
# (并单), or taken by them too (归档 and 重办 by the answered ones, 批准延期 by the open ones).
_FAMILY_ACTIONS = frozenset({d.Action.RESOLVE, d.Action.MERGE} | d.FOLLOWED_ACTIONS)


def _lead_heir(session: Session, row: Order) -> Unit | None:
    """重办 with no unit named: the 接替单位 (`successor_in_service`, checked under its share lock by
    `require_active`) the order goes to instead of its own unit, out of service; None when that one is in service.
    Refused (`unit-inactive`, naming the unit) when it was 停用 without one: the dispatcher names a unit. A
    co-handling order is never reopened on its own (`domain.apply` says so), so its unit is not looked at."""
    unit = row.lead_unit
    if unit is None or row.parent_id is not None or in_service(unit, session):
        return None
    refused = (
        f"承办单位{_named(unit)}已停用且未指定接替单位，工单 {row.number} 无法退回原承办单位重办；"
        "请指定承办单位，或请管理员重新启用该单位"
    )
    return _heir_of(session, unit, row, refused)


def _heir_of(session: Session, unit: Unit, order: Order, refused: str) -> Unit:
    """The 接替单位 of UNIT, out of service, that ORDER reopened goes to (`successor_in_service`), checked under
    its share lock (`require_active`); refused (`unit-inactive`, message REFUSED) when a 停用 named none."""
    heir = successor_in_service(session, unit)
    if heir is None:
        raise Conflict(refused, code="unit-inactive", unit=unit.code, order=order.number)
    return require_active(heir, session)


def reopen_label(session: Session, code: str) -> str:
    """How the 重办 form offers the unit an order of unit CODE goes back to when none is named (`_lead_heir`)."""
    unit = get_unit(session, code)
    if in_service(unit):
        return f"原承办单位（{unit.name}）"
    heir = successor_in_service(session, unit)
    if heir is None:
        return f"原承办单位（{unit.name}）已停用，请选择承办单位"
    return f"接替单位（{heir.name}，原承办单位{unit.name}已停用）"


def _with_handover(reason: str, notes: Sequence[str]) -> str:
    """A 重办's REASON in the reopened order's history, after the NOTES saying who took over from whom."""
    return f"{'；'.join(notes)}：{reason}" if notes else reason


def _heirs(
    session: Session, lead: Order, kids: Sequence[Order], step: d.Transition
) -> tuple[dict[int, Unit | None], dict[int, list[str]]]:
    """重办: the 接替单位 each answered co-handling order goes back to instead of its own unit, out of service
    (`successor_in_service`), by the order's id. Refused (`unit-inactive`, naming the co-handling unit) when its
    unit was 停用 without one, before anything is written: the lead is not reopened without it. Each unit an order
    goes back to is checked under a share lock (`require_active`), as the lead's unit is.

    One unit, one order of the family: a 接替单位 that now leads the order, or gets a co-handling order of it
    back (its own, or the first by number of those it took over), gets no other. An order left out (None in the
    first map) stays answered and is archived with the lead; the one doing its part says so in its history: the
    second map holds its `takeover_note`s, by its id (the lead's or a co-handling order's)."""
    answered = [k for k in kids if d.State(k.state) in d.FOLLOWING_STATES and k.lead_unit is not None]
    # Who has the order at each unit: the lead at its unit, each co-handling order back at its own in service.
    holder: dict[str | None, int] = {step.case.lead_unit: lead.id}
    handed: list[tuple[Order, Unit]] = []
    for kid in answered:
        unit = kid.lead_unit
        assert unit is not None
        if unit.code == step.case.lead_unit:
            continue  # `domain.follow_lead` leaves it as it is
        if in_service(unit, session):
            holder.setdefault(unit.code, kid.id)
        else:
            handed.append((kid, unit))
    heirs: dict[int, Unit | None] = {}
    takeovers: dict[int, list[str]] = {}
    for kid, unit in handed:
        refused = (
            f"协办单位{_named(unit)}已停用且未指定接替单位，协办工单 {kid.number} 无法随主办工单重办；"
            "请管理员重新启用该单位，或启用后再停用并指定接替单位"
        )
        heir = _heir_of(session, unit, kid, refused)
        taker = holder.setdefault(heir.code, kid.id)
        heirs[kid.id] = heir if taker == kid.id else None
        if taker != kid.id:
            takeovers.setdefault(taker, []).append(d.takeover_note(kid.number, _named(unit), _named(heir)))
    return heirs, takeovers


def _named(unit: Unit) -> str:
    return f"{unit.name}（{unit.code}）"


def _followers(
    kids: Sequence[Order], step: d.Transition, at: datetime | None, heirs: Mapping[int, Unit | None]
) -> list[tuple[Order, d.Case, d.Transition]]:
    """The co-handling orders that take the lead's STEP with it (`domain.follow_lead`; to the unit HEIRS names
    for one whose own is out of service, none that HEIRS leaves out: `_heirs`), with their snapshots."""
    found = []
    for kid in kids:
        if kid.id in heirs and heirs[kid.id] is None:
            continue
        kid_case = _case(kid)
        heir = heirs.get(kid.id)
        follow = d.follow_lead(kid_case, step, unit=heir.code if heir is not None else None)
        if follow is None:
            continue
        if at is not None and at < kid.updated_at:
            raise InvalidInput(
                f"操作时间 {china(at).isoformat(timespec='seconds')} 早于协办工单 {kid.number} 上一步"
                f"（{china(kid.updated_at).isoformat(timespec='seconds')}）",
                code="time-before-last-step",
            )
        found.append((kid, kid_case, follow))
    return found


def _row_values(step: d.Transition, before: d.Case, when: datetime) -> dict[str, Any]:
    """The column values a lifecycle step sets on an order's row."""
    new = step.case
    values: dict[str, Any] = {}
    for name in step.changes:
        if name in _PLAIN_FIELDS:
            value = getattr(new, name)
            values[name] = value.value if isinstance(value, d.StrEnum) else value
    if new.resolved_on != before.resolved_on:
        values["resolved_at"] = when if new.resolved_on else None
    if step.rule.action in (d.Action.DISPATCH, d.Action.REDISPATCH, d.Action.REOPEN):
        values["dispatched_at"] = when
    return values


_KEEP = object()
_HISTORY_SELECT = (
    "%s::integer, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::timestamptz, %s::text, %s::varchar, "
    "%s::varchar, %s::json"
)
_DIRECT_SQL: dict[tuple[str, ...], str] = {}


AUTO_ACTOR = "系统自动提醒"
# A due date within NEAR_DUE_WORKDAYS working days is at most this many calendar days away (the Spring Festival
# holiday included), so orders due later need not be looked at.
_REMIND_HORIZON = timedelta(days=14)


def remind_due(session: Session, *, at: datetime | None = None) -> list[dict[str, Any]]:
    """临期提醒、超期督办: urge (催办) the lead unit of every order not signed for in time or due within a working
    day, and supervise (督办) every order past its due date, as `AUTO_ACTOR` in the history (and so pushed to the
    unit's system). An order reminded by this job earlier the same China day is left alone, so it can run as
    often as wanted; an order another actor is changing at the same moment is left for the next run."""
    moment = at or now()
    day = china_day(moment)
    calendar = _calendar(session)
    candidates = session.scalars(
        select(Order)
        .where(
            Order.state.in_([s.value for s in d.REMINDED_STATES]),
            Order.lead_unit_id.is_not(None),
            (Order.due <= day + _REMIND_HORIZON) | (Order.accept_due < day),
        )
        .order_by(Order.due, Order.number)
    ).all()
    start = datetime.combine(day, datetime.min.time(), CHINA_TZ)
    reminded = set(
        session.scalars(
            select(History.order_id).where(
                History.actor == AUTO_ACTOR, History.at >= start, History.order_id.in_([o.id for o in candidates])
            )
        )
    )
    done = []
    for order in candidates:
        notice = d.reminder(_case(order), day, calendar)
        if notice is None or order.id in reminded:
            continue
        try:
            with session.begin_nested():
                act(session, order, notice.action.value, role="supervisor", actor=AUTO_ACTOR, reason=notice.reason,
                    at=moment)  # fmt: skip
        except HotlineError:  # stale-version: someone acted on it just now
            _drop_pending_history(session, order)
            continue
        done.append(
            {
                "number": order.number,
                "unit": order.lead_unit.code if order.lead_unit else None,
                "action": notice.action.value,
                "action_label": d.ACTION_LABELS[notice.action],
                "reason": notice.reason,
            }
        )
    return done


# The history entry of a deadline moved by a change to the working-day calendar (not a lifecycle step: no role
# takes it, the calendar does), and its label wherever the history is shown and pushed.
REDATED = "recalendar"
# A file attached to the order (hotline.attachments): a change to the order, in its history, but no lifecycle step:
# its state stays, and nothing that reads steps (KPIs, 工单推送, 短信) reads it.
ATTACH = "attach"
T = TypeVar("T")
HISTORY_LABELS = {"create": "受理", REDATED: "工作日历调整", ATTACH: "上传附件"}


def history_label(action: str) -> str:
    return HISTORY_LABELS.get(action) or d.ACTION_LABELS[d.Action(action)]


@dataclass(frozen=True)
class Redated:
    """An order whose deadlines a calendar change moved: each moved one (`domain.DEADLINE_LABELS`) as (was, now)."""

    number: str
    changes: Mapping[str, tuple[date, date]]

    @property
    def before(self) -> date | None:
        """Its `due` before the change; None when only its 签收 or 退单 limit moved."""
        return self.changes["due"][0] if "due" in self.changes else None

    @property
    def after(self) -> date | None:
        return self.changes["due"][1] if "due" in self.changes else None


def redated_counts(moved: Sequence[Redated]) -> dict[str, int]:
    """How many orders had each deadline moved (`domain.redated_text` says it)."""
    return {name: sum(1 for m in moved if name in m.changes) for name in d.DEADLINE_LABELS}


def change_calendar(session: Session, change: Callable[[], T], *, actor: str) -> tuple[T, list[Redated]]:
    """Make CHANGE to the working-day calendar (a `hotline.calendar.service` call) and let the deadlines follow
    (`follow_calendar`), in one transaction: what every entry point that changes the calendar calls."""
    before = load_calendar(session)
    result = change()
    session.flush()
    return result, follow_calendar(session, before, actor=actor)


def follow_calendar(session: Session, before: WorkCalendar, *, actor: str, at: datetime | None = None) -> list[Redated]:
    """Move the deadlines of every order still being worked on that the calendar's change (BEFORE → as it is now
    in SESSION) gives days back, as `domain.redated` says: its `due`, and its 签收 and 退单 limits while they still
    matter, or, waiting for its callback (待回访), its 回访时限; each order moved is one history entry naming them
    all (pushed to the unit's system, but for a 回访时限 alone: the callback is the centre's). Called in the
    transaction that changes the calendar: an order changed by someone else at the same moment makes the whole
    change `stale-version`, so the calendar and the deadlines never disagree."""
    moment = at or now()
    today = china_day(moment)
    after = load_calendar(session)
    changed = {
        day for day in set(before.overrides) | set(after.overrides) if before.is_workday(day) != after.is_workday(day)
    }
    if not changed:
        return []
    first = min(changed)
    orders = session.scalars(
        select(Order)
        .where(
            Order.state.in_([s.value for s in d.RUNNING_STATES]),
            (Order.due >= first)
            | ((Order.state == d.State.TO_VISIT.value) & (Order.visit_due >= first))
            | ((Order.state == d.State.DISPATCHED.value) & (Order.accept_due >= first))
            | (Order.state.in_([s.value for s in d.RETURNABLE_STATES]) & (Order.return_due >= max(first, today))),
        )
        .options(selectinload(Order.lead_unit), selectinload(Order.parent))
        .order_by(Order.due, Order.number)
    ).all()
    # A co-handling order works to its lead's deadline: it counts from its lead's 受理 (or 重办), as the lead does.
    roots = {order.id: order.parent or order for order in orders}
    reopened = dict(
        session.execute(
            select(History.order_id, func.max(History.at))
            .where(History.action == d.Action.REOPEN.value, History.order_id.in_({r.id for r in roots.values()}))
            .group_by(History.order_id)
        ).all()
    )
    visiting = _entered_to_visit(session, [o.id for o in orders if o.state == d.State.TO_VISIT.value])
    moved = []
    for order in orders:
        root = roots[order.id]
        base = china_day(reopened.get(root.id) or root.created_at)
        # The 签收 and 退单 limits count from the order's latest 派单, 改派 or 重办 (a co-handling order's own
        # giving: its opening, or the lead's 重办 it followed), the instant `dispatched_at` keeps.
        given = china_day(order.dispatched_at) if order.dispatched_at else None
        visit_from = visiting.get(order.id)
        found = d.redated(_case(order), counted_from=base, given_on=given, today=today, before=before, after=after,
                          visit_from=visit_from)  # fmt: skip
        if not found:
            continue
        moved.append(Redated(order.number, found))
        _set_columns(order, {name: new for name, (_, new) in found.items()})
        starts = {"due": base, "accept_due": given, "return_due": given, "visit_due": visit_from}
        days = "、".join(
            day.isoformat()
            for day in sorted(changed)
            if any((start := starts[name]) is not None and start < day <= new for name, (_, new) in found.items())
        )
        said = "，".join(f"{d.DEADLINE_LABELS[name]}顺延至 {new.isoformat()}" for name, (_, new) in found.items())
        _record(session, order, action=REDATED, role=d.Role.ADMIN.value, actor=actor, at=moment,
                unit=order.lead_unit.code if order.lead_unit else "", from_state=order.state,
                changes={name: [was.isoformat(), new.isoformat()] for name, (was, new) in found.items()},
                reason=f"工作日历调整（{days}），{said}")  # fmt: skip
    flush_orders(session)
    return moved


def _entered_to_visit(session: Session, ids: Sequence[int]) -> dict[int, date]:
    """The China day each of these orders last entered 待回访 (审核通过, 直接办结): where its 回访时限 counts from."""
    if not ids:
        return {}
    rows = session.execute(
        select(History.order_id, func.max(History.at))
        .where(
            History.order_id.in_(ids),
            History.to_state == d.State.TO_VISIT.value,
            History.from_state != d.State.TO_VISIT.value,
        )
        .group_by(History.order_id)
    )
    return {order_id: china_day(at) for order_id, at in rows}


def _published_article(session: Session, key: str) -> tuple[str, str]:
    """(external id, text) of the published knowledge article KEY (number or external id) an agent answers
    from; `article-not-found` (404), or `article-not-published` when it is a draft, withdrawn or expired."""
    # Imported here: only orders answered from the knowledge base need that package.
    from hotline.knowledge.domain import Status
    from hotline.knowledge.service import get_article

    found = get_article(session, key.strip())
    if found.status != Status.PUBLISHED.value or found.external_id is None:
        raise Conflict(f"知识 {key} 未发布或已撤回、过期，不能作为答复依据", code="article-not-published")
    return found.external_id, found.body


def _writes_directly(session: Session, row: Order) -> bool:
    """Whether one action on a stored order can be written at once with one statement (PostgreSQL, nothing
    else waiting in the unit of work, the order itself unchanged since it was loaded or last written)."""
    state = instance_state(row)
    return (
        state.key is not None
        and not state.modified
        and not session.new
        and not session.deleted
        and not session.dirty
        and session.connection().dialect.name == "postgresql"
    )


def _update_directly(session: Session, row: Order, values: dict[str, Any], lead: Any, entry: dict[str, Any]) -> None:
    """One action on a stored order in one round trip: the UPDATE of the order, guarded by the version it was
    loaded with, and its history entry, inserted only if the UPDATE matched. No row matched: someone else
    changed the order meanwhile, `stale-version`. The loaded object is then brought up to date without being
    marked as changed (its row already says so)."""
    count = row.history_count + 1
    columns = {**values, "history_count": count, "version": count, "updated_at": entry["at"]}
    if lead is not _KEEP:
        columns["lead_unit_id"] = lead.id if lead is not None else None
    names = tuple(columns)
    sql = _DIRECT_SQL.get(names)
    if sql is None:
        sql = (
            f"WITH u AS (UPDATE wo_orders SET {', '.join(f'{name} = %s' for name in names)} "
            f"WHERE id = %s AND version = %s RETURNING id) "
            f"INSERT INTO wo_history ({', '.join(_HISTORY_COLUMNS)}) SELECT u.id, {_HISTORY_SELECT} FROM u"
        )
        _DIRECT_SQL[names] = sql
    params = [v.astimezone(UTC) if isinstance(v, datetime) else v for v in columns.values()]
    params += [row.id, row.version]
    params += [
        count, entry["action"], entry["actor"], entry["role"], entry["unit"], entry["at"].astimezone(UTC),
        entry["reason"], entry["from_state"], columns.get("state", row.state), json.dumps(entry["changes"]),
    ]  # fmt: skip
    conn = session.connection()
    with _driver_errors(conn, sql), _driver(conn).cursor() as cur:
        cur.execute(sql, params)
        written = cur.rowcount
    if written != 1:
        raise Conflict("工单已被他人同时更新，请刷新后重试", code="stale-version")
    for name, value in columns.items():
        set_committed_value(row, name, value)
    if lead is not _KEEP:
        set_committed_value(row, "lead_unit", lead)
    if "master_id" in columns:
        session.expire(row, ["master"])  # loaded again (from the identity map) when next followed


def record_note(
    session: Session,
    order: Order,
    action: str,
    *,
    role: str,
    actor: str,
    unit: str = "",
    reason: str,
    changes: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append to ORDER's history an entry that is no step of the lifecycle (ACTION one of `HISTORY_LABELS`, such as
    `ATTACH`): its state stays as it is, but the order's version moves on, so a step or another note racing it is
    `stale-version`, as for any change to the order."""
    if action not in HISTORY_LABELS:
        raise ValueError(f"not a history note: {action!r}")
    _record(session, order, action=action, role=role, actor=actor, unit=unit, at=at or now(), reason=reason,
            from_state=order.state, changes=changes or {})  # fmt: skip
    flush_orders(session)


def flush_orders(session: Session) -> None:
    """Write pending changes; an order changed meanwhile by someone else raises `stale-version` (409)."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("工单已被他人同时更新，请刷新后重试", code="stale-version") from exc


def _open_children(
    session: Session, parent: Order, case: d.Case, units: Sequence[str], *, role: str, actor: str, at: datetime
) -> None:
    taken = len(_children(session, parent))
    for i, code in enumerate(units, start=taken + 1):
        child = d.child_case(case, code)
        kid = Order(
            number=f"{parent.number}-{i:02d}",
            region_code=parent.region_code,
            channel=parent.channel,
            caller_name=parent.caller_name,
            caller_phone=parent.caller_phone,
            line=parent.line,
            call_id=parent.call_id,
            type=parent.type,
            category=parent.category,
            content=parent.content,
            place=parent.place,
            urgency=parent.urgency,
            confidential=parent.confidential,
            state=child.state.value,
            lead_unit=get_unit(session, code),
            parent=parent,
            created_at=at,
            updated_at=at,
            dispatched_at=at,
            due=child.due,
            accept_due=child.accept_due,
            return_due=child.return_due,
            **_fresh_counters(),
        )
        session.add(kid)
        session.info.setdefault("wo_children", {}).setdefault(parent, []).append(kid)
        parent.child_count += 1
        _record(
            session,
            kid,
            action=d.Action.DISPATCH.value,
            role=role,
            actor=actor,
            unit="",
            at=at,
            reason=f"协办（主办工单 {parent.number}）",
            from_state="",
            changes={"lead_unit": [None, code]},
        )


def followed_master(order: Order) -> Order:
    """The order a merged duplicate follows (its master, the master's master …)."""
    seen = {order.id}
    while order.state == d.State.MERGED.value and order.master is not None and order.master.id not in seen:
        order = order.master
        seen.add(order.id)
    return order


# --- views -------------------------------------------------------------------------------------------------------


def _iso_china(value: datetime | None) -> str | None:
    return china(value).isoformat(timespec="seconds") if value else None


def order_view(
    session: Session, order: Order, role: str = "dispatcher", *, today: date | None = None
) -> dict[str, Any]:
    """The order as ROLE may see it (contact details masked unless the role needs them)."""
    viewer = d.parse_enum(d.Role, role, "角色", "invalid-role")
    calendar = _calendar(session)
    day = today or china_day(now())
    case = _case(order)
    followed = followed_master(order)
    full = d.sees_contact(viewer, d.OrderType(order.type), order.confidential)
    sla = d.sla_state(_case(followed), day, calendar) if followed is not order else d.sla_state(case, day, calendar)
    return {
        "number": order.number,
        "version": order.version,
        "type": order.type,
        "channel": order.channel,
        "channel_label": d.CHANNEL_LABELS[d.Channel(order.channel)],
        "caller_name": order.caller_name if full else mask_name(order.caller_name),
        "caller_phone": order.caller_phone if full else mask_phone(order.caller_phone),
        "region_code": order.region_code,
        "line": order.line,
        "call_id": order.call_id,
        "category": order.category,
        "content": order.content,
        "place": order.place,
        "urgency": order.urgency,
        "urgency_label": d.URGENCY_LABELS[d.Urgency(order.urgency)],
        "confidential": order.confidential,
        "state": order.state,
        "state_label": d.STATE_LABELS[d.State(order.state)],
        "lead_unit": {"code": order.lead_unit.code, "name": order.lead_unit.name} if order.lead_unit else None,
        "parent": order.parent.number if order.parent_id and order.parent else None,
        "master": followed.number if followed is not order else None,
        "master_state": followed.state if followed is not order else None,
        "created_at": _iso_china(order.created_at),
        "updated_at": _iso_china(order.updated_at),
        "resolved_at": _iso_china(order.resolved_at),
        "due": order.due.isoformat(),
        "effective_due": d.effective_due(case, day, calendar).isoformat(),
        "accept_due": order.accept_due.isoformat() if order.accept_due else None,
        "accept_overdue": d.accept_overdue(case, day),
        "return_due": order.return_due.isoformat() if order.return_due else None,
        "visit_due": order.visit_due.isoformat() if order.visit_due else None,
        "sla": sla.value,
        "sla_label": d.SLA_LABELS[sla],
        "paused_since": order.paused_on.isoformat() if order.paused_on else None,
        "paused_workdays": order.paused_workdays,
        "extension_days": order.extension_days,
        "extension_count": order.extension_count,
        "pending_extension": order.pending_extension,
        "reply": order.reply,
        "answer_article": order.answer_article,
        "satisfaction": order.satisfaction,
        "citizen_resolved": order.citizen_resolved,
        "urge_count": order.urge_count,
        "supervise_count": order.supervise_count,
        "return_count": order.return_count,
        "reopen_count": order.reopen_count,
    }


def history_of(session: Session, order: Order) -> list[dict[str, Any]]:
    """The order's history, oldest first: codes for programs and, for people, the same in Chinese (`*_label`,
    `unit_name`; a code the platform no longer knows is shown as it is)."""
    rows = session.scalars(select(History).where(History.order_id == order.id).order_by(History.seq)).all()
    codes = {h.unit_code for h in rows if h.unit_code}
    names: dict[str, str] = {}
    if codes:
        names = {code: name for code, name in session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))}
    return [
        {
            "seq": h.seq,
            "action": h.action,
            "action_label": history_label(h.action),
            "actor": h.actor,
            "role": h.role,
            "role_label": _label(d.ROLE_LABELS, d.Role, h.role),
            "unit": h.unit_code,
            "unit_name": names.get(h.unit_code, h.unit_code) if h.unit_code else None,
            "at": _iso_china(h.at),
            "reason": h.reason,
            "from_state": h.from_state,
            "from_state_label": _label(d.STATE_LABELS, d.State, h.from_state) if h.from_state else None,
            "to_state": h.to_state,
            "to_state_label": _label(d.STATE_LABELS, d.State, h.to_state),
            "changes": h.changes,
        }
        for h in rows
    ]


def _label(labels: Mapping[Any, str], kind: type[d.StrEnum], value: str) -> str:
    try:
        return labels[kind(value)]
    except (ValueError, KeyError):
        return value


def children_view(session: Session, order: Order) -> list[dict[str, Any]]:
    """The co-handling orders of ORDER: number, state and unit."""
    return [
        {
            "number": k.number,
            "state": k.state,
            "state_label": d.STATE_LABELS[d.State(k.state)],
            "unit": k.lead_unit.code if k.lead_unit else None,
        }
        for k in _children(session, order)
    ]


def _check_viewer(role: str, unit: str | None) -> d.Role:
    viewer = d.parse_enum(d.Role, role, "角色", "invalid-role")
    if viewer is d.Role.CITIZEN:
        raise Forbidden("市民请通过工单编号和来电号码后四位查询", code="use-public-lookup")
    if viewer is d.Role.DEPARTMENT and not unit:
        raise InvalidInput("承办单位查看工单须注明单位代码", code="unit-required")
    return viewer


def visible_order(session: Session, number: str, role: str, *, unit: str | None = None) -> Order:
    """The order NUMBER if ROLE (a handling unit: UNIT) may read it: a handling unit only the orders assigned to it
    (`unit-not-assigned`); citizens use `public_lookup` (`use-public-lookup`)."""
    viewer = _check_viewer(role, unit)
    order = get_order(session, number)
    if viewer is d.Role.DEPARTMENT and (order.lead_unit is None or order.lead_unit.code != unit):
        raise Forbidden(f"工单 {order.number} 未交办给单位 {unit}", code="unit-not-assigned")
    return order


def show_order(
    session: Session, number: str, role: str = "dispatcher", *, unit: str | None = None, today: date | None = None
) -> dict[str, Any]:
    """One order with its history, co-handling orders and merged duplicates, as ROLE may see it.

    A handling unit sees only orders assigned to it (`unit-not-assigned`); citizens use `public_lookup`.
    """
    order = visible_order(session, number, role, unit=unit)
    view = order_view(session, order, role, today=today)
    view["history"] = history_of(session, order)
    view["children"] = children_view(session, order)
    view["duplicates"] = [
        o.number for o in session.scalars(select(Order).where(Order.master_id == order.id).order_by(Order.number))
    ]
    return view


@dataclass(frozen=True)
class OrderFilters:
    """What the order list and its export narrow to: state, SLA state (on_time | near_due | overdue), lead unit,
    region, type, category (a path or a prefix of one), channel, the China dates the orders were taken
    (受理) from SINCE to UNTIL, both included, the caller's PHONE (the same number once `create_order` has
    cleaned it; refused to the roles that never see callers' numbers), and WORDS (关键词: each of the words,
    separated by spaces, found in the demand's content or its place). None (or, from `parse`, an empty text)
    leaves a filter out.

    WORDS keep their meaning, a substring of the content or of the place (LIKE; ASCII letters of either case on
    SQLite only), and are found through the full-text index (`wo_order_words`, `workorders.search`). Each word is
    looked up by the jieba dictionary words of two characters or more inside it and its runs of two or more ASCII
    letters and digits; an order holding the word holds every one of them, so the index only narrows and the
    substring check decides. A word that is itself a Chinese dictionary word (小区) is decided by the index alone:
    it holds the word exactly where the text does. A word that gives no term (a single character, punctuation,
    Chinese holding no two-character dictionary word such as 绣小, one letter or digit between Chinese characters
    such as 3栋) is found by the substring check alone: a scan of the orders the other words and filters leave
    (all of them when nothing else narrows)."""

    state: str | None = None
    sla: str | None = None
    unit: str | None = None
    region: str | None = None
    type: str | None = None
    category: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None
    phone: str | None = None
    words: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        state: str | None = None,
        sla: str | None = None,
        unit: str | None = None,
        region: str | None = None,
        type: str | None = None,
        category: str | None = None,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        phone: str | None = None,
        words: str | None = None,
    ) -> OrderFilters:
        """The filters as a form, a query string or the command line give them: dates as YYYY-MM-DD
        (`invalid-date`), empty values left out."""
        return cls(
            state=state or None, sla=sla or None, unit=unit or None, region=region or None, type=type or None,
            category=category or None, channel=channel or None,
            since=parse_day(since) if since else None, until=parse_day(until) if until else None,
            phone=phone or None, words=" ".join((words or "").split()) or None,
        )  # fmt: skip


# How `list_orders` sorts: first due first (the work list), or the latest taken in first (a caller's history).
ORDERINGS = ("due", "newest")


def list_orders(
    session: Session,
    filters: OrderFilters | None = None,
    *,
    role: str = "dispatcher",
    limit: int = 50,
    today: date | None = None,
    order: str = "due",
) -> list[dict[str, Any]]:
    """The orders ROLE may see under FILTERS, first due first (ORDER `due`) or latest taken in first (`newest`),
    at most LIMIT.

    A handling unit (role department) must name its unit and sees only the orders assigned to it.
    """
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit 须在 1 至 1000 之间", code="invalid-limit")
    if order not in ORDERINGS:
        raise InvalidInput(f"排序方式须为 {' 或 '.join(ORDERINGS)}：{order!r}", code="invalid-order")
    day = today or china_day(now())
    query, wanted = filtered_orders(session, filters or OrderFilters(), role=role, today=day, newest=order == "newest")
    out: list[dict[str, Any]] = []
    if order == "newest":
        query = query.order_by(Order.created_at.desc(), Order.number.desc())
    else:
        query = query.order_by(Order.due, Order.number)
    # The time-limit state is known only order by order (paused time moves a deadline): read on, in batches,
    # until LIMIT match, rather than a fixed window in which the many overdue orders, due first, could hide the
    # ones wanted. The filter already keeps to the orders with a deadline running, so this reads at most those.
    rows = session.scalars(query.execution_options(yield_per=200) if wanted else query.limit(limit))
    try:
        for found in rows:
            if not matches_sla(session, found, wanted, day):
                continue
            out.append(order_view(session, found, role, today=day))
            if len(out) >= limit:
                break
    finally:
        rows.close()  # a cursor left part-read (PostgreSQL streams it) is released now, not with the session
    return out


def count_orders(
    session: Session, filters: OrderFilters | None = None, *, role: str = "dispatcher", today: date | None = None
) -> int:
    """How many orders `list_orders` would list under the same FILTERS and ROLE without a limit."""
    day = today or china_day(now())
    query, wanted = filtered_orders(session, filters or OrderFilters(), role=role, today=day)
    if wanted is None:
        return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.execution_options(yield_per=200))
    try:
        return sum(1 for order in rows if matches_sla(session, order, wanted, day))
    finally:
        rows.close()


def _holds(column: InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    """The substring check of a 关键词: Latin letters in any case (WiFi, wifi), as the index reads them and as
    SQLite's LIKE already matches them; PostgreSQL's LIKE would tell the cases apart."""
    if any(c.isascii() and c.isalpha() for c in word):
        return column.icontains(word, autoescape=True)
    return column.contains(word, autoescape=True)


def filtered_orders(
    session: Session, filters: OrderFilters, *, role: str, today: date, newest: bool = False
) -> tuple[Select[Order], d.Sla | None]:
    """The query of the orders ROLE may see under FILTERS (unordered), and the SLA state wanted: that one
    depends on the working-day calendar, so the query only narrows it to the open orders (and those past due
    for `overdue`) and the caller keeps those `matches_sla` accepts. Used by `list_orders` and the export
    (`workorders.export`), so both show the same orders. NEWEST: the caller reads the newest first and stops at a
    page, which on SQLite a word many orders hold is best served by (`store.dense_match`)."""
    f = filters
    asking = d.parse_enum(d.Role, role, "角色", "invalid-role")
    if f.phone and not d.may_filter_by_phone(asking):
        # Even an empty answer would tell whether the number called: refused before anything is read.
        raise Forbidden(
            f"{d.ROLE_LABELS[asking]}看不到来电号码，不能按来电号码查找工单", code="phone-filter-not-allowed"
        )
    viewer = _check_viewer(role, f.unit)
    query = select(Order)
    if f.phone:
        query = query.where(Order.caller_phone == check_phone(f.phone))
        scope = d.contact_scope(viewer)
        if any(len(scope.get(flag, ())) < len(d.OrderType) for flag in (False, True)):
            # A handling unit: not its 举报 and confidential orders, whose callers it must not be able to name.
            query = query.where(
                or_(*(and_(Order.confidential == flag, Order.type.in_([t.value for t in types]))
                      for flag, types in scope.items()))
            )  # fmt: skip
    if f.state:
        query = query.where(Order.state == d.parse_enum(d.State, f.state, "状态", "invalid-state").value)
    if f.type:
        query = query.where(Order.type == d.parse_enum(d.OrderType, f.type, "工单类型", "invalid-type").value)
    if f.channel:
        query = query.where(Order.channel == d.parse_enum(d.Channel, f.channel, "渠道", "invalid-channel").value)
    if f.category:
        path = normalize_category(f.category)
        query = query.where((Order.category == path) | Order.category.startswith(path + "/", autoescape=True))
    if f.region:
        query = query.where(Order.region_code == find_region(f.region).code)
    words = search_words(f.words)
    looked = [search.lookup(word) for word in words]
    terms = tuple(dict.fromkeys(t for found in looked for t in found.terms))
    # Newest first, every word one the index alone decides and many orders holding them (SQLite): the newest
    # orders are walked, each tested by the substring check first (cheap) and by the index only then.
    walk = newest and bool(looked) and all(found.exact for found in looked) and dense_match(session, terms)
    if terms:
        query = query.where(words_match(session.get_bind().dialect.name, terms, one_by_one=walk))
    for word, found in zip(words, looked, strict=True):
        if walk or not found.exact:  # the index narrows, the substring check decides (alone for a word with no term)
            query = query.where(_holds(Order.content, word) | _holds(Order.place, word))
    if f.unit:
        query = query.where(Order.lead_unit_id == get_unit(session, f.unit).id)
    if f.since is not None and f.until is not None and f.until < f.since:
        raise InvalidInput("结束日期不能早于开始日期", code="invalid-period")
    if f.since is not None:
        query = query.where(Order.created_at >= datetime.combine(f.since, datetime.min.time(), CHINA_TZ))
    if f.until is not None:
        query = query.where(
            Order.created_at < datetime.combine(f.until + timedelta(days=1), datetime.min.time(), CHINA_TZ)
        )
    wanted = d.parse_enum(d.Sla, f.sla, "时限状态", "invalid-sla") if f.sla else None
    if wanted is not None:
        # A deadline running (`domain.RUNNING_STATES`): being worked on (`due`), or waiting for its callback with a
        # 回访时限 (one from before they were set is not judged); past it already for `overdue`.
        late = wanted is d.Sla.OVERDUE
        query = query.where(
            or_(
                and_(Order.state.in_([s.value for s in d.OPEN_STATES]), *([Order.due < today] if late else [])),
                and_(
                    Order.state == d.State.TO_VISIT.value,
                    Order.visit_due < today if late else Order.visit_due.is_not(None),
                ),
            )
        )
    return query, wanted


MAX_SEARCH_WORDS = 5
MAX_SEARCH_WORD = 50


def search_words(words: str | None) -> list[str]:
    """The words of a 关键词 filter (`invalid-words` beyond MAX_SEARCH_WORDS words or MAX_SEARCH_WORD characters)."""
    found = (words or "").split()
    if len(found) > MAX_SEARCH_WORDS or any(len(w) > MAX_SEARCH_WORD for w in found):
        raise InvalidInput(f"关键词最多 {MAX_SEARCH_WORDS} 个、每个不超过 {MAX_SEARCH_WORD} 字", code="invalid-words")
    return found


def matches_sla(session: Session, order: Order, wanted: d.Sla | None, today: date) -> bool:
    return wanted is None or d.sla_state(_case(order), today, _calendar(session)) is wanted


@dataclass(frozen=True)
class TodoLine:
    """One line of a role's to-do (待办): the orders in STATE waiting on it, and of those with a deadline running
    (being worked on, or waiting for their callback: the 回访时限) how many are near due (临期) and overdue (超期);
    None for a state with no deadline running (answered, waiting for 审核)."""

    state: str
    label: str
    count: int
    near_due: int | None
    overdue: int | None


def todo(session: Session, role: str, *, unit: str | None = None, today: date | None = None) -> list[TodoLine]:
    """What waits on ROLE (`domain.TODO_STATES`), state by state; a handling unit names its UNIT and counts only
    the orders assigned to it. Counts what `list_orders` lists under the same role, unit, state and SLA state."""
    viewer = _check_viewer(role, unit)
    states = d.TODO_STATES[viewer]
    day = today or china_day(now())
    scope: list[ColumnElement[bool]] = [Order.state.in_([s.value for s in states])]
    if viewer is d.Role.DEPARTMENT:
        scope.append(Order.lead_unit_id == get_unit(session, cast(str, unit)).id)
    counted = session.execute(select(Order.state, func.count()).where(*scope).group_by(Order.state))
    counts: dict[str, int] = {state: n for state, n in counted}
    slas: dict[str, dict[d.Sla, int]] = {s.value: {} for s in states if s in d.RUNNING_STATES}
    if slas:
        calendar = _calendar(session)
        # An order due (or to be called back) on or after the (NEAR_DUE_WORKDAYS + 1)-th working day from today is
        # on time (a pause only moves its deadline later): only the others need the calendar, and most orders are
        # never read. A 待回访 order without a 回访时限 (from before they were set) is not judged.
        horizon = calendar.add_workdays(day, d.NEAR_DUE_WORKDAYS + 1)
        open_ = [s for s in slas if d.State(s) in d.OPEN_STATES]
        running = [and_(Order.state.in_(open_), Order.due < horizon)] if open_ else []
        if d.State.TO_VISIT.value in slas:
            running.append(and_(Order.state == d.State.TO_VISIT.value, Order.visit_due < horizon))
        rows = session.execute(
            select(Order.type, Order.state, Order.due, Order.paused_on, Order.visit_due).where(*scope, or_(*running))
        )
        for type_, state, due, paused_on, visit_due in rows:
            case = d.Case(
                type=d.OrderType(type_), state=d.State(state), due=due, paused_on=paused_on, visit_due=visit_due
            )
            found = d.sla_state(case, day, calendar)
            slas[state][found] = slas[state].get(found, 0) + 1
    lines = []
    for s in states:
        sla = slas.get(s.value)
        lines.append(
            TodoLine(
                state=s.value,
                label=d.TODO_LABELS[s],
                count=counts.get(s.value, 0),
                near_due=None if sla is None else sla.get(d.Sla.NEAR_DUE, 0),
                overdue=None if sla is None else sla.get(d.Sla.OVERDUE, 0),
            )
        )
    return lines


def count_answered_from(session: Session, article: str) -> int:
    """Orders answered from knowledge article ARTICLE (its external id, as `act` records it): the article's use."""
    query = select(func.count()).select_from(Order).where(Order.answer_article == article)
    return int(session.scalar(query) or 0)


def _open_orders_query(columns: Sequence[Any], since: datetime, region_code: str | None) -> Select[Any]:
    """COLUMNS of the lead orders still being worked on (not answered, archived or merged) taken at or after
    SINCE (in REGION_CODE), oldest first. Co-handling orders are left out (they repeat their lead by construction)."""
    # Plain comparisons on the leading columns of ix_wo_orders_parent_state_region_created, which covers the key
    # listing: read per demand, it must not go through every order ever taken (a test checks the plan).
    query = (
        select(*columns)
        .where(
            Order.state.in_([s.value for s in d.OPEN_STATES]),
            Order.created_at >= since,
            Order.parent_id.is_(None),
        )
        .order_by(Order.created_at, Order.number)
    )
    if region_code:
        query = query.where(Order.region_code == find_region(region_code).code)
    return query


def list_open_orders(session: Session, *, since: datetime, region_code: str | None = None) -> list[Row[Any]]:
    """Lead orders still being worked on (not answered, archived or merged) taken at or after SINCE, oldest first:
    rows of number, content, created_at, caller_phone, place, region_code, state and category.

    For the dispatch helper's repeat detection (并单 candidates), which reads thousands per demand: plain rows,
    not whole orders, cost a third. Co-handling orders are left out (they repeat their lead by construction).
    """
    columns = (Order.number, Order.content, Order.created_at, Order.caller_phone, Order.place, Order.region_code)
    return list(session.execute(_open_orders_query((*columns, Order.state, Order.category), since, region_code)))


def list_open_order_keys(
    session: Session, *, since: datetime, region_code: str | None = None
) -> list[tuple[str, str | None]]:
    """The orders `list_open_orders` lists, as (number, payload_hash) pairs only. A reader that keeps what never
    changes after 受理 by (number, payload_hash) reads the rest once per order (`list_orders_by_number`); the hash
    of the order's creation fields tells a number used again (a database emptied and filled anew) from the order
    it kept."""
    # On the session's connection (same transaction), without the ORM's result handling (a third less at 20,000
    # rows), and as plain tuples made a thousand rows at a time: tens of thousands of result rows living through
    # the call made the garbage collector walk the whole heap (some 50 ms) every other call.
    result = session.connection().execute(_open_orders_query((Order.number, Order.payload_hash), since, region_code))
    return [tuple(row) for part in result.partitions(1000) for row in part]


def list_orders_by_number(session: Session, numbers: Collection[str]) -> list[Row[Any]]:
    """Rows of number, payload_hash, content, created_at, caller_phone, place, region_code, state and category of
    the orders NUMBERS (those that exist), in no particular order."""
    query = select(
        Order.number, Order.payload_hash, Order.content, Order.created_at, Order.caller_phone, Order.place,
        Order.region_code, Order.state, Order.category,
    )  # fmt: skip
    wanted = list(numbers)
    found: list[Row[Any]] = []
    for first in range(0, len(wanted), 500):  # well within every driver's limit on bound parameters
        found += session.execute(query.where(Order.number.in_(wanted[first : first + 500])))
    return found


def list_client_orders(
    session: Session,
    key_prefix: str,
    *,
    since: datetime,
    until: datetime,
    category: str | None = None,
    states: Collection[d.State] | None = None,
    limit: int = 1000,
) -> list[Order]:
    """Orders whose idempotency key starts with KEY_PREFIX (one submitting app's), received in [SINCE, UNTIL]
    (and in CATEGORY or below it, and in one of STATES), newest first."""
    query = (
        select(Order)
        .where(
            Order.client_key.startswith(key_prefix, autoescape=True),
            Order.created_at >= since,
            Order.created_at <= until,
        )
        .order_by(Order.created_at.desc(), Order.number.desc())
        .limit(limit)
    )
    if category:
        query = query.where((Order.category == category) | Order.category.startswith(category + "/", autoescape=True))
    if states is not None:
        query = query.where(Order.state.in_([s.value for s in states]))
    return list(session.scalars(query))


def list_answered_orders(session: Session, *, since: datetime | None = None) -> list[tuple[str, str]]:
    """(demand, article external id) of the orders an agent resolved directly from a knowledge article: what
    the knowledge base's answer model learns from (`hotline kb learn --from-db`). An answer the citizen called
    unsatisfying or not solving the matter, or that was reopened, taught nothing and is left out."""
    query = select(Order.content, Order.answer_article).where(
        Order.answer_article.is_not(None),
        Order.reopen_count == 0,
        Order.satisfaction.is_distinct_from(d.Satisfaction.UNSATISFIED.value),
        Order.citizen_resolved.is_not(False),
    )
    if since is not None:
        query = query.where(Order.created_at >= since)
    rows = session.execute(query.order_by(Order.created_at, Order.id))
    return [(content, article) for content, article in rows if article]


def numbers_by_call(session: Session, call_ids: Collection[str]) -> dict[str, list[str]]:
    """The lead orders taken in from each of these calls (their `call_id`), oldest first, by call id, in one query;
    co-handling orders, which carry their lead's call, are left out. Calls without an order are absent."""
    found: dict[str, list[str]] = {}
    if not call_ids:
        return found
    query = (
        select(Order.call_id, Order.number)
        .where(Order.call_id.in_(list(call_ids)), is_lead())
        .order_by(Order.created_at, Order.id)
    )
    for call_id, number in session.execute(query):
        found.setdefault(call_id, []).append(number)
    return found


def list_categorised_orders(session: Session, *, since: datetime | None = None) -> list[Order]:
    """Dispatched lead orders with a category: the category a dispatcher sent them under (at 派单 or 改派)."""
    query = select(Order).where(
        Order.category != "",
        is_lead(),
        Order.dispatched_at.is_not(None),
        Order.state != d.State.MERGED.value,
    )
    if since is not None:
        query = query.where(Order.created_at >= since)
    return list(session.scalars(query.order_by(Order.created_at)))


_PUBLIC_ACTIONS = {
    "create",
    "dispatch",
    "redispatch",
    "accept",
    "resolve",
    "direct_resolve",
    "callback",
    "archive",
    "merge",
    "reopen",
}


# Four digits are only 10,000 guesses: after this many failed lookups of one order number within the window,
# that number cannot be looked up at all (not even with the right digits) until the window has passed.
LOOKUP_MAX_FAILURES = 5
LOOKUP_WINDOW = timedelta(hours=1)


def public_lookup(session: Session, number: str, phone_last4: str, *, at: datetime | None = None) -> dict[str, Any]:
    """What a citizen sees of their own order: progress, due date, the reply; no internal notes or names.

    A failed lookup is recorded and committed before the error is raised (the caller's transaction ends
    there; a lookup writes nothing else), so failures count even when the request then rolls back.
    """
    last4 = (phone_last4 or "").strip()
    if not (len(last4) == 4 and last4.isdigit()):
        raise InvalidInput("请输入来电号码后四位数字", code="invalid-phone-last4")
    number = number.strip()[:40]
    when = at or now()
    since = when - LOOKUP_WINDOW
    failures = session.scalar(select(func.count()).where(LookupFailure.number == number, LookupFailure.at > since))
    if (failures or 0) >= LOOKUP_MAX_FAILURES:
        raise TooManyAttempts(
            f"该工单号查询失败次数过多，请 {LOOKUP_WINDOW.seconds // 3600} 小时后再试，或拨打 12345 人工查询",
            code="too-many-attempts",
        )
    order = session.scalar(select(Order).where(Order.number == number))
    if order is None or not order.caller_phone.endswith(last4):
        session.execute(delete(LookupFailure).where(LookupFailure.number == number, LookupFailure.at <= since))
        session.add(LookupFailure(number=number, at=when))
        session.commit()
        # The same answer for "no such order" and "not your order": numbers cannot be probed.
        raise NotFound("未找到与该号码匹配的工单", code="workorder-not-found")
    followed = followed_master(order)
    state = d.State(followed.state)
    answered = state in (d.State.TO_VISIT, d.State.VISITED, d.State.ARCHIVED)
    progress = [
        {"at": _iso_china(h.at), "step": history_label(h.action)}
        for h in session.scalars(select(History).where(History.order_id == order.id).order_by(History.seq))
        if h.action in _PUBLIC_ACTIONS
    ]
    return {
        "number": order.number,
        "type": order.type,
        "content": order.content,
        "caller_phone": mask_phone(order.caller_phone),
        "state_label": d.STATE_LABELS[state]
        if followed is order
        else f"已并入工单 {followed.number}：{d.STATE_LABELS[state]}",
        "handling_unit": followed.lead_unit.name if followed.lead_unit else None,
        "created_at": _iso_china(order.created_at),
        "due": followed.due.isoformat(),
        "reply": followed.reply if answered else "",
        "progress": progress,
    }


# --- demo --------------------------------------------------------------------------------------------------------

_DEMO_UNITS = (
    ("510107", "成都市武侯区12345热线分中心", "county", "510107", "510100"),
    ("510104", "成都市锦江区12345热线分中心", "county", "510104", "510100"),
    ("510100-zjj", "成都市住房和城乡建设局", "department", "510100", "510100"),
    ("510100-rsj", "成都市人力资源和社会保障局", "department", "510100", "510100"),
    ("510100-jyj", "成都市教育局", "department", "510100", "510100"),
    ("510100-jtj", "成都市交通运输局", "department", "510100", "510100"),
    ("510100-sthj", "成都市生态环境局", "department", "510100", "510100"),
    ("510100-wjw", "成都市卫生健康委员会", "department", "510100", "510100"),
    ("510100-swj", "成都市商务局", "department", "510100", "510100"),
    ("510107-cgj", "成都市武侯区综合行政执法局", "department", "510107", "510107"),
    ("510000-tax", "国家税务总局四川省税务局（12366分中心）", "subcentre", "510000", "510000"),
)
_DEMO_CATALOGUE = (
    ("城乡建设", "510100", "510100-zjj"),
    ("城乡建设/城市建设和市政管理", "510107", "510107-cgj"),
    ("劳动和社会保障", "510100", "510100-rsj"),
    ("教育文体", "510100", "510100-jyj"),
    ("交通运输", "510100", "510100-jtj"),
    ("环境保护", "510100", "510100-sthj"),
    ("卫生计生", "510100", "510100-wjw"),
    ("商贸旅游", "510100", "510100-swj"),
)


DEMO_ACTOR = "演示数据"


def load_demo(session: Session) -> str:
    """Units, the dispatch catalogue and a dozen orders in various states (idempotent)."""
    load_taxonomy(session)
    load_units(session, actor=DEMO_ACTOR)
    for code, name, kind, region, parent in _DEMO_UNITS:
        add_unit(session, code, name, kind, region_code=region, parent=parent, actor=DEMO_ACTOR)
    for category, region, unit in _DEMO_CATALOGUE:
        set_catalogue_entry(session, category, unit, region_code=region, actor=DEMO_ACTOR)
    set_catalogue_entry(session, "经济管理", "510000-tax", line="12366", actor=DEMO_ACTOR)
    made = 0
    for key, spec, steps in _demo_orders():
        if session.scalar(select(Order.id).where(Order.client_key == key)) is not None:
            continue
        at = datetime.fromisoformat(spec.pop("at"))
        order = create_order(session, client_key=key, at=at, actor="演示话务员", **spec)
        for i, (offset, action, kwargs) in enumerate(steps, start=1):
            if str(kwargs.get("master", "")).startswith("@"):
                kwargs = {**kwargs, "master": get_order_by_key(session, kwargs["master"][1:]).number}
            act(session, order, action, at=at + offset + timedelta(minutes=10 * i), **kwargs)
        made += 1
    session.flush()
    total = session.scalar(select(func.count()).select_from(Order).where(Order.parent_id.is_(None))) or 0
    units = session.scalar(select(func.count()).select_from(Unit)) or 0
    return f"工单：{units} 个单位，派单目录 {len(_DEMO_CATALOGUE) + 1} 条，演示工单 {total} 张（本次新增 {made} 张）"


def get_order_by_key(session: Session, client_key: str) -> Order:
    order = session.scalar(select(Order).where(Order.client_key == client_key))
    if order is None:
        raise NotFound(f"幂等键对应的工单不存在：{client_key}", code="workorder-not-found")
    return order


def _demo_orders() -> list[tuple[str, dict[str, Any], list[tuple[timedelta, str, dict[str, Any]]]]]:
    day = timedelta(days=1)
    base = {"phone": "13800001234", "region": "510100", "caller_name": "张三"}
    dispatcher = {"role": "dispatcher", "actor": "演示派单员"}

    def dept(unit: str) -> dict[str, Any]:
        return {"role": "department", "unit": unit, "actor": "承办人"}

    sup = {"role": "supervisor", "actor": "演示督办员"}
    zjj, cgj, rsj, jyj = "510100-zjj", "510107-cgj", "510100-rsj", "510100-jyj"
    full = [
        (0 * day, "dispatch", {**dispatcher, "target_unit": zjj}),
        (1 * day, "accept", dept(zjj)),
        (3 * day, "resolve", {**dept(zjj), "reply": "已安排维修，路灯恢复照明。"}),
        (4 * day, "review_pass", sup),
        (5 * day, "callback", {"role": "agent", "satisfaction": "satisfied", "citizen_resolved": True}),
        (5 * day, "archive", sup),
    ]
    return [
        (
            "demo-01",
            {
                **base,
                "type": "咨询",
                "content": "社保卡补办需要带什么材料？",
                "category": "劳动和社会保障",
                "at": "2021-06-01T09:10:00+08:00",
            },
            [(0 * day, "direct_resolve", {"role": "agent", "reply": "携带身份证到任一社保经办网点即可办理。"})],
        ),
        (
            "demo-02",
            {
                **base,
                "type": "求助",
                "content": "武侯区某小区门口路灯不亮已一周。",
                "category": "城乡建设/城市建设和市政管理",
                "place": "武侯区某小区",
                "at": "2021-06-01T10:00:00+08:00",
            },
            full,
        ),
        (
            "demo-03",
            {
                **base,
                "type": "投诉",
                "content": "工地夜间施工噪音扰民。",
                "category": "环境保护",
                "at": "2021-06-02T22:30:00+08:00",
            },
            [],
        ),
        (
            "demo-04",
            {
                **base,
                "type": "投诉",
                "content": "小区物业乱收停车费。",
                "category": "城乡建设",
                "at": "2021-06-03T09:00:00+08:00",
            },
            [(0 * day, "dispatch", {**dispatcher, "target_unit": zjj})],
        ),
        (
            "demo-05",
            {
                **base,
                "type": "求助",
                "content": "拖欠工资三个月，请求帮助。",
                "category": "劳动和社会保障",
                "at": "2021-06-03T11:00:00+08:00",
            },
            [(0 * day, "dispatch", {**dispatcher, "target_unit": rsj}), (1 * day, "accept", dept(rsj))],
        ),
        (
            "demo-06",
            {
                **base,
                "type": "举报",
                "content": "某培训机构违规收费。",
                "category": "教育文体",
                "at": "2021-06-04T15:00:00+08:00",
                "confidential": True,
            },
            [
                (0 * day, "dispatch", {**dispatcher, "target_unit": zjj}),
                (1 * day, "return", {**dept(zjj), "reason": "不属于本单位职责，应由教育部门办理"}),
                (1 * day, "redispatch", {**dispatcher, "target_unit": jyj}),
            ],
        ),
        (
            "demo-07",
            {
                **base,
                "type": "投诉",
                "content": "老旧小区改造进度缓慢。",
                "category": "城乡建设",
                "at": "2021-06-07T09:00:00+08:00",
            },
            [
                (0 * day, "dispatch", {**dispatcher, "target_unit": zjj}),
                (1 * day, "accept", dept(zjj)),
                (2 * day, "request_extension", {**dept(zjj), "days": 5, "reason": "涉及多部门协调"}),
                (3 * day, "approve_extension", sup),
            ],
        ),
        (
            "demo-08",
            {
                **base,
                "type": "意见建议",
                "content": "建议增加地铁站附近公交接驳线路。",
                "category": "交通运输",
                "at": "2021-06-08T09:00:00+08:00",
            },
            [(0 * day, "dispatch", {**dispatcher, "target_unit": "510100-jtj"})],
        ),
        (
            "demo-09",
            {
                **base,
                "type": "求助",
                "content": "小区下水道堵塞污水外溢。",
                "category": "城乡建设",
                "at": "2021-06-09T09:00:00+08:00",
            },
            [
                (0 * day, "dispatch", {**dispatcher, "target_unit": zjj, "co_units": [cgj]}),
                (1 * day, "accept", dept(zjj)),
            ],
        ),
        (
            "demo-10",
            {
                **base,
                "type": "投诉",
                "content": "噪音投诉处理后仍然存在。",
                "category": "环境保护",
                "at": "2021-06-10T09:00:00+08:00",
            },
            [
                (0 * day, "dispatch", {**dispatcher, "target_unit": "510100-sthj"}),
                (1 * day, "accept", dept("510100-sthj")),
                (2 * day, "resolve", {**dept("510100-sthj"), "reply": "已责令施工单位整改。"}),
                (3 * day, "review_pass", sup),
                (4 * day, "callback", {"role": "agent", "satisfaction": "unsatisfied", "citizen_resolved": False}),
                (4 * day, "reopen", {**dispatcher, "reason": "市民反映噪音仍未解决"}),
            ],
        ),
        (
            "demo-11",
            {
                **base,
                "type": "求助",
                "content": "需要补充门牌号才能上门核实。",
                "category": "城乡建设",
                "at": "2021-06-11T09:00:00+08:00",
            },
            [
                (0 * day, "dispatch", {**dispatcher, "target_unit": zjj}),
                (0 * day, "accept", dept(zjj)),
                (0 * day, "await_citizen", {**dept(zjj), "reason": "请市民补充详细门牌号"}),
            ],
        ),
        (
            "demo-12",
            {
                **base,
                "type": "投诉",
                "content": "工地夜间施工噪音很大（重复诉求）。",
                "category": "环境保护",
                "at": "2021-06-02T23:00:00+08:00",
            },
            [(0 * day, "merge", {**dispatcher, "master": "@demo-03", "reason": "与前一工单为同一诉求"})],
        ),
    ]
