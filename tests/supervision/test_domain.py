import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.calendar.domain import WorkCalendar
from hotline.errors import HotlineError
from hotline.supervision.domain import (
    Giving,
    OrderFacts,
    Rate,
    Step,
    demand_signed_on_time,
    givings,
    order_kpis,
    signed_on_time,
    unit_scores,
)
from hotline.workorders import domain as wo

JUNE_1, JUNE_2, JUNE_3, JUNE_4 = (date(2021, 6, d) for d in range(1, 5))
TODAY = date(2021, 7, 30)
BASE = OrderFacts(
    direct=False,
    dispatched=True,
    accept_due=date(2021, 6, 2),
    accepted_on=date(2021, 6, 1),
    due=date(2021, 6, 22),
    resolved_on=date(2021, 6, 10),
    open_overdue=False,
    returned=False,
    reopened=False,
    visited=True,
    satisfaction="satisfied",
    citizen_resolved=True,
)


def _rates(facts: list[OrderFacts]) -> dict[str, Rate]:
    return {r.key: r for r in order_kpis(facts)}


def test_no_orders_gives_no_rate_rather_than_zero() -> None:
    rates = _rates([])
    assert all(r.value is None and r.meets_target is None for r in rates.values())
    assert set(rates) == {
        "on_time_accept", "on_time_resolve", "overdue", "direct", "knowledge", "callback", "on_time_visit",
        "satisfaction", "resolution", "return", "reopen",
    }  # fmt: skip


def test_each_rate_counts_its_own_population() -> None:
    direct = replace(BASE, direct=True, dispatched=False, accept_due=None, accepted_on=None)
    from_article = replace(direct, from_knowledge=True)
    late_accept = replace(BASE, accepted_on=date(2021, 6, 3), returned=True)
    late_resolve = replace(BASE, resolved_on=date(2021, 6, 23), satisfaction="basic", citizen_resolved=False)
    open_overdue = replace(
        BASE, resolved_on=None, open_overdue=True, visited=False, satisfaction=None, citizen_resolved=None
    )
    reopened = replace(BASE, resolved_on=None, reopened=True, satisfaction="unsatisfied", citizen_resolved=False)
    rates = _rates([BASE, direct, late_accept, late_resolve, open_overdue, reopened, from_article])

    def pair(key: str) -> tuple[int, int]:
        return rates[key].numerator, rates[key].denominator

    assert pair("direct") == (2, 7)
    assert pair("knowledge") == (1, 2)  # of the two direct answers, one from a knowledge article
    assert pair("on_time_accept") == (4, 5)  # dispatched and accepted: all but the direct answers
    assert pair("return") == (1, 5)
    assert pair("on_time_resolve") == (4, 5)  # resolved: BASE, the direct ones, late_accept, late_resolve
    assert pair("overdue") == (2, 7)  # resolved late + open past due
    assert pair("callback") == (5, 5)  # visited among the resolved
    assert pair("satisfaction") == (5, 6)  # satisfied or basic among visited
    assert pair("resolution") == (4, 6)
    assert pair("reopen") == (1, 6)


def test_targets_compare_in_the_right_direction() -> None:
    good = order_kpis([BASE] * 10)
    by_key = {r.key: r for r in good}
    assert by_key["overdue"].value == 0 and by_key["overdue"].meets_target is True
    assert by_key["satisfaction"].meets_target is True
    late = order_kpis([replace(BASE, resolved_on=date(2021, 6, 30))])
    assert {r.key: r for r in late}["overdue"].meets_target is False


def _pair(rate: Rate) -> tuple[int, int]:
    return rate.numerator, rate.denominator


def test_unit_scores_take_returns_from_the_history_and_rank_by_orders() -> None:
    late = replace(BASE, resolved_on=None, open_overdue=True, returned=True)
    given = [
        Giving("A", JUNE_2, accepted_on=JUNE_1),
        Giving("A", JUNE_2, accepted_on=JUNE_1),
        Giving("B", JUNE_2, accepted_on=JUNE_1),
        Giving("B", JUNE_2, returned_on=JUNE_1),
        Giving("C", JUNE_2, accepted_on=JUNE_1),
    ]
    scores = unit_scores({"A": [BASE, late], "B": [BASE]}, given, TODAY)
    assert [s.unit for s in scores] == ["A", "B", "C"]  # C received an order and returned none: still listed
    a, b, c = ({r.key: r for r in s.rates} for s in scores)
    assert scores[0].open_overdue == 1 and _pair(a["overdue"]) == (1, 2)
    # A's order carries a return flag, but the return was B's: the rate follows the history.
    assert _pair(a["return"]) == (0, 2)
    assert _pair(b["return"]) == (1, 2) and b["return"].higher_is_better is False
    assert scores[2].orders == 0 and c["on_time_resolve"].value is None
    # 签收 is judged per giving too: B's returned giving was answered in time, by the 退单.
    assert _pair(b["on_time_accept"]) == (1, 1) and _pair(c["on_time_accept"]) == (1, 1)


def test_the_centre_counts_demands_and_a_unit_its_co_handling_orders_too() -> None:
    # A lead called back once, and its two co-handling orders (answered, never called back on their own).
    lead = BASE
    part = replace(BASE, co_handling=True, visited=False, satisfaction=None, citizen_resolved=None)
    late_part = replace(part, resolved_on=date(2021, 6, 25))
    rates = _rates([lead, part, late_part])
    assert (rates["callback"].numerator, rates["callback"].denominator) == (1, 1)
    assert (rates["on_time_resolve"].numerator, rates["on_time_resolve"].denominator) == (1, 1)
    assert rates["overdue"].denominator == 1 and rates["direct"].denominator == 1
    given = [Giving("co", JUNE_2, accepted_on=JUNE_1)] * 2
    scores = {s.unit: s for s in unit_scores({"lead": [lead], "co": [part, late_part]}, given, TODAY)}
    co = {r.key: r for r in scores["co"].rates}
    assert (scores["co"].orders, scores["co"].co_handling, scores["lead"].co_handling) == (2, 2, 0)
    assert (co["on_time_resolve"].numerator, co["on_time_resolve"].denominator) == (1, 2)
    assert co["satisfaction"].denominator == 0  # only the lead is called back


# -- givings: each time an order reaches a unit ----------------------------------------------------------------


def test_every_dispatch_redispatch_and_reopen_is_a_giving_with_its_own_deadline() -> None:
    steps = [
        Step("create", JUNE_1, {"due": [None, "2021-06-22"]}),
        Step("dispatch", JUNE_1, {"lead_unit": [None, "A"], "accept_due": [None, "2021-06-02"]}),
        Step("accept", JUNE_2),
        Step("resolve", JUNE_3),
        # 重办 to the unit already leading it: the history names no unit, only the fresh deadline.
        Step("reopen", date(2021, 6, 10), {"accept_due": ["2021-06-02", "2021-06-11"]}),
        Step("return", date(2021, 6, 11)),
        # 改派 the same day as the return: the deadline is the same, so not recorded either.
        Step("redispatch", date(2021, 6, 11), {"lead_unit": ["A", "B"]}),
        Step("accept", date(2021, 6, 15)),
    ]
    assert givings(steps, unit="B", accept_due=date(2021, 6, 11)) == [
        Giving("A", JUNE_2, accepted_on=JUNE_2),
        Giving("A", date(2021, 6, 11), returned_on=date(2021, 6, 11)),
        Giving("B", date(2021, 6, 11), accepted_on=date(2021, 6, 15)),
    ]


def test_a_co_handling_order_is_given_at_its_opening_and_when_reopened_with_its_lead() -> None:
    # Its opening records the unit only (it takes its lead's deadline); reopened with the lead, the deadline.
    steps = [
        Step("dispatch", JUNE_1, {"lead_unit": [None, "C"]}),
        Step("accept", JUNE_1),
        Step("resolve", JUNE_2),
        Step(
            "reopen",
            date(2021, 6, 10),
            {"accept_due": ["2021-06-02", "2021-06-11"], "state": ["resolved", "dispatched"]},
        ),
        Step("return", date(2021, 6, 10)),
    ]
    assert givings(steps, unit="C", accept_due=date(2021, 6, 11)) == [
        Giving("C", JUNE_2, accepted_on=JUNE_1),
        Giving("C", date(2021, 6, 11), returned_on=date(2021, 6, 10)),
    ]
    # Never reopened: the deadline of its opening is the order's own.
    assert givings(steps[:1], unit="C", accept_due=JUNE_2) == [Giving("C", JUNE_2)]


def test_a_return_answers_the_giving_it_ends_and_nothing_else() -> None:
    steps = [
        Step("accept", JUNE_1),  # nothing given yet: answers nothing
        Step("return", JUNE_1),
        Step("dispatch", JUNE_1, {"lead_unit": [None, "A"], "accept_due": [None, "2021-06-02"]}),
        Step("accept", JUNE_1),
        Step("return", JUNE_2),  # from 办理中: the giving was signed for, then given back
        Step("return", JUNE_2),  # a second return of the same giving is not another one
        Step("accept", JUNE_3),  # nor is a 签收 after the 退单 ended it
        Step("urge", JUNE_3),
    ]
    assert givings(steps, unit="A", accept_due=JUNE_2) == [Giving("A", JUNE_2, accepted_on=JUNE_1, returned_on=JUNE_2)]
    unsigned = [
        Step("dispatch", JUNE_1, {"lead_unit": [None, "A"], "accept_due": [None, "2021-06-02"]}),
        Step("return", JUNE_2),  # given back without 签收
        Step("accept", JUNE_3),  # after the 退单 ended the giving: not its 签收
        Step("return", JUNE_4),  # nor another 退单
    ]
    assert givings(unsigned, unit="A", accept_due=JUNE_2) == [Giving("A", JUNE_2, returned_on=JUNE_2)]
    assert givings([], unit="A", accept_due=JUNE_2) == []


def test_the_unit_returning_a_reopened_order_stays_within_100_percent() -> None:
    # A returns the order, B handles it, the citizen is unsatisfied, the centre reopens it to A, A returns it
    # again: two returns over two givings (not 200 %, as when a 重办 was not counted as giving it).
    steps = [
        Step("dispatch", JUNE_1, {"lead_unit": [None, "A"], "accept_due": [None, "2021-06-02"]}),
        Step("return", JUNE_1),
        Step("redispatch", JUNE_2, {"lead_unit": ["A", "B"], "accept_due": ["2021-06-02", "2021-06-03"]}),
        Step("accept", JUNE_2),
        Step("reopen", date(2021, 6, 10), {"lead_unit": ["B", "A"], "accept_due": ["2021-06-03", "2021-06-11"]}),
        Step("return", date(2021, 6, 11)),
    ]
    given = givings(steps, unit="A", accept_due=date(2021, 6, 11))
    scores = {s.unit: {r.key: r for r in s.rates} for s in unit_scores({}, given, TODAY)}
    assert _pair(scores["A"]["return"]) == (2, 2) and scores["A"]["return"].value == 1.0
    assert _pair(scores["B"]["return"]) == (0, 1)


@pytest.mark.parametrize(
    ("giving", "today", "verdict"),
    [
        (Giving("A", JUNE_2, accepted_on=JUNE_1), JUNE_1, True),
        (Giving("A", JUNE_2, accepted_on=JUNE_2), TODAY, True),  # on the deadline day
        (Giving("A", JUNE_2, accepted_on=JUNE_3), TODAY, False),
        (Giving("A", JUNE_2, accepted_on=JUNE_3, returned_on=JUNE_4), TODAY, False),  # signed late, then returned
        (Giving("A", JUNE_2), JUNE_2, None),  # not signed yet, still within its deadline: not counted yet
        (Giving("A", JUNE_2), JUNE_3, False),  # not signed and its deadline passed: late, not left out
        (Giving("A", JUNE_2, returned_on=JUNE_2), TODAY, None),  # given back in time: judged by 退单率
        (Giving("A", JUNE_2, returned_on=JUNE_3), TODAY, False),  # held unsigned past its deadline, then returned
        (Giving("A", None), TODAY, None),
    ],
)
def test_a_giving_is_signed_for_on_time_by_its_own_deadline(giving: Giving, today: date, verdict: bool | None) -> None:
    assert signed_on_time(giving, today) is verdict


@pytest.mark.parametrize(
    ("signings", "verdict"),
    [
        ((), None),
        ((None,), None),
        ((True,), True),
        ((True, None), True),
        ((True, False), False),
        ((None, False), False),
    ],
)
def test_a_demand_is_signed_for_late_if_any_giving_of_its_lead_was(
    signings: tuple[bool | None, ...], verdict: bool | None
) -> None:
    assert demand_signed_on_time(signings) is verdict


def test_the_centre_judges_a_demands_signing_by_its_givings_and_a_feed_by_its_first_signing() -> None:
    # The first 签收 was in time, but the reopened order was signed for late: the demand was signed for late.
    reopened = replace(BASE, signings=(True, False))
    waiting = replace(BASE, accepted_on=None, resolved_on=None, signings=(None,))  # within its deadline
    never = replace(BASE, accepted_on=None, resolved_on=None, signings=(False,))  # deadline passed
    on_time = replace(BASE, signings=(True,))
    assert _pair(_rates([on_time, reopened, waiting, never])["on_time_accept"]) == (1, 3)
    # A sub-centre's feed has no history: its first 签收 against its deadline, as delivered.
    feeds = [BASE, replace(BASE, accepted_on=JUNE_3), replace(BASE, accepted_on=None)]
    assert _pair(_rates(feeds)["on_time_accept"]) == (1, 2)
    assert _pair(_rates([replace(BASE, signings=(True, True))])["on_time_accept"]) == (1, 1)


# -- properties over any history and over random lifecycles ----------------------------------------------------

_DAYS = st.dates(min_value=date(2021, 6, 1), max_value=date(2021, 7, 31))
_UNITS = st.sampled_from(["A", "B", "C"])
_CHANGE = st.one_of(st.none(), st.tuples(st.none() | _UNITS, st.none() | _UNITS).map(list))
_DUE = st.one_of(st.none(), st.tuples(st.none() | _DAYS.map(date.isoformat), _DAYS.map(date.isoformat)).map(list))
_ANY_STEP = st.builds(
    lambda action, on, unit, due: Step(
        action, on, {k: v for k, v in (("lead_unit", unit), ("accept_due", due)) if v is not None}
    ),
    st.sampled_from(["create", "dispatch", "redispatch", "reopen", "accept", "return", "resolve", "urge", "merge"]),
    _DAYS,
    _CHANGE,
    _DUE,
)


@settings(max_examples=300, deadline=None)
@given(
    histories=st.lists(st.tuples(st.lists(_ANY_STEP, max_size=12), st.none() | _UNITS, st.none() | _DAYS), max_size=6),
    today=_DAYS,
)
def test_rates_stay_between_0_and_100_percent_for_any_history(
    histories: list[tuple[list[Step], str | None, date | None]], today: date
) -> None:
    given_all = [g for steps, unit, due in histories for g in givings(steps, unit=unit, accept_due=due)]
    for steps, unit, due in histories:
        found = givings(steps, unit=unit, accept_due=due)
        assert len(found) <= sum(1 for s in steps if s.action in ("dispatch", "redispatch", "reopen"))
        assert sum(1 for g in found if g.returned_on) <= sum(1 for s in steps if s.action == "return")
    for score in unit_scores({}, given_all, today):
        for rate in score.rates:
            assert 0 <= rate.numerator <= rate.denominator
            assert rate.value is None or 0.0 <= rate.value <= 1.0


CAL = WorkCalendar()
LIMITS = wo.limits_with({})
LIFE_UNITS = ("u1", "u2", "u3")
# Steps along the loop to 重办 and 归档 (direct answers and detours are taken too, less often): a walk of
# uniform choices seldom gets a family called back and reopened.
_FORWARD = frozenset(
    {
        wo.Action.DISPATCH, wo.Action.REDISPATCH, wo.Action.ACCEPT, wo.Action.RESUME, wo.Action.RESOLVE,
        wo.Action.REVIEW_PASS, wo.Action.CALLBACK, wo.Action.REOPEN, wo.Action.ARCHIVE, wo.Action.RETURN,
    }
)  # fmt: skip


@dataclass
class _Walked:
    """One order of a random lifecycle: its snapshot, its history as the KPIs read it, and every giving as
    the walk saw it happen (the unit and deadline the order had right after it)."""

    case: wo.Case
    parent: str | None
    steps: list[Step] = field(default_factory=list)
    seen: list[Giving] = field(default_factory=list)
    kids: list[str] = field(default_factory=list)
    opened_by: str = ""  # a co-handling order: the lead's step that opened it


def _walk(rnd: random.Random, n: int) -> dict[str, _Walked]:
    """N random steps over a few orders through the work-order domain (`apply`, `follow_lead`, `child_case`),
    mostly along allowed transitions, recording what the store records (docs/workorders.md)."""
    today = date(2021, 9, 24)
    orders: dict[str, _Walked] = {}
    for _ in range(n):
        if not orders or rnd.random() < 0.08:
            case = wo.Case(
                type=wo.OrderType.HELP,
                state=wo.State.REGISTERED,
                due=wo.initial_due(wo.OrderType.HELP, today, CAL, LIMITS),
            )
            orders[f"N{len(orders)}"] = _Walked(case, None)
            continue
        if rnd.random() < 0.15:
            today += timedelta(days=rnd.randint(1, 3))
        number = rnd.choice(sorted(orders))
        order = orders[number]
        case = replace(
            order.case,
            is_child=order.parent is not None,
            has_children=bool(order.kids),
            open_children=sum(1 for k in order.kids if orders[k].case.state in wo.OPEN_STATES),
            co_handlers=tuple(u for k in order.kids if (u := orders[k].case.lead_unit)),
        )
        options = [
            r for (state, _a), r in wo.TRANSITIONS.items() if state is case.state and r.action is not wo.Action.MERGE
        ]
        if not options:
            continue
        forward = [r for r in options if r.action in _FORWARD]
        if forward and rnd.random() < 0.7:
            rule = rnd.choice(forward)
            action, role = rule.action, rnd.choice(sorted(rule.roles))
        elif rnd.random() < 0.9:
            rule = rnd.choice(options)
            action, role = rule.action, rnd.choice(sorted(rule.roles))
        else:
            action, role = rnd.choice(list(wo.Action)), rnd.choice(list(wo.Role))
        cmd = wo.Command(
            action=action,
            role=role,
            unit=(case.lead_unit or "") if role is wo.Role.DEPARTMENT else "",
            reason="理由",
            target_unit=rnd.choice(LIFE_UNITS),
            co_units=rnd.choice([(), (), ("u1",), ("u2", "u3")]),
            days=2,
            reply="答复",
            satisfaction=rnd.choice(list(wo.Satisfaction)),
            citizen_resolved=rnd.random() < 0.3,
        )
        try:
            step = wo.apply(case, cmd, today=today, calendar=CAL, limits=LIMITS)
        except HotlineError:
            continue
        new = step.case
        order.case = replace(new, open_children=0, has_children=False, is_child=False, co_handlers=())
        order.steps.append(Step(action.value, today, step.changes))
        _saw(order, action, new, today)
        for kid in order.kids:
            follow = wo.follow_lead(orders[kid].case, step)
            if follow is not None:
                orders[kid].case = follow.case
                orders[kid].steps.append(Step(action.value, today, follow.changes))
                _saw(orders[kid], action, follow.case, today)
        for unit in step.spawn:
            child = f"{number}-{len(order.kids) + 1:02d}"
            opened = _Walked(wo.child_case(new, unit), number, opened_by=action.value)
            # The service records a co-handling order's opening as a 派单 naming only its unit.
            opened.steps.append(Step("dispatch", today, {"lead_unit": [None, unit]}))
            opened.seen.append(Giving(unit, new.accept_due))
            orders[child] = opened
            order.kids.append(child)
    return orders


def _saw(order: _Walked, action: wo.Action, after: wo.Case, today: date) -> None:
    if action in (wo.Action.DISPATCH, wo.Action.REDISPATCH, wo.Action.REOPEN):
        assert after.lead_unit is not None
        order.seen.append(Giving(after.lead_unit, after.accept_due))
    elif action is wo.Action.ACCEPT:
        order.seen[-1] = order.seen[-1]._replace(accepted_on=today)
    elif action is wo.Action.RETURN:
        order.seen[-1] = order.seen[-1]._replace(returned_on=today)


@settings(max_examples=200, deadline=None)
@given(rnd=st.randoms(use_true_random=True), n=st.integers(1, 150))
def test_random_lifecycles_give_every_giving_once_and_rates_within_bounds(rnd: random.Random, n: int) -> None:
    orders = _walk(rnd, n)
    for order in orders.values():
        assert givings(order.steps, unit=order.case.lead_unit, accept_due=order.case.accept_due) == order.seen
    today = date(2021, 9, 24) + timedelta(days=rnd.randint(0, 60))
    for score in unit_scores({}, [g for o in orders.values() for g in o.seen], today):
        for rate in score.rates:
            assert 0 <= rate.numerator <= rate.denominator


def test_the_random_lifecycles_reach_the_givings_that_matter() -> None:
    """The walk above is worth its examples only if it reaches reopens (of leads and with them of their
    co-handling orders), returns after 签收 and co-handling orders opened at a reopen."""
    reached: Counter[str] = Counter()
    for seed in range(40):
        for order in _walk(random.Random(seed), 150).values():
            actions = [s.action for s in order.steps]
            reached["lead reopened"] += order.parent is None and "reopen" in actions
            reached["co-handling reopened with its lead"] += order.parent is not None and "reopen" in actions
            reached["returned after 签收"] += any(g.accepted_on and g.returned_on for g in order.seen)
            reached["reopened to the same unit"] += any(
                s.action == "reopen" and "lead_unit" not in s.changes for s in order.steps
            )
            reached["same-day second giving"] += any(
                s.action in ("redispatch", "reopen") and "accept_due" not in s.changes for s in order.steps
            )
            reached["co-handling order opened at a reopen"] += order.opened_by == "reopen"
    assert all(reached[k] > 0 for k in reached) and len(reached) == 6, reached
