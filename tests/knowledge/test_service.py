"""Knowledge use cases on SQLite and PostgreSQL: versions, lifecycle, flags, sync, import/export, search."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from hotline.calendar.service import load_calendar
from hotline.db import session_scope
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.knowledge import service, transfer
from hotline.knowledge.domain import ArticleInput
from hotline.knowledge.search import Filters
from hotline.timeutil import china_day, now


def _publish(session, title: str, body: str, **kw) -> int:  # type: ignore[no-untyped-def]
    article = service.create_article(session, ArticleInput(title=title, body=body, **kw), actor="editor")
    service.set_status(session, article.id, "review", actor="editor")
    service.set_status(session, article.id, "published", actor="chief")
    return article.id


def test_every_edit_is_a_kept_version(db_url: str) -> None:
    with session_scope() as s:
        article = service.create_article(s, ArticleInput(title="社保卡补办", body="携带身份证办理"), actor="张三")
        key = article.id
        assert article.external_id == f"KB{key:06d}"
    with session_scope() as s:
        service.update_article(
            s, key, {"body": "携带身份证到网点办理", "keywords": "社保卡、补办"}, actor="李四", note="补充"
        )
        service.update_article(s, key, {"body": "携带身份证到网点办理"}, actor="李四")  # no change: no version
        service.set_status(s, key, "review", actor="李四")
    with session_scope() as s:
        versions = service.list_versions(s, key)
        assert [v.version for v in versions] == [1, 2, 3]
        assert versions[1].changed_fields == ["body", "keywords"]
        assert versions[1].changed_by == "李四" and versions[1].note == "补充"
        assert versions[0].body == "携带身份证办理" and versions[1].keywords == ["社保卡", "补办"]
        assert versions[2].changed_fields == ["status"] and versions[2].status == "review"
        assert service.get_article(s, key).version == 3


def test_two_editors_saving_the_same_version_at_once_the_second_is_told_not_a_server_error(db_url: str) -> None:
    """Both read version 1; the first saves; the second, sent without the version it saw, would write a second
    version 2: refused as `stale-version` (409), its change not written, the first one's kept."""
    from hotline.db import session_factory

    with session_scope() as s:
        key = service.create_article(s, ArticleInput(title="社保卡补办", body="携带身份证办理"), actor="张三").id
    second = session_factory()()
    try:
        seen = service.get_article(second, key)  # read (and held) as the second request is under way
        assert seen.version == 1
        with session_scope() as first:
            service.update_article(first, key, {"body": "携带身份证到网点办理"}, actor="李四")
        with pytest.raises(Conflict) as told:
            service.update_article(second, key, {"body": "携带户口本办理"}, actor="王五")
        assert told.value.code == "stale-version"
        second.rollback()
    finally:
        second.close()
    with session_scope() as s:
        assert [(v.version, v.changed_by) for v in service.list_versions(s, key)] == [(1, "张三"), (2, "李四")]
        assert service.get_article(s, key).body == "携带身份证到网点办理"


def test_lifecycle_errors(db_url: str) -> None:
    with session_scope() as s:
        key = service.create_article(s, ArticleInput(body="内容"), actor="a").id
    with session_scope() as s, pytest.raises(Conflict) as err:
        service.set_status(s, key, "published", actor="a")
    assert err.value.code == "transition-not-allowed"
    with session_scope() as s, pytest.raises(NotFound) as nf:
        service.get_article(s, "no-such")
    assert nf.value.code == "article-not-found"
    with session_scope() as s, pytest.raises(InvalidInput):
        service.update_article(s, key, {"status": "published"}, actor="a")


def test_withdrawn_article_is_no_longer_found(db_url: str) -> None:
    with session_scope() as s:
        key = _publish(s, "12331热线并入说明", "12331食品药品投诉举报热线整体并入12345，过渡期内转接。")
        _publish(s, "社保卡", "社会保障卡丢失后应立即挂失")
    with session_scope() as s:
        assert [h["id"] for h in service.search_articles(s, "食品药品投诉举报热线")][:1] == [key]
        service.set_status(s, key, "withdrawn", actor="chief", note="已过时")
    with session_scope() as s:
        assert key not in [h["id"] for h in service.search_articles(s, "食品药品投诉举报热线")]
        hits = service.search_articles(s, "食品药品投诉举报热线", filters=Filters(status="withdrawn"))
        assert [h["id"] for h in hits] == [key]


def test_expired_article_is_not_found_and_expire_due_marks_it(db_url: str) -> None:
    today = china_day(now())
    with session_scope() as s:
        old = _publish(s, "旧政策", "老旧小区加装电梯补助旧标准", expires_on=today - timedelta(days=1))
        new = _publish(s, "新政策", "老旧小区加装电梯补助新标准", effective_from=today)
        later = _publish(s, "未来政策", "老旧小区加装电梯补助未来标准", effective_from=today + timedelta(days=30))
    with session_scope() as s:
        ids = [h["id"] for h in service.search_articles(s, "加装电梯补助")]
        assert ids == [new]
        ahead = service.search_articles(s, "加装电梯补助", filters=Filters(valid_on=today + timedelta(days=31)))
        assert {h["id"] for h in ahead} == {new, later}
        assert [a.id for a in service.expire_due(s)] == [old]
    with session_scope() as s:
        assert service.get_article(s, old).status == "expired"


def test_search_highlights_and_filters(db_url: str) -> None:
    with session_scope() as s:
        _publish(s, "社保卡挂失", "社会保障卡丢失后应立即挂失并补办", lines=["12333"], owner_unit="人社厅")
        _publish(s, "公积金提取", "职工可以申请提取住房公积金", lines=["12329"], owner_unit="住建厅")
    with session_scope() as s:
        hits = service.search_articles(s, "社会保障卡丢失怎么办")
        assert hits[0]["title"] == "社保卡挂失"
        assert "<mark>社会保障卡丢失</mark>" in hits[0]["snippet"]
        assert service.search_articles(s, "社会保障卡", filters=Filters(line="12329")) == []
        assert [h["title"] for h in service.search_articles(s, "提取", filters=Filters(unit="住建厅"))] == [
            "公积金提取"
        ]
        with pytest.raises(InvalidInput) as err:
            service.search_articles(s, "  ")
        assert err.value.code == "empty-query"


def test_flags_reach_owner_with_working_day_deadline(db_url: str) -> None:
    with session_scope() as s:
        key = _publish(s, "医保缴费", "城乡居民医保缴费时间", owner_unit="省医保局")
        useful = service.flag_article(s, key, "useful", agent="座席001")
        outdated = service.flag_article(s, key, "outdated", agent="座席002", comment="缴费时间已调整")
        assert useful.review_due is None
        expected = load_calendar(s).add_workdays(china_day(now()), 3)
        assert outdated.review_due == expected
        flag_id = outdated.id
    with session_scope() as s:
        waiting = service.list_flags(s, unit="省医保局", kind="outdated")
        assert [f.id for f in waiting] == [flag_id]
        assert service.list_flags(s, unit="其他单位") == []
        service.review_flag(s, flag_id, "withdrawn", actor="医保局审核员")
    with session_scope() as s:
        assert service.get_article(s, key).status == "withdrawn"
        assert service.list_flags(s, unit="省医保局", kind="outdated") == []
        with pytest.raises(Conflict):
            service.review_flag(s, flag_id, "confirmed", actor="x")
        with pytest.raises(InvalidInput):
            service.flag_article(s, key, "great", agent="x")


def test_the_maintenance_queue_lists_what_waits_on_those_who_maintain_the_knowledge_base(db_url: str) -> None:
    """知识维护: submitted articles, open 纠错 (oldest deadline first, 超期 once its deadline has passed), published
    articles expired or expiring within 30 days, drafts; nothing else, and a unit sees its own."""
    from hotline.knowledge.store import ArticleFlag

    today = china_day(now())
    with session_scope() as s:
        waiting = service.create_article(
            s, ArticleInput(title="门诊报销", body="带病历办理", owner_unit="医保局"), actor="a"
        )
        service.set_status(s, waiting.id, "review", actor="小王")
        draft = service.create_article(s, ArticleInput(title="草拟", body="未定", owner_unit="住建局"), actor="小李")
        soon = _publish(s, "暑期托管", "七月开办", owner_unit="教育局", expires_on=today + timedelta(days=30))
        due_today = _publish(s, "年票", "今日截止", owner_unit="教育局", expires_on=today)
        lapsed = _publish(s, "旧补贴", "已停办", owner_unit="住建局", expires_on=today - timedelta(days=1))
        _publish(s, "远期", "明年到期", owner_unit="教育局", expires_on=today + timedelta(days=31))
        steady = _publish(s, "不限期", "长期有效", owner_unit="医保局")
        gone = _publish(s, "撤回的", "撤回", owner_unit="医保局", expires_on=today)
        service.set_status(s, gone, "withdrawn", actor="chief")
        fresh = service.flag_article(s, soon, "outdated", agent="座席001", comment="托管费用已调整")
        old = service.flag_article(s, steady, "outdated", agent="座席002", comment="电话已变更")
        service.flag_article(s, steady, "useful", agent="座席003")
        closed = service.flag_article(s, steady, "outdated", agent="座席004", comment="地址有误")
        service.review_flag(s, closed.id, "confirmed", actor="chief")
        s.flush()
        # Flagged earlier: its deadline passed yesterday. A deadline of today is not yet overdue.
        s.get(ArticleFlag, old.id).review_due = today - timedelta(days=1)  # type: ignore[union-attr]
        due_now = service.flag_article(s, lapsed, "outdated", agent="座席005", comment="已停办")
        s.get(ArticleFlag, due_now.id).review_due = today  # type: ignore[union-attr]
        ids = {"waiting": waiting.id, "draft": draft.id, "fresh": fresh.id, "old": old.id, "due_now": due_now.id}
    with session_scope() as s:
        queue = service.maintenance_queue(s)
        assert [a.id for a in queue.review] == [ids["waiting"]]
        assert queue.review[0].updated_by == "小王" and queue.review[0].key == f"KB{ids['waiting']:06d}"
        assert [a.id for a in queue.drafts] == [ids["draft"]]
        assert [f.flag.id for f in queue.flags] == [ids["old"], ids["due_now"], ids["fresh"]]
        assert [(f.article_title, f.overdue) for f in queue.flags] == [
            ("不限期", True), ("旧补贴", False), ("暑期托管", False)
        ]  # fmt: skip
        assert queue.overdue_flags == 1
        assert [a.id for a in queue.expired] == [lapsed]  # still published: `expire_due` has not run
        assert [a.id for a in queue.expiring] == [due_today, soon]
        shown = queue.as_dict()
        assert shown["flags"][0]["article_title"] == "不限期" and shown["flags"][0]["overdue"] is True
        assert "body" not in shown["review"][0]

        mine = service.maintenance_queue(s, unit="住建局")
        assert [a.id for a in mine.drafts] == [ids["draft"]] and mine.review == []
        assert [a.id for a in mine.expired] == [lapsed] and mine.expiring == []
        assert [f.flag.id for f in mine.flags] == [ids["due_now"]]
        service.expire_due(s)
    with session_scope() as s:
        assert service.maintenance_queue(s).expired == []  # now 已过期: nothing left to decide


def test_two_useful_clicks_at_once_count_once(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both clicks pass the "already marked?" check before either is written (the check sees nothing): the
    database still keeps one 有用 per person and version, and the second click is told `already-marked`, not a
    server error. 纠错 by the same person may be repeated."""
    with session_scope() as s:
        key = _publish(s, "医保缴费", "城乡居民医保缴费时间", owner_unit="省医保局")
    monkeypatch.setattr(service, "_marked_useful", lambda *_: False)
    with session_scope() as s:
        service.flag_article(s, key, "useful", agent="座席001")
    with session_scope() as s:
        with pytest.raises(Conflict) as told:
            service.flag_article(s, key, "useful", agent="座席001")
        assert told.value.code == "already-marked"
        service.flag_article(s, key, "useful", agent="座席002")  # the session is still usable
        for _ in range(2):
            service.flag_article(s, key, "outdated", agent="座席001", comment="缴费时间已调整")
    with session_scope() as s:
        assert service.usefulness(s, key).useful == 2
        assert len(service.list_flags(s, unit="省医保局", kind="outdated")) == 2


def test_changes_since_includes_withdrawals(db_url: str) -> None:
    with session_scope() as s:
        a = _publish(s, "一", "内容一")
        b = _publish(s, "二", "内容二")
    with session_scope() as s:
        first = service.changes_since(s, None, limit=1)
        assert first["more"] is True and len(first["articles"]) == 1
        everything = service.changes_since(s, None)
        assert {x["id"] for x in everything["articles"]} == {a, b}
        cursor = everything["next_since"]
    with session_scope() as s:
        from hotline.timeutil import parse_instant

        service.set_status(s, a, "withdrawn", actor="x")
        delta = service.changes_since(s, parse_instant(cursor))
        assert [(x["id"], x["status"]) for x in delta["articles"]] == [(a, "withdrawn")]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_import_xlsx_then_reimport_makes_new_version(db_url: str, tmp_path: Path) -> None:
    header = ["编号", "标题", "正文", "分类", "责任单位", "适用热线", "关键词", "生效日期"]
    path = _xlsx(
        tmp_path / "dept.xlsx",
        [
            header,
            [
                "Z-1",
                "纳税申报",
                "个人所得税年度汇算可通过个税App办理",
                "税务",
                "税务局",
                "12366、12345",
                "个税、汇算",
                "2021-03-01",
            ],
            [1002, "发票查验", "增值税发票可在查验平台查验真伪", "税务", "税务局", "12366", "", None],
        ],
    )
    with session_scope() as s:
        summary = service.import_file(s, path, id_column="编号", body_column="正文", title_column="标题")
        assert (summary.created, summary.updated) == (2, 0)
        art = service.get_article(s, "Z-1")
        assert art.lines == ["12366", "12345"] and art.keywords == ["个税", "汇算"]
        assert str(art.effective_from) == "2021-03-01" and art.status == "published"
        assert service.get_article(s, "1002").title == "发票查验"
    path = _xlsx(
        tmp_path / "dept2.xlsx",
        [
            header,
            [
                "Z-1",
                "纳税申报",
                "个人所得税年度汇算可通过个税App或办税服务厅办理",
                "税务",
                "税务局",
                "12366、12345",
                "个税、汇算",
                "2021-03-01",
            ],
            [1002, "发票查验", "增值税发票可在查验平台查验真伪", "税务", "税务局", "12366", "", None],
        ],
    )
    with session_scope() as s:
        summary = service.import_file(s, path, id_column="编号", body_column="正文", title_column="标题")
        assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
        versions = service.list_versions(s, "Z-1")
        assert [v.version for v in versions] == [1, 2] and versions[1].changed_fields == ["body"]
        assert service.search_articles(s, "办税服务厅")[0]["article_id"] == "Z-1"


def test_import_error_writes_nothing(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,text\nA,内容一\n,内容二\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err, session_scope() as s:
        service.import_file(s, path, id_column="id", body_column="text")
    assert err.value.code == "missing-id" and "第 3 行" in err.value.message
    with session_scope() as s:
        assert service.changes_since(s, None)["articles"] == []
        with pytest.raises(InvalidInput) as err2:
            service.import_file(s, path, id_column="编号", body_column="text")
        assert err2.value.code == "missing-column"


def test_export_round_trip(db_url: str, tmp_path: Path) -> None:
    with session_scope() as s:
        _publish(s, "停水通知", "计划停水信息提前公告", lines=["12345"], regions=["510100"], keywords=["停水"])
        service.create_article(s, ArticleInput(title="草稿", body="未发布"), actor="x", external_id="D-1")
    with session_scope() as s:
        assert service.export_articles(s, tmp_path / "all.xlsx") == 2
        assert service.export_articles(s, tmp_path / "pub.csv", status="published") == 1
    sheet = load_workbook(tmp_path / "all.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "标题", "正文")
    assert rows[1][5] == "12345" and rows[1][10] == "已发布" and rows[2][10] == "草稿"
    csv_rows = transfer.read_table(tmp_path / "pub.csv")
    assert [r["标题"] for r in csv_rows] == ["停水通知"]
    # The export imports back unchanged.
    with session_scope() as s:
        summary = service.import_file(
            s, tmp_path / "all.xlsx", id_column="编号", body_column="正文", title_column="标题"
        )
        assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 2)


def test_index_is_persisted_and_rebuilt_on_change(db_url: str) -> None:
    with session_scope() as s:
        _publish(s, "一", "电梯加装补助")
        first = service.get_index(s)
        assert service.get_index(s) is first
        path = service._cache_path(service._url(s))
        assert path.exists()
        service._CACHE.clear()
        loaded = service.get_index(s)  # from disk
        assert loaded.signature == first.signature and len(loaded) == 1
        _publish(s, "二", "公积金提取")
        rebuilt = service.get_index(s)
        assert len(rebuilt) == 2
        # The unchanged article's segmentation is reused, not redone.
        assert rebuilt.tokens[0] is loaded.tokens[0]
        assert [h["title"] for h in service.search_articles(s, "公积金")] == ["二"]
        # A withdrawal only changes the article's status: the same index object is updated in place.
        second = service.search_articles(s, "公积金")[0]["id"]
        service.set_status(s, second, "withdrawn", actor="chief")
        assert service.get_index(s) is rebuilt
        assert service.search_articles(s, "公积金") == []
        service.set_status(s, second, "draft", actor="chief")
        service.update_article(s, second, {"body": "住房公积金提取"}, actor="chief")
        assert service.get_index(s) is not rebuilt  # text changed: rebuilt


def test_load_demo_is_idempotent_and_searchable(db_url: str) -> None:
    with session_scope() as s:
        first = service.load_demo(s)
        assert "新增" in first
        queue = service.maintenance_queue(s)
        assert [a.key for a in queue.review] == ["DEMO-R01"] and [f.article_key for f in queue.flags] == ["DEMO-015"]
    with session_scope() as s:
        again = service.load_demo(s)
        assert "0 条新增" in again and "待审核" not in again
        queue = service.maintenance_queue(s)
        assert (len(queue.review), len(queue.flags)) == (1, 1)
        hits = service.search_articles(s, "社保卡丢了怎么补办")
        assert hits and hits[0]["title"] == "社保卡丢失如何挂失补办"
