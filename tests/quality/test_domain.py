"""话务质检 as plain rules (quality.domain): the sheet sums to 100 with its 一票否决 items, a result is the full marks less
its deductions (each with a note, never more than its item's points) or 0 under a veto, 合格 from the pass line up;
the appeal window counts working days over weekends, holidays and make-up days; the draw is random yet the same
again for the same seed; figures per agent; and a change to the sheet says what changed."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.calendar.domain import WorkCalendar
from hotline.changelog.domain import Kind
from hotline.errors import HotlineError
from hotline.quality import domain as q
from hotline.quality.domain import DEFAULT_SHEET, Deduction, Item, Sheet, Status, Veto

OFFICIAL = WorkCalendar()


def _code(call: object) -> str:
    with pytest.raises(HotlineError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


# -- the sheet -----------------------------------------------------------------------------------------------------
def test_the_default_sheet_is_the_centres_usual_one() -> None:
    assert q.check_sheet(DEFAULT_SHEET) == DEFAULT_SHEET
    assert sum(i.points for i in DEFAULT_SHEET.items) == 100
    assert [(i.label, i.points) for i in DEFAULT_SHEET.items][:2] == [("服务用语规范", 15), ("诉求记录完整准确", 25)]
    assert DEFAULT_SHEET.vetoes == ("泄露来电人信息", "与群众发生争执、态度恶劣")
    assert (DEFAULT_SHEET.pass_line, DEFAULT_SHEET.appeal_days) == (80, 3)
    assert Sheet.from_dict(DEFAULT_SHEET.to_dict()) == DEFAULT_SHEET


@pytest.mark.parametrize("sheet", [
    Sheet((Item("甲", 50), Item("乙", 49)), ()),  # 99
    Sheet((Item("甲", 50), Item("乙", 51)), ()),  # 101
    Sheet((), ()),
    Sheet((Item("甲", 50), Item("甲", 50)), ()),
    Sheet((Item("甲", 0), Item("乙", 100)), ()),
    Sheet((Item(" ", 100),), ()),
    Sheet((Item("3", 100),), ()),  # a number names an item by its place
    Sheet((Item("甲", 100),), ("否", "否")),
    Sheet((Item("甲", 100),), (), pass_line=0),
    Sheet((Item("甲", 100),), (), pass_line=101),
    Sheet((Item("甲", 100),), (), appeal_days=0),
    Sheet((Item("甲" * 41, 100),), ()),
])  # fmt: skip
def test_a_sheet_that_cannot_be_scored_with_is_refused(sheet: Sheet) -> None:
    assert _code(lambda: q.check_sheet(sheet)) == "quality-invalid-sheet"


def test_items_are_read_as_people_type_them() -> None:
    text = "服务用语规范 15\n\n诉求记录完整准确=25\n政策解答准确：20分\n  分类与派单正确   40  "
    assert q.parse_items(text) == (
        Item("服务用语规范", 15), Item("诉求记录完整准确", 25), Item("政策解答准确", 20), Item("分类与派单正确", 40),
    )  # fmt: skip
    assert q.parse_items(q.items_text(DEFAULT_SHEET)) == DEFAULT_SHEET.items
    assert _code(lambda: q.parse_items("服务用语规范 15\n没有分值")) == "quality-invalid-sheet"
    assert q.parse_lines(" 泄露来电人信息 \n\n态度恶劣\n") == ("泄露来电人信息", "态度恶劣")


# -- a result ------------------------------------------------------------------------------------------------------
def test_the_total_is_the_full_marks_less_the_deductions() -> None:
    result = q.score(DEFAULT_SHEET, [Deduction("服务用语规范", 5, "未报工号"), Deduction("3", 10, "解答不完整")])
    assert (result.total, result.passed, result.label) == (85, True, "合格")
    assert [(d.item, d.points) for d in result.deductions] == [("服务用语规范", 5), ("政策解答准确", 10)]
    assert q.score(DEFAULT_SHEET, []).total == 100
    # 0 points (a row of the form left blank) is no deduction, and needs no note
    assert q.score(DEFAULT_SHEET, [Deduction("工单填写规范", 0, "")]).deductions == ()


def test_the_pass_line_is_met_at_it_and_missed_below() -> None:
    at_line = q.score(DEFAULT_SHEET, [Deduction("诉求记录完整准确", 20, "a")])
    assert (at_line.total, at_line.passed) == (80, True)
    below = q.score(DEFAULT_SHEET, [Deduction("诉求记录完整准确", 21, "a")])
    assert (below.total, below.passed, below.label) == (79, False, "不合格")
    local = Sheet(DEFAULT_SHEET.items, DEFAULT_SHEET.vetoes, pass_line=90)
    assert q.score(local, [Deduction("诉求记录完整准确", 11, "a")]).passed is False


def test_a_veto_makes_the_result_zero_and_failed_whatever_the_deductions() -> None:
    result = q.score(DEFAULT_SHEET, [], Veto("泄露来电人信息", "向他人透露来电人电话"))
    assert (result.total, result.passed) == (0, False)
    assert result.veto == Veto("泄露来电人信息", "向他人透露来电人电话")
    by_number = q.score(DEFAULT_SHEET, [Deduction("1", 2, "x")], Veto("2", "与来电人争吵"))
    assert by_number.total == 0 and by_number.veto is not None and by_number.veto.item == "与群众发生争执、态度恶劣"
    assert len(by_number.deductions) == 1  # kept as said, though the veto decides


@pytest.mark.parametrize(("deductions", "veto", "code"), [
    ([Deduction("服务用语规范", 16, "多扣")], None, "quality-deduction-too-large"),
    ([Deduction("工单填写规范", 11, "多扣")], None, "quality-deduction-too-large"),
    ([Deduction("服务用语规范", 3, " ")], None, "quality-note-required"),
    ([Deduction("服务用语规范", -1, "负数")], None, "quality-invalid-deduction"),
    ([Deduction("服务用语规范", 1, "a"), Deduction("1", 1, "b")], None, "quality-duplicate-item"),
    ([Deduction("不存在的项", 1, "a")], None, "quality-unknown-item"),
    ([Deduction("7", 1, "a")], None, "quality-unknown-item"),
    ([], Veto("迟到", "理由"), "quality-unknown-veto"),
    ([], Veto("泄露来电人信息", ""), "quality-reason-required"),
    ([Deduction("服务用语规范", 3, "长" * 501)], None, "quality-note-too-long"),
])  # fmt: skip
def test_a_deduction_or_veto_out_of_bounds_is_refused(
    deductions: list[Deduction], veto: Veto | None, code: str
) -> None:
    assert _code(lambda: q.score(DEFAULT_SHEET, deductions, veto)) == code


def test_a_deduction_may_take_all_of_its_items_points() -> None:
    assert q.score(DEFAULT_SHEET, [Deduction("服务用语规范", 15, "全扣")]).total == 85


def test_deductions_and_vetoes_are_read_from_the_command_line() -> None:
    assert q.parse_deduction("诉求记录完整准确=5:未记录地点") == Deduction("诉求记录完整准确", 5, "未记录地点")
    assert q.parse_deduction("3 = 5分：解答有误") == Deduction("3", 5, "解答有误")
    assert _code(lambda: q.parse_deduction("诉求记录完整准确")) == "quality-invalid-deduction"
    assert q.parse_veto("泄露来电人信息：告诉了第三方") == Veto("泄露来电人信息", "告诉了第三方")
    assert q.parse_points(" 4 ") == 4 and q.parse_points("") == 0
    assert _code(lambda: q.parse_points("2.5", "服务用语规范")) == "quality-invalid-deduction"
    assert _code(lambda: q.parse_points("²", "服务用语规范")) == "quality-invalid-deduction"
    assert q.parse_points("５") == 5  # full-width, as a Chinese input method types it
    assert DEFAULT_SHEET.item("２") == DEFAULT_SHEET.items[1]
    assert _code(lambda: DEFAULT_SHEET.item("²")) == "quality-unknown-item"


# -- whose result --------------------------------------------------------------------------------------------------
def test_an_agent_is_known_by_the_login_the_history_names_or_by_the_name() -> None:
    assert q.agent_key("张敏（zhangmin）") == "zhangmin"
    assert q.agent_key("zhangmin") == "zhangmin"
    assert q.agent_key("张敏（已改名）（zhangmin）") == "zhangmin"
    assert q.agent_key("演示话务员") == "演示话务员"
    assert q.agent_key("王五（临时）") == "王五（临时）"  # not a login: the name as written
    q.check_own("张敏（zhangmin）", "张敏改名（zhangmin）")
    assert _code(lambda: q.check_own("李华（lihua）", "张敏（zhangmin）")) == "quality-not-own"
    assert _code(lambda: q.check_not_own("张敏（zhangmin）", "zhangmin")) == "quality-own-order"


# -- steps ---------------------------------------------------------------------------------------------------------
def test_a_task_is_scored_once() -> None:
    q.check_score(Status.PENDING)
    for status in (Status.SCORED, Status.CONFIRMED, Status.APPEALED, Status.REVIEWED):
        assert _code(lambda s=status: q.check_score(s)) == "quality-already-scored"


def test_the_appeal_window_counts_working_days_over_a_weekend() -> None:
    friday = date(2021, 6, 4)
    assert q.appeal_deadline(friday, OFFICIAL, 3) == date(2021, 6, 9)  # Mon, Tue, Wed
    q.check_appeal(Status.SCORED, date(2021, 6, 9), date(2021, 6, 9))  # the last day itself
    assert _code(lambda: q.check_appeal(Status.SCORED, date(2021, 6, 9), date(2021, 6, 10))) == "quality-appeal-closed"


def test_the_appeal_window_skips_a_holiday_and_counts_a_make_up_working_day() -> None:
    # 端午 2021: Sat 12 – Mon 14 June off.
    assert q.appeal_deadline(date(2021, 6, 10), OFFICIAL, 3) == date(2021, 6, 16)  # Fri 11, Tue 15, Wed 16
    # 中秋 2021: Sat 18 September a make-up working day, Sun 19 – Tue 21 off.
    assert q.appeal_deadline(date(2021, 9, 16), OFFICIAL, 3) == date(2021, 9, 22)  # Fri 17, Sat 18, Wed 22
    # The centre's own calendar wins: a day it closed is not counted.
    closed = WorkCalendar({date(2021, 6, 7): False})
    assert q.appeal_deadline(date(2021, 6, 4), closed, 3) == date(2021, 6, 10)
    # A local limit of 5 working days.
    assert q.appeal_deadline(date(2021, 6, 4), OFFICIAL, 5) == date(2021, 6, 11)


@pytest.mark.parametrize(("status", "code"), [
    (Status.PENDING, "quality-not-scored"),
    (Status.APPEALED, "quality-appeal-closed"),
    (Status.REVIEWED, "quality-appeal-closed"),
    (Status.CONFIRMED, "quality-appeal-closed"),
])  # fmt: skip
def test_an_appeal_is_made_once_on_a_result_not_confirmed(status: Status, code: str) -> None:
    due = None if status is Status.PENDING else date(2021, 6, 9)
    assert _code(lambda: q.check_appeal(status, due, date(2021, 6, 7))) == code


def test_a_result_is_confirmed_while_it_waits_on_its_agent() -> None:
    due = date(2021, 6, 9)
    q.check_confirm(Status.SCORED, due, due)
    assert q.open_for_agent(Status.SCORED, due, due) and not q.open_for_agent(Status.SCORED, due, date(2021, 6, 10))
    assert _code(lambda: q.check_confirm(Status.SCORED, due, date(2021, 6, 10))) == "quality-not-confirmable"
    assert _code(lambda: q.check_confirm(Status.APPEALED, due, due)) == "quality-not-confirmable"
    assert _code(lambda: q.check_confirm(Status.PENDING, None, due)) == "quality-not-scored"
    assert q.status_label(Status.SCORED, due, date(2021, 6, 10)) == "已生效（未申诉）"
    assert q.status_label(Status.SCORED, due, due) == "待确认"


def test_only_an_appeal_is_reviewed() -> None:
    q.check_review(Status.APPEALED)
    for status in (Status.PENDING, Status.SCORED, Status.CONFIRMED, Status.REVIEWED):
        assert _code(lambda s=status: q.check_review(s)) == "quality-not-appealed"
    assert q.parse_enum(q.Outcome, "改分", q.OUTCOME_LABELS, "复核结论", "x") is q.Outcome.CHANGE
    assert _code(lambda: q.parse_enum(q.Outcome, "撤销", q.OUTCOME_LABELS, "复核结论", "quality-invalid-outcome")) == (
        "quality-invalid-outcome"
    )


def test_only_a_task_still_pending_is_voided_and_a_voided_one_takes_no_further_step() -> None:
    q.check_void(Status.PENDING)
    for status in (Status.SCORED, Status.CONFIRMED, Status.APPEALED, Status.REVIEWED):
        assert _code(lambda s=status: q.check_void(s)) == "quality-not-voidable"
    due = date(2021, 6, 9)
    assert _code(lambda: q.check_void(Status.VOIDED)) == "quality-task-voided"
    assert _code(lambda: q.check_score(Status.VOIDED)) == "quality-task-voided"
    assert _code(lambda: q.check_appeal(Status.VOIDED, None, due)) == "quality-task-voided"
    assert _code(lambda: q.check_confirm(Status.VOIDED, None, due)) == "quality-task-voided"
    assert _code(lambda: q.check_review(Status.VOIDED)) == "quality-task-voided"
    assert q.status_label(Status.VOIDED, None, due) == "已作废" and not q.open_for_agent(Status.VOIDED, None, due)
    assert Status.VOIDED not in q.RESULTS


# -- the draw ------------------------------------------------------------------------------------------------------
POOLS = {"zhangmin": [f"A{i:03d}" for i in range(40)], "lihua": [f"B{i:03d}" for i in range(3)], "nobody": []}


def test_the_draw_takes_up_to_n_per_agent_and_the_same_again_for_the_same_seed() -> None:
    drawn = q.draw(POOLS, 5, 42)
    assert set(drawn) == {"zhangmin", "lihua"}  # an agent with no orders is left out
    assert len(drawn["zhangmin"]) == 5 and set(drawn["zhangmin"]) <= set(POOLS["zhangmin"])
    assert drawn["lihua"] == POOLS["lihua"]  # fewer than asked: all of them
    assert q.draw(POOLS, 5, 42) == drawn
    # the candidates' order does not matter, only which they are
    assert q.draw({k: list(reversed(v)) for k, v in POOLS.items()}, 5, 42) == drawn
    assert q.draw(POOLS, 5, 43)["zhangmin"] != drawn["zhangmin"]


def test_one_agents_draw_does_not_depend_on_the_others() -> None:
    alone = q.draw({"zhangmin": POOLS["zhangmin"]}, 5, 7)
    assert q.draw(POOLS, 5, 7)["zhangmin"] == alone["zhangmin"]


def test_the_draw_is_spread_over_the_candidates() -> None:
    seen = {n for seed in range(200) for n in q.draw(POOLS, 2, seed)["zhangmin"]}
    assert len(seen) == 40  # every order may be drawn


@pytest.mark.parametrize(("count", "seed", "code"), [
    (0, 1, "quality-invalid-count"), (51, 1, "quality-invalid-count"), (2, -1, "quality-invalid-seed"),
    (2, 10**12, "quality-invalid-seed"),
])  # fmt: skip
def test_a_draw_out_of_bounds_is_refused(count: int, seed: int, code: str) -> None:
    assert _code(lambda: q.draw(POOLS, count, seed)) == code


# -- figures -------------------------------------------------------------------------------------------------------
def test_figures_count_inspections_average_pass_rate_appeals_and_changes() -> None:
    results = [q.Scored(90, True, False, False), q.Scored(70, False, True, False), q.Scored(85, True, True, True)]
    found = q.figures(results)
    assert found.to_dict() == {
        "inspected": 3, "average": 81.67, "passed": 2, "pass_rate": 2 / 3, "appeals": 2, "changed": 1,
    }  # fmt: skip
    empty = q.figures([])
    assert (empty.average, empty.pass_rate, empty.inspected) == (None, None, 0)
    per = q.by_agent([("b", results[0]), ("a", results[1]), ("b", results[2])])
    assert list(per) == ["a", "b"] and per["b"].inspected == 2 and per["a"].passed == 0


def test_a_calls_duration() -> None:
    assert q.talk_seconds("2021-06-01T10:00:11+08:00", "2021-06-01T10:03:20+08:00") == 189
    assert q.talk_seconds(None, "2021-06-01T10:03:20+08:00") is None
    assert q.duration_text(189) == "3 分 9 秒" and q.duration_text(9) == "9 秒" and q.duration_text(None) == "—"


# -- a change to the sheet -----------------------------------------------------------------------------------------
def test_a_change_to_the_sheet_says_each_difference() -> None:
    items = (Item("服务用语规范", 20), *DEFAULT_SHEET.items[1:4], Item("工单填写规范", 15), Item("知识库运用", 0))
    after = Sheet(
        tuple(i for i in items if i.points),
        ("泄露来电人信息", "辱骂群众"),
        pass_line=85,
        appeal_days=5,
    )
    change = q.sheet_change(DEFAULT_SHEET, after)
    assert change is not None and change.kind is Kind.QUALITY and change.kind_label == "质检标准"
    assert change.key == "sheet"
    assert change.summary == (
        "质检标准：评分项 服务用语规范 15 → 20 分；评分项 工单填写规范 10 → 15 分；删除评分项 办理时效（受理及时）（原 10 分）；"
        "新增一票否决项 辱骂群众；删除一票否决项 与群众发生争执、态度恶劣；合格线 80 → 85 分；申诉时限 3 → 5 个工作日"
    )
    assert change.before == DEFAULT_SHEET.to_dict() and change.after == after.to_dict()
    assert q.sheet_change(DEFAULT_SHEET, DEFAULT_SHEET) is None
    moved = Sheet(tuple(reversed(DEFAULT_SHEET.items)), DEFAULT_SHEET.vetoes)
    assert q.sheet_change(DEFAULT_SHEET, moved).summary == "质检标准：评分项顺序调整"  # type: ignore[union-attr]
