from dataclasses import replace
from datetime import date

from hotline.supervision.domain import OrderFacts, Rate, order_kpis, unit_scores

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
        "on_time_accept", "on_time_resolve", "overdue", "direct", "knowledge", "callback",
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


def test_unit_scores_take_returns_from_the_history_and_rank_by_orders() -> None:
    late = replace(BASE, resolved_on=None, open_overdue=True, returned=True)
    scores = unit_scores({"A": [BASE, late], "B": [BASE]}, dispatched={"A": 2, "B": 2, "C": 1}, returned={"B": 1})
    assert [s.unit for s in scores] == ["A", "B", "C"]  # C received an order and returned none: still listed
    a, b, c = ({r.key: r for r in s.rates} for s in scores)
    assert scores[0].open_overdue == 1 and (a["overdue"].numerator, a["overdue"].denominator) == (1, 2)
    # A's order carries a return flag, but the return was B's: the rate follows the history.
    assert (a["return"].numerator, a["return"].denominator) == (0, 2)
    assert (b["return"].numerator, b["return"].denominator) == (1, 2) and b["return"].higher_is_better is False
    assert scores[2].orders == 0 and c["on_time_resolve"].value is None


def test_the_centre_counts_demands_and_a_unit_its_co_handling_orders_too() -> None:
    # A lead called back once, and its two co-handling orders (answered, never called back on their own).
    lead = BASE
    part = replace(BASE, co_handling=True, visited=False, satisfaction=None, citizen_resolved=None)
    late_part = replace(part, resolved_on=date(2021, 6, 25))
    rates = _rates([lead, part, late_part])
    assert (rates["callback"].numerator, rates["callback"].denominator) == (1, 1)
    assert (rates["on_time_resolve"].numerator, rates["on_time_resolve"].denominator) == (1, 1)
    assert rates["overdue"].denominator == 1 and rates["direct"].denominator == 1
    scores = {s.unit: s for s in unit_scores({"lead": [lead], "co": [part, late_part]}, {"co": 2}, {})}
    co = {r.key: r for r in scores["co"].rates}
    assert (scores["co"].orders, scores["co"].co_handling, scores["lead"].co_handling) == (2, 2, 0)
    assert (co["on_time_resolve"].numerator, co["on_time_resolve"].denominator) == (1, 2)
    assert co["satisfaction"].denominator == 0  # only the lead is called back
