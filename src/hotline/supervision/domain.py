"""Work-order KPIs (指标) as cities define them. Pure: facts in, rates out.

A rate is None when its denominator is empty: no orders is not a 0 % (or 100 %) service level.
Targets are the defaults of domain.md (local rules); an administrator's own targets can be passed in.

The centre's KPIs count citizens' demands (`order_kpis`): a co-handling (协办) order is part of its lead's
demand (its reply goes into the lead's, which is reviewed, called back, archived and reopened for all of them),
so it is left out there, as merged duplicates are. A handling unit's assessment (`unit_scores`) counts the
co-handling orders it was given: their 签收, 办结 and 超期 are that unit's own doing.

签收 and 退单 are judged per giving (`Giving`, read from the history by `givings`): each time an order reaches a
unit it has its own 签收 deadline, and a 退单 answers the giving it ends, so a unit's 退单率 never exceeds 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, NamedTuple


@dataclass(frozen=True)
class OrderFacts:
    """What the KPIs need to know about one work order (merged duplicates are left out by the caller)."""

    direct: bool  # 直接办结: answered on the call
    dispatched: bool
    accept_due: date | None
    accepted_on: date | None  # first 签收
    due: date
    resolved_on: date | None  # 办结 (or 直接办结)
    open_overdue: bool  # still open and past its due date today
    returned: bool  # 退单 at least once
    reopened: bool  # 重办 at least once
    visited: bool  # 回访 done
    satisfaction: str | None  # satisfied | basic | unsatisfied
    citizen_resolved: bool | None
    from_knowledge: bool = False  # a direct answer taken from a knowledge article (答复依据)
    co_handling: bool = False  # a co-handling (协办) order: part of its lead's demand, not a demand of its own
    # The 签收 verdict of each giving (`signed_on_time`) when the history is known; a feed (docs/aggregation.md)
    # carries only its first 签收 and deadline (accepted_on, accept_due), which are compared instead.
    signings: tuple[bool | None, ...] | None = None
    # 回访时限 of its latest callback round and the day that callback was made (None: no deadline was set, as on
    # orders from before the platform set them and on feeds, or no callback yet): 按时回访率.
    visit_due: date | None = None
    visited_on: date | None = None


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    numerator: int
    denominator: int
    target: float | None = None
    higher_is_better: bool = True

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def meets_target(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "target": self.target,
            "meets_target": self.meets_target,
        }


LABELS = {
    "on_time_accept": "按时签收率",
    "on_time_resolve": "按时办结率",
    "overdue": "超期率",
    "direct": "直接办结率",
    "knowledge": "知识库引用率",
    "callback": "回访率",
    "on_time_visit": "按时回访率",
    "satisfaction": "满意率",
    "resolution": "解决率",
    "return": "退单率",
    "reopen": "重办率",
}
LOWER_IS_BETTER = frozenset({"overdue", "return", "reopen"})
DEFAULT_TARGETS: Mapping[str, float] = {"overdue": 0.0001, "satisfaction": 0.95, "on_time_resolve": 0.99}


# --- givings: each time an order reaches a unit -------------------------------------------------------------

# History actions that give an order to a unit: 派单 (also a co-handling order's opening), 改派, 重办 (also a
# co-handling order reopened with its lead). Each leaves the order 已派单（待签收） at that unit.
GIVING_ACTIONS = frozenset({"dispatch", "redispatch", "reopen"})
ACCEPT, RETURN = "accept", "return"


# Step and Giving are named tuples: a month's report reads tens of thousands of each, and a frozen dataclass
# costs several times as much to make.
class Step(NamedTuple):
    """One history entry (`wo_history`) as the KPIs read it, in the order's sequence."""

    action: str
    on: date  # China day
    changes: Mapping[str, Any] = MappingProxyType({})  # field -> [before, after]


class Giving(NamedTuple):
    """One time an order reached a unit, with its own 签收 deadline and how the unit answered it."""

    unit: str
    accept_due: date | None
    accepted_on: date | None = None  # its 签收
    returned_on: date | None = None  # the 退单 that ended it (before or after 签收)


def givings(steps: Sequence[Step], *, unit: str | None, accept_due: date | None) -> list[Giving]:
    """Every giving of one order, in order, from its history STEPS (in sequence; at least every giving, 签收
    and 退单), UNIT and ACCEPT_DUE being the order's lead unit and 签收 deadline now.

    A step records a field only when it changes it: a 重办 to the unit already leading the order does not
    name the unit, a co-handling order's opening does not record the deadline it takes from its lead, and a
    second giving on the same day keeps the deadline. So the value in effect after a step is the one the next
    recorded change started from, or the order's present one.

    A 签收 or 退单 answers the giving still open (a 退单 ends it); one with no giving open answers nothing.
    """
    after: list[tuple[str | None, date | None]] = [(unit, accept_due)] * len(steps)
    for i in range(len(steps) - 1, 0, -1):
        changes = steps[i].changes
        if changes:
            unit = _before(changes, "lead_unit", unit)
            accept_due = _day(_before(changes, "accept_due", accept_due))
        after[i - 1] = (unit, accept_due)
    found: list[Giving] = []
    open_ = False  # the last giving is still waiting for its 签收 or 退单
    for (action, on, _), (to, due) in zip(steps, after, strict=True):
        if action in GIVING_ACTIONS:
            open_ = to is not None
            if to is not None:
                found.append(Giving(to, due))
        elif open_ and action == ACCEPT and found[-1].accepted_on is None:
            found[-1] = found[-1]._replace(accepted_on=on)
        elif open_ and action == RETURN:
            found[-1] = found[-1]._replace(returned_on=on)
            open_ = False
    return found


def _before(changes: Mapping[str, Any], name: str, current: Any) -> Any:
    change = changes.get(name)
    return change[0] if isinstance(change, (list, tuple)) and len(change) == 2 else current


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def signed_on_time(giving: Giving, today: date) -> bool | None:
    """Was GIVING signed for (签收) by its own deadline? True on time; False signed late, or not signed while its
    deadline passed (still waiting on TODAY, or given back by a 退单 after it); None not judged: still within
    its deadline, or given back by a 退单 within it (the unit answered in time, by refusing: its 退单率 judges
    that)."""
    if giving.accept_due is None:
        return None
    if giving.accepted_on is not None:
        return giving.accepted_on <= giving.accept_due
    answered = giving.returned_on or today
    return False if answered > giving.accept_due else None


def demand_signed_on_time(signings: Iterable[bool | None]) -> bool | None:
    """A demand's 签收, over its lead order's givings judged so far: late if one was late, else on time if one
    was signed for on time, else not judged yet."""
    verdicts = [v for v in signings if v is not None]
    return all(verdicts) if verdicts else None


def demands(facts: Iterable[OrderFacts]) -> list[OrderFacts]:
    """The orders that are citizens' demands: lead and standalone orders, not co-handling ones."""
    return [f for f in facts if not f.co_handling]


def order_kpis(facts: Iterable[OrderFacts], targets: Mapping[str, float] = DEFAULT_TARGETS) -> list[Rate]:
    """The centre's KPIs over the demands among FACTS (`demands`): each rate counts a demand once, by its lead
    order, however many units co-handle it. A co-handling unit's own 签收, 退单 and 办结 are judged in its
    assessment (`unit_scores`); the lead cannot be 办结 before them, so a late co-handler makes the demand late."""
    return _rates(demands(facts), targets)


def _rates(items: Sequence[OrderFacts], targets: Mapping[str, float]) -> list[Rate]:
    dispatched = [f for f in items if f.dispatched]
    accepts = [v for f in dispatched if (v := _accept_verdict(f)) is not None]
    resolved = [f for f in items if f.resolved_on is not None]
    resolved_late = [f for f in resolved if f.resolved_on is not None and f.resolved_on > f.due]
    visited = [f for f in items if f.visited]
    # (callback day, 回访时限) of the callbacks made with a deadline.
    timed_visits = [(f.visited_on, f.visit_due) for f in visited if f.visited_on and f.visit_due]
    counts = {
        "on_time_accept": (sum(accepts), len(accepts)),
        "on_time_resolve": (len(resolved) - len(resolved_late), len(resolved)),
        "overdue": (len(resolved_late) + sum(1 for f in items if f.open_overdue), len(items)),
        "direct": (sum(1 for f in items if f.direct), len(items)),
        # Of the demands answered on the call, how many the agent answered from a knowledge article.
        "knowledge": (sum(1 for f in items if f.direct and f.from_knowledge), sum(1 for f in items if f.direct)),
        "callback": (sum(1 for f in resolved if f.visited), len(resolved)),
        # Of the callbacks made with a 回访时限 (a local rule), how many were made by it.
        "on_time_visit": (sum(1 for made, due in timed_visits if made <= due), len(timed_visits)),
        "satisfaction": (sum(1 for f in visited if f.satisfaction in ("satisfied", "basic")), len(visited)),
        "resolution": (
            sum(1 for f in visited if f.citizen_resolved),
            sum(1 for f in visited if f.citizen_resolved is not None),
        ),
        "return": (sum(1 for f in dispatched if f.returned), len(dispatched)),
        # A reopened order is counted even while it is being handled again (it was resolved once).
        "reopen": (sum(1 for f in items if f.reopened), sum(1 for f in items if f.reopened or f.resolved_on)),
    }
    return [
        Rate(key, LABELS[key], num, den, targets.get(key), key not in LOWER_IS_BETTER)
        for key, (num, den) in counts.items()
    ]


def _accept_verdict(facts: OrderFacts) -> bool | None:
    if facts.signings is not None:
        return demand_signed_on_time(facts.signings)
    if facts.accepted_on is None or facts.accept_due is None:
        return None
    return facts.accepted_on <= facts.accept_due


# The rates a handling unit is assessed on (承办单位考核), in the order a supervisor reads them.
UNIT_KEYS = ("on_time_accept", "on_time_resolve", "overdue", "satisfaction", "return")


@dataclass(frozen=True)
class UnitScore:
    unit: str
    orders: int  # orders it handles: those it leads and those it co-handles
    co_handling: int  # of those, co-handling (协办) orders
    open_overdue: int  # of those, still open past their due date
    rates: list[Rate]

    def to_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "orders": self.orders,
            "co_handling": self.co_handling,
            "open_overdue": self.open_overdue,
            "kpis": [r.to_dict() for r in self.rates],
        }


def unit_scores(
    led: Mapping[str, Sequence[OrderFacts]],
    given: Iterable[Giving],
    today: date,
    targets: Mapping[str, float] = DEFAULT_TARGETS,
) -> list[UnitScore]:
    """Each unit's assessment: the orders it handles now (LED), co-handling ones included (办结, 超期, 满意 are its
    own doing; only a lead order is called back, so 满意 is over the orders it leads), and from the history
    every giving to it (GIVEN, of the same orders), since an order it returned is led by another unit by
    then: 按时签收率 over the givings judged on TODAY (`signed_on_time`), 退单率 the givings it ended by a 退单
    over all its givings. Most orders first, then by unit."""
    by_unit: dict[str, list[Giving]] = {}
    for giving in given:
        by_unit.setdefault(giving.unit, []).append(giving)
    scores = []
    for unit in sorted(set(led) | set(by_unit)):
        items = led.get(unit, ())
        own = {r.key: r for r in _rates(items, targets)}
        received = by_unit.get(unit, [])
        signed = [v for g in received if (v := signed_on_time(g, today)) is not None]
        own["on_time_accept"] = Rate("on_time_accept", LABELS["on_time_accept"], sum(signed), len(signed),
                                     targets.get("on_time_accept"))  # fmt: skip
        own["return"] = Rate("return", LABELS["return"], sum(1 for g in received if g.returned_on), len(received),
                             targets.get("return"), higher_is_better=False)  # fmt: skip
        co_handling = sum(1 for f in items if f.co_handling)
        open_overdue = sum(1 for f in items if f.open_overdue)
        scores.append(UnitScore(unit, len(items), co_handling, open_overdue, [own[key] for key in UNIT_KEYS]))
    return sorted(scores, key=lambda s: -s.orders)
