"""Use cases of 话务/工单质检.

The subject of an inspection is a lead order taken in (受理) by an agent — the `create` entry of its history has
the role agent and names who took it; Open311 apps' requests, which enter as the agent role, are not — and that
agent. A supervisor draws orders at random per agent from a period (`draw`, its seed kept so it can be made again)
or picks one by its number (`pick`); either gives a 待质检 task. Scoring (`score`) uses the newest version of the
sheet and keeps its id, so changing the sheet (`set_sheet`, a 设置变更记录) never rescores a result. The agent sees
their own results only, and may confirm one (`confirm`) or appeal it once (`appeal`) within the sheet's working
days; a supervisor reviews the appeal (`review`): 维持原结果 or 改分 on the same sheet. Every step is appended to the
inspection's history (`quality_history`). A task drawn by mistake (a test call, a duplicate merged away, an agent
who has left) is voided while still 待质检 (`void`, with its reason): it is never scored, leaves the 待质检 list and
counts, and its order stays inspected once, so it is not drawn again.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.calendar.service import load_calendar
from hotline.changelog import service as changelog
from hotline.db import by_id
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.plan.regions import find_region
from hotline.quality import domain as q
from hotline.quality.store import Draw, Inspection, SheetVersion, Step
from hotline.timeutil import china, china_day, now
from hotline.workorders import service as workorders
from hotline.workorders.domain import Role
from hotline.workorders.store import History, Order, is_lead

SEED_CREATOR = "初始质检标准"  # who the default sheet is recorded as, in the migration and when it is missing
STATUS_FILTERS = {"pending": "待质检", "done": "已质检", "appeals": "申诉待复核", "voided": "已作废", "all": "全部"}
MAX_ACTOR = 64
CREATE = "create"
DRAW_DAYS = 7  # a draw's default period: the last week, today included


def _minute(value: datetime | None) -> str:
    return china(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _iso(value: datetime | None) -> str | None:
    return china(value).isoformat(timespec="seconds") if value else None


def _actor(actor: str) -> str:
    name = actor.strip()
    if not name:
        raise InvalidInput("请填写操作人", code="actor-required")
    return name[:MAX_ACTOR]


# -- 质检标准 ------------------------------------------------------------------------------------------------------
def _sheet_of(row: SheetVersion) -> q.Sheet:
    return q.Sheet.from_dict(
        {"items": row.items, "vetoes": row.vetoes, "pass_line": row.pass_line, "appeal_days": row.appeal_days}
    )


def current_sheet(session: Session) -> tuple[SheetVersion | None, q.Sheet]:
    """The newest version of the sheet and its content (the default one when none is kept)."""
    row = session.scalar(select(SheetVersion).order_by(SheetVersion.id.desc()).limit(1))
    return row, (_sheet_of(row) if row is not None else q.DEFAULT_SHEET)


def _current_row(session: Session) -> SheetVersion:
    """The newest version, the default one written first if none is kept (a result must name its version)."""
    row, _ = current_sheet(session)
    return row if row is not None else _add_version(session, q.DEFAULT_SHEET, SEED_CREATOR, now())


def _add_version(session: Session, sheet: q.Sheet, actor: str, at: datetime) -> SheetVersion:
    data = sheet.to_dict()
    row = SheetVersion(
        items=data["items"],
        vetoes=data["vetoes"],
        pass_line=sheet.pass_line,
        appeal_days=sheet.appeal_days,
        created_at=at,
        created_by=actor[:MAX_ACTOR],
    )
    session.add(row)
    session.flush()
    return row


def _sheet_dict(row: SheetVersion | None, sheet: q.Sheet) -> dict[str, Any]:
    return {
        "version": row.id if row is not None else None,
        **sheet.to_dict(),
        "full_marks": q.FULL_MARKS,
        "set_at": _iso(row.created_at) if row is not None else None,
        "set_by": row.created_by if row is not None else SEED_CREATOR,
    }


def sheet_view(session: Session) -> dict[str, Any]:
    """The sheet scored with now: `items` (label, points), `vetoes`, `pass_line`, `appeal_days`, its `version`."""
    return _sheet_dict(*current_sheet(session))


def set_sheet(
    session: Session,
    *,
    items: Sequence[q.Item],
    vetoes: Sequence[str],
    pass_line: int,
    appeal_days: int,
    actor: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Make ITEMS, VETOES, PASS_LINE and APPEAL_DAYS the sheet results are scored with from now on, as ACTOR's
    change (a 设置变更记录 of kind 质检标准). Results already given keep the sheet they were scored with. The same
    sheet again changes nothing. Refused: `quality-invalid-sheet`."""
    after = q.check_sheet(q.Sheet(tuple(items), tuple(vetoes), pass_line, appeal_days))
    _, before = current_sheet(session)
    change = q.sheet_change(before, after)
    if change is None:
        return sheet_view(session)
    when = at or now()
    changelog.record(session, change, actor=actor, at=when)
    _add_version(session, after, actor, when)
    return sheet_view(session)


# -- the orders inspected: lead orders agents took in --------------------------------------------------------------
def _taken_by_agents() -> Select[int, str, datetime, str, str]:
    """Lead orders with the agent who took each in: its history's `create` entry in the agent role, under a name
    (the legacy imports without one have no one to inspect), not an Open311 app's request (entered as agent)."""
    return (
        select(Order.id, Order.number, Order.created_at, Order.region_code, History.actor)
        .join(History, (History.order_id == Order.id) & (History.action == CREATE))
        .where(
            is_lead(),
            History.role == Role.AGENT.value,
            History.actor != "",
            or_(Order.client_key.is_(None), ~Order.client_key.like("open311:%")),
        )
    )


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    from hotline.supervision.service import period_bounds  # supervision reads this module's figures

    return period_bounds(since, until)


def _new_inspection(
    session: Session, row: Any, *, draw: Draw | None, actor: str, at: datetime, note: str = ""
) -> Inspection | None:
    """A 待质检 task on the order ROW (`_taken_by_agents`'s columns) with its first step; None if another
    transaction took the order for inspection at the same moment."""
    inspection = Inspection(
        order_id=row.id,
        order_number=row.number,
        taken_at=row.created_at,
        region_code=row.region_code,
        agent=row.actor,
        agent_key=q.agent_key(row.actor)[:MAX_ACTOR],
        draw_id=draw.id if draw is not None else None,
        status=q.Status.PENDING.value,
        created_at=at,
        created_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(inspection)
            session.flush()
    except IntegrityError:
        return None
    action = q.Action.DRAWN if draw is not None else q.Action.PICKED
    detail = {"draw": draw.id, "seed": draw.seed} if draw is not None else {}
    _step(session, inspection, action, actor=actor, at=at, note=note, detail=detail)
    return inspection


def draw(
    session: Session,
    since: date,
    until: date,
    per_agent: int,
    *,
    actor: str,
    seed: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """抽检: up to PER_AGENT orders of each agent among the lead orders agents took in from SINCE to UNTIL (China
    dates, both included) and not inspected yet, at random from SEED (a new one if None), each a 待质检 task. The
    seed is kept with the draw: the same seed on the same orders draws the same ones again (`domain.draw`).
    Refused: `invalid-period`, `quality-invalid-count`, `quality-invalid-seed`."""
    actor = _actor(actor)
    start, end = _bounds(since, until)
    q.check_per_agent(per_agent)
    chosen = q.check_seed(seed) if seed is not None else secrets.randbelow(q.MAX_SEED)
    query = (
        _taken_by_agents()
        .outerjoin(Inspection, Inspection.order_id == Order.id)
        .where(Order.created_at >= start, Order.created_at < end, Inspection.id.is_(None))
    )
    rows = {row.number: row for row in session.execute(query)}
    pools: dict[str, list[str]] = {}
    for row in rows.values():
        pools.setdefault(q.agent_key(row.actor), []).append(row.number)
    picked = q.draw(pools, per_agent, chosen)
    when = at or now()
    record = Draw(
        at=when, actor=actor, since=since, until=until, per_agent=per_agent, seed=chosen, candidates=len(rows), drawn=0
    )
    session.add(record)
    session.flush()
    made = [
        found
        for numbers in picked.values()
        for number in numbers
        if (found := _new_inspection(session, rows[number], draw=record, actor=actor, at=when)) is not None
    ]
    record.drawn = len(made)
    session.flush()
    return {"draw": draw_view(record, agents=len(picked)), "inspections": _views(session, made, at=when)}


def draw_view(record: Draw, *, agents: int | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "at": _iso(record.at),
        "actor": record.actor,
        "since": record.since.isoformat(),
        "until": record.until.isoformat(),
        "per_agent": record.per_agent,
        "seed": record.seed,
        "candidates": record.candidates,
        "drawn": record.drawn,
        **({"agents": agents} if agents is not None else {}),
    }


def get_draw(session: Session, draw_id: int) -> dict[str, Any] | None:
    found = session.get(Draw, draw_id)
    return draw_view(found) if found is not None else None


def pick(session: Session, number: str, *, actor: str, at: datetime | None = None) -> dict[str, Any]:
    """A 待质检 task on the order NUMBER, picked by a supervisor (a complaint about it, say). Refused:
    `workorder-not-found`, `quality-not-agent-order` (a co-handling order, or one no agent took in),
    `quality-already-inspected` (409)."""
    actor = _actor(actor)
    order = workorders.get_order(session, number.strip())
    row = session.execute(_taken_by_agents().where(Order.id == order.id)).first()
    if row is None:
        why = "协办工单随主办工单质检" if order.parent_id else "该工单不是话务员受理的，不在话务质检范围内"
        raise InvalidInput(f"{why}：{order.number}", code="quality-not-agent-order", number=order.number)
    existing = session.scalar(select(Inspection.id).where(Inspection.order_id == order.id))
    when = at or now()
    made = None if existing is not None else _new_inspection(session, row, draw=None, actor=actor, at=when)
    if made is None:
        found = session.get(Inspection, existing) if existing is not None else None
        found = found or session.scalar(select(Inspection).where(Inspection.order_id == order.id))
        assert found is not None  # the unique order id refused ours
        why = "的质检任务已作废，不再质检" if found.status == q.Status.VOIDED.value else "已在质检中"
        raise Conflict(
            f"工单 {order.number} {why}（质检编号 {found.id}）", code="quality-already-inspected", inspection=found.id
        )
    return _views(session, [made], at=when)[0]


# -- reading ------------------------------------------------------------------------------------------------------
def _filtered(query: Select[Any], status: str, agent: str | None) -> Select[Any]:
    wanted = status.strip() or "pending"
    if wanted not in STATUS_FILTERS:
        names = "、".join(f"{k}（{v}）" for k, v in STATUS_FILTERS.items())
        raise InvalidInput(f"质检状态筛选不正确：{wanted!r}（可用：{names}）", code="quality-invalid-filter")
    if wanted == "pending":
        query = query.where(Inspection.status == q.Status.PENDING.value)
    elif wanted == "appeals":
        query = query.where(Inspection.status == q.Status.APPEALED.value)
    elif wanted == "done":
        query = query.where(Inspection.status.in_([s.value for s in q.RESULTS]))
    elif wanted == "voided":
        query = query.where(Inspection.status == q.Status.VOIDED.value)
    if agent is not None:
        query = query.where(Inspection.agent_key == q.agent_key(agent))
    return query


_ORDERINGS = {
    "pending": (Inspection.created_at, Inspection.id),
    "appeals": (Inspection.appealed_at, Inspection.id),
    "done": (Inspection.scored_at.desc(), Inspection.id.desc()),
}


def list_inspections(
    session: Session,
    *,
    status: str = "pending",
    agent: str | None = None,
    limit: int = 200,
    offset: int = 0,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Inspections: STATUS pending (待质检, oldest task first), done (scored, newest result first), appeals (申诉待复核,
    oldest appeal first), voided (已作废, newest task first) or all (voided ones among them, as 已作废); only AGENT's (an agent's own, by `domain.agent_key`) if named. `total` counts
    them, `inspections` holds a page."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit 应在 1 到 1000 之间", code="invalid-limit")
    if offset < 0:
        raise InvalidInput("offset 不能为负数", code="invalid-offset")
    total = int(session.scalar(_filtered(select(func.count()).select_from(Inspection), status, agent)) or 0)
    order = _ORDERINGS.get(status.strip() or "pending", (Inspection.created_at.desc(), Inspection.id.desc()))
    rows = list(
        session.scalars(_filtered(select(Inspection), status, agent).order_by(*order).offset(offset).limit(limit))
    )
    return {"total": total, "inspections": _views(session, rows, at=at or now())}


def _get(session: Session, inspection_id: int, *, lock: bool = False) -> Inspection:
    found = by_id(session, Inspection, inspection_id, with_for_update=lock)
    if found is None:
        raise NotFound(f"没有该质检任务：{inspection_id}", code="quality-task-not-found")
    return found


def get_inspection(
    session: Session, inspection_id: int, *, own: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """One inspection with the order as a supervisor sees it (the caller masked), the call it was taken from (time,
    number dialed, duration: no recording is kept), the sheet it was (or will be) scored with, and its history.
    OWN: the agent asking, who sees their own results only (`quality-not-own`)."""
    inspection = _get(session, inspection_id)
    if own is not None:
        q.check_own(own, inspection.agent)
    when = at or now()
    view = _views(session, [inspection], at=when)[0]
    order = session.get(Order, inspection.order_id)
    assert order is not None  # the foreign key keeps it
    shown = workorders.order_view(session, order, Role.SUPERVISOR.value, today=china_day(when))
    sheet_row = session.get(SheetVersion, inspection.sheet_id) if inspection.sheet_id else current_sheet(session)[0]
    sheet = _sheet_of(sheet_row) if sheet_row is not None else q.DEFAULT_SHEET
    steps = session.scalars(select(Step).where(Step.inspection_id == inspection.id).order_by(Step.seq))
    return {
        **view,
        "order": {**shown, "history": workorders.history_of(session, order)},
        "call": call_facts(session, order.call_id),
        "sheet": _sheet_dict(sheet_row, sheet),
        "history": [_step_view(s) for s in steps],
    }


def call_facts(session: Session, call_id: str) -> dict[str, Any] | None:
    """The call an order was taken from: when, the number dialed, how long the agent talked (answered to ended) and
    the whole call; None for an order not taken from a call, `found` False for a call the platform did not keep."""
    if not call_id:
        return None
    from hotline.telephony import service as telephony

    try:
        call = telephony.get_call(session, call_id)
    except NotFound:
        return {"call_id": call_id, "found": False}
    times = {e["event"]: e["at"] for e in reversed(call["events"])}  # each event's first time
    decision = call["decision"] or {}
    first = decision.get("decided_at") or (call["events"][0]["at"] if call["events"] else None)
    talk = q.talk_seconds(times.get("answered"), times.get("ended"))
    whole = q.talk_seconds(times.get("offered") or first, times.get("ended"))
    return {
        "call_id": call_id,
        "found": True,
        "time": datetime.fromisoformat(first).strftime("%Y-%m-%d %H:%M:%S") if first else "",
        "dialed": decision.get("dialed", ""),
        "caller": decision.get("caller", ""),  # masked
        "answered": "answered" in times,
        "talk_seconds": talk,
        "talk": q.duration_text(talk),
        "whole_seconds": whole,
        "whole": q.duration_text(whole),
        "wait_seconds": call["facts"]["wait_seconds"],
    }


def _views(session: Session, rows: Sequence[Inspection], *, at: datetime) -> list[dict[str, Any]]:
    ids = [r.order_id for r in rows]
    orders = {o.id: o for o in session.execute(select(Order.id, Order.type, Order.category).where(Order.id.in_(ids)))}
    voided = _void_steps(session, [r.id for r in rows if r.status == q.Status.VOIDED.value])
    today = china_day(at)
    out = []
    for r in rows:
        status = q.Status(r.status)
        outcome = q.Outcome(r.review_outcome) if r.review_outcome else None
        order = orders.get(r.order_id)
        first = r.first_result or None
        out.append(
            {
                "id": r.id,
                "order_number": r.order_number,
                "order_type": order.type if order else "",
                "category": order.category if order else "",
                "taken_at": _iso(r.taken_at),
                "taken_time": _minute(r.taken_at),
                "region": find_region(r.region_code).name,
                "agent": r.agent,
                "agent_key": r.agent_key,
                "status": status.value,
                "status_label": q.status_label(status, r.appeal_due, today),
                "open_for_agent": q.open_for_agent(status, r.appeal_due, today),
                "draw_id": r.draw_id,
                "created_at": _iso(r.created_at),
                "created_time": _minute(r.created_at),
                "created_by": r.created_by,
                "sheet_version": r.sheet_id,
                "total": r.total,
                "passed": r.passed,
                "result_label": None if r.passed is None else ("合格" if r.passed else "不合格"),
                "result": r.result,
                "scored_at": _iso(r.scored_at),
                "scored_time": _minute(r.scored_at),
                "scored_by": r.scored_by,
                "appeal_due": r.appeal_due.isoformat() if r.appeal_due else None,
                "confirmed_time": _minute(r.confirmed_at),
                "appeal_reason": r.appeal_reason,
                "appealed_at": _iso(r.appealed_at),
                "appealed_time": _minute(r.appealed_at),
                "review_outcome": outcome.value if outcome else None,
                "review_label": q.OUTCOME_LABELS[outcome] if outcome else None,
                "review_note": r.review_note,
                "reviewed_time": _minute(r.reviewed_at),
                "reviewed_by": r.reviewed_by,
                "first_total": first["total"] if first else None,
                "first_result": first,
                "voided_time": voided[r.id].time if r.id in voided else "",
                "voided_by": voided[r.id].actor if r.id in voided else None,
                "void_reason": voided[r.id].note if r.id in voided else None,
            }
        )
    return out


class _Voided(NamedTuple):
    time: str
    actor: str
    note: str


def _void_steps(session: Session, ids: Sequence[int]) -> dict[int, _Voided]:
    """Who voided each of the inspections IDS, when and why: its history's 作废 step (the step is the record: no
    column of the inspection repeats it)."""
    if not ids:
        return {}
    steps = session.execute(
        select(Step.inspection_id, Step.at, Step.actor, Step.note).where(
            Step.inspection_id.in_(ids), Step.action == q.Action.VOIDED.value
        )
    )
    return {s.inspection_id: _Voided(_minute(s.at), s.actor, s.note) for s in steps}


def _step(
    session: Session,
    inspection: Inspection,
    action: q.Action,
    *,
    actor: str,
    at: datetime,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    last = session.scalar(select(func.max(Step.seq)).where(Step.inspection_id == inspection.id)) or 0
    session.add(
        Step(
            inspection_id=inspection.id,
            seq=last + 1,
            at=at,
            actor=actor[:MAX_ACTOR],
            action=action.value,
            note=note,
            detail=detail or {},
        )
    )
    session.flush()


def _step_view(step: Step) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "at": _iso(step.at),
        "time": _minute(step.at),
        "actor": step.actor,
        "action": step.action,
        "action_label": q.ACTION_LABELS[q.Action(step.action)],
        "note": step.note,
        "detail": step.detail,
    }


# -- scoring, confirming, appealing, reviewing -------------------------------------------------------------------
def _today(at: datetime) -> date:
    return china_day(at)


def score(
    session: Session,
    inspection_id: int,
    deductions: Iterable[q.Deduction],
    *,
    veto: q.Veto | None = None,
    actor: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """评分 a 待质检 task on the newest sheet: DEDUCTIONS per item with a note each, or a 一票否决 (VETO) with its
    reason; the agent then has the sheet's working days to confirm or appeal. Refused, writing nothing:
    `quality-task-not-found`, `quality-already-scored` (409), `quality-own-order` (403), and the sheet's own
    refusals (`domain.score`)."""
    actor = _actor(actor)
    inspection = _get(session, inspection_id, lock=True)
    q.check_score(q.Status(inspection.status))
    q.check_not_own(actor, inspection.agent)
    row = _current_row(session)
    sheet = _sheet_of(row)
    result = q.score(sheet, deductions, veto)
    when = at or now()
    due = q.appeal_deadline(_today(when), load_calendar(session), sheet.appeal_days)
    inspection.status = q.Status.SCORED.value
    inspection.sheet_id = row.id
    inspection.total, inspection.passed, inspection.result = result.total, result.passed, result.to_dict()
    inspection.scored_at, inspection.scored_by, inspection.appeal_due = when, actor, due
    _step(session, inspection, q.Action.SCORED, actor=actor, at=when, detail={**result.to_dict(), "sheet": row.id})
    return _views(session, [inspection], at=when)[0]


def confirm(session: Session, inspection_id: int, *, agent: str, at: datetime | None = None) -> dict[str, Any]:
    """The agent AGENT confirms their own result (确认), giving up the appeal. Refused: `quality-not-own` (403),
    `quality-not-scored`, `quality-not-confirmable` (409)."""
    agent = _actor(agent)
    inspection = _get(session, inspection_id, lock=True)
    q.check_own(agent, inspection.agent)
    when = at or now()
    q.check_confirm(q.Status(inspection.status), inspection.appeal_due, _today(when))
    inspection.status, inspection.confirmed_at = q.Status.CONFIRMED.value, when
    _step(session, inspection, q.Action.CONFIRMED, actor=agent, at=when)
    return _views(session, [inspection], at=when)[0]


def appeal(
    session: Session, inspection_id: int, reason: str, *, agent: str, at: datetime | None = None
) -> dict[str, Any]:
    """The agent AGENT appeals their own result (申诉) with a REASON, once, by the result's appeal day. Refused:
    `quality-not-own` (403), `quality-not-scored`, `quality-appeal-closed` (409), `quality-reason-required`."""
    agent = _actor(agent)
    inspection = _get(session, inspection_id, lock=True)
    q.check_own(agent, inspection.agent)
    when = at or now()
    q.check_appeal(q.Status(inspection.status), inspection.appeal_due, _today(when))
    said = q.required_text(reason, "申诉理由", "quality-reason-required")
    inspection.status = q.Status.APPEALED.value
    inspection.appeal_reason, inspection.appealed_at = said, when
    _step(session, inspection, q.Action.APPEALED, actor=agent, at=when, note=said)
    return _views(session, [inspection], at=when)[0]


def review(
    session: Session,
    inspection_id: int,
    outcome: str,
    note: str,
    *,
    deductions: Iterable[q.Deduction] = (),
    veto: q.Veto | None = None,
    actor: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """复核 an appeal: OUTCOME keep (维持原结果) or change (改分: DEDUCTIONS or VETO anew, on the sheet the result was
    scored with), with a NOTE either way. Refused: `quality-not-appealed` (409), `quality-own-order` (403),
    `quality-invalid-outcome`, `quality-note-required`, and the sheet's refusals when rescoring."""
    actor = _actor(actor)
    inspection = _get(session, inspection_id, lock=True)
    q.check_review(q.Status(inspection.status))
    q.check_not_own(actor, inspection.agent)
    kind: q.Outcome = q.parse_enum(q.Outcome, outcome, q.OUTCOME_LABELS, "复核结论", "quality-invalid-outcome")
    said = q.required_text(note, "复核意见", "quality-note-required")
    when = at or now()
    detail: dict[str, Any] = {"outcome": kind.value, "before": inspection.total}
    if kind is q.Outcome.CHANGE:
        row = session.get(SheetVersion, inspection.sheet_id)
        assert row is not None  # a scored inspection names its sheet
        result = q.score(_sheet_of(row), deductions, veto)
        inspection.first_result = inspection.result
        inspection.total, inspection.passed, inspection.result = result.total, result.passed, result.to_dict()
        detail |= {"after": result.total, **result.to_dict()}
    inspection.status = q.Status.REVIEWED.value
    inspection.review_outcome, inspection.review_note = kind.value, said
    inspection.reviewed_at, inspection.reviewed_by = when, actor
    _step(session, inspection, q.Action.REVIEWED, actor=actor, at=when, note=said, detail=detail)
    return _views(session, [inspection], at=when)[0]


def void(
    session: Session, inspection_id: int, reason: str, *, actor: str, at: datetime | None = None
) -> dict[str, Any]:
    """作废 a task still 待质检 (drawn by mistake: a test call, a duplicate merged away, an agent who has left) with a
    REASON, as a step of its history. It leaves the 待质检 list and counts and can no longer be scored; its order
    stays inspected once (never drawn or picked again). Refused, writing nothing: `quality-task-not-found`,
    `quality-not-voidable` (scored), `quality-task-voided` (409), `quality-own-order` (403),
    `quality-reason-required`."""
    actor = _actor(actor)
    inspection = _get(session, inspection_id, lock=True)
    q.check_void(q.Status(inspection.status))
    q.check_not_own(actor, inspection.agent)
    said = q.required_text(reason, "作废原因", "quality-reason-required")
    when = at or now()
    inspection.status = q.Status.VOIDED.value
    _step(session, inspection, q.Action.VOIDED, actor=actor, at=when, note=said)
    return _views(session, [inspection], at=when)[0]


# -- figures and to-do --------------------------------------------------------------------------------------------
def figures(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    region_code: str | None = None,
    agent: str | None = None,
) -> dict[str, Any]:
    """质检数, 平均得分, 合格率, 申诉数 and 改分数 of the results on orders taken in from START to END (in REGION_CODE;
    only AGENT's if named), for the centre and per agent, with the tasks still 待质检 among those orders. A result
    counts as it stands (after a 改分, the new score); a voided task counts nowhere."""
    where = [Inspection.taken_at >= start, Inspection.taken_at < end]
    if region_code:
        where.append(Inspection.region_code == region_code)
    if agent is not None:
        where.append(Inspection.agent_key == q.agent_key(agent))
    rows = session.execute(
        select(
            Inspection.agent_key,
            Inspection.agent,
            Inspection.status,
            Inspection.total,
            Inspection.passed,
            Inspection.appealed_at,
            Inspection.review_outcome,
        )
        .where(*where)
        .order_by(Inspection.id)
    ).all()
    names: dict[str, str] = {}
    results: list[tuple[str, q.Scored]] = []
    pending = 0
    for key, name, status, total, passed, appealed_at, outcome in rows:
        names[key] = name  # the newest name an agent's orders were taken under
        if status == q.Status.PENDING.value:
            pending += 1
            continue
        if status == q.Status.VOIDED.value:
            continue
        changed = outcome == q.Outcome.CHANGE.value
        results.append((key, q.Scored(total or 0, bool(passed), appealed_at is not None, changed)))
    centre = q.figures(r for _, r in results)
    return {
        "centre": {**centre.to_dict(), "pending": pending},
        "agents": [{"agent_key": k, "agent": names[k], **f.to_dict()} for k, f in q.by_agent(results).items()],
        "pass_line": current_sheet(session)[1].pass_line,
    }


def inspector_counts(session: Session) -> tuple[int, int]:
    """(待质检 tasks, 申诉待复核 appeals): the 我的待办 line of those who inspect."""
    found = dict(
        session.execute(
            select(Inspection.status, func.count())
            .where(Inspection.status.in_([q.Status.PENDING.value, q.Status.APPEALED.value]))
            .group_by(Inspection.status)
        ).all()
    )
    return int(found.get(q.Status.PENDING.value, 0)), int(found.get(q.Status.APPEALED.value, 0))


def agent_open_count(session: Session, agent: str, *, at: datetime | None = None) -> int:
    """The agent's results still to confirm or appeal (质检结果待确认/可申诉) on AT's China day."""
    return int(
        session.scalar(
            select(func.count()).where(
                Inspection.agent_key == q.agent_key(agent),
                Inspection.status == q.Status.SCORED.value,
                Inspection.appeal_due >= china_day(at or now()),
            )
        )
        or 0
    )


# -- demo -------------------------------------------------------------------------------------------------------------
DEMO_AGENT = "张敏（zhangmin）"  # the demo agent account's name in the history, as its sign-in records it
DEMO_INSPECTOR = "王芳（wangfang）"  # the demo supervisor
DEMO_SEED = 20210601
# Two orders the demo agent takes in from the demo's answered calls: (client key, call, order fields, the step that
# followed on the call, the deductions).
_DEMO_ORDERS: tuple[tuple[str, str, dict[str, Any], tuple[str, dict[str, Any]], list[q.Deduction]], ...] = (
    (
        "demo-quality-1",
        "DEMO-CALL-06",
        {"type": "咨询", "content": "咨询新生儿医保参保需要哪些材料。", "category": "劳动和社会保障"},
        (
            "direct_resolve",
            {
                "role": "agent",
                "actor": DEMO_AGENT,
                "reply": "携带出生医学证明和户口簿到社区或医保经办机构办理，也可网上办理。",
            },
        ),
        [q.Deduction("服务用语规范", 3, "开头未报工号"), q.Deduction("工单填写规范", 5, "未注明参保人所在区县")],
    ),
    (
        "demo-quality-2",
        "DEMO-CALL-08",
        {"type": "投诉", "content": "反映小区门口有人占道经营，影响通行。", "category": "城乡建设"},
        ("dispatch", {"role": "dispatcher", "actor": "演示派单员", "target_unit": "510107-cgj"}),
        [
            q.Deduction("诉求记录完整准确", 15, "未记录具体地点和持续时间"),
            q.Deduction("分类与派单正确", 10, "应归入城市管理类"),
        ],
    ),
)


def load_demo(session: Session) -> str:
    """质检 with something in it on a first start: the demo agent (zhangmin) takes two orders in from the demo's
    answered calls; the demo supervisor scores one 合格 and one 不合格, which the agent appeals; and a draw of the
    demo's June 2021 orders leaves 待质检 tasks. Idempotent: nothing is added once an inspection exists."""
    if session.scalar(select(func.count()).select_from(Inspection)):
        return "质检：已有演示数据"
    from hotline.telephony.store import CallDecision

    moment = now()
    for key, call_id, fields, (action, step), deductions in _DEMO_ORDERS:
        call = session.get(CallDecision, call_id)
        taken = (call.decided_at if call is not None else moment) + timedelta(minutes=3)
        order = workorders.create_order(
            session, client_key=key, at=taken, actor=DEMO_AGENT, phone=call.caller if call else "13912340005",
            region="510100", call_id=call_id if call else "", caller_name="刘女士", **fields,
        )  # fmt: skip
        workorders.act(session, order, action, at=taken + timedelta(minutes=2), **step)
        workorders.flush_orders(session)
        made = pick(session, order.number, actor=DEMO_INSPECTOR, at=moment)
        done = score(session, made["id"], deductions, actor=DEMO_INSPECTOR, at=moment)
        if not done["passed"]:
            appeal(session, made["id"], "地点已写在诉求内容中，持续时间来电人未能说明。", agent=DEMO_AGENT, at=moment)
    drawn = draw(session, date(2021, 6, 1), date(2021, 6, 30), 2, actor=DEMO_INSPECTOR, seed=DEMO_SEED, at=moment)
    return f"质检：演示质检 {len(_DEMO_ORDERS)} 张（合格、不合格并申诉各一），抽检待质检 {drawn['draw']['drawn']} 张"
