"""Tables of the work-order capability (工单).

`wo_orders` carries a `version` column used by SQLAlchemy's optimistic concurrency (`version_id_col`): an
UPDATE says `WHERE id = ? AND version = ?`, so of two actors acting on one order at once only one wins.
`wo_history` is append-only: the ORM refuses to update or delete its rows (`db.append_only`), the database an UPDATE.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from math import isqrt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from hotline.db import Base, UTCDateTime, append_only
from hotline.workorders.search import Term, index_words

BigId = BigInteger().with_variant(Integer, "sqlite")


class Unit(Base):
    """A unit in the hierarchy province → 市（州） → 区（县） → departments; sub-centres are units too."""

    __tablename__ = "wo_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # province | city | county | department | subcentre
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("wo_units.id"), nullable=True)
    region_code: Mapped[str] = mapped_column(String(6), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The 接替单位 named when it was 停用 (`units.deactivate_unit`), kept while it is out of service: a co-handling
    # order of its reopened with its lead goes there (`service.successor_in_service`).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("wo_units.id"), nullable=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[parent_id], lazy="joined", join_depth=1)
    successor: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[successor_id], lazy="select")

    def __repr__(self) -> str:
        return f"Unit({self.code!r}, {self.name!r})"


class Category(Base):
    """One leaf of the three-level category tree (一级/二级/三级分类)."""

    __tablename__ = "wo_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    level1: Mapped[str] = mapped_column(String(64), nullable=False)
    level2: Mapped[str] = mapped_column(String(64), nullable=False)
    level3: Mapped[str] = mapped_column(String(64), nullable=False)
    path: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)


class CatalogueEntry(Base):
    """派单目录: a category prefix (+ region, + line) → the handling unit. Empty region/line mean "any"."""

    __tablename__ = "wo_dispatch_catalogue"
    __table_args__ = (UniqueConstraint("category", "region_code", "line", name="uq_wo_dispatch_catalogue_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(200), nullable=False)
    region_code: Mapped[str] = mapped_column(String(6), nullable=False, default="")
    line: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("wo_units.id"), nullable=False)

    unit: Mapped[Unit] = relationship(lazy="joined")


class Limit(Base):
    """A time limit in working days overriding the default (key: an order type, 签收, 退单 or 回访)."""

    __tablename__ = "wo_limits"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    set_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Sequence(Base):
    """The last sequence number handed out for one region and one China-time day."""

    __tablename__ = "wo_sequences"

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False)


class Order(Base):
    __tablename__ = "wo_orders"
    __table_args__ = (
        Index("ix_wo_orders_state_due", "state", "due"),
        # The open lead orders of a city taken since an instant (the 并单 suggestion's listing, per demand): the
        # equality and IN columns, then the range, then what the listing reads, so it never touches the table.
        # Leading with parent_id, it serves the co-handling orders' lookups too; it replaced their own index, which
        # SQLite (no statistics here: ANALYZE is never run) took for the listing, reading through `parent_id IS
        # NULL` every order ever taken.
        Index(
            "ix_wo_orders_parent_state_region_created",
            *("parent_id", "state", "region_code", "created_at", "number", "payload_hash"),
        ),
        Index("ix_wo_orders_master_id", "master_id"),
        # Periods of received orders: KPI reports, an Open311 app's requests.
        Index("ix_wo_orders_created_at", "created_at"),
        # A caller's earlier orders, newest first (来电人历史工单).
        Index("ix_wo_orders_caller_phone_created_at", "caller_phone", "created_at"),
        # The orders taken from a call (话务记录), and those answered from a knowledge article (its page's count).
        Index("ix_wo_orders_call_id", "call_id"),
        Index("ix_wo_orders_answer_article", "answer_article"),
        # The orders answered (办结) in a span: 实时监控's 今日办结, read every few seconds (migration 0028).
        Index("ix_wo_orders_resolved_at", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    client_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    payload_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    region_code: Mapped[str] = mapped_column(String(6), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    caller_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    caller_phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    line: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    call_id: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    type: Mapped[str] = mapped_column(String(8), nullable=False)
    category: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    content: Mapped[str] = mapped_column(Text, nullable=False)
    # The content's words as 热点诉求 counts them, space-separated; NULL until first counted. Written once by
    # `supervision.service.hotspots` (a content never changes after 受理), so no order path needs the tokenizer.
    # Deferred: only the hot-topics query reads it, not every load of an order.
    content_words: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    place: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    urgency: Mapped[str] = mapped_column(String(8), nullable=False)
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    state: Mapped[str] = mapped_column(String(24), nullable=False)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("wo_units.id"), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("wo_orders.id"), nullable=True)
    master_id: Mapped[int | None] = mapped_column(ForeignKey("wo_orders.id"), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Deadlines are China-time calendar days; the order is overdue the day after `due`.
    due: Mapped[date] = mapped_column(Date, nullable=False)
    accept_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    return_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 回访时限: set as the order enters 待回访 (审核通过, 直接办结); NULL on orders that entered it before 0022.
    visit_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    paused_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    paused_workdays: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    extension_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pending_extension: Mapped[int | None] = mapped_column(Integer, nullable=True)

    reply: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # External id of the knowledge article an agent answered from (直接办结); teaches the answer model.
    answer_article: Mapped[str | None] = mapped_column(String(128), nullable=True)
    satisfaction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    citizen_resolved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    urge_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    supervise_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    return_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    history_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Co-handling (协办) orders opened under this one; 0 spares the lookup of children.
    child_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    lead_unit: Mapped[Unit | None] = relationship(lazy="joined")
    parent: Mapped[Order | None] = relationship(remote_side=[id], foreign_keys=[parent_id], lazy="select")
    master: Mapped[Order | None] = relationship(remote_side=[id], foreign_keys=[master_id], lazy="select")

    # The service sets `version` itself (one more per transition, so version == history_count); the UPDATE
    # still says WHERE version = <the version loaded>, so a concurrent change makes it match no row.
    __mapper_args__: dict[str, Any] = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


def is_lead() -> ColumnElement[bool]:
    """An order that is not a co-handling one (`parent_id IS NULL`), for a query that something else narrows: a
    period (`created_at`), calls (`call_id`), the newest first.

    Written so that no index serves it. Without statistics (the platform never runs ANALYZE on SQLite) SQLite
    takes `parent_id IS NULL` for a selective equality and, through the leading column of
    ix_wo_orders_parent_state_region_created, reads the entry of every lead order ever taken rather than the
    period's or the calls' few (bench/workorders.md, 2026-11-29 17:30). PostgreSQL, with statistics, narrows by
    the period either way. The 并单 listing keeps the plain `IS NULL`: that index is built for it."""
    return func.coalesce(Order.parent_id, 0) == 0


class History(Base):
    """One transition of one order. Rows are only ever inserted."""

    __tablename__ = "wo_history"
    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_wo_history_order_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("wo_orders.id"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    unit_code: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    from_state: Mapped[str] = mapped_column(String(24), nullable=False, default="")
    to_state: Mapped[str] = mapped_column(String(24), nullable=False)
    # Fields changed by the transition: {"due": ["2021-06-04", "2021-06-09"], ...}
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    order: Mapped[Order] = relationship(lazy="select")


class LookupFailure(Base):
    """A citizen's progress lookup that did not match (wrong number or wrong last four digits): counted per
    typed order number, so the last four digits cannot be tried out one by one."""

    __tablename__ = "wo_lookup_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


append_only(History, "work-order history")


# --- 关键词 full-text index (migration 0025) -------------------------------------------------------------------------
# `wo_order_words`: for each order, the words `search.index_words` gives for its content and place. Made by the
# migration, not declared on Base.metadata, as its shape is each database's own: on SQLite an FTS5 table whose
# rowid is the order's id (detail=none: only which orders hold a word is asked); on PostgreSQL a table of
# (order_id, words tsvector of config 'simple', without positions: only which orders hold a word is asked) with a
# GIN index on words.
ORDER_WORDS = "wo_order_words"
_FTS = table(ORDER_WORDS, column("rowid"))
_TSV = table(ORDER_WORDS, column("order_id"), column("words"))
_WRITE = {
    "sqlite": text(f"INSERT OR REPLACE INTO {ORDER_WORDS} (rowid, words) VALUES (:order_id, :words)"),
    "postgresql": text(
        f"INSERT INTO {ORDER_WORDS} (order_id, words) VALUES (:order_id, strip(to_tsvector('simple', :words))) "
        "ON CONFLICT (order_id) DO UPDATE SET words = excluded.words"
    ),
}


def write_order_words(conn: Connection, rows: Collection[tuple[int, str]]) -> None:
    """Write the index entries of orders, (order id, `search.index_words` of its content and place) each,
    replacing those they had."""
    if rows:
        conn.execute(_WRITE[conn.dialect.name], [{"order_id": order_id, "words": words} for order_id, words in rows])


def index_orders(conn: Connection, *, after: int = 0, batch: int = 2000) -> int:
    """Write the index entries of the orders whose id is above AFTER, BATCH at a time in id order (the migration's
    backfill); how many were written."""
    orders = table("wo_orders", column("id"), column("content"), column("place"))  # as stored, whatever the model
    done = 0
    while rows := conn.execute(
        select(orders.c.id, orders.c.content, orders.c.place)
        .where(orders.c.id > after)
        .order_by(orders.c.id)
        .limit(batch)
    ).all():
        write_order_words(conn, [(row.id, index_words(row.content, row.place)) for row in rows])
        after, done = rows[-1].id, done + len(rows)
    return done


def words_match(dialect: str, terms: Collection[Term], *, one_by_one: bool = False) -> ColumnElement[bool]:
    """The orders whose index entry holds every one of TERMS (`search.lookup`): each a run of Han characters or of
    ASCII letters and digits, so quoting is all either query syntax needs. ONE_BY_ONE (SQLite): asked of each
    order the query reaches rather than as the list of all the orders holding them (`dense_match`)."""
    if dialect == "postgresql":
        query = " & ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in terms)
        return Order.id.in_(select(_TSV.c.order_id).where(_TSV.c.words.op("@@")(func.to_tsquery("simple", query))))
    held = _held(terms)
    if one_by_one:
        return select(_FTS.c.rowid).where(held, _FTS.c.rowid == Order.id).exists()
    return Order.id.in_(select(_FTS.c.rowid).where(held))


def _held(terms: Collection[Term]) -> ColumnElement[bool]:
    """SQLite: the index entries holding every one of TERMS (FTS5's query syntax)."""
    query = " AND ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in terms)
    return literal_column(ORDER_WORDS).op("MATCH")(query)


def dense_match(session: Session, terms: Collection[Term]) -> bool:
    """SQLite, a page of the newest orders: whether so many orders hold TERMS that walking the newest orders (each
    tested by the substring check, then by the index: `words_match` one by one) finds a page sooner than reading all
    of them and sorting. Reading all M of them costs about M row reads; walking, about 50 × N / M of the N orders,
    each a row read and a substring check (≈ 4 µs; the index, ≈ 45 µs a question, is asked only of those that pass):
    even at M² ≈ 60 N (3,900 orders of 250,000, 17,000 of 5 million), where a page costs ≈ 13 ms and 57 ms
    (bench/workorders.md). Counted in the index up to that many. PostgreSQL's planner chooses from its statistics."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    enough = isqrt(60 * (session.scalar(select(func.max(Order.id))) or 0))
    held = _held(terms)
    holding = select(_FTS.c.rowid).where(held).limit(enough).subquery()
    return enough > 0 and (session.scalar(select(func.count()).select_from(holding)) or 0) >= enough
