"""热点诉求, the pure counting (supervision.hotspots): categories with 环比, the rising rule, keywords by the
orders holding them, places; ties, empty periods and a previous period of nothing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.dispatch.text import tokens
from hotline.supervision import hotspots as hot
from hotline.supervision.hotspots import Demand, Heat

HOUSING = "城乡建设/住房保障/物业管理"
ROADS = "城乡建设/城市建设和市政管理/道路桥梁"
WAGES = "劳动和社会保障/劳动关系/拖欠工资"


def _orders(category: str, n: int, *, words: Sequence[str] = (), place: str = "", first: int = 0) -> list[Demand]:
    return [Demand(f"{category or 'none'}-{first + i}", category, place, tuple(words)) for i in range(n)]


def _by_key(items: list[Heat]) -> dict[str, tuple[int, int]]:
    return {h.key: (h.count, h.before) for h in items}


# -- categories ----------------------------------------------------------------------------------------------------
def test_each_first_level_with_its_second_levels_now_and_before() -> None:
    now = _orders(HOUSING, 6) + _orders(ROADS, 2) + _orders(WAGES, 3) + _orders("城乡建设", 1) + _orders("", 2)
    before = _orders(HOUSING, 4) + _orders(WAGES, 3) + _orders("交通运输/公共交通/出租车", 5)
    found = hot.hotspots(now, before, ignored=())
    assert (found.orders, found.orders_before) == (14, 12)
    # Most orders first; 交通运输 had orders only before: listed, at the end, −100 %.
    assert [(c.key, c.count, c.before) for c in found.categories] == [
        ("城乡建设", 9, 4), ("劳动和社会保障", 3, 3), ("", 2, 0), ("交通运输", 0, 5),
    ]  # fmt: skip
    building = found.categories[0]
    assert building.level == 1 and building.name == "城乡建设"
    # An order categorised at the first level only is in its first level, in none of the second levels.
    assert [(c.key, c.name, c.count, c.before) for c in building.children] == [
        ("城乡建设/住房保障", "住房保障", 6, 4),
        ("城乡建设/城市建设和市政管理", "城市建设和市政管理", 2, 0),
    ]
    assert building.change == pytest.approx(1.25)
    assert found.categories[1].change == 0
    assert found.categories[2].name == "未分类" and found.categories[2].change is None
    assert found.categories[3].change == -1 and found.categories[3].children[0].key == "交通运输/公共交通"


def test_equal_counts_rank_the_larger_rise_first_then_by_name() -> None:
    now = _orders("乙类", 5) + _orders("甲类", 5) + _orders("丙类", 5) + _orders("丁类", 7)
    before = _orders("丙类", 4) + _orders("乙类", 1)
    found = hot.hotspots(now, before, ignored=())
    # 丁类 most; of the three with 5: 甲类 (0 before), 乙类 (1), 丙类 (4).
    assert [c.key for c in found.categories] == ["丁类", "甲类", "乙类", "丙类"]
    # Same count and same count before: by name, whatever order the orders came in.
    again = hot.hotspots(list(reversed(_orders("乙类", 2) + _orders("甲类", 2))), [], ignored=())
    assert [c.key for c in again.categories] == sorted(["甲类", "乙类"])


# -- 环比 and the rising rule ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "before", "ratio", "label"), [
    (27, 20, 0.35, "+35%"),
    (9, 10, -0.1, "−10%"),
    (10, 10, 0.0, "0%"),
    (0, 4, -1.0, "−100%"),
    (3, 0, None, "新出现"),
    (0, 0, None, "—"),
    (9, 8, 0.125, "+13%"),  # half up
    (1001, 1000, 0.001, "0%"),  # less than half a percent either way reads 0 %
    (999, 1000, -0.001, "0%"),
])  # fmt: skip
def test_the_change_as_a_ratio_and_as_people_read_it(now: int, before: int, ratio: float | None, label: str) -> None:
    assert hot.change(now, before) == (pytest.approx(ratio) if ratio is not None else None)
    assert hot.change_label(now, before) == label


@pytest.mark.parametrize(("now", "before", "rising"), [
    (5, 0, True),  # new, and 5 orders
    (4, 0, False),  # new, but too few to shout
    (15, 10, True),  # +5 and +50 %: both at the bound
    (14, 10, False),  # +40 %, +4
    (16, 11, False),  # +5, but +45 %
    (3, 1, False),  # +200 %, but only +2
    (405, 400, False),  # +5, but +1 %
    (600, 400, True),
    (10, 10, False),
    (0, 10, False),
])  # fmt: skip
def test_rising_needs_both_the_ratio_and_the_number(now: int, before: int, rising: bool) -> None:
    assert hot.rises(now, before) is rising
    assert (hot.RISE_RATIO, hot.RISE_MIN) == (0.5, 5)  # as docs/supervision.md says


def test_rising_categories_of_either_level_largest_rise_first() -> None:
    now = _orders(HOUSING, 12) + _orders(ROADS, 1) + _orders(WAGES, 6) + _orders("卫生计生/医疗服务", 3)
    before = _orders(HOUSING, 4) + _orders(ROADS, 6) + _orders(WAGES, 1)
    found = hot.hotspots(now, before, ignored=())
    # 城乡建设 13 against 10 (+3) does not rise although its 住房保障 does (+8); 劳动和社会保障 and its 劳动关系
    # rose by 5 (+500 %); 卫生计生 is new with only 3.
    assert [(h.key, h.level, h.count, h.before) for h in found.rising] == [
        ("城乡建设/住房保障", 2, 12, 4),
        ("劳动和社会保障", 1, 6, 1),
        ("劳动和社会保障/劳动关系", 2, 6, 1),
    ]
    assert all(h.rising for h in found.rising)
    flagged = {c.key for c in found.categories if c.rising} | {
        s.key for c in found.categories for s in c.children if s.rising
    }
    assert flagged == {h.key for h in found.rising}


# -- keywords --------------------------------------------------------------------------------------------------------
def test_keywords_count_the_orders_holding_them_not_the_words() -> None:
    now = [
        Demand("A1", "", "", ("噪音", "噪音", "噪音", "工地")),  # said three times: one order
        Demand("A2", "", "", ("噪音", "夜间")),
        Demand("A3", "", "", ("工地", "夜间", "噪音")),
    ]
    before = [Demand("B1", "", "", ("噪音",)), Demand("B2", "", "", ("夜间", "夜间"))]
    found = hot.hotspots(now, before, ignored=())
    assert [(k.key, k.count, k.before, k.examples) for k in found.keywords] == [
        ("噪音", 3, 1, ("A1", "A2", "A3")),
        ("工地", 2, 0, ("A1", "A3")),  # same count as 夜间, fewer before: the larger rise first
        ("夜间", 2, 1, ("A2", "A3")),
    ]


def test_single_characters_numbers_and_generic_words_are_no_keywords() -> None:
    words = ("路", "12345", "3.5", "10:30", "２０２１", "50%", "2021-06", "领导", "希望", "问题", "5G", "噪音")
    found = hot.hotspots([Demand("A1", "", "", words)], [])
    assert [k.key for k in found.keywords] == ["5G", "噪音"]
    # Only the generic words are a list of their own (passed in, or the shipped one by default).
    assert {"领导", "希望", "问题"} <= hot.generic_words()
    assert not {"噪音", "物业", "拖欠工资", "停车费"} & hot.generic_words()
    kept = hot.hotspots([Demand("A1", "", "", words)], [], ignored=())
    assert [k.key for k in kept.keywords] == sorted(["5G", "希望", "问题", "噪音", "领导"])  # all held once: by name
    assert hot.is_keyword("噪音", ignored={"噪音"}) is False


def test_keywords_from_real_tokens_leave_out_the_stop_words() -> None:
    text = "我们小区的物业乱收停车费，物业公司说是开发商定的，请相关部门处理。"
    words = tokens(text)
    assert "的" in text and "的" not in words  # tokens already drops stop words
    found = hot.hotspots([Demand("A1", HOUSING, "", words)], [])
    keys = [k.key for k in found.keywords]
    assert "物业" in keys and "停车费" in keys
    assert all(len(k) >= 2 for k in keys) and "相关" not in keys  # a generic word


def test_the_top_keywords_are_cut_with_ties_by_name_and_examples_in_the_order_given() -> None:
    now = [Demand(f"A{i}", "", "", tuple(f"词{j:02d}" for j in range(25) if j >= i % 25)) for i in range(30)]
    found = hot.hotspots(now, [], ignored=())
    assert len(found.keywords) == hot.KEYWORDS == 20
    counts = [k.count for k in found.keywords]
    assert counts == sorted(counts, reverse=True)
    assert [k.key for k in found.keywords[:3]] == ["词24", "词23", "词22"]
    assert found.keywords[0].examples == ("A0", "A1", "A2")  # the first orders given (the service: newest first)
    assert len(hot.hotspots(now, [], ignored=(), keywords=5).keywords) == 5
    tied = hot.hotspots([Demand("A1", "", "", ("乙词", "甲词", "丙词"))], [], ignored=())
    assert [k.key for k in tied.keywords] == sorted(["乙词", "甲词", "丙词"])


# -- places ----------------------------------------------------------------------------------------------------------
def test_places_are_normalised_and_ranked() -> None:
    now = [
        Demand("A1", "", " 春熙路 步行街 ", ()),
        Demand("A2", "", "春熙路步行街", ()),
        Demand("A3", "", "春熙路\u3000步行街\n", ()),  # an ideographic space
        Demand("A4", "", "天府广场", ()),
        Demand("A5", "", "   ", ()),  # no place
        Demand("A6", "", "", ()),
    ]
    before = [Demand("B1", "", "天府 广场", ())]
    found = hot.hotspots(now, before, ignored=())
    assert [(p.key, p.count, p.before, p.examples) for p in found.places] == [
        ("春熙路步行街", 3, 0, ("A1", "A2", "A3")),
        ("天府广场", 1, 1, ("A4",)),
    ]
    assert hot.normalise_place(" 武侯区  某小区 ") == "武侯区某小区"
    many = [Demand(f"A{i}", "", f"地点{i % 12:02d}", ()) for i in range(40)]
    top = hot.hotspots(many, [], ignored=()).places
    assert len(top) == hot.PLACES == 10
    assert [p.count for p in top[:4]] == [4, 4, 4, 4] and top[4].count == 3
    assert [p.key for p in top[:4]] == ["地点00", "地点01", "地点02", "地点03"]
    assert top[0].examples == ("A0", "A12", "A24")  # EXAMPLES of them, in the order given


# -- empty periods ---------------------------------------------------------------------------------------------------
def test_nothing_in_either_period() -> None:
    found = hot.hotspots([], [])
    assert (found.orders, found.orders_before) == (0, 0)
    assert found.categories == found.rising == found.keywords == found.places == []
    assert found.to_dict()["orders_change"] is None


def test_nothing_now_lists_what_there_was_before_and_nothing_rises() -> None:
    before = _orders(HOUSING, 8, words=("物业",), place="某小区")
    found = hot.hotspots([], before, ignored=())
    assert [(c.key, c.count, c.before, c.change) for c in found.categories] == [("城乡建设", 0, 8, -1.0)]
    assert found.rising == found.keywords == found.places == []


def test_a_previous_period_of_nothing_makes_everything_new() -> None:
    now = _orders(HOUSING, 6, words=("物业", "停车费"), place="某小区") + _orders(WAGES, 2, words=("工资",))
    found = hot.hotspots(now, [], ignored=())
    assert all(c.change is None and hot.change_label(c.count, c.before) == "新出现" for c in found.categories)
    assert [h.key for h in found.rising] == ["城乡建设", "城乡建设/住房保障"]  # 6 new ones; 2 are too few
    assert _by_key(found.keywords) == {"物业": (6, 0), "停车费": (6, 0), "工资": (2, 0)}
    assert found.keywords[0].rising and not found.keywords[2].rising
    assert _by_key(found.places) == {"某小区": (6, 0)}


def test_the_answer_is_plain_json() -> None:
    now = _orders(HOUSING, 6, words=("物业",), place="某小区")
    answer = hot.hotspots(now, _orders("", 1), ignored=()).to_dict()
    assert json.loads(json.dumps(answer, ensure_ascii=False)) == answer
    assert answer["rules"] == {"rise_ratio": 0.5, "rise_min": 5, "keywords": 20, "places": 10, "examples": 3}
    first = answer["categories"][0]
    assert first == {
        "category": "城乡建设", "level": 1, "name": "城乡建设", "count": 6, "before": 0, "change": None,
        "rising": True,
        "children": [{"category": "城乡建设/住房保障", "level": 2, "name": "住房保障", "count": 6, "before": 0,
                      "change": None, "rising": True}],
    }  # fmt: skip
    assert answer["categories"][1]["name"] == "未分类" and answer["categories"][1]["category"] == ""
    assert answer["keywords"][0] == {
        "name": "物业", "count": 6, "before": 0, "change": None, "rising": True,
        "examples": [f"{HOUSING}-0", f"{HOUSING}-1", f"{HOUSING}-2"],
    }  # fmt: skip
    assert answer["rising"][0]["children"] == []  # a rising first level is listed without its second levels


# -- whatever the orders ---------------------------------------------------------------------------------------------
_CATEGORIES = st.sampled_from(["", "甲", "甲/子", "甲/子/孙", "甲/丑/寅", "乙/子/孙", "丙"])
_DEMANDS = st.lists(
    st.tuples(_CATEGORIES, st.sampled_from(["", " 某地 ", "某地", "他处"]),
              st.lists(st.sampled_from(["噪音", "物业", "1", "路", "12", "停车费", "领导"]), max_size=6)),
    max_size=40,
)  # fmt: skip


@given(_DEMANDS, _DEMANDS)
def test_counts_agree_with_counting_by_hand(
    now_rows: list[tuple[str, str, list[str]]], before_rows: list[tuple[str, str, list[str]]]
) -> None:
    now = [Demand(f"A{i}", c, p, tuple(w)) for i, (c, p, w) in enumerate(now_rows)]
    before = [Demand(f"B{i}", c, p, tuple(w)) for i, (c, p, w) in enumerate(before_rows)]
    found = hot.hotspots(now, before)
    # Every order of the period is in exactly one first level; second levels never add up to more.
    assert sum(c.count for c in found.categories) == len(now)
    assert sum(c.before for c in found.categories) == len(before)
    for c in found.categories:
        assert sum(s.count for s in c.children) <= c.count and all(s.key.startswith(c.key + "/") for s in c.children)
    ranks = [(-c.count, c.before, c.key) for c in found.categories]
    assert ranks == sorted(ranks)
    # Keywords: the number of orders holding the word, now and before.
    held = Counter(w for d in now for w in set(d.tokens))
    held_before = Counter(w for d in before for w in set(d.tokens))
    assert {k.key for k in found.keywords} == {w for w in held if hot.is_keyword(w, hot.generic_words())}
    for k in found.keywords:
        assert (k.count, k.before) == (held[k.key], held_before[k.key])
        assert list(k.examples) == [d.number for d in now if k.key in d.tokens][: hot.EXAMPLES]
    assert sum(p.count for p in found.places) == sum(1 for d in now if d.place.strip())
    assert all(h.rising == hot.rises(h.count, h.before) for h in found.rising)


# Pieces of what callers say: words of two to seven characters, single characters, numbers, spaces (ASCII and
# full-width), punctuation, Latin words, a word repeated, generic words (希望, 领导).
_SAID = st.lists(
    st.sampled_from(["中华人民共和国社会保险法", "住房公积金管理中心", "依法办理", "小区物业乱收停车费", "噪音",
                     "2021年6月3日", "10:30", "3.5元", "50%", "希望领导重视", "，", "。", " ", "\u3000", "\n",
                     "WiFi hello-world", "5G网络", "的", "A市高新区管委会", "物业物业"]),
    max_size=12,
).map("".join)  # fmt: skip


@given(st.lists(_SAID, max_size=12), st.integers(0, 12))
def test_the_words_stored_count_as_the_tokens_they_were_cut_from(texts: list[str], split: int) -> None:
    """`wo_orders.content_words` (`countable_words`, read back with `str.split`) gives the hot topics the
    contents' tokens give, every keyword included (none left out, none added, none counted twice)."""
    cut = [tokens(text) for text in texts]
    for words in cut:
        kept = hot.countable_words(words).split()
        assert len(kept) == len(set(kept)) and set(kept) == {w for w in words if hot.is_keyword(w)}

    def demands(words: Sequence[Sequence[str]]) -> list[Demand]:
        return [Demand(f"A{i}", "", "", w) for i, w in enumerate(words)]

    stored = demands([hot.countable_words(words).split() for words in cut])
    fresh = demands(cut)
    everything = {"ignored": (), "keywords": 1000}
    assert hot.hotspots(stored[:split], stored[split:], **everything) == hot.hotspots(
        fresh[:split], fresh[split:], **everything
    )
    assert hot.hotspots(stored[:split], stored[split:]) == hot.hotspots(fresh[:split], fresh[split:])
