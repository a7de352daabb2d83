"""Hypothesis stateful tests of the lifecycle's invariants: domain-level (fast, many steps) and store-level."""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from hotline.calendar.domain import WorkCalendar
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.workorders import domain as d
from hotline.workorders import service
from hotline.workorders.store import History, Order

CAL = WorkCalendar()
LIMITS = d.limits_with({})
UNITS = ("u1", "u2", "u3")
# Steps along the loop towards 归档 (and back by 审核退回 and 重办), without notices or detours.
_FORWARD = frozenset(
    {
        d.Action.DISPATCH, d.Action.REDISPATCH, d.Action.ACCEPT, d.Action.RESUME, d.Action.APPROVE_EXTENSION,
        d.Action.RESOLVE, d.Action.REVIEW_PASS, d.Action.REVIEW_REJECT, d.Action.CALLBACK, d.Action.REOPEN,
        d.Action.ARCHIVE,
    }
)  # fmt: skip


def _follow(cases: dict[str, d.Case], number: str) -> str:
    seen = set()
    while cases[number].state is d.State.MERGED and number not in seen:
        seen.add(number)
        number = cases[number].master or number
    return number


class LifecycleMachine(RuleBasedStateMachine):
    """Drives many orders through random actions by random roles; checks what must always hold."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.today = date(2021, 9, 24)
        self.cases: dict[str, d.Case] = {}
        self.parent: dict[str, str | None] = {}
        self.children: dict[str, list[str]] = {}
        self.history: dict[str, list[tuple[str, str, str, date]]] = {}
        self.due_floor: dict[str, date] = {}
        self.count = 0

    def _new(self, number: str, case: d.Case, parent: str | None) -> str:
        self.cases[number] = case
        self.parent[number] = parent
        self.children[number] = []
        self.history[number] = [("create", "", case.state.value, self.today)]
        self.due_floor[number] = case.due
        return number

    @rule(target=orders, order_type=st.sampled_from(list(d.OrderType)))
    def create(self, order_type: d.OrderType) -> str:
        self.count += 1
        case = d.Case(type=order_type, state=d.State.REGISTERED, due=d.initial_due(order_type, self.today, CAL, LIMITS))
        return self._new(f"N{self.count}", case, None)

    @rule(days=st.integers(0, 4))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    def _open_children(self, number: str) -> int:
        return sum(1 for k in self.children[number] if self.cases[k].state in d.OPEN_STATES)

    @precondition(lambda self: bool(self.cases))
    @rule(rnd=st.randoms(use_true_random=True), steps=st.integers(1, 25))
    def walk(self, rnd: random.Random, steps: int) -> None:
        """A random walk over the orders (leads and co-handling ones), mostly along allowed transitions.

        Choices come from a seeded random.Random drawn by Hypothesis: uniform over the options, where plain
        draws would favour the first option of every list and rarely reach deep states.
        """
        for _ in range(steps):
            if rnd.random() < 0.1:
                self.today += timedelta(days=rnd.randint(0, 3))
            self._act(rnd.choice(sorted(self.cases)), rnd, rnd.random() < 0.85)

    @precondition(lambda self: bool(self.cases))
    @rule(rnd=st.randoms(use_true_random=True), pick_allowed=st.booleans())
    def act(self, rnd: random.Random, pick_allowed: bool) -> None:
        self._act(rnd.choice(sorted(self.cases)), rnd, pick_allowed)

    @precondition(lambda self: bool(self.cases))
    @rule(rnd=st.randoms(use_true_random=True))
    def close_loop(self, rnd: random.Random) -> None:
        """One lead and its co-handling orders taken along the loop: random walks seldom get a family to 归档."""
        lead = rnd.choice(sorted(n for n, parent in self.parent.items() if parent is None))
        for _ in range(40):
            self._act(rnd.choice([lead, *self.children[lead]]), rnd, True, forward=True)

    def _act(self, number: str, rnd: random.Random, pick_allowed: bool, *, forward: bool = False) -> None:
        case = self.cases[number]
        kids = self.children[number]
        case = dataclasses.replace(
            case,
            open_children=self._open_children(number),
            has_children=bool(kids),
            is_child=self.parent[number] is not None,
            co_handlers=tuple(u for k in kids if (u := self.cases[k].lead_unit)),
        )
        if pick_allowed:
            options = [r for (s, _a), r in d.TRANSITIONS.items() if s is case.state]
            if forward:
                options = [r for r in options if r.action in _FORWARD] or options
            if not options:
                return
            chosen = rnd.choice(options)
            action, role = chosen.action, rnd.choice(sorted(chosen.roles))
        else:
            action, role = rnd.choice(list(d.Action)), rnd.choice(list(d.Role))
        lead = case.lead_unit or ""
        master = _follow(self.cases, rnd.choice(sorted(self.cases)))
        cmd = d.Command(
            action=action,
            role=role,
            unit=rnd.choice([lead, lead, lead, *UNITS]) if role is d.Role.DEPARTMENT else "",
            reason=rnd.choice(["", "理由", "理由"]),
            target_unit=rnd.choice(UNITS),
            co_units=rnd.choice([(), (), (), ("u1",), ("u2", "u3")]),
            days=rnd.randint(0, 5),
            reply=rnd.choice(["", "答复", "答复"]),
            satisfaction=rnd.choice(list(d.Satisfaction)),
            citizen_resolved=rnd.random() < 0.5,
            master=master if master != number else None,
            master_state=self.cases[master].state,
        )
        before = case
        try:
            step = d.apply(case, cmd, today=self.today, calendar=CAL, limits=LIMITS)
        except d.TransitionNotAllowed as exc:
            if exc.details.get("reason") == "co-handling-open":
                assert before.open_children > 0
            elif exc.details.get("reason") == "co-handling-follows-lead":
                assert before.is_child and action in d.LEAD_ONLY_ACTIONS
            else:
                assert (case.state, action) not in d.TRANSITIONS
            return
        except HotlineError:
            return
        new = step.case
        # A lead order is never resolved while one of its co-handling orders is open.
        if action is d.Action.RESOLVE:
            assert self._open_children(number) == 0
        # An extension or the end of a pause never brings the due date forward.
        if action in (d.Action.APPROVE_EXTENSION, d.Action.RESUME):
            assert new.due >= before.due
        if action is not d.Action.REOPEN:
            assert new.due >= self.due_floor[number]
        self.due_floor[number] = new.due if action is d.Action.REOPEN else max(self.due_floor[number], new.due)
        self.cases[number] = dataclasses.replace(new, open_children=0, has_children=False, is_child=False)
        self.history[number].append((action.value, before.state.value, new.state.value, self.today))
        # A unit co-handles an order once, whatever the centre names again.
        assert not set(step.spawn) & set(before.co_handlers)
        for kid in kids:
            follow = d.follow_lead(self.cases[kid], step)
            if follow is not None:
                self.history[kid].append(
                    (action.value, self.cases[kid].state.value, follow.case.state.value, self.today)
                )
                self.cases[kid] = follow.case
                self.due_floor[kid] = follow.case.due
        # The lead waits on its open co-handling orders: an approved 延期 gives them at least its new deadline.
        if action is d.Action.APPROVE_EXTENSION:
            for kid in kids:
                if self.cases[kid].state in d.OPEN_STATES:
                    assert self.cases[kid].due >= new.due
        for unit in step.spawn:
            self.count += 1
            child = f"{number}-{self.count}"
            self._new(child, d.child_case(new, unit), number)
            self.children[number].append(child)

    @invariant()
    def history_is_complete_and_ordered(self) -> None:
        for number, entries in self.history.items():
            assert entries[0][0] == "create" and entries[0][1] == ""
            for earlier, later in itertools.pairwise(entries):
                assert earlier[2] == later[1]
                assert earlier[3] <= later[3]
            assert entries[-1][2] == self.cases[number].state.value

    @invariant()
    def merged_orders_follow_an_open_or_later_master(self) -> None:
        for number, case in self.cases.items():
            if case.state is d.State.MERGED:
                root = _follow(self.cases, number)
                assert root != number and self.cases[root].state is not d.State.MERGED
                assert not self.children[number] and self.parent[number] is None

    @invariant()
    def co_handling_orders_follow_their_lead(self) -> None:
        for number, parent in self.parent.items():
            if parent is None:
                continue
            # Archived when, and only when, its lead is; never called back on its own.
            child = self.cases[number]
            assert (child.state is d.State.ARCHIVED) == (self.cases[parent].state is d.State.ARCHIVED)
            assert child.satisfaction is None

    @invariant()
    def children_never_have_children(self) -> None:
        for number, parent in self.parent.items():
            if parent is not None:
                assert not self.children[number]


TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)


# --- store level --------------------------------------------------------------------------------------------------


class StoreMachine(RuleBasedStateMachine):
    """The same loop through the service and a real database; checks what the store keeps."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.at = datetime(2021, 9, 24, 2, 0, tzinfo=UTC)
        self.mine: list[int] = []

    @initialize()
    def units(self) -> None:
        with session_scope() as session:
            for code in UNITS:
                service.add_unit(session, code, f"单位{code}", "department", region_code="510100")

    @rule(target=orders, order_type=st.sampled_from(list(d.OrderType)))
    def create(self, order_type: d.OrderType) -> str:
        with session_scope() as session:
            order = service.create_order(
                session, type=order_type.value, content="路灯不亮", phone="13800001234", region="510100", at=self.at
            )
            session.flush()
            self.mine.append(order.id)
            return order.number

    @rule(number=orders, data=st.data())
    def act(self, number: str, data: st.DataObject) -> None:
        self.at += timedelta(hours=data.draw(st.integers(1, 60)))
        with session_scope() as session:
            order = service.get_order(session, number)
            options = [r for (s, _a), r in d.TRANSITIONS.items() if s.value == order.state]
            if not options:
                return
            chosen = data.draw(st.sampled_from(options))
            role = data.draw(st.sampled_from(sorted(chosen.roles)))
            others = list(session.scalars(select(Order.number).where(Order.id.in_(self.mine), Order.number != number)))
            before_due = order.due
            try:
                service.act(
                    session,
                    number,
                    chosen.action.value,
                    role=role.value,
                    unit=order.lead_unit.code if order.lead_unit else "",
                    reason="理由",
                    at=self.at,
                    target_unit=data.draw(st.sampled_from(UNITS)),
                    co_units=data.draw(st.lists(st.sampled_from(UNITS), max_size=1)),
                    days=2,
                    reply="答复",
                    satisfaction=data.draw(st.sampled_from(list(d.Satisfaction))).value,
                    citizen_resolved=data.draw(st.booleans()),
                    master=data.draw(st.sampled_from(others)) if others else None,
                )
            except HotlineError:
                session.rollback()
                return
            if chosen.action in (d.Action.APPROVE_EXTENSION, d.Action.RESUME):
                assert order.due >= before_due
            if chosen.action is d.Action.APPROVE_EXTENSION:
                for kid in session.scalars(select(Order).where(Order.parent_id == order.id)):
                    if d.State(kid.state) in d.OPEN_STATES:
                        assert kid.due >= order.due

    @invariant()
    def store_keeps_every_transition(self) -> None:
        with session_scope() as session:
            mine = select(Order).where(Order.id.in_(self.mine) | Order.parent_id.in_(self.mine))
            for order in session.scalars(mine):
                rows = session.scalars(select(History).where(History.order_id == order.id).order_by(History.seq)).all()
                assert [h.seq for h in rows] == list(range(1, len(rows) + 1))
                assert len(rows) == order.history_count == order.version
                for earlier, later in itertools.pairwise(rows):
                    assert earlier.to_state == later.from_state and earlier.at <= later.at
                assert rows[-1].to_state == order.state
                if order.state == d.State.MERGED.value:
                    master = session.get(Order, order.master_id)
                    assert master is not None and master.id != order.id
                if order.parent_id is not None:
                    lead = session.get(Order, order.parent_id)
                    assert lead is not None
                    assert (order.state == d.State.ARCHIVED.value) == (lead.state == d.State.ARCHIVED.value)
                if order.parent_id is None and order.state == d.State.RESOLVED.value:
                    resolve = [h for h in rows if h.action == "resolve"][-1]
                    kids = session.scalars(select(Order).where(Order.parent_id == order.id)).all()
                    for kid in kids:
                        closing = session.scalars(
                            select(History)
                            .where(History.order_id == kid.id, History.at <= resolve.at)
                            .order_by(History.seq)
                        ).all()
                        assert d.State(closing[-1].to_state) not in d.OPEN_STATES


def test_store_lifecycle_invariants(db_url: str) -> None:
    run_state_machine_as_test(
        StoreMachine,
        settings=settings(
            max_examples=6, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
