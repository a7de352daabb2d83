from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.dispatch.domain import (
    CATEGORIES,
    Demand,
    OpenOrder,
    RepeatRule,
    Weights,
    find_repeats,
    normalise_phone,
    suggest,
    text_similarity,
)

T0 = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)


def test_suggest_ranks_top3_best_first_and_flags_low_confidence() -> None:
    probs = [0.05, 0.1, 0.5, 0.05, 0.2, 0.05, 0.05]
    s = suggest(CATEGORIES, probs, threshold=0.6)
    assert s.category == "教育文体"
    assert [r.category for r in s.top3] == ["教育文体", "环境保护", "劳动和社会保障"]
    assert [r.confidence for r in s.top3] == sorted((r.confidence for r in s.top3), reverse=True)
    assert s.confidence == pytest.approx(0.5)
    assert s.manual is True
    assert suggest(CATEGORIES, probs, threshold=0.5).manual is False  # at the threshold: not manual


def test_suggest_renormalises_and_clips() -> None:
    s = suggest(["a", "b"], [3.0, -1.0], threshold=0.0)
    assert s.category == "a" and s.confidence == 1.0
    flat = suggest(["a", "b", "c"], [0.0, 0.0, 0.0], threshold=0.5)
    assert flat.confidence == pytest.approx(1 / 3, abs=1e-4) and flat.manual


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan")])
def test_suggest_rejects_bad_threshold(threshold: float) -> None:
    with pytest.raises(ValueError):
        suggest(["a"], [1.0], threshold=threshold)


def test_normalise_phone() -> None:
    assert normalise_phone("+86 138-0000-1234") == "13800001234"
    assert normalise_phone("008613800001234") == "13800001234"
    assert normalise_phone("") == "" and normalise_phone(None) == ""
    assert normalise_phone("12") == ""


def test_text_similarity_bounds() -> None:
    text = "小区门口的路灯坏了一个多月没人修"
    assert text_similarity(text, text) == pytest.approx(1.0)
    assert text_similarity(text, "社保卡补办需要什么材料") == 0.0
    assert 0.0 < text_similarity(text, "小区门口路灯坏了很久，请尽快修理") < 1.0
    assert text_similarity("", text) == 0.0


def _order(oid: str, text: str, days_before: float, phone: str | None = None, place: str | None = None) -> OpenOrder:
    return OpenOrder(order_id=oid, text=text, created_at=T0 - timedelta(days=days_before), phone=phone, place=place)


STREETLIGHT = "雨花区洞井街道小区门口的路灯坏了一个多月没人修，晚上很黑"


def test_same_caller_with_related_text_is_proposed() -> None:
    demand = Demand(text="我上个月反映的洞井街道小区门口路灯还是没修好", at=T0, phone="13800001234")
    orders = [
        _order("A", STREETLIGHT, 10, phone="138 0000 1234"),
        _order("B", STREETLIGHT, 10, phone="13900009999"),  # other caller, text not similar enough alone
        _order("C", "孩子入学需要准备哪些材料", 3, phone="13800001234"),  # same caller, other matter
    ]
    found = find_repeats(demand, orders)
    assert [m.order.order_id for m in found] == ["A"]
    assert "same-phone" in found[0].reasons


def test_near_identical_text_is_proposed_without_phone_or_place() -> None:
    demand = Demand(text=STREETLIGHT + "。", at=T0)
    found = find_repeats(demand, [_order("A", STREETLIGHT, 2)])
    assert [m.order.order_id for m in found] == ["A"]
    assert found[0].reasons == ("similar-text",)


def test_weights_make_rare_words_count() -> None:
    a, b = "洞井街道路灯坏了", "望城区路灯坏了"
    plain = text_similarity(a, b)
    weights = Weights(words={}, chars={"路灯": 0.1, "灯坏": 0.1, "坏了": 0.1}, unknown=5.0)
    assert text_similarity(a, b, weights=weights) < plain


def test_same_place_lowers_the_bar() -> None:
    demand = Demand(text="洞井街道小区门口路灯一直不亮", at=T0, place="洞井街道 某某小区")
    same = _order("A", STREETLIGHT, 5, place="洞井街道某某小区")
    other = _order("B", STREETLIGHT, 5, place="别处")
    found = find_repeats(demand, [same, other], RepeatRule(same_place=0.2, text_alone=0.9))
    assert [m.order.order_id for m in found] == ["A"]
    assert "same-place" in found[0].reasons


def test_window_limit_exclusion_and_order() -> None:
    demand = Demand(text=STREETLIGHT, at=T0, phone="13800001234")
    orders = [
        _order("old", STREETLIGHT, 31, phone="13800001234"),  # outside the 30-day window
        _order("future", STREETLIGHT, -1, phone="13800001234"),  # after the demand
        _order("self", STREETLIGHT, 0, phone="13800001234"),  # created at the same instant: the demand itself
        _order("x1", STREETLIGHT, 3, phone="13800001234"),
        _order("x2", STREETLIGHT, 1, phone="13800001234"),
        _order("x3", STREETLIGHT + "请处理", 1, phone="13800001234"),
        _order("skip", STREETLIGHT, 2, phone="13800001234"),
    ]
    found = find_repeats(demand, orders, RepeatRule(window_days=30, limit=2), exclude="skip")
    ids = [m.order.order_id for m in found]
    assert ids == ["x2", "x1"]  # same score and similarity: the most recent first; x3 is less similar
    assert all(0.0 <= m.score <= 1.0 for m in found)
    wider = [
        m.order.order_id for m in find_repeats(demand, orders, RepeatRule(window_days=40, limit=10), exclude="skip")
    ]
    assert wider == ["x2", "x1", "old", "x3"]


def test_rule_validation() -> None:
    with pytest.raises(ValueError):
        RepeatRule(window_days=-1)


def test_an_order_that_stands_out_is_proposed_on_weaker_similarity() -> None:
    demand = Demand(text="晚上小区门口一片漆黑，路灯到现在还没有人来修", at=T0)
    first = _order("A", STREETLIGHT, 4)
    unrelated = [_order("B", "孩子入学需要准备哪些材料", 3), _order("C", "公交车站取消后居民出行不便", 2)]
    similarity = text_similarity(demand.text, STREETLIGHT)
    assert similarity < RepeatRule().text_alone  # not similar enough on its own
    rule = RepeatRule(stand_out_min=similarity / 2)
    found = find_repeats(demand, [first, *unrelated], rule)
    assert [m.order.order_id for m in found] == ["A"]
    assert "stands-out" in found[0].reasons
    # Off, or when another open order is as similar, nothing is proposed.
    assert find_repeats(demand, [first, *unrelated], RepeatRule(stand_out=0, stand_out_min=similarity / 2)) == []
    assert find_repeats(demand, [first, _order("D", STREETLIGHT + "。", 1), *unrelated], rule) == []
    with pytest.raises(ValueError):
        RepeatRule(stand_out=-1)
