"""Use cases of 短信通知: the relay writing the outbox from the work-order history, the sender's rounds, the
listings (numbers masked) and 重新发送 of a failed text.

The relay reads the history past its cursor (`push_cursors` row "sms", holes kept as push keeps them): whatever
path took an order in or answered it (受理 page, API, import, Open311, demo) is seen, and only once its transaction
committed. Each text is inserted unless its (order, kind) is already there, so a relay reading an entry twice (a
crash before its cursor was saved, two relays at once) writes nothing twice. An order merged (并单) into another gets
its own 办结告知 once the master's reply can be read on /track (the master's answer or the merge, read last).

The sender claims a due text before it posts it (attempts + 1, next try pushed past the gateway's timeout, in a
committed UPDATE that names the attempts it read): a second sender finds nothing to claim, and a sender dying with
the text in hand leaves it to be tried again later, never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.db import by_id
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.privacy import mask_numbers_in, mask_phone
from hotline.push import service as push
from hotline.push.domain import advance
from hotline.settings import get_settings, without_secrets
from hotline.sms import domain as d
from hotline.sms.store import CitizenReply, Event, Message
from hotline.timeutil import china, now, parse_instant
from hotline.workorders import domain as wo
from hotline.workorders.domain import SATISFACTION_LABELS, Satisfaction
from hotline.workorders.service import act, followed_master
from hotline.workorders.store import History, Order

CURSOR = "sms"
ACTOR = "system"  # who the relay's and the sender's steps are recorded as
BATCH = 500  # history entries per relay round
SEND_BATCH = 100  # texts per sender round
MAX_LIMIT = 1000
# The states in which /track shows an order's reply (`workorders.service.public_lookup`: 待回访 on).
READABLE_STATES = frozenset({wo.State.TO_VISIT.value, wo.State.VISITED.value, wo.State.ARCHIVED.value})
# The entries that make an order's reply readable there (直接办结, 审核通过), and those after which a merged (并单)
# order's master may have a reply to read: its answer, or the merge.
ANSWERS = tuple(action for action, kind in d.EVENT_KINDS.items() if kind is d.MessageKind.RESOLVED)
MERGED_EVENTS = frozenset({*ANSWERS, "merge"})


# -- relay ------------------------------------------------------------------------------------------------------------


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Message)


def _event(session: Session, message_id: int, action: str, state: str, at: datetime, *, actor: str = ACTOR,
           note: str = "") -> None:  # fmt: skip
    session.add(Event(message_id=message_id, at=at, actor=actor, action=action, state=state, note=note))


def _declined(session: Session, order_ids: Sequence[int]) -> set[int]:
    """Of ORDER_IDS, the orders whose citizen declined texts at 受理 (their create entry says so)."""
    if not order_ids:
        return set()
    rows = session.execute(
        select(History.order_id, History.changes).where(History.order_id.in_(order_ids), History.action == "create")
    )
    return {order_id for order_id, changes in rows if d.OPT_OUT in (changes or {})}


def _write(session: Session, order: Order, kind: d.MessageKind, reason: d.SkipReason | None, at: datetime,
           track_url: str, *, survey: bool = False) -> bool:  # fmt: skip
    """Insert ORDER's text of KIND unless it is there already; whether it was written. SURVEY: a 办结告知 to be sent
    asks for a rating (短信回访)."""
    state = d.MessageState.SKIPPED if reason is not None else d.MessageState.PENDING
    asks = survey and kind is d.MessageKind.RESOLVED and reason is None
    due = order.due if kind is d.MessageKind.RECEIPT else None
    body = d.text(kind, order.number, due=due, track_url=track_url, asks_rating=asks)
    values = {
        "order_id": order.id,
        "order_number": order.number,
        "kind": kind.value,
        "phone": d.mobile_number(order.caller_phone) or order.caller_phone,
        "text": body,
        "state": state.value,
        "skip_reason": reason.value if reason is not None else None,
        "attempts": 0,
        "next_try_at": d.send_after(at) if reason is None else None,
        "created_at": at,
        "asks_rating": asks,
    }
    new_id = session.scalar(_insert(session).values(**values).on_conflict_do_nothing().returning(Message.id))
    if new_id is None:
        return False
    note = d.SKIP_LABELS[reason] if reason is not None else ""
    _event(session, new_id, "skipped" if reason is not None else "written", state.value, at, note=note)
    return True


def _receipt_not_needed(session: Session, order_id: int, at: datetime) -> None:
    """An order answered (直接办结, or 审核通过 of a unit's 办结) before its 受理回执 was ever tried (held by the quiet
    hours or a gateway down): that one is not sent, the 办结告知 says it all."""
    found = session.scalar(
        update(Message)
        .where(
            Message.order_id == order_id,
            Message.kind == d.MessageKind.RECEIPT.value,
            Message.state == d.MessageState.PENDING.value,
            Message.attempts == 0,
        )
        .values(state=d.MessageState.SKIPPED.value, skip_reason=d.SkipReason.ANSWERED.value, next_try_at=None)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    if found is not None:
        _event(session, found, "skipped", d.MessageState.SKIPPED.value, at, note=d.SKIP_LABELS[d.SkipReason.ANSWERED])


def _reason(order: Order, declined: bool, event_at: datetime, at: datetime) -> d.SkipReason | None:
    """Why ORDER's citizen gets no text about an event of EVENT_AT read at AT (None: they get it)."""
    reason = d.eligible(
        phone=order.caller_phone,
        order_type=order.type,
        confidential=order.confidential,
        channel=order.channel,
        declined=declined,
    )
    return d.SkipReason.STALE if reason is None and d.stale(event_at, at) else reason


def _merged_into(session: Session, order: Order) -> list[Order]:
    """The orders merged (并单) into ORDER, directly or through a chain (one merged into an order that was merged
    into ORDER later): those `workorders.service.followed_master` leads back to ORDER."""
    found: list[Order] = []
    seen, frontier = {order.id}, [order.id]
    merged = Order.state == wo.State.MERGED.value
    while frontier:
        rows = session.scalars(select(Order).where(Order.master_id.in_(frontier), merged).order_by(Order.id))
        fresh = [o for o in rows if o.id not in seen]
        seen.update(o.id for o in fresh)
        found += fresh
        frontier = [o.id for o in fresh]
    return found


def _relay_merged(session: Session, order_id: int, action: str, event_at: datetime, at: datetime,
                  track_url: str) -> dict[str, int]:  # fmt: skip
    """并单: the 办结告知 of each order merged into one whose reply /track shows (its own number finds that reply
    there), written when the relay reads the master's answer (ACTION 直接办结 / 审核通过 of ORDER_ID) or the merge
    (ACTION `merge` of ORDER_ID), whichever it reads last. Each under its own rules (its own 受理 entry's opt-out)."""
    counts = {"written": 0, "skipped": 0}
    order = session.get(Order, order_id)
    master = followed_master(order) if order is not None and order.parent_id is None else None
    if order is None or master is None or master.state not in READABLE_STATES:
        return counts
    merged = [order, *_merged_into(session, order)] if action == "merge" else _merged_into(session, order)
    if not merged:
        return counts
    # Due since the later of the merge and the master's answer (a relay reading a merge made after its master was
    # answered again, or long after its master's answer, judges staleness by that).
    answered_at = session.scalar(
        select(func.max(History.at)).where(History.order_id == master.id, History.action.in_(ANSWERS))
    )
    since = max(event_at, answered_at) if answered_at is not None else event_at
    declined = _declined(session, [o.id for o in merged])
    for duplicate in merged:
        reason = _reason(duplicate, duplicate.id in declined, since, at)
        if _write(session, duplicate, d.MessageKind.RESOLVED, reason, at, track_url):
            counts["skipped" if reason is not None else "written"] += 1
    return counts


def relay_once(session: Session, *, at: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """One round: the texts of the history entries past the cursor (at most LIMIT), written in SESSION's
    transaction with the cursor moved past them. `read`: entries read; `written`: texts to send; `skipped`: texts
    recorded as 不发送."""
    at = at or now()
    settings = get_settings()
    track_url = settings.sms_track_url
    cursor = push.load_cursor(session, CURSOR)
    query = select(History.id, History.order_id, History.action, History.at, History.changes)
    entries = push.read_past(session, cursor, query, limit)
    wanted = [e for e in entries if e.action in d.EVENT_KINDS]
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_({e.order_id for e in wanted})))}
    # Co-handling (协办) orders are the lead order's demand again: its citizen hears about the lead order alone.
    wanted = [e for e in wanted if e.order_id in orders and orders[e.order_id].parent_id is None]
    declined = _declined(session, [e.order_id for e in wanted if e.action != "create"])
    counts = {"read": len(entries), "written": 0, "skipped": 0}
    for entry in wanted:
        order, kind = orders[entry.order_id], d.EVENT_KINDS[entry.action]
        refused = d.OPT_OUT in (entry.changes or {}) if entry.action == "create" else entry.order_id in declined
        reason = _reason(order, refused, entry.at, at)
        # 短信回访: the 办结告知 of the order's own answer asks for a rating (a merged duplicate's does not).
        if _write(session, order, kind, reason, at, track_url, survey=settings.sms_survey):
            counts["skipped" if reason is not None else "written"] += 1
        if kind is d.MessageKind.RESOLVED:
            _receipt_not_needed(session, order.id, at)
    for entry in entries:
        if entry.action in MERGED_EVENTS:
            for key, n in _relay_merged(session, entry.order_id, entry.action, entry.at, at, track_url).items():
                counts[key] += n
    moved = advance(cursor, [e.id for e in entries], at)
    if moved != cursor:
        push.save_cursor(session, moved, at=at, name=CURSOR)
    return counts


# -- sender -----------------------------------------------------------------------------------------------------------


class Reply(Protocol):
    @property
    def status(self) -> int | None: ...  # the gateway's HTTP status; None when it never answered (timeout, refused)

    @property
    def gateway_id(self) -> str | None: ...

    @property
    def error(self) -> str: ...


class Gateway(Protocol):
    timeout: float

    def send(self, message_id: int, phone: str, text: str) -> Reply: ...


def _claim(session: Session, message_id: int, attempts: int, at: datetime, lease: timedelta) -> bool:
    """Take the text for one try, committed: no other sender can take it until AT + LEASE (nor one that read it
    before this claim: the claim names the ATTEMPTS it read)."""
    taken = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.state == d.MessageState.PENDING.value,
            Message.attempts == attempts,
            Message.next_try_at <= at,
        )
        .values(attempts=attempts + 1, next_try_at=at + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def _drop_stale(session: Session, at: datetime) -> int:
    """Texts still 待发送 `MAX_AGE` after they were written (no gateway configured meanwhile, or one down all day):
    不发送 (`stale`) rather than a 受理回执 or 办结告知 days late. Not one a sender holds (its lease ahead). Committed."""
    dropped = list(
        session.scalars(
            update(Message)
            .where(
                Message.state == d.MessageState.PENDING.value,
                Message.created_at < at - d.MAX_AGE,
                Message.next_try_at <= at,
            )
            .values(state=d.MessageState.SKIPPED.value, skip_reason=d.SkipReason.STALE.value, next_try_at=None)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    for message_id in dropped:
        _event(session, message_id, "skipped", d.MessageState.SKIPPED.value, at, note=d.SKIP_LABELS[d.SkipReason.STALE])
    session.commit()
    return len(dropped)


def send_due(
    session: Session,
    gateway: Gateway,
    *,
    at: datetime | None = None,
    max_attempts: int | None = None,
    limit: int = SEND_BATCH,
) -> dict[str, int]:
    """Post the texts due at AT (at most LIMIT, oldest first) through GATEWAY, each claimed and its outcome
    committed on its own (SESSION is committed), after those too old to send are dropped (`_drop_stale`). `sent`,
    `failed` (for good), `retry` (to be tried again), `stale` (not sent, too late): this round's counts."""
    at = at or now()
    attempts_allowed = max_attempts or get_settings().sms_max_attempts
    lease = timedelta(seconds=max(2 * gateway.timeout, 60))
    stale = _drop_stale(session, at)
    due = session.execute(
        select(Message.id, Message.attempts, Message.phone, Message.text)
        .where(Message.state == d.MessageState.PENDING.value, Message.next_try_at <= at)
        .order_by(Message.next_try_at, Message.id)
        .limit(limit)
    ).all()
    session.commit()
    counts = {"sent": 0, "failed": 0, "retry": 0, "stale": stale}
    for message_id, attempts, phone, body in due:
        if not _claim(session, message_id, attempts, at, lease):
            continue
        reply = gateway.send(message_id, phone, body)
        result = d.outcome(reply.status)
        step = d.after_attempt(result, attempts + 1, at, max_attempts=attempts_allowed)
        message = session.get(Message, message_id, populate_existing=True)
        assert message is not None
        message.state, message.next_try_at = step.state.value, step.next_try_at
        if result is d.Outcome.SENT:
            message.sent_at, message.gateway_id, message.last_error = at, (reply.gateway_id or None), None
            _event(session, message_id, "sent", step.state.value, at, note=reply.gateway_id or "")
            counts["sent"] += 1
        else:
            # The gateway's words may quote the number: kept masked, as every page shows numbers.
            message.last_error = mask_numbers_in(without_secrets(reply.error))[:500]
            action = "failed" if step.state is d.MessageState.FAILED else "tried"
            _event(session, message_id, action, step.state.value, at, note=message.last_error)
            counts["failed" if step.state is d.MessageState.FAILED else "retry"] += 1
        session.commit()
    return counts


# -- reading and 重新发送 -----------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return china(value).isoformat(timespec="seconds") if value is not None else None


def message_view(message: Message, *, mask: bool = True) -> dict[str, Any]:
    kind, state = d.MessageKind(message.kind), d.MessageState(message.state)
    reason = d.SkipReason(message.skip_reason) if message.skip_reason else None
    return {
        "id": message.id,
        "order_id": message.order_id,
        "order_number": message.order_number,
        "kind": kind.value,
        "kind_label": d.KIND_LABELS[kind],
        "phone": mask_phone(message.phone) if mask else message.phone,
        "text": message.text,
        "state": state.value,
        "state_label": d.STATE_LABELS[state],
        "skip_reason": reason.value if reason else None,
        "skip_reason_label": d.SKIP_LABELS[reason] if reason else None,
        "attempts": message.attempts,
        "next_try_at": _iso(message.next_try_at),
        "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
        "gateway_id": message.gateway_id,
        "last_error": message.last_error,
    }


def parse_state(state: str | None) -> d.MessageState | None:
    if not state:
        return None
    try:
        return d.MessageState(state.strip())
    except ValueError:
        raise InvalidInput(
            f"短信状态不正确：{state!r}（可选 pending 待发送、sent 已发送、failed 发送失败、skipped 不发送）",
            code="sms-invalid-state",
        ) from None


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"条数须在 1 到 {MAX_LIMIT} 之间", code="sms-invalid-limit")


def list_messages(
    session: Session, *, state: str | None = None, order: str | None = None, mask: bool = True, limit: int = 200
) -> list[dict[str, Any]]:
    """The texts, newest first, of STATE (any when None) and of the order numbered ORDER (any when None)."""
    _check_limit(limit)
    query = select(Message).order_by(Message.id.desc()).limit(limit)
    wanted = parse_state(state)
    if wanted is not None:
        query = query.where(Message.state == wanted.value)
    if order and order.strip():
        query = query.where(Message.order_number == order.strip())
    return [message_view(m, mask=mask) for m in session.scalars(query)]


def messages_for_order(session: Session, number: str, *, mask: bool = True) -> list[dict[str, Any]]:
    """The order's texts, oldest first (none for an order that has had none)."""
    query = select(Message).where(Message.order_number == number.strip()).order_by(Message.id)
    return [message_view(m, mask=mask) for m in session.scalars(query)]


def state_counts(session: Session) -> dict[str, int]:
    """How many texts are in each state (every state named, 0 when none)."""
    counts = dict.fromkeys((s.value for s in d.MessageState), 0)
    for state, count in session.execute(select(Message.state, func.count()).group_by(Message.state)):
        counts[state] = int(count)
    return counts


def history(session: Session, message_id: int) -> list[dict[str, Any]]:
    """A text's steps, oldest first."""
    rows = session.scalars(select(Event).where(Event.message_id == message_id).order_by(Event.id))
    return [
        {"at": _iso(e.at), "actor": e.actor, "action": e.action, "state": e.state,
         "state_label": d.STATE_LABELS[d.MessageState(e.state)], "note": e.note}
        for e in rows
    ]  # fmt: skip


def retry(session: Session, message_id: int, actor: str, *, at: datetime | None = None) -> dict[str, Any]:
    """重新发送: a failed text back to 待发送 (its tries counted afresh; outside the quiet hours it goes at once),
    recorded under ACTOR. 404 `sms-not-found`, 409 `sms-not-failed`."""
    at = at or now()
    message = by_id(session, Message, message_id, with_for_update=True)
    if message is None:
        raise NotFound(f"短信不存在：{message_id}", code="sms-not-found")
    if message.state != d.MessageState.FAILED.value:
        label = d.STATE_LABELS[d.MessageState(message.state)]
        raise Conflict(f"只有发送失败的短信可以重新发送（该短信{label}）", code="sms-not-failed")
    note = f"此前已尝试 {message.attempts} 次" + (f"：{message.last_error}" if message.last_error else "")
    message.state, message.attempts, message.next_try_at = d.MessageState.PENDING.value, 0, d.send_after(at)
    _event(session, message.id, "retried", message.state, at, actor=actor or ACTOR, note=note)
    session.flush()
    return message_view(message)


# -- 短信回访 ---------------------------------------------------------------------------------------------------------
# The citizen's reply to a 办结告知 that asked for a rating: matched to the latest such text sent to the same number
# within the survey's hours, judged (`domain.reply_outcome`), and, when it says 满意/基本满意, recorded as the
# order's 回访 (`workorders.service.act`) in the transaction that stores the reply. The text row is locked first
# (a write, so SQLite's one writer queues the second reply too): of two replies to one text, the first wins.


def _reply_time(received_at: str | datetime | None, at: datetime) -> datetime:
    if received_at is None or received_at == "":
        return at
    try:
        when = received_at if isinstance(received_at, datetime) else parse_instant(received_at)
    except InvalidInput:
        raise InvalidInput(
            f"短信接收时间格式不正确：{received_at!r}（应为 ISO 8601）", code="sms-invalid-reply"
        ) from None
    if when > at + timedelta(minutes=5):
        raise InvalidInput("短信接收时间晚于当前时间", code="sms-invalid-reply")
    return when


def _surveyed(session: Session, number: str | None, received: datetime) -> Message | None:
    """The latest text asking for a rating sent to NUMBER within the survey's hours before RECEIVED."""
    if number is None:
        return None
    since = received - timedelta(hours=get_settings().sms_survey_hours)
    return session.scalar(
        select(Message)
        .where(
            Message.phone == number,
            Message.asks_rating.is_(True),
            Message.state == d.MessageState.SENT.value,
            Message.sent_at >= since,
            Message.sent_at <= received,
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )


def _lock(session: Session, message_id: int) -> None:
    """Hold MESSAGE_ID's row until the transaction ends (PostgreSQL: the row; SQLite: the database's one writer)."""
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(asks_rating=Message.asks_rating)
        .execution_options(synchronize_session=False)
    )


def _answered(session: Session, message_id: int) -> bool:
    """Whether the text already had a recognized reply (one with a rating)."""
    found = session.scalar(
        select(CitizenReply.id).where(CitizenReply.message_id == message_id, CitizenReply.rating.is_not(None)).limit(1)
    )
    return found is not None


class _Repeated(Exception):
    """The gateway's id was stored meanwhile by another request."""


def _by_gateway_id(session: Session, gateway_id: str | None) -> CitizenReply | None:
    return session.scalar(select(CitizenReply).where(CitizenReply.gateway_id == gateway_id)) if gateway_id else None


def _judge(session: Session, message: Message | None, rating: Satisfaction | None, token: str,
           received: datetime) -> tuple[d.ReplyOutcome, Order | None]:  # fmt: skip
    """What the reply does, with the order it is about; the 回访 recorded when it says 满意/基本满意."""
    if message is None:
        return d.reply_outcome(rating, surveyed=False, answered_before=False, to_visit=False), None
    order = session.get(Order, message.order_id, populate_existing=True)
    assert order is not None
    to_visit = order.state == wo.State.TO_VISIT.value
    outcome = d.reply_outcome(rating, surveyed=True, answered_before=_answered(session, message.id), to_visit=to_visit)
    if outcome is d.ReplyOutcome.RECORDED and rating is not None:
        try:
            with session.begin_nested():
                act(session, order, wo.Action.CALLBACK.value, role=wo.Role.AGENT.value, actor=d.SURVEY_ACTOR,
                    satisfaction=rating.value, citizen_resolved=True, reason=d.survey_reason(token, rating),
                    at=max(received, order.updated_at))  # fmt: skip
        except Conflict:  # an agent's phone 回访 got there first (SQLite: read before it committed)
            outcome = d.ReplyOutcome.ALREADY_VISITED
    return outcome, order


def receive_reply(
    session: Session,
    *,
    phone: str,
    text: str,
    received_at: str | datetime | None = None,
    gateway_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A citizen's text (from PHONE, received at RECEIVED_AT, default AT) stored and judged: `reply_id`, `outcome`,
    `outcome_label` (no order number, no name: the gateway does not need them). The same GATEWAY_ID again: the
    stored reply's answer, nothing written. 422 `sms-invalid-reply`."""
    at = at or now()
    sender, body = (phone or "").strip(), (text or "").strip()
    gateway_id = (gateway_id or "").strip() or None
    if not sender or len(sender) > 32:
        raise InvalidInput("请提供发送短信的号码（from）", code="sms-invalid-reply")
    if len(body) > d.MAX_REPLY:
        raise InvalidInput(f"短信内容超过 {d.MAX_REPLY} 字", code="sms-invalid-reply")
    if gateway_id is not None and len(gateway_id) > 64:
        raise InvalidInput("短信网关编号（id）至多 64 个字符", code="sms-invalid-reply")
    received = _reply_time(received_at, at)
    number = d.mobile_number(sender)
    stored = _by_gateway_id(session, gateway_id)
    if stored is not None:
        return _reply_answer(stored)
    rating = d.parse_rating(body)
    try:
        # Read first, outside the transaction; then the text locked before anything is read in it (SQLite: a
        # transaction that read before it wrote fails when another wrote meanwhile), and read again under the lock.
        candidate = _surveyed(session, number, received)
        with session.begin_nested():
            message = None
            if candidate is not None:
                _lock(session, candidate.id)
                message = _surveyed(session, number, received)
                if message is not None and message.id != candidate.id:
                    _lock(session, message.id)
            outcome, order = _judge(session, message, rating, d.reply_token(body), received)
            values = {
                "gateway_id": gateway_id, "phone": number or sender, "text": body, "received_at": received,
                "message_id": message.id if message is not None else None,
                "order_id": order.id if order is not None else None,
                "rating": rating.value if rating is not None and message is not None else None,
                "outcome": outcome.value,
            }  # fmt: skip
            insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(
                CitizenReply
            )
            new_id = session.scalar(insert.values(**values).on_conflict_do_nothing().returning(CitizenReply.id))
            if new_id is None:
                raise _Repeated
    except _Repeated:
        stored = _by_gateway_id(session, gateway_id)
        assert stored is not None
        return _reply_answer(stored)
    session.flush()
    return {"reply_id": new_id, "outcome": outcome.value, "outcome_label": d.REPLY_OUTCOME_LABELS[outcome]}


def _reply_answer(reply: CitizenReply) -> dict[str, Any]:
    outcome = d.ReplyOutcome(reply.outcome)
    return {"reply_id": reply.id, "outcome": outcome.value, "outcome_label": d.REPLY_OUTCOME_LABELS[outcome]}


def reply_view(reply: CitizenReply, order: Order | None, *, mask: bool = True) -> dict[str, Any]:
    outcome = d.ReplyOutcome(reply.outcome)
    rating = Satisfaction(reply.rating) if reply.rating else None
    return {
        "id": reply.id,
        "received_at": _iso(reply.received_at),
        "phone": mask_phone(reply.phone) if mask else reply.phone,
        "text": reply.text,
        "rating": rating.value if rating else None,
        "rating_label": SATISFACTION_LABELS[rating] if rating else None,
        "outcome": outcome.value,
        "outcome_label": d.REPLY_OUTCOME_LABELS[outcome],
        "message_id": reply.message_id,
        "order_number": order.number if order is not None else None,
        "order_state": order.state if order is not None else None,
        # 不满意 and the order still waiting for the agent's phone 回访 of this answer
        "awaits_call": _awaits_call(reply, order),
    }


def _awaits_call(reply: CitizenReply, order: Order | None) -> bool:
    if order is None or reply.outcome != d.ReplyOutcome.UNSATISFIED.value or order.state != wo.State.TO_VISIT.value:
        return False
    return order.resolved_at is None or reply.received_at >= order.resolved_at


def parse_outcome(outcome: str | None) -> d.ReplyOutcome | None:
    if not outcome:
        return None
    try:
        return d.ReplyOutcome(outcome.strip())
    except ValueError:
        known = "、".join(f"{o.value} {label}" for o, label in d.REPLY_OUTCOME_LABELS.items())
        raise InvalidInput(f"回复结果不正确：{outcome!r}（可选 {known}）", code="sms-invalid-outcome") from None


def _awaiting_calls() -> Any:
    """The condition of an unsatisfied reply whose order still waits for the phone 回访 of the answer it rated (an
    order answered again after 重办 waits for a new one: its 办结 came after the reply)."""
    return (
        (CitizenReply.outcome == d.ReplyOutcome.UNSATISFIED.value)
        & (Order.state == wo.State.TO_VISIT.value)
        & ((Order.resolved_at.is_(None)) | (CitizenReply.received_at >= Order.resolved_at))
    )


def list_replies(
    session: Session,
    *,
    outcome: str | None = None,
    awaiting: bool = False,
    order: str | None = None,
    mask: bool = True,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The citizens' replies, newest first, of OUTCOME (any when None); AWAITING: only the unsatisfied ones whose
    order still waits for its phone 回访; ORDER: of the order numbered so."""
    _check_limit(limit)
    query = (
        select(CitizenReply, Order)
        .outerjoin(Order, Order.id == CitizenReply.order_id)
        .order_by(CitizenReply.received_at.desc(), CitizenReply.id.desc())
        .limit(limit)
    )
    wanted = parse_outcome(outcome)
    if wanted is not None:
        query = query.where(CitizenReply.outcome == wanted.value)
    if awaiting:
        query = query.where(_awaiting_calls())
    if order and order.strip():
        query = query.where(Order.number == order.strip())
    return [reply_view(r, o, mask=mask) for r, o in session.execute(query)]


def replies_by_message(
    session: Session, message_ids: Sequence[int], *, mask: bool = True
) -> dict[int, list[dict[str, Any]]]:
    """The replies to each of MESSAGE_IDS, oldest first (the order page shows them under their text)."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not message_ids:
        return found
    query = (
        select(CitizenReply, Order)
        .outerjoin(Order, Order.id == CitizenReply.order_id)
        .where(CitizenReply.message_id.in_(message_ids))
        .order_by(CitizenReply.received_at, CitizenReply.id)
    )
    for reply, order in session.execute(query):
        found.setdefault(reply.message_id or 0, []).append(reply_view(reply, order, mask=mask))
    return found


def awaiting_calls(session: Session) -> int:
    """How many orders wait for an agent's phone 回访 after the citizen rated the answer 不满意 by text."""
    query = (
        select(func.count(func.distinct(Order.id)))
        .select_from(CitizenReply)
        .join(Order, Order.id == CitizenReply.order_id)
    )
    return int(session.scalar(query.where(_awaiting_calls())) or 0)


def outcome_counts(session: Session) -> dict[str, int]:
    """How many replies had each outcome (every outcome named, 0 when none)."""
    counts = dict.fromkeys((o.value for o in d.ReplyOutcome), 0)
    for outcome, count in session.execute(select(CitizenReply.outcome, func.count()).group_by(CitizenReply.outcome)):
        counts[outcome] = int(count)
    return counts
