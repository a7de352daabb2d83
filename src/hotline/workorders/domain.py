"""Work orders (工单): the lifecycle table, working-day deadlines, roles and masking. Pure: no database, no IO.

The lifecycle is one explicit table, `TRANSITIONS`, in the manner of Request Tracker's lifecycles: for each
(state, action) pair it names the next state, the roles allowed and the Chinese label. A pair missing from
the table is a forbidden transition (`transition-not-allowed`, 409). On top of the table a few guards check
what the table cannot express (the 退单 limit, open co-handling orders, a 重办 needs an unsatisfied callback).

Deadlines are China-time calendar days computed over a `WorkCalendar` (State Council holidays and make-up
working days, plus local overrides): an order is overdue from the day after its due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from hotline.calendar.domain import WorkCalendar
from hotline.errors import Conflict, Forbidden, InvalidInput
from hotline.plan.regions import city_code, region_name


class OrderType(StrEnum):
    CONSULT = "咨询"
    HELP = "求助"
    COMPLAINT = "投诉"
    REPORT = "举报"
    SUGGESTION = "意见建议"
    PRAISE = "表扬"
    OTHER = "其他"


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    SMS = "sms"
    APP = "app"
    SUBCENTRE = "subcentre"
    SYSTEM = "system"


CHANNEL_LABELS = {
    Channel.PHONE: "电话",
    Channel.WEB: "网站",
    Channel.SMS: "短信",
    Channel.APP: "移动端",
    Channel.SUBCENTRE: "分中心",
    Channel.SYSTEM: "部门系统",
}


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


URGENCY_LABELS = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急", Urgency.CRITICAL: "特急"}


class Role(StrEnum):
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    CITIZEN = "citizen"


ROLE_LABELS = {
    Role.AGENT: "话务员",
    Role.DISPATCHER: "派单员",
    Role.DEPARTMENT: "承办单位",
    Role.SUPERVISOR: "督办审核员",
    Role.ADMIN: "管理员",
    Role.CITIZEN: "市民",
}

# Units and dispatch-catalogue entries as people name them (the settings page, refusals, the change records).
UNIT_KINDS = {"province": "省级", "city": "市（州）", "county": "区（县）", "department": "部门", "subcentre": "分中心"}
ANY_REGION, ANY_LINE = "全省", "全部号码"


def region_label(code: str) -> str:
    """A unit's or an entry's region: 全省 for any region, a 区（县）by its 市（州）and code (成都市 510107)."""
    if not code:
        return ANY_REGION
    named = region_name(code)
    return named if named != code else f"{region_name(city_code(code))} {code}"


def catalogue_key(category: str, region_code: str, line: str) -> str:
    """A dispatch-catalogue entry's key in one string: 城乡建设|510100| (empty region and line: any)."""
    return f"{category}|{region_code}|{line}"


def entry_label(category: str, region_code: str, line: str) -> str:
    """A dispatch-catalogue entry's key: 城乡建设（成都市，全部号码）."""
    return f"{category}（{region_label(region_code)}，{line or ANY_LINE}）"


class State(StrEnum):
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    RETURNED = "returned"
    EXTENSION_PENDING = "extension_pending"
    WAITING_CITIZEN = "waiting_citizen"
    RESOLVED = "resolved"
    TO_VISIT = "to_visit"
    VISITED = "visited"
    ARCHIVED = "archived"
    MERGED = "merged"


STATE_LABELS = {
    State.REGISTERED: "已受理（待派单）",
    State.DISPATCHED: "已派单（待签收）",
    State.HANDLING: "办理中",
    State.RETURNED: "已退单（待改派）",
    State.EXTENSION_PENDING: "延期审批中",
    State.WAITING_CITIZEN: "待市民补充（暂停计时）",
    State.RESOLVED: "已办结（待审核）",
    State.TO_VISIT: "待回访",
    State.VISITED: "已回访",
    State.ARCHIVED: "已归档",
    State.MERGED: "已并单",
}

# An order in one of these states is still being worked on (a co-handling order here blocks its lead's 办结).
OPEN_STATES = frozenset(
    {
        State.REGISTERED,
        State.DISPATCHED,
        State.HANDLING,
        State.RETURNED,
        State.EXTENSION_PENDING,
        State.WAITING_CITIZEN,
    }
)
# The handling unit has answered: the deadline is judged by `resolved_on`.
ANSWERED_STATES = frozenset({State.RESOLVED, State.TO_VISIT, State.VISITED, State.ARCHIVED})
# A co-handling order answered and not yet archived: it follows its lead's 归档 and 重办 (`follow_lead`).
FOLLOWING_STATES = ANSWERED_STATES - {State.ARCHIVED}
# The states in which a deadline runs (临期/超期 in the to-do and the 时限状态 filter): an order being worked on,
# against its `due`, and one waiting for its callback (待回访), against its 回访时限 (`visit_due`) when it has one.
RUNNING_STATES = OPEN_STATES | {State.TO_VISIT}


class Action(StrEnum):
    DIRECT_RESOLVE = "direct_resolve"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    REDISPATCH = "redispatch"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    AWAIT_CITIZEN = "await_citizen"
    RESUME = "resume"
    RESOLVE = "resolve"
    REVIEW_PASS = "review_pass"
    REVIEW_REJECT = "review_reject"
    CALLBACK = "callback"
    REOPEN = "reopen"
    ARCHIVE = "archive"
    URGE = "urge"
    SUPERVISE = "supervise"
    MERGE = "merge"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASIC: "基本满意",
    Satisfaction.UNSATISFIED: "不满意",
}


class Sla(StrEnum):
    ON_TIME = "on_time"
    NEAR_DUE = "near_due"
    OVERDUE = "overdue"


SLA_LABELS = {Sla.ON_TIME: "正常", Sla.NEAR_DUE: "临期", Sla.OVERDUE: "超期"}


@dataclass(frozen=True)
class Rule:
    action: Action
    label: str
    source: State
    target: State
    roles: frozenset[Role]


_HANDLERS = frozenset({Role.DEPARTMENT})
_DISPATCH = frozenset({Role.AGENT, Role.DISPATCHER})
_CENTRE = frozenset({Role.DISPATCHER, Role.SUPERVISOR})
_OVERSIGHT = frozenset({Role.SUPERVISOR, Role.ADMIN})
_NOTICE_STATES = (State.DISPATCHED, State.HANDLING, State.RETURNED, State.EXTENSION_PENDING, State.WAITING_CITIZEN)

# (action, Chinese label, source states, target state or None = unchanged, roles)
_ROWS: tuple[tuple[Action, str, tuple[State, ...], State | None, frozenset[Role]], ...] = (
    (Action.DIRECT_RESOLVE, "直接办结", (State.REGISTERED,), State.TO_VISIT, _DISPATCH),
    (Action.DISPATCH, "派单", (State.REGISTERED,), State.DISPATCHED, _DISPATCH),
    (Action.ACCEPT, "签收", (State.DISPATCHED,), State.HANDLING, _HANDLERS),
    (Action.RETURN, "退单", (State.DISPATCHED, State.HANDLING), State.RETURNED, _HANDLERS),
    (Action.REDISPATCH, "改派", (State.RETURNED,), State.DISPATCHED, _CENTRE),
    (Action.REQUEST_EXTENSION, "申请延期", (State.HANDLING,), State.EXTENSION_PENDING, _HANDLERS),
    (Action.APPROVE_EXTENSION, "批准延期", (State.EXTENSION_PENDING,), State.HANDLING, _OVERSIGHT),
    (Action.REFUSE_EXTENSION, "驳回延期", (State.EXTENSION_PENDING,), State.HANDLING, _OVERSIGHT),
    (Action.AWAIT_CITIZEN, "待市民补充（暂停计时）", (State.HANDLING,), State.WAITING_CITIZEN, _HANDLERS),
    (Action.RESUME, "恢复办理", (State.WAITING_CITIZEN,), State.HANDLING, _HANDLERS | _CENTRE),
    (Action.RESOLVE, "办结", (State.HANDLING,), State.RESOLVED, _HANDLERS),
    (Action.REVIEW_PASS, "审核通过", (State.RESOLVED,), State.TO_VISIT, _CENTRE),
    (Action.REVIEW_REJECT, "审核退回", (State.RESOLVED,), State.HANDLING, _CENTRE),
    (Action.CALLBACK, "回访", (State.TO_VISIT,), State.VISITED, frozenset({Role.AGENT, Role.DISPATCHER})),
    (Action.REOPEN, "重办", (State.VISITED,), State.DISPATCHED, _CENTRE),
    (Action.ARCHIVE, "归档", (State.TO_VISIT, State.VISITED), State.ARCHIVED, _CENTRE | {Role.ADMIN}),
    (Action.URGE, "催办", _NOTICE_STATES, None, _CENTRE),
    (Action.SUPERVISE, "督办", _NOTICE_STATES, None, frozenset({Role.SUPERVISOR})),
    (
        Action.MERGE,
        "并单",
        (State.REGISTERED, State.DISPATCHED, State.HANDLING, State.RETURNED),
        State.MERGED,
        _CENTRE,
    ),
)

TRANSITIONS: dict[tuple[State, Action], Rule] = {
    (source, action): Rule(action, label, source, target if target is not None else source, roles)
    for action, label, sources, target, roles in _ROWS
    for source in sources
}
ACTION_LABELS: dict[Action, str] = {row[0]: row[1] for row in _ROWS}
# Actions that change no state: notices recorded in the history.
NOTICE_ACTIONS = frozenset({Action.URGE, Action.SUPERVISE})
# The lead's own steps after 办结: its reply is the one reviewed and called back, and a co-handling order is
# archived and reopened only with its lead (`follow_lead`), never on its own.
LEAD_ONLY_ACTIONS = frozenset({Action.REVIEW_PASS, Action.CALLBACK, Action.ARCHIVE, Action.REOPEN})
# The lead's steps its co-handling orders take with it: 归档 and 重办 the answered ones, 批准延期 the open ones.
FOLLOWED_ACTIONS = frozenset({Action.ARCHIVE, Action.REOPEN, Action.APPROVE_EXTENSION})

# Working-day limits (Sichuan 2025 operating rules; 表扬/其他 are a local choice). 签收 and 退单 count from 派单;
# 回访 from the day the order is given to the agents to call back (审核通过, 直接办结): a local choice, as is its
# default (办结后 3 个工作日内完成回访, what many centres set).
DEFAULT_LIMITS: dict[str, int] = {
    OrderType.CONSULT: 3,
    OrderType.HELP: 7,
    OrderType.SUGGESTION: 7,
    OrderType.COMPLAINT: 15,
    OrderType.REPORT: 15,
    OrderType.PRAISE: 7,
    OrderType.OTHER: 7,
    "签收": 1,
    "退单": 2,
    "回访": 3,
}
ACCEPT_LIMIT = "签收"
RETURN_LIMIT = "退单"
VISIT_LIMIT = "回访"
MAX_EXTENSIONS = 2
MAX_EXTENSION_DAYS = 15
# An open order is "near due" when its due date is at most this many working days away.
NEAR_DUE_WORKDAYS = 1


E = TypeVar("E", bound=StrEnum)


class TransitionNotAllowed(Conflict):
    code = "transition-not-allowed"


_BY_VALUE: dict[type[StrEnum], dict[str, Any]] = {}


def parse_enum(kind: type[E], value: str, what: str, code: str) -> E:
    members = _BY_VALUE.get(kind)
    if members is None:
        members = _BY_VALUE[kind] = {m.value: m for m in kind}
    found = members.get(value) if isinstance(value, str) else None
    if found is not None:
        return found
    try:
        return kind(value)
    except ValueError:
        allowed = "、".join(m.value for m in kind)
        raise InvalidInput(f"{what}不正确：{value!r}（可选：{allowed}）", code=code) from None


@dataclass
class Case:
    """What the lifecycle needs to know about one order (a snapshot; the service maps it to and from rows)."""

    type: OrderType
    state: State
    due: date
    accept_due: date | None = None
    return_due: date | None = None
    # 回访时限: set as the order enters 待回访 (None on orders that entered it before the platform set one).
    visit_due: date | None = None
    paused_on: date | None = None
    paused_workdays: int = 0
    extension_days: int = 0
    extension_count: int = 0
    pending_extension: int | None = None
    lead_unit: str | None = None
    is_child: bool = False
    open_children: int = 0
    has_children: bool = False
    # Units already co-handling the order: naming one again at 派单/改派/重办 opens no second order for it.
    co_handlers: tuple[str, ...] = ()
    master: str | None = None
    reply: str = ""
    satisfaction: Satisfaction | None = None
    citizen_resolved: bool | None = None
    resolved_on: date | None = None
    urge_count: int = 0
    supervise_count: int = 0
    return_count: int = 0
    reopen_count: int = 0


@dataclass(frozen=True)
class Command:
    action: Action
    role: Role
    unit: str = ""
    reason: str = ""
    target_unit: str | None = None
    co_units: tuple[str, ...] = ()
    days: int | None = None
    reply: str = ""
    satisfaction: Satisfaction | None = None
    citizen_resolved: bool | None = None
    master: str | None = None
    master_state: State | None = None
    # For a co-handling order, its lead's due date: one sent back (审核退回) works to it when that is later.
    lead_due: date | None = None


@dataclass(frozen=True)
class Transition:
    rule: Rule
    case: Case
    # field -> [before, after], JSON-ready (dates as ISO strings)
    changes: dict[str, list[Any]]
    # Co-handling units to open child orders for (协办).
    spawn: tuple[str, ...] = ()


def limits_with(overrides: Mapping[str, int]) -> dict[str, int]:
    merged = dict(DEFAULT_LIMITS)
    merged.update(overrides)
    return merged


def initial_due(order_type: OrderType, created_on: date, calendar: WorkCalendar, limits: Mapping[str, int]) -> date:
    """Due date of a new order: its type's limit in working days after the day it was taken."""
    return calendar.add_workdays(created_on, limits[order_type])


def redated_due(due: date, base: date, before: WorkCalendar, after: WorkCalendar) -> date | None:
    """DUE under a changed calendar: as many working days after BASE (the day its count started: the order's 受理,
    or its latest 重办) as it had under the calendar BEFORE; None when that is not later. A day made a holiday
    after the deadline was set gives the unit that day back; a rest day made a working day takes none away (the
    deadline the unit was given stands)."""
    moved = after.add_workdays(base, before.workdays_between(base, due))
    return moved if moved > due else None


# The deadlines a calendar change may move, in the order they are told, with what a user reads for each.
DEADLINE_LABELS = {"due": "办理期限", "accept_due": "签收时限", "return_due": "退单时限", "visit_due": "回访时限"}
# The states from which a unit may still give an order back (退单): the only ones its 退单 limit matters in.
RETURNABLE_STATES = frozenset(state for state, action in TRANSITIONS if action is Action.RETURN)


def redated(
    case: Case,
    *,
    counted_from: date,
    given_on: date | None,
    today: date,
    before: WorkCalendar,
    after: WorkCalendar,
    visit_from: date | None = None,
) -> dict[str, tuple[date, date]]:
    """The deadlines of the open order CASE that a change of the working-day calendar (BEFORE → AFTER) moves
    later, each as (was, now), by the rule of `redated_due`: `due`, counted from COUNTED_FROM (the 受理 or latest
    重办 its count started from); the 签收 limit while the order waits for its 签收, and the 退单 limit while a
    退单 is still possible (an order a unit holds, TODAY not past the limit), both counted from GIVEN_ON (its
    latest 派单, 改派 or 重办). A limit no longer relevant is left as it was: it judges what already happened.
    An order waiting for its callback (待回访) has only its 回访时限 running, counted from VISIT_FROM (the day it
    entered 待回访); its `due` judged its answer and stays."""
    moved: dict[str, tuple[date, date]] = {}
    if case.state is State.TO_VISIT:
        if case.visit_due is None or visit_from is None:
            return moved
        visit = redated_due(case.visit_due, visit_from, before, after)
        if visit is not None:
            moved["visit_due"] = (case.visit_due, visit)
        return moved
    due = redated_due(case.due, counted_from, before, after)
    if due is not None:
        moved["due"] = (case.due, due)
    if given_on is None:
        return moved
    if case.state is State.DISPATCHED and case.accept_due is not None:
        accept = redated_due(case.accept_due, given_on, before, after)
        if accept is not None:
            moved["accept_due"] = (case.accept_due, accept)
    if case.state in RETURNABLE_STATES and case.return_due is not None and today <= case.return_due:
        back = redated_due(case.return_due, given_on, before, after)
        if back is not None:
            moved["return_due"] = (case.return_due, back)
    return moved


def redated_text(counts: Mapping[str, int]) -> str:
    """What an administrator reads after changing the calendar: the deadlines it moved, per kind ('2 张在办工单的
    办理期限、1 张待签收工单的签收时限随之顺延'), or '' when none moved. COUNTS: orders per DEADLINE_LABELS key."""
    whose = {"due": "在办工单", "accept_due": "待签收工单", "return_due": "在办工单", "visit_due": "待回访工单"}
    parts = [f"{counts[k]} 张{whose[k]}的{label}" for k, label in DEADLINE_LABELS.items() if counts.get(k)]
    return f"{'、'.join(parts)}随之顺延" if parts else ""


def effective_due(case: Case, today: date, calendar: WorkCalendar) -> date:
    """The due date as of `today`: while the clock is paused, it moves by the working days paused so far."""
    if case.paused_on is None:
        return case.due
    return calendar.add_workdays(case.due, calendar.workdays_between(case.paused_on, today))


def sla_state(case: Case, today: date, calendar: WorkCalendar) -> Sla:
    """On time / near due / overdue. An order waiting for its callback (待回访) is judged against its 回访时限 when
    it has one; another answered order by the day it was answered (one that entered 待回访 before 回访时限 were set
    too: its callback is not judged)."""
    if case.state is State.TO_VISIT and case.visit_due is not None:
        return _judged(case.visit_due, today, calendar)
    if case.state in ANSWERED_STATES and case.resolved_on is not None:
        return Sla.OVERDUE if case.resolved_on > case.due else Sla.ON_TIME
    return _judged(effective_due(case, today, calendar), today, calendar)


def _judged(due: date, today: date, calendar: WorkCalendar) -> Sla:
    """TODAY against a running deadline DUE: overdue after it, near due within NEAR_DUE_WORKDAYS working days."""
    if today > due:
        return Sla.OVERDUE
    if calendar.workdays_between(today, due) <= NEAR_DUE_WORKDAYS:
        return Sla.NEAR_DUE
    return Sla.ON_TIME


def accept_overdue(case: Case, today: date) -> bool:
    """A dispatched order not signed for (签收) by the end of its 签收 limit."""
    return case.state is State.DISPATCHED and case.accept_due is not None and today > case.accept_due


@dataclass(frozen=True)
class Reminder:
    """An automatic notice the platform gives a handling unit (临期提醒, 超期督办): the action and its text."""

    action: Action
    reason: str


# Orders a unit is working on; returned, paused or extension-pending orders wait on the centre or the citizen.
REMINDED_STATES = frozenset({State.DISPATCHED, State.HANDLING})


def reminder(case: Case, today: date, calendar: WorkCalendar) -> Reminder | None:
    """What the platform tells the lead unit of CASE today, if anything: an order past its due date is 督办
    (supervised), one not signed for in time or due within NEAR_DUE_WORKDAYS is 催办 (urged)."""
    if case.state not in REMINDED_STATES or case.lead_unit is None:
        return None
    due = effective_due(case, today, calendar)
    if today > due:
        return Reminder(Action.SUPERVISE, f"已超过办理期限（{due.isoformat()}），请尽快办结并说明原因")
    if accept_overdue(case, today) and case.accept_due is not None:
        return Reminder(Action.URGE, f"已超过签收时限（{case.accept_due.isoformat()}），请尽快签收")
    if calendar.workdays_between(today, due) <= NEAR_DUE_WORKDAYS:
        return Reminder(Action.URGE, f"临近办理期限（{due.isoformat()}），请按时办结")
    return None


def rule_for(state: State, action: Action, role: Role) -> Rule:
    rule = TRANSITIONS.get((state, action))
    if rule is None:
        raise TransitionNotAllowed(
            f"工单当前状态为「{STATE_LABELS[state]}」，不能执行「{ACTION_LABELS[action]}」",
            state=state.value,
            action=action.value,
        )
    if role not in rule.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in Role if r in rule.roles)
        raise Forbidden(
            f"「{ROLE_LABELS[role]}」不能执行「{rule.label}」（允许：{allowed}）",
            code="role-not-allowed",
            role=role.value,
            action=action.value,
        )
    return rule


def available_actions(
    state: State, role: Role, *, co_handling: bool = False, unit: str = "", lead_unit: str | None = None
) -> list[Action]:
    """The actions ROLE may take now on an order in STATE, in the table's order: what the order page offers.

    The checks `apply` makes before any guard: the table's pair and roles, no lead-only step for a co-handling
    order, and a handling unit (UNIT) only on an order assigned to it (LEAD_UNIT). The guards may still refuse.
    """
    if role is Role.DEPARTMENT and (not unit or unit != lead_unit):
        return []
    return [
        action
        for action in Action
        if (rule := TRANSITIONS.get((state, action))) is not None
        and role in rule.roles
        and not (co_handling and action in LEAD_ONLY_ACTIONS)
    ]


# --- to-do (待办) ---------------------------------------------------------------------------------------------

# The states in which an order waits on a role, in the order its to-do lists them: each is a state where the
# role has a step that moves the order on (tests check this against TRANSITIONS). A handling unit counts only the
# orders assigned to it.
TODO_STATES: dict[Role, tuple[State, ...]] = {
    Role.AGENT: (State.TO_VISIT,),
    Role.DISPATCHER: (State.REGISTERED, State.RETURNED),
    # 待市民补充 is the unit's: it asked the citizen, the clock is paused on its order, and it is the one to 恢复办理
    # once the answer comes; left off its list, a paused order is forgotten (the centre may resume it too, but
    # only a unit knows when its question has been answered).
    Role.DEPARTMENT: (State.DISPATCHED, State.HANDLING, State.WAITING_CITIZEN),
    Role.SUPERVISOR: (State.RESOLVED, State.EXTENSION_PENDING),
    # An administrator oversees the centre but the lifecycle gives it only 批准/驳回延期 among the dispatcher's and
    # the supervisor's states (派单, 改派 and 审核 are theirs): its to-do lists only what it can work on itself.
    Role.ADMIN: (State.EXTENSION_PENDING,),
}
# 回访超期: an order waiting for its callback past its 回访时限 is the agents' to call back (their 待回访 line counts it
# 超期); the reminder job warns handling units only (`reminder`, pushed to their systems), so the roles that chase
# the centre's own lateness are shown how many there are on their to-do (a live count, not a notice per order).
VISIT_OVERDUE_WATCHERS = frozenset({Role.SUPERVISOR})
# What a to-do line calls the orders of each state: what the role has to do, not the state's full name.
TODO_LABELS: dict[State, str] = {
    State.TO_VISIT: "待回访",
    State.REGISTERED: "待派单",
    State.RETURNED: "退单待改派",
    State.DISPATCHED: "待签收",
    State.HANDLING: "办理中",
    State.WAITING_CITIZEN: "待市民补充",
    State.RESOLVED: "待审核",
    State.EXTENSION_PENDING: "延期审批",
}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else (value.value if isinstance(value, StrEnum) else value)


def _need(text: str | None, what: str, code: str) -> str:
    if text is None or not text.strip():
        raise InvalidInput(f"{what}不能为空", code=code)
    return text.strip()


def apply(case: Case, cmd: Command, *, today: date, calendar: WorkCalendar, limits: Mapping[str, int]) -> Transition:
    """Check one command against the table and the guards; return the new snapshot and what changed.

    Raises `transition-not-allowed` (409) for a pair missing from the table, `role-not-allowed` (403),
    `unit-not-assigned` (403) when a department acts on an order not assigned to it, and specific 409/422
    errors for the guards.
    """
    rule = rule_for(case.state, cmd.action, cmd.role)
    if case.is_child and cmd.action in LEAD_ONLY_ACTIONS:
        raise TransitionNotAllowed(
            f"协办工单随主办工单审核、回访、归档和重办，不能单独执行「{rule.label}」",
            state=case.state.value,
            action=cmd.action.value,
            reason="co-handling-follows-lead",
        )
    if cmd.role is Role.DEPARTMENT and cmd.unit != (case.lead_unit or ""):
        raise Forbidden(
            f"工单未交办给单位 {cmd.unit or '（未指明）'}，不能执行「{rule.label}」",
            code="unit-not-assigned",
        )
    new = _copy(case)
    new.state = rule.target
    spawn: tuple[str, ...] = ()
    action = cmd.action

    if action is Action.DIRECT_RESOLVE:
        new.reply = _need(cmd.reply, "答复内容", "reply-required")
        new.resolved_on = today
    elif action in (Action.DISPATCH, Action.REDISPATCH, Action.REOPEN):
        if action is Action.REOPEN:
            if case.satisfaction is not Satisfaction.UNSATISFIED and case.citizen_resolved is not False:
                raise Conflict("市民对办理结果满意且问题已解决，无需重办", code="reopen-not-needed")
            _need(cmd.reason, "重办原因", "reason-required")
            target = cmd.target_unit or case.lead_unit
            new.due = calendar.add_workdays(today, limits[case.type])
            new.visit_due = None  # the callback it had is done; answered again, it gets a new 回访时限
            new.reopen_count += 1
            new.satisfaction = None
            new.citizen_resolved = None
            new.resolved_on = None
            new.reply = ""
        else:
            target = cmd.target_unit
        if not target:
            raise InvalidInput("请指定承办单位", code="unit-required")
        if action is Action.REDISPATCH and target == case.lead_unit:
            raise InvalidInput("改派须交给另一承办单位", code="same-unit")
        co = tuple(dict.fromkeys(u for u in cmd.co_units if u and u != target and u not in case.co_handlers))
        if co and case.is_child:
            raise InvalidInput("协办工单不能再设协办单位", code="nested-cohandling")
        new.lead_unit = target
        new.accept_due = calendar.add_workdays(today, limits[ACCEPT_LIMIT])
        new.return_due = calendar.add_workdays(today, limits[RETURN_LIMIT])
        if co:
            new.has_children = True
            new.open_children += len(co)
        spawn = co
    elif action is Action.ACCEPT:
        pass
    elif action is Action.RETURN:
        _need(cmd.reason, "退单原因", "reason-required")
        if case.return_due is not None and today > case.return_due:
            raise Conflict(
                f"退单须在派单后 {limits[RETURN_LIMIT]} 个工作日内（截至 {case.return_due.isoformat()}），已超时",
                code="return-too-late",
            )
        new.return_count += 1
    elif action is Action.REQUEST_EXTENSION:
        _need(cmd.reason, "延期理由", "reason-required")
        if cmd.days is None or not 1 <= cmd.days <= MAX_EXTENSION_DAYS:
            raise InvalidInput(f"延期天数须为 1 至 {MAX_EXTENSION_DAYS} 个工作日", code="invalid-extension-days")
        if case.extension_count >= MAX_EXTENSIONS:
            raise Conflict(f"每张工单最多延期 {MAX_EXTENSIONS} 次", code="extension-limit")
        if today > case.due:
            raise Conflict("已超过办理期限，不能再申请延期", code="extension-too-late")
        new.pending_extension = cmd.days
    elif action is Action.APPROVE_EXTENSION:
        days = case.pending_extension or 0
        new.due = calendar.add_workdays(case.due, days)
        new.extension_days += days
        new.extension_count += 1
        new.pending_extension = None
    elif action is Action.REFUSE_EXTENSION:
        _need(cmd.reason, "驳回理由", "reason-required")
        new.pending_extension = None
    elif action is Action.AWAIT_CITIZEN:
        _need(cmd.reason, "需市民补充的内容", "reason-required")
        new.paused_on = today
    elif action is Action.RESUME:
        paused = calendar.workdays_between(case.paused_on, today) if case.paused_on else 0
        new.due = calendar.add_workdays(case.due, paused)
        new.paused_workdays += paused
        new.paused_on = None
    elif action is Action.RESOLVE:
        _no_open_children(case, rule)
        new.reply = _need(cmd.reply, "办理结果（答复内容）", "reply-required")
        new.resolved_on = today
    elif action is Action.REVIEW_PASS:
        pass
    elif action is Action.REVIEW_REJECT:
        _need(cmd.reason, "退回理由", "reason-required")
        new.resolved_on = None
        # Answered before its lead's 延期 was approved, it kept the deadline it answered under; sent back, it is
        # worked on again while the lead waits on it, so it works to the joint deadline (never an earlier one).
        if case.is_child and cmd.lead_due is not None and cmd.lead_due > case.due:
            new.due = cmd.lead_due
    elif action is Action.CALLBACK:
        if cmd.satisfaction is None or cmd.citizen_resolved is None:
            raise InvalidInput("回访须记录满意度和是否解决", code="callback-incomplete")
        new.satisfaction = cmd.satisfaction
        new.citizen_resolved = cmd.citizen_resolved
    elif action is Action.ARCHIVE:
        _no_open_children(case, rule)
    elif action is Action.URGE:
        new.urge_count += 1
    elif action is Action.SUPERVISE:
        _need(cmd.reason, "督办意见", "reason-required")
        new.supervise_count += 1
    elif action is Action.MERGE:
        if not cmd.master:
            raise InvalidInput("请指定主工单编号", code="master-required")
        if case.is_child or case.has_children:
            raise Conflict("主办/协办关系中的工单不能并单", code="merge-cohandling")
        if cmd.master_state is None or cmd.master_state not in OPEN_STATES:
            raise Conflict("主工单须为办理中的工单", code="merge-master-closed")
        new.master = cmd.master

    if rule.target is State.TO_VISIT and case.state is not State.TO_VISIT:
        # Every way into 待回访 (审核通过, 直接办结) starts the callback's own count: the 回访时限.
        new.visit_due = calendar.add_workdays(today, limits[VISIT_LIMIT])
    return Transition(rule=rule, case=new, changes=_changes(case, new), spawn=spawn)


def _copy(case: Case) -> Case:
    """A copy of the snapshot (dataclasses.replace, without re-running __init__ for every field)."""
    new = Case.__new__(Case)
    new.__dict__.update(case.__dict__)
    return new


def _changes(before: Case, after: Case) -> dict[str, list[Any]]:
    after_values = after.__dict__
    return {
        name: [_iso(value), _iso(after_values[name])]
        for name, value in before.__dict__.items()
        if value != after_values[name]
    }


def _no_open_children(case: Case, rule: Rule) -> None:
    """A lead is neither resolved nor archived while one of its co-handling orders is still being worked on."""
    if case.open_children > 0:
        raise TransitionNotAllowed(
            f"尚有 {case.open_children} 张协办工单未办结，主办工单不能{rule.label}",
            state=case.state.value,
            action=rule.action.value,
            reason="co-handling-open",
        )


def follow_lead(child: Case, lead: Transition, *, unit: str | None = None) -> Transition | None:
    """The step a co-handling order takes with its lead's step LEAD, or None when it stays as it is.

    Its reply went into the lead's, so an answered co-handling order (`FOLLOWING_STATES`) is archived with
    its lead, and reopened with it when the citizen was not satisfied: dispatched again to its unit (or to UNIT,
    when its own is out of service: its 接替单位) with the lead's fresh deadlines and its reply cleared, unless
    that unit now leads the order (the service leaves out too one whose 接替单位 gets another order of the
    family back: `takeover_note`). One still being worked
    on is left alone by those (it blocks the lead's 办结 and 归档 until answered), but takes the lead's
    extended due date when the lead's 延期 is approved: the lead waits on it, so its unit works to the joint
    deadline. Its own later due date (its own 延期, a pause) is never brought forward, and an answered one is
    judged by the deadline it answered under (sent back, it takes the lead's later one: `apply`, 审核退回).
    """
    action = lead.rule.action
    if action is Action.APPROVE_EXTENSION:
        if child.state not in OPEN_STATES or child.due >= lead.case.due:
            return None
    elif action not in FOLLOWED_ACTIONS or child.state not in FOLLOWING_STATES:
        return None
    new = _copy(child)
    if action is Action.APPROVE_EXTENSION:
        new.due = lead.case.due
    elif action is Action.ARCHIVE:
        new.state = State.ARCHIVED
    else:
        new.lead_unit = unit or child.lead_unit
        if new.lead_unit == lead.case.lead_unit:
            return None
        new.state = State.DISPATCHED
        new.due, new.accept_due, new.return_due = lead.case.due, lead.case.accept_due, lead.case.return_due
        new.reopen_count += 1
        new.satisfaction = None
        new.citizen_resolved = None
        new.resolved_on = None
        new.reply = ""
    rule = Rule(action, ACTION_LABELS[action], child.state, new.state, lead.rule.roles)
    return Transition(rule=rule, case=new, changes=_changes(child, new))


def follow_note(
    lead_number: str, action: Action, reason: str = "", *, due: date | None = None, handover: str = ""
) -> str:
    """The history note of a co-handling order's step taken with its lead (随主办工单 … 归档; for 批准延期,
    `随主办工单 … 延期至 <the lead's new DUE>`), with its HANDOVER (`handover_note`) when reopened for a successor."""
    if action is Action.APPROVE_EXTENSION and due is not None:
        note = f"随主办工单 {lead_number} 延期至 {due.isoformat()}"
    else:
        note = f"随主办工单 {lead_number} {ACTION_LABELS[action]}"
    if handover:
        note = f"{note}（{handover}）"
    return f"{note}：{reason}" if reason else note


def handover_note(was: str, heir: str, *, lead: bool = False) -> str:
    """Why an order reopened (重办) goes to another unit: its own (WAS, 名称（代码）) is out of service and HEIR
    took over from it: a co-handling order's unit (协办单位…), or with LEAD the unit that led the order reopened,
    a lead or one handled alone (承办单位…)."""
    return f"{'承办单位' if lead else '协办单位'}{was}已停用，由接替单位{heir}承办"


def takeover_note(number: str, was: str, heir: str) -> str:
    """Why answered co-handling order NUMBER is not reopened with its lead: its unit (WAS) is out of service and
    its 接替单位 HEIR already leads the order or gets another co-handling order of it back, the one this note goes
    in, which does its part too. One unit, one order of the family: the order NUMBER stays answered, archived
    with the lead."""
    return f"协办单位{was}已停用，其协办工单 {number} 并入本单，由接替单位{heir}一并办理"


def child_case(parent: Case, unit: str) -> Case:
    """A co-handling (协办) order opened by a dispatch: already dispatched to `unit`, same deadlines as the lead."""
    return Case(
        type=parent.type,
        state=State.DISPATCHED,
        due=parent.due,
        accept_due=parent.accept_due,
        return_due=parent.return_due,
        lead_unit=unit,
        is_child=True,
    )


# --- personal data -------------------------------------------------------------------------------------------


def sees_contact(role: Role, order_type: OrderType, confidential: bool) -> bool:
    """Who needs the caller's name and phone in full.

    Agents, dispatchers and administrators: always (they call back and correct orders). A handling unit: only
    to contact the citizen, so not when the caller asked for confidentiality nor for a 举报 (whistle-blower
    protection). Supervisors and the citizen-facing lookup: never.
    """
    if role in (Role.AGENT, Role.DISPATCHER, Role.ADMIN):
        return True
    if role is Role.DEPARTMENT:
        return not confidential and order_type is not OrderType.REPORT
    return False


def sees_every_contact(role: Role) -> bool:
    """Whether ROLE sees the caller in full on every order, whatever its type and confidential flag: what a call
    record (话务记录) shows unmasked, a call not yet being an order (it may become a confidential one or a 举报)."""
    return all(sees_contact(role, t, flag) for t in OrderType for flag in (False, True))


def may_filter_by_phone(role: Role) -> bool:
    """Whether ROLE may look orders up by the caller's number (来电人历史工单). Such a search tells whether a
    number called at all, so a role that never sees callers' numbers (`sees_contact`) may not; the others find
    only the orders whose number they see (`contact_scope`)."""
    return bool(contact_scope(role))


def contact_scope(role: Role) -> dict[bool, list[OrderType]]:
    """The order types whose caller ROLE sees in full, by the order's confidential flag (empty lists left out)."""
    scope = {flag: [t for t in OrderType if sees_contact(role, t, flag)] for flag in (False, True)}
    return {flag: types for flag, types in scope.items() if types}


@dataclass(frozen=True)
class LifecycleRow:
    state: str
    state_label: str
    action: str
    action_label: str
    target: str
    target_label: str
    roles: list[str] = field(default_factory=list)


def lifecycle_rows() -> list[LifecycleRow]:
    """The table, for the CLI, the API and the docs."""
    return [
        LifecycleRow(
            state=s.value,
            state_label=STATE_LABELS[s],
            action=a.value,
            action_label=r.label,
            target=r.target.value,
            target_label=STATE_LABELS[r.target],
            roles=[x.value for x in Role if x in r.roles],
        )
        for (s, a), r in TRANSITIONS.items()
    ]
