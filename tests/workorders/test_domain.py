"""The lifecycle table, its guards, working-day deadlines and masking, without a database."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date

import pytest

from hotline.calendar.domain import WorkCalendar
from hotline.errors import Conflict, Forbidden, InvalidInput
from hotline.workorders import domain as d
from hotline.workorders.domain import Action as A
from hotline.workorders.domain import Role as R
from hotline.workorders.domain import State as S

CAL = WorkCalendar()
LIMITS = d.limits_with({})
TODAY = date(2021, 6, 1)

# Written out by hand from the issue and domain notes, independently of domain.TRANSITIONS:
# (state, action) -> (next state, roles allowed).
CENTRE = {R.DISPATCHER, R.SUPERVISOR}
NOTICE_FROM = [S.DISPATCHED, S.HANDLING, S.RETURNED, S.EXTENSION_PENDING, S.WAITING_CITIZEN]
EXPECTED: dict[tuple[S, A], tuple[S, set[R]]] = {
    (S.REGISTERED, A.DIRECT_RESOLVE): (S.TO_VISIT, {R.AGENT, R.DISPATCHER}),
    (S.REGISTERED, A.DISPATCH): (S.DISPATCHED, {R.AGENT, R.DISPATCHER}),
    (S.DISPATCHED, A.ACCEPT): (S.HANDLING, {R.DEPARTMENT}),
    (S.DISPATCHED, A.RETURN): (S.RETURNED, {R.DEPARTMENT}),
    (S.HANDLING, A.RETURN): (S.RETURNED, {R.DEPARTMENT}),
    (S.RETURNED, A.REDISPATCH): (S.DISPATCHED, CENTRE),
    (S.HANDLING, A.REQUEST_EXTENSION): (S.EXTENSION_PENDING, {R.DEPARTMENT}),
    (S.EXTENSION_PENDING, A.APPROVE_EXTENSION): (S.HANDLING, {R.SUPERVISOR, R.ADMIN}),
    (S.EXTENSION_PENDING, A.REFUSE_EXTENSION): (S.HANDLING, {R.SUPERVISOR, R.ADMIN}),
    (S.HANDLING, A.AWAIT_CITIZEN): (S.WAITING_CITIZEN, {R.DEPARTMENT}),
    (S.WAITING_CITIZEN, A.RESUME): (S.HANDLING, {R.DEPARTMENT, R.DISPATCHER, R.SUPERVISOR}),
    (S.HANDLING, A.RESOLVE): (S.RESOLVED, {R.DEPARTMENT}),
    (S.RESOLVED, A.REVIEW_PASS): (S.TO_VISIT, CENTRE),
    (S.RESOLVED, A.REVIEW_REJECT): (S.HANDLING, CENTRE),
    (S.TO_VISIT, A.CALLBACK): (S.VISITED, {R.AGENT, R.DISPATCHER}),
    (S.VISITED, A.REOPEN): (S.DISPATCHED, CENTRE),
    (S.TO_VISIT, A.ARCHIVE): (S.ARCHIVED, {R.DISPATCHER, R.SUPERVISOR, R.ADMIN}),
    (S.VISITED, A.ARCHIVE): (S.ARCHIVED, {R.DISPATCHER, R.SUPERVISOR, R.ADMIN}),
    **{(s, A.URGE): (s, CENTRE) for s in NOTICE_FROM},
    **{(s, A.SUPERVISE): (s, {R.SUPERVISOR}) for s in NOTICE_FROM},
    **{(s, A.MERGE): (S.MERGED, CENTRE) for s in [S.REGISTERED, S.DISPATCHED, S.HANDLING, S.RETURNED]},
}
UNIT = "510100-zjj"


def _case(state: S) -> d.Case:
    """An order in STATE whose guards are all satisfied (assigned to UNIT, unsatisfied callback, …)."""
    return d.Case(
        type=d.OrderType.COMPLAINT,
        state=state,
        due=date(2021, 6, 22),
        accept_due=date(2021, 6, 2),
        return_due=date(2021, 6, 3),
        paused_on=date(2021, 6, 1) if state is S.WAITING_CITIZEN else None,
        pending_extension=3 if state is S.EXTENSION_PENDING else None,
        lead_unit=None if state is S.REGISTERED else UNIT,
        satisfaction=d.Satisfaction.UNSATISFIED if state is S.VISITED else None,
        citizen_resolved=False if state is S.VISITED else None,
    )


def _cmd(action: A, role: R) -> d.Command:
    return d.Command(
        action=action,
        role=role,
        unit=UNIT if role is R.DEPARTMENT else "",
        reason="原因",
        target_unit="510100-rsj",
        days=3,
        reply="已处理",
        satisfaction=d.Satisfaction.SATISFIED,
        citizen_resolved=True,
        master="5101002021060100001",
        master_state=S.HANDLING,
    )


ALL = list(itertools.product(S, A, R))


@pytest.mark.parametrize(
    ("state", "action", "role"), [c for c in ALL if (c[0], c[1]) in EXPECTED and c[2] in EXPECTED[c[0], c[1]][1]]
)
def test_allowed_transition(state: S, action: A, role: R) -> None:
    step = d.apply(_case(state), _cmd(action, role), today=TODAY, calendar=CAL, limits=LIMITS)
    assert step.case.state is EXPECTED[state, action][0]
    assert step.rule.label  # every transition has a Chinese label
    if step.case.state is not state:
        assert step.changes["state"] == [state.value, step.case.state.value]


@pytest.mark.parametrize(
    ("state", "action", "role"), [c for c in ALL if (c[0], c[1]) in EXPECTED and c[2] not in EXPECTED[c[0], c[1]][1]]
)
def test_role_not_allowed(state: S, action: A, role: R) -> None:
    with pytest.raises(Forbidden) as err:
        d.apply(_case(state), _cmd(action, role), today=TODAY, calendar=CAL, limits=LIMITS)
    assert err.value.code == "role-not-allowed"


@pytest.mark.parametrize(("state", "action"), [(s, a) for s, a in itertools.product(S, A) if (s, a) not in EXPECTED])
def test_forbidden_transition(state: S, action: A) -> None:
    for role in R:
        with pytest.raises(d.TransitionNotAllowed) as err:
            d.apply(_case(state), _cmd(action, role), today=TODAY, calendar=CAL, limits=LIMITS)
        assert err.value.code == "transition-not-allowed"
        assert err.value.http_status == 409


def test_table_matches_expectations_exactly() -> None:
    assert {k: (r.target, set(r.roles)) for k, r in d.TRANSITIONS.items()} == EXPECTED


def test_department_acts_only_on_its_own_orders() -> None:
    cmd = dataclasses.replace(_cmd(A.ACCEPT, R.DEPARTMENT), unit="510100-jyj")
    with pytest.raises(Forbidden) as err:
        d.apply(_case(S.DISPATCHED), cmd, today=TODAY, calendar=CAL, limits=LIMITS)
    assert err.value.code == "unit-not-assigned"


def test_lead_cannot_resolve_while_co_handling_open() -> None:
    case = dataclasses.replace(_case(S.HANDLING), open_children=1, has_children=True)
    with pytest.raises(d.TransitionNotAllowed) as err:
        d.apply(case, _cmd(A.RESOLVE, R.DEPARTMENT), today=TODAY, calendar=CAL, limits=LIMITS)
    assert err.value.details["reason"] == "co-handling-open"
    case.open_children = 0
    assert (
        d.apply(case, _cmd(A.RESOLVE, R.DEPARTMENT), today=TODAY, calendar=CAL, limits=LIMITS).case.state is S.RESOLVED
    )


def test_dispatch_with_co_units_spawns_children() -> None:
    cmd = dataclasses.replace(_cmd(A.DISPATCH, R.DISPATCHER), target_unit=UNIT, co_units=("a", "b", UNIT, "a"))
    step = d.apply(_case(S.REGISTERED), cmd, today=TODAY, calendar=CAL, limits=LIMITS)
    assert step.spawn == ("a", "b")
    assert step.case.open_children == 2
    child = d.child_case(step.case, "a")
    assert (child.state, child.lead_unit, child.is_child, child.due) == (S.DISPATCHED, "a", True, step.case.due)


def test_return_only_within_two_working_days_of_dispatch() -> None:
    # Dispatched Thursday 2021-09-30: 退单 allowed until the 2nd working day after, Saturday 2021-10-09 (调休).
    step = d.apply(
        _case(S.REGISTERED),
        dataclasses.replace(_cmd(A.DISPATCH, R.DISPATCHER), target_unit=UNIT),
        today=date(2021, 9, 30),
        calendar=CAL,
        limits=LIMITS,
    )
    assert step.case.return_due == date(2021, 10, 9)
    assert step.case.accept_due == date(2021, 10, 8)
    ok = d.apply(step.case, _cmd(A.RETURN, R.DEPARTMENT), today=date(2021, 10, 9), calendar=CAL, limits=LIMITS)
    assert ok.case.state is S.RETURNED and ok.case.return_count == 1
    with pytest.raises(Conflict) as err:
        d.apply(step.case, _cmd(A.RETURN, R.DEPARTMENT), today=date(2021, 10, 11), calendar=CAL, limits=LIMITS)
    assert err.value.code == "return-too-late"
    no_reason = dataclasses.replace(_cmd(A.RETURN, R.DEPARTMENT), reason=" ")
    with pytest.raises(InvalidInput):
        d.apply(step.case, no_reason, today=date(2021, 10, 8), calendar=CAL, limits=LIMITS)


def test_redispatch_must_change_unit() -> None:
    cmd = dataclasses.replace(_cmd(A.REDISPATCH, R.DISPATCHER), target_unit=UNIT)
    with pytest.raises(InvalidInput) as err:
        d.apply(_case(S.RETURNED), cmd, today=TODAY, calendar=CAL, limits=LIMITS)
    assert err.value.code == "same-unit"


def test_reopen_needs_an_unsatisfied_or_unresolved_callback() -> None:
    happy = dataclasses.replace(_case(S.VISITED), satisfaction=d.Satisfaction.SATISFIED, citizen_resolved=True)
    with pytest.raises(Conflict) as err:
        d.apply(happy, _cmd(A.REOPEN, R.DISPATCHER), today=TODAY, calendar=CAL, limits=LIMITS)
    assert err.value.code == "reopen-not-needed"
    unresolved = dataclasses.replace(happy, citizen_resolved=False)
    step = d.apply(unresolved, _cmd(A.REOPEN, R.DISPATCHER), today=TODAY, calendar=CAL, limits=LIMITS)
    # New handling time limit from the reopening day: 投诉 15 working days after 2021-06-01 (端午 06-14 off).
    assert step.case.due == date(2021, 6, 23)
    assert step.case.lead_unit == "510100-rsj" and step.case.reopen_count == 1


def test_extension_adds_working_days_and_is_limited() -> None:
    case = _case(S.HANDLING)
    case.due = date(2021, 9, 29)
    cmd = dataclasses.replace(_cmd(A.REQUEST_EXTENSION, R.DEPARTMENT), days=3)
    pending = d.apply(case, cmd, today=date(2021, 9, 28), calendar=CAL, limits=LIMITS).case
    assert pending.pending_extension == 3 and pending.due == date(2021, 9, 29)
    approved = d.apply(
        pending, _cmd(A.APPROVE_EXTENSION, R.SUPERVISOR), today=date(2021, 9, 28), calendar=CAL, limits=LIMITS
    )
    # 09-30, 10-08, 10-09 (Saturday make-up day): three working days across National Day.
    assert approved.case.due == date(2021, 10, 9)
    assert approved.changes["due"] == ["2021-09-29", "2021-10-09"]
    with pytest.raises(Conflict) as late:
        d.apply(approved.case, cmd, today=date(2021, 10, 11), calendar=CAL, limits=LIMITS)
    assert late.value.code == "extension-too-late"
    twice = dataclasses.replace(approved.case, extension_count=d.MAX_EXTENSIONS)
    with pytest.raises(Conflict) as limit:
        d.apply(twice, cmd, today=date(2021, 9, 28), calendar=CAL, limits=LIMITS)
    assert limit.value.code == "extension-limit"
    with pytest.raises(InvalidInput):
        d.apply(case, dataclasses.replace(cmd, days=0), today=date(2021, 9, 28), calendar=CAL, limits=LIMITS)
    refused = d.apply(
        pending, _cmd(A.REFUSE_EXTENSION, R.SUPERVISOR), today=date(2021, 9, 28), calendar=CAL, limits=LIMITS
    )
    assert refused.case.due == date(2021, 9, 29) and refused.case.pending_extension is None


def test_clock_pauses_while_waiting_on_the_citizen() -> None:
    case = _case(S.HANDLING)
    case.due = date(2021, 9, 30)
    paused = d.apply(
        case, _cmd(A.AWAIT_CITIZEN, R.DEPARTMENT), today=date(2021, 9, 29), calendar=CAL, limits=LIMITS
    ).case
    assert paused.paused_on == date(2021, 9, 29)
    # While paused the effective due date moves with the working days elapsed, so it is never overdue.
    # On 10-08 two working days (09-30, 10-08) have passed paused: due 09-30 + 2 = 10-09.
    assert d.effective_due(paused, date(2021, 10, 8), CAL) == date(2021, 10, 9)
    assert d.sla_state(paused, date(2021, 10, 8), CAL) is not d.Sla.OVERDUE
    resumed = d.apply(paused, _cmd(A.RESUME, R.DEPARTMENT), today=date(2021, 10, 9), calendar=CAL, limits=LIMITS).case
    # Paused working days: 09-30, 10-08, 10-09 → due shifts from 09-30 by 3 working days to 10-11.
    assert (resumed.due, resumed.paused_workdays, resumed.paused_on) == (date(2021, 10, 11), 3, None)


@pytest.mark.parametrize(
    ("order_type", "created", "due"),
    [
        # Spring Festival 2021: 02-11..02-17 off, 02-07 (Sun) and 02-20 (Sat) make-up working days.
        (d.OrderType.CONSULT, date(2021, 2, 10), date(2021, 2, 20)),
        (d.OrderType.COMPLAINT, date(2021, 2, 5), date(2021, 3, 3)),
        # National Day 2021: 10-01..10-07 off, 09-26 (Sun) and 10-09 (Sat) make-up.
        (d.OrderType.CONSULT, date(2021, 9, 30), date(2021, 10, 11)),
        (d.OrderType.HELP, date(2021, 9, 25), date(2021, 10, 9)),
        # Spring Festival 2024: 02-10..02-17 off, 02-04 (Sun) and 02-18 (Sun) make-up.
        (d.OrderType.HELP, date(2024, 2, 8), date(2024, 2, 23)),
        # Spring Festival 2025: 01-28..02-04 off, 01-26 (Sun) and 02-08 (Sat) make-up.
        (d.OrderType.CONSULT, date(2025, 1, 27), date(2025, 2, 7)),
        (d.OrderType.CONSULT, date(2025, 2, 5), date(2025, 2, 8)),
        # National Day 2025: 10-01..10-08 off, 09-28 (Sun) and 10-11 (Sat) make-up.
        (d.OrderType.CONSULT, date(2025, 9, 30), date(2025, 10, 11)),
        (d.OrderType.SUGGESTION, date(2025, 9, 26), date(2025, 10, 13)),
    ],
)
def test_due_dates_across_holidays_with_make_up_days(order_type: d.OrderType, created: date, due: date) -> None:
    assert d.initial_due(order_type, created, CAL, LIMITS) == due


def test_limits_are_configurable_and_overrides_move_due_dates() -> None:
    assert d.initial_due(d.OrderType.CONSULT, date(2021, 6, 1), CAL, d.limits_with({"咨询": 5})) == date(2021, 6, 8)
    local = WorkCalendar({date(2021, 6, 2): False})
    assert d.initial_due(d.OrderType.CONSULT, date(2021, 6, 1), local, LIMITS) == date(2021, 6, 7)


def test_sla_states() -> None:
    case = _case(S.HANDLING)
    case.due = date(2021, 6, 4)  # Friday
    assert d.sla_state(case, date(2021, 6, 1), CAL) is d.Sla.ON_TIME
    assert d.sla_state(case, date(2021, 6, 3), CAL) is d.Sla.NEAR_DUE
    assert d.sla_state(case, date(2021, 6, 4), CAL) is d.Sla.NEAR_DUE
    assert d.sla_state(case, date(2021, 6, 7), CAL) is d.Sla.OVERDUE
    answered = dataclasses.replace(case, state=S.ARCHIVED, resolved_on=date(2021, 6, 4))
    assert d.sla_state(answered, date(2021, 7, 1), CAL) is d.Sla.ON_TIME
    late = dataclasses.replace(answered, resolved_on=date(2021, 6, 5))
    assert d.sla_state(late, date(2021, 7, 1), CAL) is d.Sla.OVERDUE


def test_reminders_urge_near_due_and_unsigned_orders_and_supervise_overdue_ones() -> None:
    case = dataclasses.replace(_case(S.HANDLING), due=date(2021, 6, 4), lead_unit="510100-zjj")  # a Friday
    assert d.reminder(case, date(2021, 6, 2), CAL) is None  # two working days left
    near = d.reminder(case, date(2021, 6, 3), CAL)
    assert near is not None and near.action is A.URGE and "2021-06-04" in near.reason
    overdue = d.reminder(case, date(2021, 6, 7), CAL)
    assert overdue is not None and overdue.action is A.SUPERVISE and "已超过办理期限" in overdue.reason
    unsigned = dataclasses.replace(case, state=S.DISPATCHED, accept_due=date(2021, 6, 1))
    late_sign = d.reminder(unsigned, date(2021, 6, 2), CAL)
    assert late_sign is not None and late_sign.action is A.URGE and "签收" in late_sign.reason
    # Nothing for a unit that is not working on the order: returned, paused, answered, or not dispatched.
    for state in (S.RETURNED, S.WAITING_CITIZEN, S.EXTENSION_PENDING, S.RESOLVED, S.ARCHIVED):
        assert d.reminder(dataclasses.replace(case, state=state), date(2021, 6, 7), CAL) is None
    assert d.reminder(dataclasses.replace(case, lead_unit=None), date(2021, 6, 7), CAL) is None


def test_who_sees_contact() -> None:
    complaint, report = d.OrderType.COMPLAINT, d.OrderType.REPORT
    for role in (R.AGENT, R.DISPATCHER, R.ADMIN):
        assert d.sees_contact(role, report, True)
    assert d.sees_contact(R.DEPARTMENT, complaint, False)
    assert not d.sees_contact(R.DEPARTMENT, complaint, True)
    assert not d.sees_contact(R.DEPARTMENT, report, False)
    assert not d.sees_contact(R.SUPERVISOR, complaint, False)
    assert not d.sees_contact(R.CITIZEN, complaint, False)


def test_only_roles_that_see_callers_numbers_may_look_orders_up_by_one() -> None:
    # A search by number tells whether it called: not for those who never see a caller's number.
    assert [r for r in R if d.may_filter_by_phone(r)] == [R.AGENT, R.DISPATCHER, R.DEPARTMENT, R.ADMIN]
    everything = list(d.OrderType)
    assert d.contact_scope(R.DISPATCHER) == {False: everything, True: everything}
    # A handling unit finds only the orders whose caller it sees: not 举报, nothing confidential.
    assert d.contact_scope(R.DEPARTMENT) == {False: [t for t in everything if t is not d.OrderType.REPORT]}
    assert d.contact_scope(R.SUPERVISOR) == {}


def test_merge_guards() -> None:
    cmd = _cmd(A.MERGE, R.DISPATCHER)
    with pytest.raises(Conflict) as closed:
        d.apply(
            _case(S.HANDLING),
            dataclasses.replace(cmd, master_state=S.ARCHIVED),
            today=TODAY,
            calendar=CAL,
            limits=LIMITS,
        )
    assert closed.value.code == "merge-master-closed"
    with pytest.raises(Conflict) as family:
        d.apply(
            dataclasses.replace(_case(S.HANDLING), has_children=True), cmd, today=TODAY, calendar=CAL, limits=LIMITS
        )
    assert family.value.code == "merge-cohandling"
    merged = d.apply(_case(S.HANDLING), cmd, today=TODAY, calendar=CAL, limits=LIMITS).case
    assert (merged.state, merged.master) == (S.MERGED, "5101002021060100001")


def test_accept_overdue_after_the_sign_for_limit() -> None:
    case = _case(S.DISPATCHED)  # accept_due 2021-06-02
    assert not d.accept_overdue(case, date(2021, 6, 2))
    assert d.accept_overdue(case, date(2021, 6, 3))
    assert not d.accept_overdue(dataclasses.replace(case, state=S.HANDLING), date(2021, 6, 3))


def _child(state: S, unit: str = "510107-cgj") -> d.Case:
    return dataclasses.replace(
        _case(state), lead_unit=unit, is_child=True, reply="已配合处理" if state is S.RESOLVED else ""
    )


def test_lead_cannot_be_archived_while_co_handling_open() -> None:
    for state in (S.TO_VISIT, S.VISITED):
        case = dataclasses.replace(_case(state), open_children=1, has_children=True)
        with pytest.raises(d.TransitionNotAllowed) as err:
            d.apply(case, _cmd(A.ARCHIVE, R.SUPERVISOR), today=TODAY, calendar=CAL, limits=LIMITS)
        assert err.value.details["reason"] == "co-handling-open" and "不能归档" in err.value.message


def test_answered_co_handling_orders_are_archived_with_their_lead() -> None:
    lead = d.apply(_case(S.VISITED), _cmd(A.ARCHIVE, R.SUPERVISOR), today=TODAY, calendar=CAL, limits=LIMITS)
    follow = d.follow_lead(_child(S.RESOLVED), lead)
    assert follow is not None
    assert (follow.case.state, follow.case.reply, follow.rule.action) == (S.ARCHIVED, "已配合处理", A.ARCHIVE)
    assert follow.changes == {"state": ["resolved", "archived"]}
    # One still being worked on, or already archived, stays as it is.
    for state in (S.DISPATCHED, S.HANDLING, S.RETURNED, S.ARCHIVED):
        assert d.follow_lead(_child(state), lead) is None
    assert d.follow_note("5101002021060100001", A.ARCHIVE) == "随主办工单 5101002021060100001 归档"


def test_answered_co_handling_orders_are_reopened_with_their_lead() -> None:
    later = date(2021, 6, 15)
    cmd = dataclasses.replace(_cmd(A.REOPEN, R.DISPATCHER), target_unit=None)
    lead = d.apply(_case(S.VISITED), cmd, today=later, calendar=CAL, limits=LIMITS)
    follow = d.follow_lead(_child(S.RESOLVED), lead)
    assert follow is not None
    new = follow.case
    assert (new.state, new.lead_unit, new.reply, new.resolved_on, new.reopen_count) == (
        S.DISPATCHED, "510107-cgj", "", None, 1
    )  # fmt: skip
    assert (new.due, new.accept_due, new.return_due) == (lead.case.due, lead.case.accept_due, lead.case.return_due)
    assert follow.changes["due"] == ["2021-06-22", lead.case.due.isoformat()]
    # A co-handling unit that now leads the order answers as the lead: its co-handling order stays answered.
    to_it = d.apply(_case(S.VISITED), dataclasses.replace(cmd, target_unit="510107-cgj"), today=later,
                    calendar=CAL, limits=LIMITS)  # fmt: skip
    assert d.follow_lead(_child(S.RESOLVED), to_it) is None
    assert d.follow_lead(_child(S.HANDLING), lead) is None
    # Other steps of the lead are not followed.
    passed = d.apply(_case(S.RESOLVED), _cmd(A.REVIEW_PASS, R.SUPERVISOR), today=TODAY, calendar=CAL, limits=LIMITS)
    assert d.follow_lead(_child(S.RESOLVED), passed) is None
    assert d.follow_note("N", A.REOPEN, "市民不满意") == "随主办工单 N 重办：市民不满意"


def test_open_co_handling_orders_take_the_leads_approved_extension() -> None:
    """The lead waits on its co-handling orders: when its 延期 is approved they work to its new deadline, so
    they do not turn overdue while the lead is on time."""
    lead = d.apply(
        _case(S.EXTENSION_PENDING), _cmd(A.APPROVE_EXTENSION, R.SUPERVISOR), today=TODAY, calendar=CAL, limits=LIMITS
    )
    assert lead.case.due == date(2021, 6, 25)  # 2021-06-22 + 3 working days
    for state in (S.DISPATCHED, S.HANDLING, S.RETURNED, S.EXTENSION_PENDING, S.WAITING_CITIZEN):
        child = _child(state)
        follow = d.follow_lead(child, lead)
        assert follow is not None, state
        # Only the deadline moves: its state, its own pending 延期 and its own extension count stay.
        assert follow.changes == {"due": ["2021-06-22", "2021-06-25"]}
        assert (follow.case.state, follow.case.pending_extension, follow.case.extension_count) == (
            state, child.pending_extension, 0
        )  # fmt: skip
        assert (follow.rule.action, follow.rule.source, follow.rule.target) == (A.APPROVE_EXTENSION, state, state)
    # Its own later deadline (its own 延期) is never brought forward; one in between moves to the lead's.
    assert d.follow_lead(dataclasses.replace(_child(S.HANDLING), due=date(2021, 6, 30)), lead) is None
    assert d.follow_lead(dataclasses.replace(_child(S.HANDLING), due=date(2021, 6, 25)), lead) is None
    between = d.follow_lead(dataclasses.replace(_child(S.HANDLING), due=date(2021, 6, 23)), lead)
    assert between is not None and between.case.due == date(2021, 6, 25)
    # An answered one is judged by the deadline it answered under.
    for state in (S.RESOLVED, S.TO_VISIT, S.VISITED, S.ARCHIVED):
        assert d.follow_lead(_child(state), lead) is None
    # A refused 延期 moves nothing.
    refused = d.apply(
        _case(S.EXTENSION_PENDING), _cmd(A.REFUSE_EXTENSION, R.SUPERVISOR), today=TODAY, calendar=CAL, limits=LIMITS
    )
    assert d.follow_lead(_child(S.HANDLING), refused) is None
    assert d.follow_note("N", A.APPROVE_EXTENSION, due=date(2021, 6, 25)) == "随主办工单 N 延期至 2021-06-25"


def test_a_co_handling_order_sent_back_works_to_its_leads_later_deadline() -> None:
    """Answered before the lead's 延期 was approved, it kept its own deadline; sent back (审核退回) it is worked on
    again while the lead waits on it, so it takes the lead's later deadline, never an earlier one."""
    reject = dataclasses.replace(_cmd(A.REVIEW_REJECT, R.SUPERVISOR), lead_due=date(2021, 6, 25))
    sent_back = d.apply(_child(S.RESOLVED), reject, today=TODAY, calendar=CAL, limits=LIMITS)
    assert (sent_back.case.state, sent_back.case.due) == (S.HANDLING, date(2021, 6, 25))
    assert sent_back.changes["due"] == ["2021-06-22", "2021-06-25"]
    earlier = dataclasses.replace(reject, lead_due=date(2021, 6, 21))
    assert d.apply(_child(S.RESOLVED), earlier, today=TODAY, calendar=CAL, limits=LIMITS).case.due == date(2021, 6, 22)
    # A lead sent back keeps its own deadline whatever it is told.
    assert d.apply(_case(S.RESOLVED), reject, today=TODAY, calendar=CAL, limits=LIMITS).case.due == date(2021, 6, 22)


def test_a_unit_co_handles_an_order_once() -> None:
    case = dataclasses.replace(_case(S.VISITED), co_handlers=("a",), has_children=True)
    cmd = dataclasses.replace(_cmd(A.REOPEN, R.DISPATCHER), co_units=("a", "b"))
    assert d.apply(case, cmd, today=TODAY, calendar=CAL, limits=LIMITS).spawn == ("b",)


@pytest.mark.parametrize("action", sorted(d.LEAD_ONLY_ACTIONS))
def test_a_co_handling_order_takes_no_step_of_the_lead_on_its_own(action: A) -> None:
    state = next(s for (s, a) in d.TRANSITIONS if a is action)
    role = sorted(d.TRANSITIONS[state, action].roles)[0]
    with pytest.raises(d.TransitionNotAllowed) as err:
        d.apply(_child(state), _cmd(action, role), today=TODAY, calendar=CAL, limits=LIMITS)
    assert err.value.details["reason"] == "co-handling-follows-lead"
    # The centre may still send a co-handling unit's answer back.
    back = d.apply(_child(S.RESOLVED), _cmd(A.REVIEW_REJECT, R.DISPATCHER), today=TODAY, calendar=CAL, limits=LIMITS)
    assert back.case.state is S.HANDLING


def _allowed_by_table(state: S, action: A, role: R) -> bool:
    try:
        d.rule_for(state, action, role)
    except (d.TransitionNotAllowed, Forbidden):
        return False
    return True


@pytest.mark.parametrize(("state", "role"), list(itertools.product(S, R)))
def test_the_page_offers_exactly_what_the_table_allows(state: S, role: R) -> None:
    unit = UNIT if role is R.DEPARTMENT else ""
    offered = d.available_actions(state, role, unit=unit, lead_unit=UNIT)
    assert offered == [a for a in A if _allowed_by_table(state, a, role)]
    # An order whose guards all hold takes every action offered, and refuses every other one.
    for action in A:
        cmd = _cmd(action, role)
        if action in offered:
            d.apply(_case(state), cmd, today=TODAY, calendar=CAL, limits=LIMITS)
        else:
            with pytest.raises((d.TransitionNotAllowed, Forbidden)):
                d.apply(_case(state), cmd, today=TODAY, calendar=CAL, limits=LIMITS)
    # A co-handling order: the same, less the lead's own steps, which `apply` refuses for it.
    part = d.available_actions(state, role, co_handling=True, unit=unit, lead_unit=UNIT)
    assert part == [a for a in offered if a not in d.LEAD_ONLY_ACTIONS]
    for action in set(offered) - set(part):
        with pytest.raises(d.TransitionNotAllowed) as err:
            d.apply(_child(state, UNIT), _cmd(action, role), today=TODAY, calendar=CAL, limits=LIMITS)
        assert err.value.details["reason"] == "co-handling-follows-lead"


@pytest.mark.parametrize("state", list(S))
def test_a_unit_is_offered_nothing_on_an_order_not_assigned_to_it(state: S) -> None:
    assert d.available_actions(state, R.DEPARTMENT, unit="510100-jyj", lead_unit=UNIT) == []
    assert d.available_actions(state, R.DEPARTMENT, unit="", lead_unit=UNIT) == []
    assert d.available_actions(state, R.DEPARTMENT, unit=UNIT, lead_unit=None) == []


def test_a_unit_is_offered_the_handling_steps_of_its_own_order() -> None:
    offered = d.available_actions(S.HANDLING, R.DEPARTMENT, unit=UNIT, lead_unit=UNIT)
    assert offered == [A.RETURN, A.REQUEST_EXTENSION, A.AWAIT_CITIZEN, A.RESOLVE]
    assert A.DISPATCH not in d.available_actions(S.REGISTERED, R.DEPARTMENT, unit=UNIT, lead_unit=UNIT)


# --- to-do (待办) -------------------------------------------------------------------------------------------------


def _steps_moving_on(state: S, role: R) -> list[A]:
    """What ROLE may do to an order of its own in STATE that moves it on: not a notice (催办, 督办) and not 并单,
    which any open order may take."""
    unit = UNIT if role is R.DEPARTMENT else ""
    offered = d.available_actions(state, role, unit=unit, lead_unit=UNIT)
    return [a for a in offered if a not in d.NOTICE_ACTIONS and a is not A.MERGE]


@pytest.mark.parametrize(("role", "state"), [(r, s) for r, states in d.TODO_STATES.items() for s in states])
def test_a_to_do_lists_only_states_where_the_role_has_a_step_to_take(role: R, state: S) -> None:
    assert _steps_moving_on(state, role), f"{role} has nothing to do on a {state} order"


def test_each_person_has_a_to_do_and_each_line_a_label() -> None:
    assert set(d.TODO_STATES) == set(R) - {R.CITIZEN}
    for states in d.TODO_STATES.values():
        assert states and len(set(states)) == len(states)
        assert all(d.TODO_LABELS[s] for s in states)
    # The orders the centre alone moves on are on someone's list.
    assert S.REGISTERED in d.TODO_STATES[R.DISPATCHER] and S.RETURNED in d.TODO_STATES[R.DISPATCHER]
    assert S.RESOLVED in d.TODO_STATES[R.SUPERVISOR] and S.TO_VISIT in d.TODO_STATES[R.AGENT]


# -- deadlines under a changed calendar ------------------------------------------------------------------------------
def test_a_holiday_entered_after_the_deadline_was_set_gives_the_day_back() -> None:
    before = WorkCalendar()
    # 2099 is not in the package: Monday to Friday. Taken on Monday 01-05 with 3 working days: due Thursday 01-08.
    base, due = date(2099, 1, 5), date(2099, 1, 8)
    assert before.add_workdays(base, 3) == due
    holiday = WorkCalendar({date(2099, 1, 7): False})
    assert d.redated_due(due, base, before, holiday) == date(2099, 1, 9)
    assert d.redated_due(due, base, before, WorkCalendar({date(2099, 1, 12): False})) is None  # after the due date
    assert d.redated_due(due, base, before, WorkCalendar({date(2099, 1, 5): False})) is None  # the day it was taken
    week_off = WorkCalendar({date(2099, 1, day): False for day in range(6, 9)})
    assert d.redated_due(due, base, before, week_off) == date(2099, 1, 13)  # Fri 09, then Mon 12, Tue 13
    # A rest day made a working day does not take a day away: the deadline given stands.
    assert d.redated_due(due, base, before, WorkCalendar({date(2099, 1, 10): True})) is None
    # Undoing the holiday moves nothing back either.
    assert d.redated_due(date(2099, 1, 9), base, holiday, before) is None
