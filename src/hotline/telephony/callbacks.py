"""Use cases of 漏话回拨: callback tasks for missed calls, the attempts made on them and their KPIs.

A call becomes missed (`domain.missed_at`) when the event that ends it unanswered is stored; the decision that
names its caller may be stored before or after its events (the proxy reports decisions served from its cache
afterwards, in batches), so both paths call `follow_calls` in their own transaction: the missed call joins its
number's open task (or opens one), and a call on which the number reached an agent closes that task as
已再次来电接通. Attempts are recorded by the agents and dispatchers who dial (`record_attempt`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Select, String, bindparam, func, literal, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.db import UTCDateTime
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.plan.regions import CITY_DIGITS, find_region
from hotline.plan.service import list_lines
from hotline.privacy import mask_phone
from hotline.settings import get_settings
from hotline.telephony.domain import (
    CALLBACK_OUTCOME_LABELS,
    CALLBACK_STATE_LABELS,
    CallbackFacts,
    CallbackKpis,
    CallbackOutcome,
    CallbackState,
    CallEventType,
    EventRecord,
    after_attempt,
    callback_kpis,
    callback_late,
    callback_number,
    closes_by_call,
    missed_at,
    parse_callback_outcome,
    reached_at,
)
from hotline.telephony.store import Callback, CallbackAttempt, CallbackCall, CallDecision, CallEvent
from hotline.timeutil import china, now
from hotline.workorders.domain import region_label

# The events after which a call may have become missed, or its caller may have reached an agent.
FOLLOWED = frozenset({CallEventType.ABANDONED, CallEventType.ENDED, CallEventType.ANSWERED, CallEventType.TRANSFERRED})
MAX_NOTE = 500
STATE_FILTERS = {"open": "待回拨", "closed": "已处理", "all": "全部"}


# ------------------------------------------------------------------------------------------------
# Following calls: missed calls open or join tasks, answered ones close them


@dataclass(frozen=True)
class _Step:
    at: datetime
    call_id: str
    number: str
    missed: bool  # else: the caller reached an agent on this call
    dialed: str = ""
    region_code: str = ""


def follow_calls(session: Session, call_ids: Collection[str]) -> None:
    """Bring the callback tasks up to date with what is stored of CALL_IDS (their decisions and events), in
    time order: a missed call joins its number's open task or opens one; a call on which the number reached an
    agent closes its open task (`domain.closes_by_call`). A call already counted in a task is not counted again,
    so calling this twice for the same calls changes nothing."""
    ids = list(dict.fromkeys(c for c in call_ids if c))
    if not ids:
        return
    rows: dict[str, Any] = {}
    grouped: dict[str, list[EventRecord]] = {}
    for row in session.execute(_followed(session), {"ids": _ids_param(session, ids)}):
        if callback_number(row.caller):
            rows[row.call_id] = row
            grouped.setdefault(row.call_id, []).append(EventRecord(_EVENT_TYPES[row.event], row.at))
    steps: list[_Step] = []
    for call_id, row in rows.items():
        number = callback_number(row.caller) or ""
        missed = missed_at(row.decision, grouped[call_id], row.skill)
        if missed is not None:
            steps.append(_Step(missed, call_id, number, True, row.dialed, row.region_code))
        reached = reached_at(grouped[call_id])
        if reached is not None:
            steps.append(_Step(reached, call_id, number, False))
    for step in sorted(steps, key=lambda s: (s.at, s.call_id)):
        if step.missed:
            _count_missed(session, step)
        else:
            _close_by_call(session, step)


_EVENT_TYPES = {e.value: e for e in CallEventType}


def _followed(session: Session) -> Select[Any]:
    return _followed_query(session.get_bind().dialect.name)


@lru_cache(maxsize=4)
def _followed_query(dialect: str) -> Select[Any]:
    """The decision and the events of each call of the parameter `ids` that has both: one query. (A call without an
    event after which it may be missed or reached, `FOLLOWED`, comes to nothing: left to `missed_at` and `reached_at`
    rather than filtered here, which costs more.) The ids travel as one parameter (a JSON array on SQLite, an array
    on PostgreSQL), not one each: a proxy reports thousands of decisions a second, and expanding a thousand
    parameters per batch cost more than the query itself."""
    decisions, events = CallDecision.__table__.c, CallEvent.__table__.c
    among: ColumnElement[bool]
    if dialect == "sqlite":
        among = decisions.call_id.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))
    elif dialect == "postgresql":
        among = decisions.call_id == func.any(bindparam("ids", type_=ARRAY(String)))
    else:
        among = decisions.call_id.in_(bindparam("ids", expanding=True))
    return (
        select(decisions.call_id, decisions.caller, decisions.decision, decisions.dialed, decisions.region_code,
               decisions.skill, events.event, events.at)
        .join_from(CallDecision.__table__, CallEvent.__table__, events.call_id == decisions.call_id)
        .where(among)
    )  # fmt: skip


def _ids_param(session: Session, ids: list[str]) -> object:
    return json.dumps(ids) if session.get_bind().dialect.name == "sqlite" else ids


def _open_task(session: Session, number: str) -> Callback | None:
    query = select(Callback).where(Callback.caller == number, Callback.state == CallbackState.OPEN.value)
    return session.scalar(query.with_for_update())


def _count_missed(session: Session, step: _Step) -> None:
    if session.get(CallbackCall, step.call_id) is not None:
        return
    task = _open_task(session, step.number)
    if task is None:
        # Called back (or closed otherwise) after this call was missed: its report came late; it is covered.
        task = session.scalar(
            select(Callback)
            .where(Callback.caller == step.number, Callback.closed_at >= step.at)
            .order_by(Callback.closed_at.desc())
            .limit(1)
        )
    if task is None:
        task = _new_task(session, step)
    try:
        with session.begin_nested():
            session.add(CallbackCall(call_id=step.call_id, callback_id=task.id, missed_at=step.at))
    except IntegrityError:
        return  # counted by another transaction at the same time
    task.missed_count += 1
    if step.at < task.first_missed_at:
        task.first_missed_at = step.at
        task.due_at = min(task.due_at, _due(step.at))
    if step.at >= task.last_missed_at:
        task.last_missed_at, task.last_call_id = step.at, step.call_id
        task.dialed, task.region_code = step.dialed, step.region_code
    session.flush()


def _due(missed: datetime) -> datetime:
    return missed + timedelta(hours=get_settings().callback_hours)


def _new_task(session: Session, step: _Step) -> Callback:
    task = Callback(
        caller=step.number,
        state=CallbackState.OPEN.value,
        dialed=step.dialed,
        region_code=step.region_code,
        last_call_id=step.call_id,
        first_missed_at=step.at,
        last_missed_at=step.at,
        missed_count=0,
        due_at=_due(step.at),
        attempts=0,
        no_answers=0,
        closed_by="",
        created_at=now(),
    )
    try:
        with session.begin_nested():
            session.add(task)
        return task
    except IntegrityError:  # another transaction opened the number's task at the same time: join it
        found = _open_task(session, step.number)
        if found is None:
            raise
        return found


def _close_by_call(session: Session, step: _Step) -> None:
    task = _open_task(session, step.number)
    if task is None:
        return
    linked = session.get(CallbackCall, step.call_id)
    same = linked is not None and linked.callback_id == task.id
    if closes_by_call(task.last_missed_at, step.at, same_call=same):
        task.state = CallbackState.CALLED_AGAIN.value
        task.closed_at, task.closed_by, task.closed_call_id = step.at, "", step.call_id
        session.flush()


# ------------------------------------------------------------------------------------------------
# Reading tasks


def _late_at(at: datetime) -> ColumnElement[bool]:
    """`domain.callback_late` as a condition."""
    return func.coalesce(Callback.first_attempt_at, Callback.closed_at, literal(at, UTCDateTime())) > Callback.due_at


def _in_region(region: str) -> ColumnElement[bool]:
    """The tasks of REGION (code, name or alias): a 市（州）'s own and its 区（县）'s, whose codes lie in it
    (`regions.city_code`: they share its first digits); the province's own."""
    return Callback.region_code.startswith(find_region(region).code[:CITY_DIGITS], autoescape=True)


def _where(query: Select[Any], state: str, region: str, overdue: bool, at: datetime) -> Select[Any]:
    state = state.strip() or "open"
    if state not in STATE_FILTERS:
        names = "、".join(f"{k}（{v}）" for k, v in STATE_FILTERS.items())
        raise InvalidInput(f"回拨状态筛选不正确：{state!r}（可用：{names}）", code="invalid-callback-state")
    if state == "open":
        query = query.where(Callback.state == CallbackState.OPEN.value)
    elif state == "closed":
        query = query.where(Callback.state != CallbackState.OPEN.value)
    if region.strip():
        query = query.where(_in_region(region))
    if overdue:
        query = query.where(_late_at(at))
    return query


def list_callbacks(
    session: Session,
    *,
    state: str = "open",
    region: str = "",
    overdue: bool = False,
    mask: bool = True,
    limit: int = 200,
    offset: int = 0,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Callback tasks: STATE open (待回拨, oldest missed call first: the nearest deadline first), closed (已处理,
    latest closed first) or all (latest missed first); only REGION's (code or name); only the OVERDUE ones (超时,
    `domain.callback_late` at AT). `total` counts them all, `callbacks` holds a page, each with its attempts and
    missed calls; the caller's number masked unless MASK is false."""
    if limit < 1 or limit > 1000:
        raise InvalidInput("limit 应在 1 到 1000 之间", code="invalid-limit")
    if offset < 0:
        raise InvalidInput("offset 不能为负数", code="invalid-offset")
    at = at or now()
    total = int(session.scalar(_where(select(func.count()).select_from(Callback), state, region, overdue, at)) or 0)
    order = {
        "open": (Callback.first_missed_at, Callback.id),
        "closed": (Callback.closed_at.desc(), Callback.id.desc()),
    }.get(state.strip() or "open", (Callback.last_missed_at.desc(), Callback.id.desc()))
    rows = list(
        session.scalars(
            _where(select(Callback), state, region, overdue, at).order_by(*order).offset(offset).limit(limit)
        )
    )
    return {"total": total, "callbacks": _views(session, rows, mask=mask, at=at), **callback_rules()}


def callback_rules() -> dict[str, int]:
    """The centre's settings the tasks follow: hours to call back within, 未接通 attempts before giving up."""
    settings = get_settings()
    return {"hours": settings.callback_hours, "max_attempts": settings.callback_max_attempts}


def get_callback(
    session: Session, callback_id: int, *, mask: bool = True, at: datetime | None = None
) -> dict[str, Any]:
    task = session.get(Callback, callback_id)
    if task is None:
        raise NotFound(f"没有该回拨任务：{callback_id}", code="callback-not-found")
    return _views(session, [task], mask=mask, at=at or now())[0]


def open_counts(session: Session, *, at: datetime | None = None) -> tuple[int, int]:
    """(open tasks, of which overdue) at AT: the 我的待办 line of those who call back."""
    late = _late_at(at or now())
    found = session.execute(
        select(func.count(), func.count().filter(late)).where(Callback.state == CallbackState.OPEN.value)
    ).one()
    return int(found[0]), int(found[1])


def _minute(value: datetime | None) -> str:
    return china(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _views(session: Session, rows: Iterable[Callback], *, mask: bool, at: datetime) -> list[dict[str, Any]]:
    tasks = list(rows)
    ids = [t.id for t in tasks]
    attempts: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    calls: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for a in session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.callback_id.in_(ids))
            .order_by(CallbackAttempt.at, CallbackAttempt.id)
        ):
            attempts[a.callback_id].append(
                {
                    "at": china(a.at).isoformat(),
                    "time": _minute(a.at),
                    "actor": a.actor,
                    "outcome": a.outcome,
                    "outcome_label": CALLBACK_OUTCOME_LABELS[CallbackOutcome(a.outcome)],
                    "note": a.note,
                    "order_number": a.order_number,
                }
            )
        for call_id, callback_id in session.execute(
            select(CallbackCall.call_id, CallbackCall.callback_id)
            .where(CallbackCall.callback_id.in_(ids))
            .order_by(CallbackCall.missed_at, CallbackCall.call_id)
        ):
            calls[callback_id].append(call_id)
    lines = {line.number: line.short_name or line.name for line in list_lines(session)} if tasks else {}
    max_attempts = get_settings().callback_max_attempts
    out = []
    for t in tasks:
        state = CallbackState(t.state)
        out.append(
            {
                "id": t.id,
                "caller": mask_phone(t.caller) if mask else t.caller,
                "state": state.value,
                "state_label": CALLBACK_STATE_LABELS[state],
                "open": state is CallbackState.OPEN,
                "dialed": t.dialed,
                "line_name": lines.get(t.dialed, ""),
                "region_code": t.region_code,
                "region": region_label(t.region_code),  # a 区（县） by its 市（州） and code (成都市 510107)
                "first_missed_at": china(t.first_missed_at).isoformat(),
                "last_missed_at": china(t.last_missed_at).isoformat(),
                "first_time": _minute(t.first_missed_at),
                "last_time": _minute(t.last_missed_at),
                "missed_count": t.missed_count,
                "last_call_id": t.last_call_id,
                "calls": calls[t.id],
                "due_at": china(t.due_at).isoformat(),
                "due_time": _minute(t.due_at),
                "late": callback_late(t.due_at, t.first_attempt_at, t.closed_at, at),
                "attempts": attempts[t.id],
                "no_answers": t.no_answers,
                "attempts_left": max(0, max_attempts - t.no_answers) if state is CallbackState.OPEN else 0,
                "closed_at": china(t.closed_at).isoformat() if t.closed_at else None,
                "closed_time": _minute(t.closed_at),
                "closed_by": t.closed_by,
                "closed_call_id": t.closed_call_id,
            }
        )
    return out


# ------------------------------------------------------------------------------------------------
# Recording an attempt


def record_attempt(
    session: Session,
    callback_id: int,
    outcome: str,
    *,
    note: str = "",
    order: str = "",
    actor: str,
    mask: bool = True,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Record a callback attempt by ACTOR on task CALLBACK_ID: 回拨接通 (ORDER: the number of the 工单 raised from it, if
    any), 未接通 (the task stays open until the settings' number of them), 号码无效 or 来电人表示无需办理 (each closes
    it). Refused, writing nothing: an unknown task (`callback-not-found`), a closed one (`callback-closed`), an
    unknown outcome (`invalid-callback-outcome`), a 工单号 with another outcome or naming no order. Returns the task."""
    kind = parse_callback_outcome(outcome)
    note, order, actor = note.strip(), order.strip(), actor.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"备注不超过 {MAX_NOTE} 字", code="invalid-callback-note")
    if not actor:
        raise InvalidInput("请填写回拨人", code="actor-required")
    task = session.get(Callback, callback_id, with_for_update=True)
    if task is None:
        raise NotFound(f"没有该回拨任务：{callback_id}", code="callback-not-found")
    if task.state != CallbackState.OPEN.value:
        label = CALLBACK_STATE_LABELS[CallbackState(task.state)]
        raise Conflict(f"该回拨任务已结束（{label}），不能再登记回拨", code="callback-closed", state=task.state)
    if order:
        if kind is not CallbackOutcome.REACHED:
            raise InvalidInput("只有回拨接通时才能填写工单号", code="invalid-callback-order")
        from hotline.workorders.service import get_order

        order = get_order(session, order).number
    when = at or now()
    session.add(
        CallbackAttempt(
            callback_id=task.id, at=when, actor=actor[:64], outcome=kind.value, note=note, order_number=order or None
        )
    )
    task.attempts += 1
    task.first_attempt_at = task.first_attempt_at or when
    if kind is CallbackOutcome.NO_ANSWER:
        task.no_answers += 1
    state = after_attempt(kind, task.no_answers, get_settings().callback_max_attempts)
    if state is not CallbackState.OPEN:
        task.state, task.closed_at, task.closed_by = state.value, when, actor[:64]
    session.flush()
    return _views(session, [task], mask=mask, at=when)[0]


# ------------------------------------------------------------------------------------------------
# KPIs


def callback_kpi_report(
    session: Session, since: datetime, until: datetime, *, region: str | None = None, at: datetime | None = None
) -> CallbackKpis:
    """回拨率 and 及时回拨率 (`domain.CallbackKpis`) of the tasks whose first missed call was in [SINCE, UNTIL), in
    REGION if named, as they stand at AT."""
    if until <= since:
        raise InvalidInput("结束时间必须晚于开始时间", code="invalid-period")
    query = select(Callback.state, Callback.due_at, Callback.first_attempt_at, Callback.closed_at).where(
        Callback.first_missed_at >= since, Callback.first_missed_at < until
    )
    if region:
        query = query.where(_in_region(region))
    facts = (CallbackFacts(CallbackState(s), due, first, closed) for s, due, first, closed in session.execute(query))
    return callback_kpis(facts, at or now())
