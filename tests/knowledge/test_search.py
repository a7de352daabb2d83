"""The search engine on its own (no database): phrases inside sentences, fields, filters, highlighting."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np

from hotline.knowledge import search
from hotline.knowledge.search import DocMeta, Filters, SearchIndex


def _index(docs: list[dict[str, object]]) -> SearchIndex:
    metas, tokens = [], []
    for i, d in enumerate(docs):
        metas.append(
            DocMeta(
                article_id=i + 1,
                external_id=f"E{i + 1}",
                title=str(d.get("title", "")),
                body=str(d["body"]),
                keywords=tuple(d.get("keywords", ())),  # type: ignore[arg-type]
                status=str(d.get("status", "published")),
                owner_unit=str(d.get("unit", "")),
                category="",
                lines=tuple(d.get("lines", ())),  # type: ignore[arg-type]
                regions=tuple(d.get("regions", ())),  # type: ignore[arg-type]
                effective_from=d.get("effective_from"),  # type: ignore[arg-type]
                expires_on=d.get("expires_on"),  # type: ignore[arg-type]
            )
        )
        tokens.append(search.analyse_doc(metas[-1].title, list(d.get("keywords", [])), metas[-1].body, "1"))  # type: ignore[call-overload]
    return SearchIndex(metas, tokens)


def _ids(index: SearchIndex, text: str, filters: Filters | None = None) -> list[str | None]:
    hits, _, _ = index.search([text], filters)
    return [index.meta[h.position].external_id for h in hits]


DOCS = [
    {
        "title": "噪音扰民",
        "body": "夜间施工噪声由住房城乡建设部门处理。",
        "lines": ["12345", "12369"],
        "unit": "生态环境厅",
    },
    {"title": "公积金", "body": "职工可以申请提取住房公积金用于租房。", "lines": ["12329"], "unit": "住房城乡建设厅"},
    {"title": "社保卡", "body": "社会保障卡丢失后应立即挂失并补办。", "lines": ["12333"], "regions": ["510100"]},
]


def test_four_character_phrase_inside_a_longer_sentence_is_found() -> None:
    # "障卡丢失" is not a word jieba produces from the sentence; bigrams must still find it.
    index = _index(DOCS)
    assert _ids(index, "障卡丢失")[0] == "E3"
    assert _ids(index, "申请提取住房")[0] == "E2"
    assert _ids(index, "补办社保卡怎么办")[0] == "E3"


def test_title_weighs_more_than_body() -> None:
    index = _index(
        [
            {"title": "其他事项", "body": "关于停车收费的说明与停车场管理规定"},
            {"title": "停车收费", "body": "相关说明见规定"},
        ]
    )
    assert _ids(index, "停车收费")[0] == "E2"


def test_filters_by_line_unit_region_status_and_date() -> None:
    index = _index(
        [
            *DOCS,
            {"title": "过期", "body": "社会保障卡旧规定", "expires_on": date(2020, 12, 31)},
            {"title": "草稿", "body": "社会保障卡草稿", "status": "draft"},
        ]
    )
    assert _ids(index, "公积金", Filters(line="12333")) == []
    assert _ids(index, "噪声", Filters(line="12369")) == ["E1"]
    assert _ids(index, "噪声", Filters(unit="住房城乡建设厅")) == []
    assert _ids(index, "社会保障卡", Filters(region="510100", valid_on=date(2021, 6, 1))) == ["E3"]
    assert "E4" in _ids(index, "社会保障卡", Filters(valid_on=date(2020, 6, 1)))
    assert "E4" not in _ids(index, "社会保障卡", Filters(valid_on=date(2021, 6, 1)))
    assert "E5" not in _ids(index, "社会保障卡")
    assert _ids(index, "社会保障卡", Filters(status="draft")) == ["E5"]


def test_a_region_finds_its_own_and_the_provinces_articles_by_code_or_name() -> None:
    index = _index(
        [
            {
                "title": "社保卡补办（成都）",
                "body": "社会保障卡丢失后到成都市社保经办机构补办。",
                "regions": ["成都市"],
            },
            {
                "title": "社保卡补办（全省）",
                "body": "社会保障卡丢失后可在全省任一经办网点补办。",
                "regions": ["510000"],
            },
            {
                "title": "社保卡补办（自贡）",
                "body": "社会保障卡丢失后到自贡市社保经办机构补办。",
                "regions": ["510300"],
            },
            {"title": "社保卡挂失", "body": "社会保障卡丢失后应立即挂失。"},  # no region: everywhere
        ]
    )
    assert sorted(_ids(index, "社会保障卡丢失补办", Filters(region="510100"))) == ["E1", "E2", "E4"]
    assert sorted(_ids(index, "社会保障卡丢失补办", Filters(region="自贡市"))) == ["E2", "E3", "E4"]
    # The provincial centre's callers get the province's rules, not one city's.
    assert sorted(_ids(index, "社会保障卡丢失补办", Filters(region="四川省"))) == ["E2", "E4"]


def test_no_match_and_empty_index() -> None:
    assert _ids(_index(DOCS), "火星探测器") == []
    assert _ids(_index([]), "任何内容") == []


def test_highlight_marks_the_matched_phrase() -> None:
    grams = search.analyzer().bigrams("丢失后应立即")
    text = search.highlight("社会保障卡丢失后应立即挂失并补办。", grams)
    assert "<mark>丢失后应立即</mark>" in text
    long_text = "无关内容。" * 50 + "社会保障卡丢失后应立即挂失"
    snippet = search.highlight(long_text, grams, width=40)
    assert snippet.startswith("…") and "<mark>丢失后应立即</mark>" in snippet


def test_domain_dictionary_keeps_hotline_terms_whole() -> None:
    words = search.analyzer().words("整体并入后拨打12345热线")
    assert "整体并入" in words


def test_first_stage_score_is_the_weighted_sum_of_the_terms_rows() -> None:
    index = _index(DOCS)
    matrix = index._bigrams
    terms = {"社保": 1.0, "补办": 0.5, "公积": 2.0, "不存在的": 1.0}
    rows = matrix.prune(terms, index.config)
    assert set(rows) == {matrix.vocab[t] for t in ("社保", "补办", "公积")}
    expected = sum(w * matrix.matrix[r].toarray()[0] for r, w in rows.items())
    assert np.allclose(matrix.score(rows, len(index)), expected)


def test_a_long_message_keeps_its_most_informative_terms() -> None:
    # A whole citizen message: many common words, and the one rare estate name that identifies the answer.
    docs = [
        *DOCS,
        {"title": "物业", "body": "关于景蓉花苑小区停车收费的问题，街道已要求物业公司整改。"},
        {"title": "物业", "body": "关于小区停车收费的问题，街道已要求物业公司整改并公示收费标准。"},
    ]
    message = "我们小区的物业公司问题很多，停车收费也不合理，" * 20 + "我住在景蓉花苑。"
    index = _index(docs)
    limited = SearchIndex(index.meta, index.tokens, dataclasses.replace(index.config, query_max_terms=8))
    kept = limited._bigrams.prune({g: 1.0 for g in search.analyzer().bigrams(message)}, limited.config)
    assert len(kept) == 8
    assert limited._bigrams.vocab["景蓉"] in kept  # rare in the articles, so among the kept terms
    hits, _, _ = limited.search(["小区物业问题", message])
    assert limited.meta[hits[0].position].external_id == "E4"


def test_shipped_rerank_has_one_finite_weight_per_feature() -> None:
    for weights in (search.DEFAULT_CONFIG.rerank_weights, search.DEFAULT_CONFIG.rerank_weights_without_answers):
        assert weights is not None
        assert len(weights) == len(search.FEATURES)
        assert np.isfinite(np.asarray(weights)).all()
    # Without an answer model the features that came with it play no part.
    fallback = dict(zip(search.FEATURES, search.DEFAULT_CONFIG.rerank_weights_without_answers or (), strict=True))
    added = ("learned", "predates", "year_gap", "date_before", "date_0_60", "date_61_365", "date_later", "reverse")
    listed = tuple(f"list_{name}" for name in search.LIST_RANKED)
    assert all(fallback[name] == 0.0 for name in added + listed)


def test_list_ranks_say_where_each_candidate_stands_in_its_list() -> None:
    values = np.array([[0.2, 1.0], [0.9, 1.0], [0.5, 0.0], [0.9, 0.3]])
    ranks = search.list_ranks(values)
    # The best of the list is 1 (ties share it); below, 1 / (1 + how many are better).
    assert ranks[:, 0].tolist() == [1 / 4, 1.0, 1 / 3, 1.0]
    assert ranks[:, 1].tolist() == [1.0, 1.0, 1 / 4, 1 / 3]
    assert search.list_ranks(np.zeros((0, 2))).shape == (0, 2)


def test_rerank_puts_the_reply_that_restates_the_message_first() -> None:
    # Official replies restate the citizen's complaint; the one that does so for this estate ranks first,
    # above replies sharing only the common words of a complaint.
    index = _index(
        [
            {"body": "网友您好！关于您反映的小区物业问题，已转交相关单位处理，感谢您的监督。"},
            {
                "body": "网友您好！您反映的锦绣花园小区电梯长期故障无人维修的问题，经核实，物业公司已于本周更换电梯主板。"
            },
            {"body": "网友您好！您反映的小区停车收费问题，物业公司已按规定公示收费标准。"},
        ]
    )
    hits, _, _ = index.search(
        ["锦绣花园小区电梯长期故障无人维修", "我们小区的电梯坏了三个月，物业一直不修，老人上下楼很困难。"]
    )
    assert index.meta[hits[0].position].external_id == "E2"


def test_years_named_in_messages_and_replies() -> None:
    assert search.latest_year("2018年农村合作医疗保险，2017年交过") == 2018
    assert search.latest_year("……特此回复。2019/5/10") == 2019
    assert search.latest_year("您于2019-3-5的留言") == 2019
    assert search.latest_year("12345热线，第2019号，编号20190") == 0  # numbers that are not written as years


def test_an_article_older_than_the_year_the_message_names_is_marked() -> None:
    index = _index(
        [
            {"body": "网友您好！2018年城乡居民医疗保险个人缴费标准为180元。2017年11月2日"},
            {"body": "网友您好！城乡居民医保报销比例如下。2016年10月27日"},
            {"body": "网友您好！农村合作医疗保险的报销比例见县政府通知。"},
        ]
    )
    parts = ["2018年农村合作医疗保险费的问题", "现在2018年农村合作医疗保险正是要交的时候了"]
    cand, feats = index.candidates(parts, 3)
    column = {name: k for k, name in enumerate(search.FEATURES)}
    by_id = {index.meta[j].external_id: feats[k] for k, j in enumerate(cand)}
    # E1 names 2018 itself (its latest year), E2 was written in 2016: two years before.
    assert by_id["E1"][column["predates"]] == 0.0 and by_id["E1"][column["year_gap"]] == 0.0
    assert by_id["E2"][column["predates"]] == 1.0 and by_id["E2"][column["year_gap"]] == 2 / 3
    assert by_id["E3"][column["predates"]] == 0.0 and by_id["E3"][column["year_gap"]] == 0.0  # names no year
    assert (feats[:, column["learned"]] == 0).all()  # no answer model in this index


def test_the_reply_dated_weeks_after_the_message_is_marked() -> None:
    index = _index(
        [
            {"body": "网友您好！关于小区停水问题，自来水公司已于5月5日抢修完毕。2019年5月9日"},
            {"body": "网友您好！关于小区停水问题，系管网改造计划停水。2019年3月1日"},
            {"body": "网友您好！关于小区停水问题，请关注停水公告。"},
        ]
    )
    cand, feats = index.candidates(["小区停水问题", "2019年4月28日起小区一直停水，没有任何通知"], 3)
    column = {name: k for k, name in enumerate(search.FEATURES)}
    by_id = {index.meta[j].external_id: feats[k] for k, j in enumerate(cand)}
    dated = ["date_before", "date_0_60", "date_61_365", "date_later"]
    assert [by_id["E1"][column[c]] for c in dated] == [0, 1, 0, 0]  # 11 days after the message's date
    assert [by_id["E2"][column[c]] for c in dated] == [1, 0, 0, 0]  # written before it
    assert [by_id["E3"][column[c]] for c in dated] == [0, 0, 0, 0]  # no date
    assert (feats[:, column["reverse"]] == 0).all()  # no answer model in this index
