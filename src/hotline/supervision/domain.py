"""Work-order KPIs (指标) as cities define them. Pure: facts in, rates out.

A rate is None when its denominator is empty: no orders is not a 0 % (or 100 %) service level.
Targets are the defaults of domain.md (local rules); an administrator's own targets can be passed in.

The centre's KPIs count citizens' demands (`order_kpis`): a co-handling (协办) order is part of its lead's
demand (its reply goes into the lead's, which is reviewed, called back, archived and reopened for all of them),
so it is left out there, as merged duplicates are. A handling unit's assessment (`unit_scores`) counts the
co-handling orders it was given: their 签收, 办结 and 超期 are that unit's own doing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date


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
    "satisfaction": "满意率",
    "resolution": "解决率",
    "return": "退单率",
    "reopen": "重办率",
}
LOWER_IS_BETTER = frozenset({"overdue", "return", "reopen"})
DEFAULT_TARGETS: Mapping[str, float] = {"overdue": 0.0001, "satisfaction": 0.95, "on_time_resolve": 0.99}


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
    accepts = [(f.accepted_on, f.accept_due) for f in dispatched if f.accepted_on and f.accept_due]
    resolved = [f for f in items if f.resolved_on is not None]
    resolved_late = [f for f in resolved if f.resolved_on is not None and f.resolved_on > f.due]
    visited = [f for f in items if f.visited]
    counts = {
        "on_time_accept": (sum(1 for on, due in accepts if on <= due), len(accepts)),
        "on_time_resolve": (len(resolved) - len(resolved_late), len(resolved)),
        "overdue": (len(resolved_late) + sum(1 for f in items if f.open_overdue), len(items)),
        "direct": (sum(1 for f in items if f.direct), len(items)),
        # Of the demands answered on the call, how many the agent answered from a knowledge article.
        "knowledge": (sum(1 for f in items if f.direct and f.from_knowledge), sum(1 for f in items if f.direct)),
        "callback": (sum(1 for f in resolved if f.visited), len(resolved)),
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
    dispatched: Mapping[str, int],
    returned: Mapping[str, int],
    targets: Mapping[str, float] = DEFAULT_TARGETS,
) -> list[UnitScore]:
    """Each unit's assessment: the orders it handles now, co-handling ones included (签收, 办结, 超期, 满意 are its
    own doing; only a lead order is called back, so 满意 is over the orders it leads), and its 退单率 from the
    history, since an order it returned is led by another unit by then: returns it made over the dispatches it
    received (派单, 改派 and 协办 to it). Most orders first, then by unit."""
    scores = []
    for unit in sorted(set(led) | set(dispatched) | set(returned)):
        items = led.get(unit, ())
        own = {r.key: r for r in _rates(items, targets)}
        back = Rate("return", LABELS["return"], returned.get(unit, 0), dispatched.get(unit, 0), targets.get("return"),
                    higher_is_better=False)  # fmt: skip
        rates = [back if key == "return" else own[key] for key in UNIT_KEYS]
        co_handling = sum(1 for f in items if f.co_handling)
        scores.append(UnitScore(unit, len(items), co_handling, sum(1 for f in items if f.open_overdue), rates))
    return sorted(scores, key=lambda s: -s.orders)
