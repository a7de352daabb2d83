"""Use cases of aggregation: take in a source's batch, say how each source's connection stands, report a
source's KPIs. HTTP (`api`), the message queue (`stream`) and file import (`cli`) all go through `ingest`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table as SqlTable
from sqlalchemy import and_, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.aggregation.domain import (
    CONNECTION_MILESTONES,
    FRESHNESS_LABELS,
    FeedCall,
    FeedOrder,
    Kind,
    Outcome,
    Record,
    Source,
    SourceKind,
    call_facts,
    freshness,
    latest_versions,
    order_facts,
    outcome,
    sources,
)
from hotline.aggregation.schema import parse_batch
from hotline.aggregation.store import FeedCallRow, FeedOrderRow, FeedRejection, FeedState
from hotline.errors import HotlineError, InvalidInput, NotFound
from hotline.plan import service as plan
from hotline.plan.domain import STATUS_LABELS
from hotline.plan.regions import PROVINCE, REGIONS
from hotline.supervision import service as supervision
from hotline.supervision.domain import order_kpis
from hotline.tables import Table
from hotline.telephony.domain import compute_kpis
from hotline.timeutil import china_day, now

_CHUNK = 500  # ids per IN (...) when reading what is already kept
_RETRIES = 3


def list_sources(session: Session) -> list[Source]:
    return sources(plan.plan_state(session).lines(), REGIONS)


def get_source(session: Session, code: str) -> Source:
    for source in list_sources(session):
        if source.code == code:
            return source
    raise NotFound(f"没有这个数据来源：{code}（分中心用热线号码，市州用地区代码）", code="feed-source-not-found")


@dataclass(frozen=True)
class IngestResult:
    source: str
    received: int  # records in the batch
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # the same version again
    stale: int = 0  # older than the version kept

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TABLES: dict[Kind, SqlTable] = {Kind.CALL: FeedCallRow.__table__, Kind.ORDER: FeedOrderRow.__table__}  # type: ignore[dict-item]


def _columns(record: Record) -> dict[str, Any]:
    values = asdict(record)
    values["external_id"] = values.pop("id")
    return values


def _write(session: Session, source: str, kind: Kind, records: Sequence[Record], at: datetime) -> dict[Outcome, int]:
    table = _TABLES[kind]
    kept: dict[str, tuple[int, datetime]] = {}
    ids = [r.id for r in records]
    for i in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(table.c.external_id, table.c.id, table.c.version).where(
                table.c.source == source, table.c.external_id.in_(ids[i : i + _CHUNK])
            )
        )
        kept.update({external_id: (row_id, version) for external_id, row_id, version in rows})
    counts = dict.fromkeys(Outcome, 0)
    inserts, updates = [], []
    for record in records:
        row_id, version = kept.get(record.id, (None, None))
        result = outcome(version, record.version)
        counts[result] += 1
        if result is Outcome.INSERTED:
            inserts.append({**_columns(record), "source": source, "received_at": at})
        elif result is Outcome.UPDATED:
            changed = {name: value for name, value in _columns(record).items() if name != "external_id"}
            updates.append({**changed, "received_at": at, "row_id": row_id, "new_version": record.version})
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        # The version guard keeps a newer row if another writer got there first.
        statement = update(table).where(
            and_(table.c.id == bindparam("row_id"), table.c.version < bindparam("new_version"))
        )
        session.connection().execute(statement, updates)
    return counts


def _touch(
    session: Session, source: str, at: datetime, *, records: int = 0, rejected: bool = False, heard: bool = True
) -> None:
    """Note that SOURCE was heard from (unless not HEARD: a refused batch that did not come from it). A write
    first: on SQLite it takes the write lock before this transaction reads anything, so concurrent writers queue
    (busy timeout) instead of failing on a stale read."""
    t = FeedState  # short: the statements below name it often
    batch, refused = (0, 1) if rejected else (1, 0)
    values: dict[str, Any] = {
        "batches": t.batches + batch,
        "records": t.records + records,
        "rejected": t.rejected + refused,
    }
    if heard:
        values["last_seen_at"] = case((t.last_seen_at < at, at), else_=t.last_seen_at)
    changed = session.execute(update(t).where(t.source == source).values(**values))
    if changed.rowcount == 0 and heard:  # type: ignore[attr-defined]
        session.execute(
            insert(t).values(source=source, last_seen_at=at, batches=batch, records=records, rejected=refused)
        )


def _changed(session: Session, source: str, at: datetime) -> None:
    t = FeedState  # short: the statements below name it often
    session.execute(
        update(t)
        .where(t.source == source)
        .values(last_changed_at=case((t.last_changed_at.is_(None) | (t.last_changed_at < at), at),
                                     else_=t.last_changed_at))
    )  # fmt: skip


def ingest(
    session: Session,
    source_code: str,
    payload: Any,
    *,
    at: datetime | None = None,
    numbers: Sequence[int] | None = None,
) -> IngestResult:
    """Keep the latest version of every record in PAYLOAD (all or nothing); an empty batch is a heartbeat.
    NUMBERS: the records' row numbers in the file they were read from (errors name rows).

    Raises `feed-source-not-found`, `feed-invalid` (every error listed, nothing kept), `feed-batch-too-large`.
    """
    source = get_source(session, source_code)
    records = parse_batch(payload, numbers)
    moment = at or now()
    calls = latest_versions([r for r in records if isinstance(r, FeedCall)])
    orders = latest_versions([r for r in records if isinstance(r, FeedOrder)])
    for attempt in range(_RETRIES):
        try:
            with session.begin_nested():
                _touch(session, source.code, moment, records=len(records))
                totals = dict.fromkeys(Outcome, 0)
                for kind, items in ((Kind.CALL, calls), (Kind.ORDER, orders)):
                    if items:
                        for key, n in _write(session, source.code, kind, items, moment).items():
                            totals[key] += n
                if totals[Outcome.INSERTED] + totals[Outcome.UPDATED]:
                    _changed(session, source.code, moment)
            break
        except IntegrityError:
            # Another writer inserted one of these ids (or this source's state row) first: read again.
            if attempt == _RETRIES - 1:
                raise
    return IngestResult(
        source.code,
        len(records),
        totals[Outcome.INSERTED],
        totals[Outcome.UPDATED],
        totals[Outcome.UNCHANGED],
        totals[Outcome.STALE],
    )


def reject(
    session: Session,
    source_code: str,
    error: HotlineError,
    *,
    transport: str,
    at: datetime | None = None,
    stream_seq: int | None = None,
    heard: bool = True,
) -> None:
    """Keep a refused batch's reason (not its content) for supervisors; the source must be a known one.
    HEARD=False: the batch did not come from the source's own system (no valid token of it), so it does not
    make the source look live; it is listed with the source's refused batches, and counted with them if the
    source has been heard from before (one never heard from has no state to count it in)."""
    source = get_source(session, source_code)
    moment = at or now()
    _touch(session, source.code, moment, rejected=True, heard=heard)
    session.add(
        FeedRejection(
            source=source.code,
            transport=transport,
            received_at=moment,
            code=error.code,
            message=error.message[:500],
            details=error.details or None,
            stream_seq=stream_seq,
        )
    )


def _milestones(session: Session, on: date) -> dict[str, dict[str, Any]]:
    state = plan.plan_state(session)
    found = {}
    for line in state.lines():
        for milestone in state.milestones_of(line):
            if milestone.id == CONNECTION_MILESTONES.get(line.mode):
                status = state.status(line, milestone, PROVINCE, on)
                found[line.number] = {
                    "title": milestone.title,
                    "effective_date": status.effective_date.isoformat(),
                    "status": status.status.value,
                    "status_label": STATUS_LABELS[status.status],
                }
    return found


def overview(session: Session, *, at: datetime | None = None) -> dict[str, Any]:
    """Every source: its connection (实时/延迟/中断/未接入), today's calls and orders, open overdue orders, and for
    a line the plan's milestone for connecting its systems (数据实时归集, 系统对接)."""
    moment = at or now()
    today = china_day(moment)
    start, end = supervision.period_bounds(today, today)
    states = {s.source: s for s in session.scalars(select(FeedState))}
    c, o = FeedCallRow, FeedOrderRow
    calls = {
        source: (offered, requested, answered)
        for source, offered, requested, answered in session.execute(
            select(
                c.source,
                func.count(),
                func.sum(case((c.requested, 1), else_=0)),
                func.sum(case((and_(c.requested, c.answered_at.is_not(None)), 1), else_=0)),
            )
            .where(c.started_at >= start, c.started_at < end)
            .group_by(c.source)
        )
    }
    created = {
        source: n
        for source, n in session.execute(
            select(o.source, func.count()).where(o.created_at >= start, o.created_at < end).group_by(o.source)
        )
    }
    overdue = {
        source: n
        for source, n in session.execute(
            select(o.source, func.count()).where(o.resolved_at.is_(None), o.due < today).group_by(o.source)
        )
    }
    milestones = _milestones(session, today)
    rows = []
    for source in list_sources(session):
        state = states.get(source.code)
        fresh = freshness(state.last_seen_at if state else None, moment)
        offered, requested, answered = calls.get(source.code, (0, 0, 0))
        rows.append(
            {
                **source.to_dict(),
                "freshness": fresh.value,
                "freshness_label": FRESHNESS_LABELS[fresh],
                "last_seen_at": state.last_seen_at.isoformat() if state else None,
                "last_changed_at": state.last_changed_at.isoformat() if state and state.last_changed_at else None,
                "batches": state.batches if state else 0,
                "records": state.records if state else 0,
                "rejected": state.rejected if state else 0,
                "calls_today": int(offered),
                "answered_today": int(answered or 0),
                "connection_rate_today": int(answered or 0) / int(requested) if requested else None,
                "orders_today": int(created.get(source.code, 0)),
                "open_overdue": int(overdue.get(source.code, 0)),
                "milestone": milestones.get(source.code) if source.kind is not SourceKind.CITY else None,
            }
        )
    return {"at": moment.isoformat(), "today": today.isoformat(), "sources": rows}


def _call_of(row: FeedCallRow) -> FeedCall:
    return FeedCall(row.external_id, row.started_at, row.version, row.requested, row.answered_at, row.ended_at)


def _order_of(row: FeedOrderRow) -> FeedOrder:
    values = {name: getattr(row, name) for name in FeedOrder.__dataclass_fields__ if name != "id"}
    return FeedOrder(id=row.external_id, **values)


def report(
    session: Session, source_code: str, since: date, until: date, *, today: date | None = None
) -> dict[str, Any]:
    """A source's KPIs from SINCE to UNTIL (China dates, both included): calls started and orders received in
    it, computed as the platform's own (same definitions), and its latest refused batches."""
    source = get_source(session, source_code)
    start, end = supervision.period_bounds(since, until)
    day = today or china_day(now())
    calls = session.scalars(
        select(FeedCallRow).where(
            FeedCallRow.source == source.code, FeedCallRow.started_at >= start, FeedCallRow.started_at < end
        )
    )
    orders = session.scalars(
        select(FeedOrderRow).where(
            FeedOrderRow.source == source.code, FeedOrderRow.created_at >= start, FeedOrderRow.created_at < end
        )
    ).all()
    rejections = session.scalars(
        select(FeedRejection)
        .where(FeedRejection.source == source.code)
        .order_by(FeedRejection.received_at.desc(), FeedRejection.id.desc())
        .limit(20)
    )
    return {
        "source": source.to_dict(),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "call_kpis": compute_kpis([call_facts(_call_of(r)) for r in calls]).to_dict(),
        "orders": len(orders),
        "order_kpis": [rate.to_dict() for rate in order_kpis(order_facts(_order_of(r), day) for r in orders)],
        "rejections": [
            {
                "received_at": r.received_at.isoformat(),
                "transport": r.transport,
                "code": r.code,
                "message": r.message,
                "stream_seq": r.stream_seq,
            }
            for r in rejections
        ],
    }


# -- file import: the same records as a table (CSV or Excel), one kind per file ------------------------
# Chinese headers a sub-centre's export is likely to have, mapped to the feed's fields.
HEADERS = {
    "编号": "id", "记录编号": "id", "工单编号": "id", "呼叫编号": "id",
    "更新时间": "updated_at",
    "呼入时间": "started_at", "来电时间": "started_at",
    "接通时间": "answered_at", "应答时间": "answered_at",
    "结束时间": "ended_at", "挂机时间": "ended_at",
    "是否请求人工": "requested",
    "受理时间": "created_at", "办理期限": "due", "办结期限": "due",
    "地区": "region", "分类": "category", "诉求类型": "demand_type",
    "是否派单": "dispatched", "签收期限": "accept_due", "签收时间": "accepted_at", "办结时间": "resolved_at",
    "是否直接办结": "direct", "是否退单": "returned", "是否重办": "reopened",
    "回访结果": "satisfaction", "满意度": "satisfaction", "是否解决": "citizen_resolved",
}  # fmt: skip
_TRUE = {"1", "true", "是", "y", "yes"}
_FALSE = {"0", "false", "否", "n", "no"}
_BOOLEANS = {"requested", "dispatched", "direct", "returned", "reopened", "citizen_resolved"}


def records_from_table(table: Iterable[Mapping[str, str]], kind: str) -> list[dict[str, Any]]:
    """Rows of a table (keyed by its header, Chinese or the feed's own field names) as feed records of KIND
    (call | workorder); empty cells are left out, 是/否 read as true/false."""
    try:
        Kind(kind)
    except ValueError as exc:
        raise InvalidInput("记录类型应为 call（话务）或 workorder（工单）", code="feed-invalid-kind") from exc
    out = []
    for row in table:
        record: dict[str, Any] = {"kind": kind}
        for header, cell in row.items():
            name = HEADERS.get(header.strip(), header.strip())
            text = (cell or "").strip()
            if not text:
                continue
            if name in _BOOLEANS and text.lower() in _TRUE | _FALSE:
                record[name] = text.lower() in _TRUE
            else:
                record[name] = text
        out.append(record)
    return out


def import_table(session: Session, source_code: str, table: Table, kind: str) -> IngestResult:
    """A CSV or Excel export of a source's records (one KIND per file), through the same checks as a feed."""
    return ingest(session, source_code, records_from_table(table, kind), numbers=table.numbers)


def load_demo(session: Session) -> str:
    """Today's data of two sub-centres and one city, as their systems would have sent it (running it again
    sends the same ids with later times: updates, as a live feed would)."""
    moment = now()
    # Today's calls, spread over the last two hours (less just after midnight, so all of them count as today's).
    midnight = supervision.period_bounds(china_day(moment), china_day(moment))[0]
    first = max(midnight, moment - timedelta(hours=2))
    done = 0
    for code, calls, answered in (("12366", 40, 36), ("12360", 12, 12), ("510100", 60, 55)):
        records: list[dict[str, Any]] = []
        for i in range(calls):
            started = first + (moment - first) * (i / calls)
            record: dict[str, Any] = {"kind": "call", "id": f"DEMO-{code}-C{i:03d}", "started_at": started.isoformat()}
            if i < answered:
                record["answered_at"] = (started + timedelta(seconds=5 + (i * 3) % 25)).isoformat()
            record["ended_at"] = (started + timedelta(seconds=90)).isoformat()
            records.append(record)
        for i in range(calls // 4):
            created = moment - timedelta(days=i, hours=1)
            record = {
                "kind": "workorder",
                "id": f"DEMO-{code}-W{i:03d}",
                "created_at": created.isoformat(),
                "due": (china_day(created) + timedelta(days=7)).isoformat(),
                "category": "咨询",
                "dispatched": True,
            }
            if i % 3 == 0 and i > 0:
                record["resolved_at"] = (created + timedelta(days=1)).isoformat()
                record["satisfaction"] = "satisfied"
            records.append(record)
        done += ingest(session, code, {"records": records}, at=moment).received
    return f"数据汇聚：3 个来源的演示数据（{done} 条记录）"
