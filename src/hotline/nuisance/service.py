"""Use cases of the 骚扰号码名单.

An agent (or a dispatcher) applies (`propose`) to list the caller of a call record or of a work order, so that the
full number is neither typed nor seen; a supervisor or administrator may also type a number. A supervisor or
administrator approves the application (`approve`: in force from then for its days) or rejects it with a reason
(`reject`); an entry in force may be lifted early with a reason (`lift`); it expires by itself. Every step is
appended to the entry's history (`nuisance_event`).

The routing lookup asks `treatment_for` on every call: the list in force is kept in memory per database and read
again at most every REFRESH seconds, and then only when `list_revision` says it changed, so a call costs no query.
The proxy reads `screened_numbers` (via `/telephony/screened-callers`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from hotline.accounts.domain import Grant
from hotline.db import by_id, session_scope
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.nuisance import domain as n
from hotline.nuisance.store import Entry, Event
from hotline.privacy import mask_phone
from hotline.telephony.domain import callback_number
from hotline.timeutil import china, now

log = logging.getLogger("hotline.nuisance")

MAX_ACTOR = 64
REFRESH = 0.5  # seconds the lookup's copy of the list is trusted before `list_revision` is asked again (as MEMO_TTL)


def _iso(value: datetime | None) -> str | None:
    return china(value).isoformat(timespec="seconds") if value else None


def _minute(value: datetime | None) -> str:
    return china(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _actor(actor: str) -> str:
    name = (actor or "").strip()
    if not name:
        raise InvalidInput("请填写操作人", code="actor-required")
    return name[:MAX_ACTOR]


def _role(role: str) -> Grant:
    found = next((g for g in Grant if g.value == (role or "").strip()), None)
    if found is None:
        raise InvalidInput(f"角色不正确：{role!r}", code="invalid-role")
    return found


# -- where the number comes from ----------------------------------------------------------------------------------
def _number_of_call(session: Session, call_id: str) -> str:
    from hotline.telephony.store import CallDecision

    call = session.get(CallDecision, call_id.strip())
    if call is None:
        raise NotFound(f"没有该来电记录：{call_id.strip()}", code="nuisance-source-not-found")
    number = callback_number(call.caller)
    if number is None:
        raise InvalidInput(
            f"来电 {call_id.strip()} 没有可识别的来电号码（匿名或未显示号码）", code="nuisance-source-not-found"
        )
    return number


def _number_of_order(session: Session, order: str) -> str:
    from hotline.workorders.store import Order

    found = session.execute(select(Order.caller_phone, Order.call_id).where(Order.number == order.strip())).first()
    if found is None:
        raise NotFound(f"工单不存在：{order.strip()}", code="nuisance-source-not-found")
    number = callback_number(found.caller_phone)
    if number is None and found.call_id:
        try:
            return _number_of_call(session, found.call_id)
        except (NotFound, InvalidInput):
            pass
    if number is None:
        raise InvalidInput(f"工单 {order.strip()} 没有可识别的来电号码", code="nuisance-source-not-found")
    return number


# -- the steps ----------------------------------------------------------------------------------------------------
def propose(
    session: Session,
    *,
    actor: str,
    role: str,
    call_id: str | None = None,
    order: str | None = None,
    number: str | None = None,
    treatment: str = n.Treatment.WARN.value,
    days: int = n.DEFAULT_DAYS,
    reason: str,
    evidence: str = "",
    at: datetime | None = None,
) -> dict[str, Any]:
    """申请: list the caller of the call record CALL_ID, of the work order ORDER, or (supervisors and administrators
    only) the NUMBER typed, with TREATMENT for DAYS once approved, and a REASON. Refused, writing nothing:
    `nuisance-source-not-found`, `nuisance-number-not-allowed` (403), `nuisance-invalid-number`,
    `nuisance-invalid-treatment`, `nuisance-invalid-days`, `nuisance-reason-required`, `nuisance-already-listed` (409:
    the number already has an entry pending or in force)."""
    actor = _actor(actor)
    acting = _role(role)
    source = n.check_source(acting, call_id=call_id or "", order=order or "", number=number or "")
    kind = n.parse_treatment(treatment)
    n.check_days(days)
    said = n.required_text(reason, "申请理由")
    extra = n.optional_text(evidence, "证据说明", n.MAX_EVIDENCE)
    if source == "call":
        found, origin = _number_of_call(session, call_id or ""), (call_id or "").strip()
    elif source == "order":
        found, origin = _number_of_order(session, order or ""), (order or "").strip()
    else:
        found, origin = n.normalize_number(number or ""), ""
    when = at or now()
    _give_up_expired(session, found, when)
    existing = session.scalar(select(Entry).where(Entry.open_number == found))
    if existing is not None:
        raise _already_listed(existing, when)
    entry = Entry(
        number=found,
        open_number=found,
        treatment=kind.value,
        days=days,
        reason=said,
        evidence="；".join(part for part in (origin, extra) if part)[:255],
        call_id=(call_id or "").strip() or None,
        order_number=(order or "").strip() or None,
        state=n.EntryState.PENDING.value,
        proposed_by=actor,
        proposed_at=when,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        other = session.scalar(select(Entry).where(Entry.open_number == found))
        if other is None:
            raise
        raise _already_listed(other, when) from None
    _step(session, entry, n.Action.PROPOSED, actor=actor, at=when, note=said)
    return _view(entry, at=when)


def _already_listed(entry: Entry, at: datetime) -> Conflict:
    state = n.state_at(n.EntryState(entry.state), entry.active_until, at)
    return Conflict(
        f"该号码已在骚扰号码名单中（记录 #{entry.id}，{n.STATE_LABELS[state]}），不能重复申请",
        code="nuisance-already-listed",
        entry=entry.id,
    )


def _give_up_expired(session: Session, number: str, at: datetime) -> None:
    """An expired entry of NUMBER no longer holds it: the next application may be made."""
    held = session.scalar(select(Entry).where(Entry.open_number == number).with_for_update())
    if held is not None and n.state_at(n.EntryState(held.state), held.active_until, at) is n.EntryState.EXPIRED:
        held.open_number = None
        session.flush()


def _get(session: Session, entry_id: int, *, lock: bool = False) -> Entry:
    found = by_id(session, Entry, entry_id, with_for_update=lock)
    if found is None:
        raise NotFound(f"没有该名单记录：{entry_id}", code="nuisance-not-found")
    return found


def approve(
    session: Session, entry_id: int, *, actor: str, note: str = "", at: datetime | None = None
) -> dict[str, Any]:
    """审核通过 a pending entry: in force from now for its days. Refused: `nuisance-not-found`,
    `nuisance-transition-not-allowed` (409)."""
    actor = _actor(actor)
    said = n.optional_text(note, "审核意见")
    entry = _get(session, entry_id, lock=True)
    when = at or now()
    entry.state = n.after(_state(entry, when), n.Action.APPROVED).value
    entry.decided_by, entry.decided_at, entry.decision_note = actor, when, said
    entry.active_from, entry.active_until = n.active_window(when, entry.days)
    _step(session, entry, n.Action.APPROVED, actor=actor, at=when, note=said)
    return _view(entry, at=when)


def reject(session: Session, entry_id: int, *, actor: str, reason: str, at: datetime | None = None) -> dict[str, Any]:
    """驳回 a pending entry with a REASON. Refused: `nuisance-not-found`, `nuisance-transition-not-allowed` (409),
    `nuisance-reason-required`."""
    return _close(session, entry_id, n.Action.REJECTED, "驳回理由", actor=actor, reason=reason, at=at)


def lift(session: Session, entry_id: int, *, actor: str, reason: str, at: datetime | None = None) -> dict[str, Any]:
    """解除 an entry in force before it expires, with a REASON: calls from the number are no longer screened.
    Refused: `nuisance-not-found`, `nuisance-transition-not-allowed` (409: not in force), `nuisance-reason-required`."""
    return _close(session, entry_id, n.Action.LIFTED, "解除理由", actor=actor, reason=reason, at=at)


def _close(
    session: Session, entry_id: int, action: n.Action, what: str, *, actor: str, reason: str, at: datetime | None
) -> dict[str, Any]:
    """ACTION (驳回 or 解除) with its REASON (WHAT it is called): the number is free for a new application."""
    actor = _actor(actor)
    said = n.required_text(reason, what)
    entry = _get(session, entry_id, lock=True)
    when = at or now()
    entry.state = n.after(_state(entry, when), action).value
    if action is n.Action.LIFTED:
        entry.lifted_by, entry.lifted_at, entry.lift_reason = actor, when, said
    else:
        entry.decided_by, entry.decided_at, entry.decision_note = actor, when, said
    entry.open_number = None
    _step(session, entry, action, actor=actor, at=when, note=said)
    return _view(entry, at=when)


def _state(entry: Entry, at: datetime) -> n.EntryState:
    return n.state_at(n.EntryState(entry.state), entry.active_until, at)


def _step(session: Session, entry: Entry, action: n.Action, *, actor: str, at: datetime, note: str) -> None:
    session.add(Event(entry_id=entry.id, at=at, actor=actor[:MAX_ACTOR], action=action.value, note=note))
    session.flush()
    forget()  # this process's lookups read the list again (others within REFRESH seconds)


# -- reading ------------------------------------------------------------------------------------------------------
def _view(entry: Entry, *, at: datetime, mask: bool = True) -> dict[str, Any]:
    state = _state(entry, at)
    treatment = n.Treatment(entry.treatment)
    return {
        "id": entry.id,
        "number": mask_phone(entry.number) if mask else entry.number,
        "treatment": treatment.value,
        "treatment_label": n.TREATMENT_LABELS[treatment],
        "days": entry.days,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "call_id": entry.call_id,
        "order": entry.order_number,
        "state": state.value,
        "state_label": n.STATE_LABELS[state],
        "proposed_by": entry.proposed_by,
        "proposed_at": _iso(entry.proposed_at),
        "proposed_time": _minute(entry.proposed_at),
        "decided_by": entry.decided_by,
        "decided_at": _iso(entry.decided_at),
        "decided_time": _minute(entry.decided_at),
        "decision_note": entry.decision_note,
        "active_from": _iso(entry.active_from),
        "active_until": _iso(entry.active_until),
        "active_until_time": _minute(entry.active_until),
        "lifted_by": entry.lifted_by,
        "lifted_at": _iso(entry.lifted_at),
        "lifted_time": _minute(entry.lifted_at),
        "lift_reason": entry.lift_reason,
    }


def _event_view(event: Event) -> dict[str, Any]:
    action = n.Action(event.action)
    return {
        "at": _iso(event.at),
        "time": _minute(event.at),
        "actor": event.actor,
        "action": action.value,
        "action_label": n.ACTION_LABELS[action],
        "note": event.note,
    }


def list_entries(
    session: Session, *, state: str | None = None, at: datetime | None = None, mask: bool = True, limit: int = 500
) -> list[dict[str, Any]]:
    """Entries in STATE (pending, active, expired, lifted, rejected, or their labels; all if None) at AT, newest
    application first (pending ones oldest first: the order they are reviewed in), numbers masked unless MASK is
    false. Refused: `nuisance-invalid-state`, `invalid-limit`."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit 应在 1 到 1000 之间", code="invalid-limit")
    when = at or now()
    query = select(Entry)
    wanted = n.parse_state(state) if state and state.strip() else None
    if wanted is n.EntryState.ACTIVE:
        query = query.where(Entry.state == wanted.value, Entry.active_until > when)
    elif wanted is n.EntryState.EXPIRED:
        query = query.where(Entry.state == n.EntryState.ACTIVE.value, Entry.active_until <= when)
    elif wanted is not None:
        query = query.where(Entry.state == wanted.value)
    order = Entry.id if wanted is n.EntryState.PENDING else Entry.id.desc()
    return [_view(e, at=when, mask=mask) for e in session.scalars(query.order_by(order).limit(limit))]


def get_entry(session: Session, entry_id: int, *, mask: bool = True, at: datetime | None = None) -> dict[str, Any]:
    """One entry with its `history` (every step, oldest first). Refused: `nuisance-not-found`."""
    entry = _get(session, entry_id)
    events = session.scalars(select(Event).where(Event.entry_id == entry.id).order_by(Event.id))
    return {**_view(entry, at=at or now(), mask=mask), "history": [_event_view(e) for e in events]}


def state_counts(session: Session, *, at: datetime | None = None) -> dict[str, int]:
    """How many entries are in each state at AT (every state named, 0 included): one grouped query, in force and
    已到期 told apart by `active_until` as `list_entries` tells them."""
    when = at or now()
    stored = case(
        (and_(Entry.state == n.EntryState.ACTIVE.value, Entry.active_until <= when), n.EntryState.EXPIRED.value),
        else_=Entry.state,
    )
    counts = dict.fromkeys((s.value for s in n.EntryState), 0)
    for state, count in session.execute(select(stored, func.count()).group_by(stored)):
        counts[str(state)] = int(count)
    return counts


def pending_count(session: Session) -> int:
    """Applications waiting for a decision (骚扰号码待审核)."""
    query = select(func.count()).select_from(Entry).where(Entry.state == n.EntryState.PENDING.value)
    return int(session.scalar(query) or 0)


def screened_numbers(session: Session, at: datetime) -> list[n.Screened]:
    """The numbers in force at AT, each with its treatment and until when (in full: for the proxy)."""
    rows = session.execute(
        select(Entry.number, Entry.treatment, Entry.active_until)
        .where(Entry.state == n.EntryState.ACTIVE.value, Entry.active_from <= at, Entry.active_until > at)
        .order_by(Entry.number)
    )
    return [n.Screened(number, n.Treatment(treatment), until) for number, treatment, until in rows if until]


# The steps that change which numbers are screened: an application or a rejection does not (nor does expiry, an
# entry's window being part of the list), and the proxy empties its whole cache of answers on every change.
_SCREENING_STEPS = (n.Action.APPROVED.value, n.Action.LIFTED.value)
_REVISION = select(func.count(Event.id), func.max(Event.id)).where(Event.action.in_(_SCREENING_STEPS))


def list_revision(session: Session) -> str:
    """A token that changes whenever an entry is approved or lifted (each appends a step, whose id is never reused):
    one small query. Applications and rejections leave it as it is: they screen no call."""
    count, newest = session.execute(_REVISION).one()
    return f"{count}-{newest or 0}"


# -- the lookup's copy of the list --------------------------------------------------------------------------------
Window = tuple[datetime, datetime, n.Treatment]


@dataclass
class _Copy:
    checked: float  # time.monotonic() when the revision was last read
    revision: str
    numbers: dict[str, tuple[Window, ...]] = field(default_factory=dict)


_copies: dict[str, _Copy] = {}


def forget() -> None:
    """Drop this process's copies of the list: the next lookup reads it again."""
    _copies.clear()


def _load(session: Session) -> dict[str, tuple[Window, ...]]:
    """Every approved, unlifted entry's window by number (expired ones included: the instant asked about may be
    any; there are a few hundred a year)."""
    rows = session.execute(
        select(Entry.number, Entry.active_from, Entry.active_until, Entry.treatment).where(
            Entry.state == n.EntryState.ACTIVE.value
        )
    )
    numbers: dict[str, list[Window]] = {}
    for number, start, until, treatment in rows:
        if start is not None and until is not None:
            numbers.setdefault(number, []).append((start, until, n.Treatment(treatment)))
    return {number: tuple(windows) for number, windows in numbers.items()}


def _in_force(url: str) -> dict[str, tuple[Window, ...]]:
    clock = time.monotonic()
    copy = _copies.get(url)
    if copy is not None and clock < copy.checked + REFRESH:
        return copy.numbers
    try:
        with session_scope(url) as session:
            revision = list_revision(session)
            numbers = copy.numbers if copy is not None and copy.revision == revision else _load(session)
    except SQLAlchemyError:
        # The lookup must answer: keep what was known (nothing, the first time) and try again later.
        log.exception("could not read the nuisance-caller list; screening with the copy kept")
        revision, numbers = (copy.revision, copy.numbers) if copy is not None else ("", {})
    _copies[url] = _Copy(clock, revision, numbers)
    return numbers


def treatment_for(caller: str, at: datetime, *, url: str | None = None) -> n.Treatment | None:
    """How a call from CALLER at AT is screened (None: it is not): per call, from this process's copy of the list
    of the database at URL (the configured one if None), at most REFRESH seconds stale. +86 and 0086 numbers are
    the same caller as without them."""
    number = callback_number(caller)
    if number is None:
        return None
    if url is None:
        from hotline.settings import get_settings

        url = get_settings().database_url
    for start, until, treatment in _in_force(url).get(number, ()):
        if start <= at < until:
            return treatment
    return None


# (demo call the caller is taken from, why the demo agent applied); the first is approved, the second waits.
DEMO_APPLICATIONS = (
    ("DEMO-CALL-02", "两小时内反复来电，接通后辱骂座席，无实际诉求"),
    ("DEMO-CALL-04", "多次来电接通后不说话即挂断，占用座席"),
)
DEMO_NOTE = "核实属实，先提示并转骚扰专席"


def load_demo(session: Session) -> str:
    """骚扰号码名单 with something in it on a first start: the demo agent (zhangmin) applies for two of the demo's
    callers from their call records; the demo supervisor approves the first (生效中, 提示后转骚扰专席, the default 7
    days), the second waits for review (待审核). Idempotent: nothing is added once an entry exists."""
    if list_entries(session, limit=1):
        return "骚扰号码名单：已有演示数据"
    from hotline.quality.service import DEMO_AGENT, DEMO_INSPECTOR

    made = []
    for call_id, reason in DEMO_APPLICATIONS:
        try:
            made.append(propose(session, actor=DEMO_AGENT, role="agent", call_id=call_id, reason=reason))
        except NotFound:  # the demo's calls are not there (telephony's demo not loaded): nothing to apply from
            continue
    if made:
        approve(session, made[0]["id"], actor=DEMO_INSPECTOR, note=DEMO_NOTE)
    return f"骚扰号码名单：生效中 {min(len(made), 1)} 个（提示后转骚扰专席），待审核 {max(len(made) - 1, 0)} 个"
