from __future__ import annotations

import csv
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.dispatch import similarity
from hotline.dispatch import text as textprep
from hotline.dispatch.domain import (
    Demand,
    OpenOrder,
    RepeatRule,
    Tokenizer,
    Weights,
    find_repeats,
    text_features,
    text_similarity,
)
from hotline.dispatch.similarity import SimilarityScorer

T0 = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
ODD = ["", "。", "灯", "灯灯", "路灯 路灯，路灯！", "ABC abc 123", "小区门口的路灯坏了一个多月没人修"]
WEIGHTS = Weights({"路灯": 3.0, "小区": 0.5}, {"路灯": 2.5, "小区": 0.2, "灯坏": 4.0}, unknown=6.0)


def _messages(shared_data: Path, n: int) -> list[str]:
    with (shared_data / "replies_queries_dev.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["subject"] + "。" + r["detail"] for r in random.Random(7).sample(rows, n)]


@pytest.mark.parametrize(
    ("tokenize", "weights"), [(None, None), (textprep.tokens, None), (None, WEIGHTS), (textprep.tokens, WEIGHTS)]
)
def test_bulk_scores_equal_pairwise_similarity(tokenize: Tokenizer | None, weights: Weights | None) -> None:
    texts = [*ODD, "路灯坏了很久，晚上很黑", "社保卡补办需要什么材料", "小区路灯不亮"]
    scorer = SimilarityScorer(tokenize, weights)
    for wanted in texts:
        expected = [text_similarity(wanted, other, tokenize, weights) for other in texts]
        assert scorer(wanted, texts) == pytest.approx(expected, abs=1e-12)


def test_bulk_scores_equal_pairwise_on_real_messages(shared_data: Path) -> None:
    texts = _messages(shared_data, 60)
    weights = Weights({}, {}, unknown=1.0)
    scorer = SimilarityScorer(textprep.tokens, weights)
    for wanted in texts[:10]:
        expected = [text_similarity(wanted, other, textprep.tokens, weights) for other in texts]
        assert scorer(wanted, texts) == pytest.approx(expected, abs=1e-12)
        assert max(expected) == pytest.approx(1.0)  # the text itself is among the others


def test_no_others_gives_no_scores() -> None:
    assert SimilarityScorer(textprep.tokens, None)("路灯坏了", []) == []


def _counting_features(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts whose features the scorer computes from now on."""
    computed: list[str] = []
    original = similarity.text_features

    def counting(text: str, *args: object) -> object:
        computed.append(text)
        return original(text, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(similarity, "text_features", counting)
    return computed


def test_the_cache_keeps_only_the_most_recently_used_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    scorer = SimilarityScorer(None, None, capacity=4)
    scorer("路灯坏了", ["噪音扰民"])
    scorer("路灯坏了", ["垃圾没人清"])
    scorer("路灯坏了", ["油烟扰民"])
    assert len(scorer) == 4
    scorer("路灯坏了", ["占道经营"])  # 路灯坏了 used again: 噪音扰民 is the oldest and goes
    assert len(scorer) == 4 and "噪音扰民" not in scorer and "路灯坏了" in scorer
    computed = _counting_features(monkeypatch)
    scorer("路灯坏了", ["占道经营", "油烟扰民"])
    assert computed == []  # kept, not recomputed
    with pytest.raises(ValueError):
        SimilarityScorer(None, None, capacity=0)


def test_the_cache_grows_to_hold_what_one_demand_is_compared_with(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cache smaller than the open orders compared would miss every one of them at every demand.
    scorer = SimilarityScorer(None, None, capacity=4)
    others = [f"第{i}号路灯不亮" for i in range(10)]
    scorer("路灯坏了", others)
    assert scorer.group_capacity() >= 1.5 * len(others)
    computed = _counting_features(monkeypatch)
    assert scorer("路灯又坏了", others) == pytest.approx([text_similarity("路灯又坏了", o) for o in others], abs=1e-12)
    assert computed == ["路灯又坏了"]


def test_bulk_scores_are_the_in_order_dot_products(shared_data: Path) -> None:
    # Bit for bit what the pairwise sum over the candidate's terms, in its text's order, gives: the proposals
    # and their scores do not move by a rounding when the way of computing them changes.
    texts = _messages(shared_data, 40)
    scorer = SimilarityScorer(textprep.tokens, WEIGHTS)

    def unit(weighted: dict[str, float]) -> dict[str, float]:
        norm = math.sqrt(sum(v * v for v in weighted.values()))
        return {t: v / norm for t, v in weighted.items()} if norm else {}

    def in_order(a: dict[str, float], b: dict[str, float]) -> float:
        total = 0.0
        for term, value in b.items():
            total += a.get(term, 0.0) * value
        return total

    features = [text_features(t, textprep.tokens, WEIGHTS) for t in texts]
    for i, wanted in enumerate(features[:8]):
        expected = [
            (in_order(unit(wanted.chars), unit(o.chars)) + in_order(unit(wanted.words), unit(o.words))) / 2  # type: ignore[arg-type]
            for o in features
        ]
        assert scorer(texts[i], texts, group=i % 3) == expected


def test_groups_keep_their_own_texts_and_evicted_rows_are_rebuilt_away(shared_data: Path) -> None:
    texts = _messages(shared_data, 120)
    kept = SimilarityScorer(textprep.tokens, WEIGHTS)  # large enough never to evict
    small = SimilarityScorer(textprep.tokens, WEIGHTS, capacity=8)
    rng = random.Random(5)
    for call in range(60):
        group = ("510100", "510700")[call % 2]
        others = rng.sample(texts, rng.randint(0, 5))
        demand = rng.choice(texts)
        assert small(demand, others, group=group) == kept(demand, others, group=group)
        assert small.group_capacity(group) == 8 and len(small) <= 16
    assert len(kept) > len(small)
    # One group's orders are not another's: texts compared only in 510700 are not kept for 510100.
    alone = SimilarityScorer(None, None)
    alone("路灯坏了", ["噪音扰民"], group="510700")
    alone("路灯坏了", ["垃圾没人清"], group="510100")
    assert len(alone) == 4 and alone.group_capacity("510100") == alone.group_capacity("510700")


def test_a_full_vocabulary_starts_afresh_and_still_scores_right() -> None:
    scorer = SimilarityScorer(textprep.tokens, None, max_terms=20)
    texts = ["小区门口的路灯坏了一个多月没人修", "路灯坏了很久，晚上很黑", "社保卡补办需要什么材料"]
    expected = [text_similarity(texts[0], t, textprep.tokens) for t in texts]
    assert scorer(texts[0], texts) == pytest.approx(expected, abs=1e-12)
    live = scorer.terms()
    assert live > 20 and len(scorer) == 3
    # The same open orders again: more terms than max_terms, but all needed; nothing is dropped.
    assert scorer(texts[1], texts) and len(scorer) == 3 and scorer.terms() == live
    # Other demands bring new terms; once the vocabulary is more than twice what the live texts needed, the next
    # call starts afresh.
    others = iter(["噪音扰民，晚上施工", "拖欠工资三个月", "培训机构违规收费退费难", "老旧小区改造进度缓慢，漏水严重"])
    while scorer.terms() <= 2 * live:
        scorer(next(others), [])
    assert len(scorer) > 3
    scorer("物业乱收停车费", ["停车费"])
    assert len(scorer) == 2 and "物业乱收停车费" in scorer and texts[0] not in scorer
    assert scorer(texts[0], texts) == pytest.approx(expected, abs=1e-12)


def test_find_repeats_proposes_the_same_orders_with_the_bulk_scorer(shared_data: Path) -> None:
    texts = _messages(shared_data, 80)
    orders = [
        OpenOrder(str(i), text, T0 - timedelta(days=1 + i % 40), phone="13800001234" if i % 9 == 0 else None)
        for i, text in enumerate(texts)
    ]
    rule = RepeatRule(limit=10)
    scorer = SimilarityScorer(textprep.tokens, None)
    proposals = 0
    for i, text in enumerate(texts[:20]):
        # The second half of a message, told again by its caller: must find its first telling among the others.
        demand = Demand(text[len(text) // 2 :], T0, phone="13800001234" if i % 2 else None)
        expected = find_repeats(demand, orders, rule, textprep.tokens)
        found = find_repeats(demand, orders, rule, scorer=scorer)
        assert [(m.order.order_id, m.reasons) for m in found] == [(m.order.order_id, m.reasons) for m in expected]
        assert [m.score for m in found] == pytest.approx([m.score for m in expected], abs=1e-12)
        proposals += len(found)
    assert proposals > 0  # the comparison compared something
