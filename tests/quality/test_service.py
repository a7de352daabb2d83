"""话务质检's use cases on SQLite and PostgreSQL: the draw (per agent, reproducible from its seed, only lead orders
agents took in and not inspected yet), picking one order, scoring on the sheet of the moment (kept with the result),
the agent's own results only, one appeal within the working-day window, review, the append-only history, the
figures, the 我的待办 counts and the sheet's change records."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from hotline.changelog import service as changelog
from hotline.db import AppendOnlyError, session_scope
from hotline.errors import HotlineError
from hotline.quality import service
from hotline.quality.domain import DEFAULT_SHEET, Deduction, Item, Veto
from hotline.quality.store import Draw, Inspection, SheetVersion, Step
from hotline.supervision.service import period_bounds
from tests.quality.orders import JUNE, LI, WANG, ZHANG, at, dispatch_with_co_handling, take, take_many, units

JULY = date(2021, 7, 1)


def _code(work: Any) -> str:
    with pytest.raises(HotlineError) as caught, session_scope() as s:
        work(s)
    return caught.value.code


def _draw(per_agent: int, seed: int, since: date = JUNE, until: date = date(2021, 6, 30)) -> dict[str, Any]:
    with session_scope() as s:
        return service.draw(s, since, until, per_agent, seed=seed, actor=WANG, at=at(JULY))


def _numbers(done: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for i in done["inspections"]:
        found.setdefault(i["agent_key"], []).append(i["order_number"])
    return found


def _pick(number: str) -> int:
    with session_scope() as s:
        return int(service.pick(s, number, actor=WANG, at=at(JULY))["id"])


def _score(inspection: int, deductions: list[Deduction], day: date = date(2021, 7, 2), **more: Any) -> dict[str, Any]:
    with session_scope() as s:
        return service.score(s, inspection, deductions, actor=more.pop("actor", WANG), at=at(day), **more)


def _forget_inspections() -> None:
    """Plain SQL, as the tests empty tables: the history refuses the ORM's deletes."""
    with session_scope() as s:
        for table in (Step, Inspection, Draw):
            s.execute(text(f"DELETE FROM {table.__tablename__}"))


# -- 抽检 ----------------------------------------------------------------------------------------------------------
def test_a_draw_takes_n_per_agent_among_the_lead_orders_agents_took_in_over_the_period(db_url: str) -> None:
    units()
    zhang = take_many(ZHANG, 6)
    li = take_many(LI, 2)
    co_handled = take(ZHANG, date(2021, 6, 21))
    child = dispatch_with_co_handling(co_handled)
    left_out = [
        take("李华（lihua）", role="dispatcher"),  # taken in by a dispatcher
        take("天府通办（tianfu）", client_key="open311:tianfu:1", channel="app"),  # an app's request
        take(""),  # an import naming no one
        take(ZHANG, date(2021, 5, 31)),
        take(ZHANG, JULY),
    ]
    done = _draw(3, seed=7)
    drawn = _numbers(done)
    assert set(drawn) == {"zhangmin", "lina"}
    assert len(drawn["zhangmin"]) == 3 and set(drawn["zhangmin"]) <= {*zhang, co_handled}
    assert sorted(drawn["lina"]) == sorted(li)  # fewer than asked: both
    assert not {child, *left_out} & {n for numbers in drawn.values() for n in numbers}
    assert done["draw"] | {"id": 0, "at": ""} == {
        "id": 0, "at": "", "actor": WANG, "since": "2021-06-01", "until": "2021-06-30", "per_agent": 3, "seed": 7,
        "candidates": 9, "drawn": 5, "agents": 2,
    }  # fmt: skip
    first = done["inspections"][0]
    assert first["status"] == "pending" and first["status_label"] == "待质检" and first["draw_id"] == done["draw"]["id"]
    with session_scope() as s:
        assert service.get_draw(s, done["draw"]["id"])["seed"] == 7  # type: ignore[index]
        steps = s.scalars(select(Step).where(Step.inspection_id == first["id"])).all()
        assert [(st.action, st.detail) for st in steps] == [("drawn", {"draw": done["draw"]["id"], "seed": 7})]


def test_the_same_seed_draws_the_same_orders_again_and_a_new_seed_is_kept(db_url: str) -> None:
    take_many(ZHANG, 20)
    take_many(LI, 20)
    first = _numbers(_draw(3, seed=11))
    _forget_inspections()
    assert _numbers(_draw(3, seed=11)) == first
    _forget_inspections()
    assert _numbers(_draw(3, seed=12)) != first
    _forget_inspections()
    with session_scope() as s:
        made = service.draw(s, JUNE, date(2021, 6, 30), 3, actor=WANG)
    assert 0 <= made["draw"]["seed"] < 10**12
    _forget_inspections()
    assert _numbers(_draw(3, seed=made["draw"]["seed"])) == _numbers(made)


def test_a_draw_leaves_out_the_orders_already_inspected(db_url: str) -> None:
    numbers = take_many(ZHANG, 4)
    _pick(numbers[0])
    done = _draw(50, seed=1)
    assert sorted(_numbers(done)["zhangmin"]) == sorted(numbers[1:])
    again = _draw(50, seed=1)
    assert (again["draw"]["candidates"], again["draw"]["drawn"], again["inspections"]) == (0, 0, [])


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"per_agent": 0}, "quality-invalid-count"),
    ({"seed": -1}, "quality-invalid-seed"),
    ({"until": date(2021, 5, 1)}, "invalid-period"),
    ({"actor": " "}, "actor-required"),
])  # fmt: skip
def test_a_draw_out_of_bounds_writes_nothing(db_url: str, kwargs: dict[str, Any], code: str) -> None:
    take(ZHANG)
    args: dict[str, Any] = {"per_agent": 2, "seed": 1, "actor": WANG, "until": date(2021, 6, 30)} | kwargs
    assert _code(lambda s: service.draw(s, JUNE, args.pop("until"), args.pop("per_agent"), **args)) == code
    with session_scope() as s:
        assert s.scalars(select(Draw)).all() == [] and s.scalars(select(Inspection)).all() == []


def test_a_supervisor_picks_one_order_by_its_number(db_url: str) -> None:
    units()
    number = take(ZHANG)
    child = dispatch_with_co_handling(number)
    made = _pick(number)
    with session_scope() as s:
        found = service.get_inspection(s, made)
    assert (found["order_number"], found["agent"], found["draw_id"]) == (number, ZHANG, None)
    assert [h["action_label"] for h in found["history"]] == ["指定抽检"]
    assert _code(lambda s: service.pick(s, number, actor=WANG)) == "quality-already-inspected"
    assert _code(lambda s: service.pick(s, child, actor=WANG)) == "quality-not-agent-order"
    assert _code(lambda s: service.pick(s, take("李华（lihua）", role="dispatcher"), actor=WANG)) == (
        "quality-not-agent-order"
    )
    assert _code(lambda s: service.pick(s, "5101002021060199999", actor=WANG)) == "workorder-not-found"


# -- 评分 ----------------------------------------------------------------------------------------------------------
def test_a_result_keeps_the_sheet_it_was_scored_with(db_url: str) -> None:
    old, new = _pick(take(ZHANG)), _pick(take(ZHANG, date(2021, 6, 2)))
    scored = _score(old, [Deduction("诉求记录完整准确", 15, "未记录地点")])
    assert (scored["total"], scored["passed"], scored["result_label"]) == (85, True, "合格")
    with session_scope() as s:
        service.set_sheet(
            s, items=[Item("服务用语规范", 40), Item("诉求记录完整准确", 60)], vetoes=["泄露来电人信息"],
            pass_line=90, appeal_days=3, actor="系统管理员（admin）",
        )  # fmt: skip
    with session_scope() as s:
        kept = service.get_inspection(s, old)
        assert (kept["total"], kept["passed"]) == (85, True)  # not rescored against the new pass line
        assert [i["label"] for i in kept["sheet"]["items"]][-1] == "办理时效（受理及时）"
        assert kept["sheet"]["pass_line"] == 80
        pending = service.get_inspection(s, new)
        assert pending["sheet"]["pass_line"] == 90  # a task waiting is scored on the sheet of the moment
    later = _score(new, [Deduction("诉求记录完整准确", 15, "未记录地点")])
    assert (later["total"], later["passed"]) == (85, False)
    assert later["sheet_version"] != scored["sheet_version"]
    assert _code(lambda s: service.score(s, new, [Deduction("政策解答准确", 1, "x")], actor=WANG)) == (
        "quality-already-scored"
    )


def test_a_veto_scores_zero(db_url: str) -> None:
    done = _score(_pick(take(ZHANG)), [], veto=Veto("与群众发生争执、态度恶劣", "与来电人争吵"))
    assert (done["total"], done["result_label"]) == (0, "不合格")
    assert done["result"]["veto"] == {"item": "与群众发生争执、态度恶劣", "reason": "与来电人争吵"}


def test_a_refused_score_writes_nothing(db_url: str) -> None:
    task = _pick(take(ZHANG))
    for deductions, actor, code in [
        ([Deduction("服务用语规范", 16, "x")], WANG, "quality-deduction-too-large"),
        ([Deduction("服务用语规范", 2, "")], WANG, "quality-note-required"),
        ([], "zhangmin", "quality-own-order"),  # one's own order, by login
    ]:
        assert _code(lambda s, d=deductions, a=actor: service.score(s, task, d, actor=a)) == code
    assert _code(lambda s: service.score(s, 999999, [], actor=WANG)) == "quality-task-not-found"
    with session_scope() as s:
        found = service.get_inspection(s, task)
    assert (found["status"], found["total"], len(found["history"])) == ("pending", None, 1)


# -- 确认, 申诉, 复核 ----------------------------------------------------------------------------------------------
def test_an_agent_appeals_their_own_result_once_within_three_working_days(db_url: str) -> None:
    task = _pick(take(ZHANG))
    scored = _score(task, [Deduction("政策解答准确", 20, "解答错误")], day=date(2021, 6, 4))  # a Friday
    assert scored["appeal_due"] == "2021-06-09" and scored["open_for_agent"] and scored["status_label"] == "待确认"

    def appeal(agent: str, day: date) -> Any:
        return lambda s: service.appeal(s, task, "解答依据是最新政策", agent=agent, at=at(day))

    assert _code(appeal(LI, date(2021, 6, 7))) == "quality-not-own"
    assert _code(appeal(ZHANG, date(2021, 6, 10))) == "quality-appeal-closed"
    assert _code(lambda s: service.appeal(s, task, " ", agent=ZHANG, at=at(date(2021, 6, 9)))) == (
        "quality-reason-required"
    )
    with session_scope() as s:
        done = appeal("zhangmin", date(2021, 6, 9))(s)  # the login is the agent too; the last day
    assert (done["status"], done["status_label"], done["appeal_reason"]) == (
        "appealed",
        "申诉待复核",
        "解答依据是最新政策",
    )
    assert _code(appeal(ZHANG, date(2021, 6, 9))) == "quality-appeal-closed"  # once


def test_after_the_window_a_result_stands(db_url: str) -> None:
    task = _pick(take(ZHANG))
    _score(task, [Deduction("政策解答准确", 20, "解答错误")], day=date(2021, 6, 4))
    with session_scope() as s:
        shown = service.list_inspections(s, status="done", agent=ZHANG, at=at(date(2021, 6, 10)))["inspections"][0]
    assert shown["status_label"] == "已生效（未申诉）" and not shown["open_for_agent"]


def test_confirming_gives_up_the_appeal(db_url: str) -> None:
    task = _pick(take(ZHANG))
    _score(task, [], day=date(2021, 6, 4))
    assert _code(lambda s: service.confirm(s, task, agent=LI, at=at(date(2021, 6, 7)))) == "quality-not-own"
    with session_scope() as s:
        done = service.confirm(s, task, agent=ZHANG, at=at(date(2021, 6, 7)))
    assert (done["status"], done["status_label"]) == ("confirmed", "已确认")
    assert _code(lambda s: service.appeal(s, task, "理由", agent=ZHANG, at=at(date(2021, 6, 7)))) == (
        "quality-appeal-closed"
    )
    assert _code(lambda s: service.confirm(s, task, agent=ZHANG, at=at(date(2021, 6, 7)))) == "quality-not-confirmable"


def _appealed(deductions: list[Deduction]) -> int:
    task = _pick(take(ZHANG))
    _score(task, deductions, day=date(2021, 6, 4))
    with session_scope() as s:
        service.appeal(s, task, "记录是完整的", agent=ZHANG, at=at(date(2021, 6, 7)))
    return task


def test_a_review_keeps_the_result(db_url: str) -> None:
    task = _appealed([Deduction("诉求记录完整准确", 25, "未记录诉求")])
    assert _code(lambda s: service.review(s, task, "keep", "", actor=WANG)) == "quality-note-required"
    assert _code(lambda s: service.review(s, task, "撤销", "x", actor=WANG)) == "quality-invalid-outcome"
    assert _code(lambda s: service.review(s, task, "keep", "x", actor=ZHANG)) == "quality-own-order"
    with session_scope() as s:
        done = service.review(s, task, "维持原结果", "录音无法核实，按记录判定", actor=WANG, at=at(date(2021, 6, 8)))
    assert (done["status"], done["review_outcome"], done["review_label"]) == ("reviewed", "keep", "维持原结果")
    assert (done["total"], done["first_total"], done["reviewed_by"]) == (75, None, WANG)
    assert _code(lambda s: service.review(s, task, "keep", "again", actor=WANG)) == "quality-not-appealed"


def test_a_review_changes_the_score_on_the_sheet_it_was_scored_with(db_url: str) -> None:
    task = _appealed([Deduction("诉求记录完整准确", 25, "未记录诉求"), Deduction("办理时效（受理及时）", 5, "受理慢")])
    with session_scope() as s:  # the sheet changes meanwhile: the review rescores on the old one
        service.set_sheet(s, items=[Item("服务用语规范", 100)], vetoes=[], pass_line=60, appeal_days=3, actor="管理员")
    with session_scope() as s:
        done = service.review(
            s, task, "change", "地点已记录，改为扣 5 分",
            deductions=[Deduction("诉求记录完整准确", 5, "持续时间未记录"), Deduction("办理时效（受理及时）", 5, "受理慢")],
            actor=WANG, at=at(date(2021, 6, 8)),
        )  # fmt: skip
    assert (done["total"], done["passed"], done["first_total"]) == (90, True, 70)
    assert done["first_result"]["deductions"][0] == {"item": "诉求记录完整准确", "points": 25, "note": "未记录诉求"}
    with session_scope() as s:
        history = service.get_inspection(s, task)["history"]
    assert [h["action"] for h in history] == ["picked", "scored", "appealed", "reviewed"]
    assert history[-1]["detail"]["before"] == 70 and history[-1]["detail"]["after"] == 90
    assert history[2]["note"] == "记录是完整的" and history[2]["actor"] == ZHANG


def test_an_agent_lists_and_reads_only_their_own_results(db_url: str) -> None:
    mine, theirs = _pick(take(ZHANG)), _pick(take(LI))
    for task in (mine, theirs):
        _score(task, [])
    with session_scope() as s:
        listed = service.list_inspections(s, status="done", agent="zhangmin")
        assert [i["id"] for i in listed["inspections"]] == [mine] and listed["total"] == 1
        assert service.get_inspection(s, mine, own=ZHANG)["id"] == mine
    assert _code(lambda s: service.get_inspection(s, theirs, own=ZHANG)) == "quality-not-own"


def test_the_history_is_append_only(db_url: str) -> None:
    task = _pick(take(ZHANG))
    with pytest.raises(AppendOnlyError), session_scope() as s:
        s.scalars(select(Step)).one().note = "改写"
    with pytest.raises(AppendOnlyError), session_scope() as s:
        s.execute(delete(Step))
    with pytest.raises(AppendOnlyError), session_scope() as s:
        s.execute(update(SheetVersion).values(pass_line=60))
    with pytest.raises(DBAPIError), session_scope() as s:  # the database refuses too
        s.execute(text("UPDATE quality_history SET note = 'x'"))
    with session_scope() as s:
        assert len(service.get_inspection(s, task)["history"]) == 1


# -- the order and its call ----------------------------------------------------------------------------------------
def test_an_inspection_shows_the_order_masked_and_the_call_it_was_taken_from(db_url: str) -> None:
    from tests.telephony.missed_calls import ANSWERED, call, set_up_lines

    set_up_lines()
    call("c-1", "13900002222", 0, ANSWERED)
    with_call = take(ZHANG, caller_name="刘芳", phone="13900002222", call_id="c-1")
    without = take(ZHANG, channel="web")
    unknown = take(ZHANG, call_id="not-kept")
    with session_scope() as s:
        found = service.get_inspection(s, _pick(with_call))
        assert (found["order"]["caller_name"], found["order"]["caller_phone"]) == ("刘*", "139****2222")
        assert found["order"]["history"][0]["actor"] == ZHANG
        assert found["call"] | {"wait_seconds": None} == {
            "call_id": "c-1", "found": True, "time": "2021-06-01 10:00:00", "dialed": "12345", "caller": "139****2222",
            "answered": True, "talk_seconds": 188, "talk": "3 分 8 秒", "whole_seconds": 200, "whole": "3 分 20 秒",
            "wait_seconds": None,
        }  # fmt: skip
        assert service.get_inspection(s, _pick(without))["call"] is None
        assert service.get_inspection(s, _pick(unknown))["call"] == {"call_id": "not-kept", "found": False}


# -- figures and 我的待办 --------------------------------------------------------------------------------------------
def _results() -> None:
    """ZHANG: 90 (reviewed, changed from 70), 60 under a veto; LI: 85; a pending task of LI's; one of July."""
    changed = _appealed([Deduction("诉求记录完整准确", 25, "a"), Deduction("服务用语规范", 5, "b")])
    with session_scope() as s:
        service.review(s, changed, "change", "改分", deductions=[Deduction("服务用语规范", 10, "b")], actor=WANG)
    _score(_pick(take(ZHANG, date(2021, 6, 3))), [], veto=Veto("泄露来电人信息", "x"))
    _score(_pick(take(LI, date(2021, 6, 5), region="510700")), [Deduction("政策解答准确", 15, "c")])
    _pick(take(LI, date(2021, 6, 6)))
    _score(_pick(take(LI, JULY)), [])


def test_figures_per_agent_and_for_the_centre_over_the_period_orders_were_taken_in(db_url: str) -> None:
    _results()
    start, end = period_bounds(JUNE, date(2021, 6, 30))
    with session_scope() as s:
        found = service.figures(s, start, end)
        assert found["centre"] == {
            "inspected": 3, "average": 58.33, "passed": 2, "pass_rate": 2 / 3, "appeals": 1, "changed": 1, "pending": 1,
        }  # fmt: skip
        agents = {a["agent_key"]: a for a in found["agents"]}
        assert agents["zhangmin"] | {"pass_rate": 0} == {
            "agent_key": "zhangmin", "agent": ZHANG, "inspected": 2, "average": 45.0, "passed": 1, "pass_rate": 0,
            "appeals": 1, "changed": 1,
        }  # fmt: skip
        assert (agents["lina"]["inspected"], agents["lina"]["average"]) == (1, 85.0)
        assert found["pass_line"] == 80
        assert service.figures(s, start, end, region_code="510700")["centre"]["inspected"] == 1
        assert service.figures(s, start, end, agent="lina")["centre"]["inspected"] == 1
        july = service.figures(s, *period_bounds(JULY, JULY + timedelta(days=30)))
        assert july["centre"]["inspected"] == 1 and july["agents"][0]["agent_key"] == "lina"


def test_the_to_do_counts_tasks_appeals_and_an_agents_open_results(db_url: str) -> None:
    _pick(take(LI))
    _appealed([])
    open_one = _pick(take(ZHANG, date(2021, 6, 2)))
    _score(open_one, [], day=date(2021, 6, 4))
    with session_scope() as s:
        assert service.inspector_counts(s) == (1, 1)
        assert service.agent_open_count(s, ZHANG, at=at(date(2021, 6, 9))) == 1
        assert service.agent_open_count(s, "zhangmin", at=at(date(2021, 6, 10))) == 0  # the window has passed
        assert service.agent_open_count(s, LI, at=at(date(2021, 6, 9))) == 0


# -- 质检标准 ------------------------------------------------------------------------------------------------------
def test_a_change_to_the_sheet_is_a_settings_change_record_and_a_new_version(db_url: str) -> None:
    with session_scope() as s:
        before = service.sheet_view(s)
        assert before["items"] == DEFAULT_SHEET.to_dict()["items"] and before["pass_line"] == 80
        items = [Item(i.label, i.points) for i in DEFAULT_SHEET.items]
        same = service.set_sheet(s, items=items, vetoes=DEFAULT_SHEET.vetoes, pass_line=80, appeal_days=3, actor="x")
        assert same["version"] == before["version"]  # the same sheet again is no change
    assert (
        _code(lambda s: service.set_sheet(s, items=items[:-1], vetoes=[], pass_line=80, appeal_days=3, actor="管理员"))
        == "quality-invalid-sheet"
    )
    with session_scope() as s:
        after = service.set_sheet(
            s, items=items, vetoes=DEFAULT_SHEET.vetoes, pass_line=85, appeal_days=5, actor="系统管理员（admin）"
        )
        assert (after["pass_line"], after["appeal_days"], after["set_by"]) == (85, 5, "系统管理员（admin）")
    with session_scope() as s:
        changes = changelog.list_changes(s, kind="质检标准").changes
        assert [(c.actor, c.summary) for c in changes] == [
            ("系统管理员（admin）", "质检标准：合格线 80 → 85 分；申诉时限 3 → 5 个工作日")
        ]
        assert changes[0].before["pass_line"] == 80 and changes[0].after["appeal_days"] == 5  # type: ignore[index]


def test_a_score_after_a_longer_appeal_limit_gets_the_longer_window(db_url: str) -> None:
    with session_scope() as s:
        items = [Item(i.label, i.points) for i in DEFAULT_SHEET.items]
        service.set_sheet(s, items=items, vetoes=DEFAULT_SHEET.vetoes, pass_line=80, appeal_days=5, actor="管理员")
    assert _score(_pick(take(ZHANG)), [], day=date(2021, 6, 4))["appeal_due"] == "2021-06-11"


def test_the_demo_is_loaded_once(db_url: str) -> None:
    from hotline.telephony import service as telephony
    from hotline.workorders import service as workorders

    with session_scope() as s:
        workorders.load_demo(s)
        telephony.load_demo(s)
    with session_scope() as s:
        said = service.load_demo(s)
    assert said.startswith("质检：演示质检 2 张") and "抽检待质检 2 张" in said
    with session_scope() as s:
        assert service.load_demo(s) == "质检：已有演示数据"
        results = service.list_inspections(s, status="done")["inspections"]
        assert sorted((r["result_label"], r["status"]) for r in results) == [("不合格", "appealed"), ("合格", "scored")]
        assert all(r["agent_key"] == "zhangmin" for r in results)
        assert service.get_inspection(s, results[0]["id"])["call"]["found"] is True
        assert service.inspector_counts(s) == (2, 1)


# -- 作废 ----------------------------------------------------------------------------------------------------------
def _void(inspection: int, reason: str = "测试来电", actor: str = WANG) -> dict[str, Any]:
    with session_scope() as s:
        return service.void(s, inspection, reason, actor=actor, at=at(date(2021, 7, 3)))


def test_a_voided_task_leaves_the_pending_list_and_counts_and_shows_who_when_and_why(db_url: str) -> None:
    kept = _pick(take(ZHANG))
    task = _pick(take(LI, date(2021, 6, 2)))
    done = _void(task, "  重复工单，已并单  ")
    assert (done["status"], done["status_label"]) == ("voided", "已作废")
    assert (done["voided_by"], done["voided_time"], done["void_reason"]) == (
        WANG,
        "2021-07-03 10:00",
        "重复工单，已并单",
    )
    start, end = period_bounds(JUNE, date(2021, 6, 30))
    with session_scope() as s:
        assert [i["id"] for i in service.list_inspections(s)["inspections"]] == [kept]
        assert service.inspector_counts(s) == (1, 0)
        assert service.figures(s, start, end)["centre"] | {"pass_rate": None} == {
            "inspected": 0, "average": None, "passed": 0, "pass_rate": None, "appeals": 0, "changed": 0, "pending": 1,
        }  # fmt: skip
        assert service.figures(s, start, end)["agents"] == []  # not a result of 0 points
        assert service.list_inspections(s, status="done")["total"] == 0
        voided = service.list_inspections(s, status="voided")["inspections"]
        assert [(i["id"], i["status_label"], i["void_reason"]) for i in voided] == [
            (task, "已作废", "重复工单，已并单")
        ]
        assert {i["id"]: i["status_label"] for i in service.list_inspections(s, status="all")["inspections"]} == {
            kept: "待质检", task: "已作废",
        }  # fmt: skip
        steps = service.get_inspection(s, task)["history"]
        assert [(h["action"], h["action_label"], h["actor"], h["note"]) for h in steps][1:] == [
            ("voided", "作废", WANG, "重复工单，已并单")
        ]


def test_a_voided_task_is_never_scored_and_its_order_is_not_drawn_or_picked_again(db_url: str) -> None:
    number = take(ZHANG)
    task = _pick(number)
    _void(task)
    assert _code(lambda s: service.score(s, task, [], actor=WANG)) == "quality-task-voided"
    assert _code(lambda s: service.void(s, task, "再作废", actor=WANG)) == "quality-task-voided"
    assert _code(lambda s: service.pick(s, number, actor=WANG)) == "quality-already-inspected"
    assert _draw(5, seed=1)["inspections"] == []
    with session_scope() as s:
        assert service.get_inspection(s, task)["total"] is None


def test_a_scored_task_is_not_voided_and_a_refused_void_writes_nothing(db_url: str) -> None:
    scored = _pick(take(ZHANG))
    _score(scored, [])
    own = _pick(take(WANG, date(2021, 6, 2)))  # a supervisor who once took an order in as an agent
    assert _code(lambda s: service.void(s, scored, "测试来电", actor=WANG)) == "quality-not-voidable"
    assert _code(lambda s: service.void(s, own, "测试来电", actor=WANG)) == "quality-own-order"
    assert _code(lambda s: service.void(s, own, "  ", actor="李主管")) == "quality-reason-required"
    assert _code(lambda s: service.void(s, 999999, "测试来电", actor=WANG)) == "quality-task-not-found"
    with session_scope() as s:
        assert service.get_inspection(s, scored)["status"] == "scored"
        assert service.get_inspection(s, own)["status"] == "pending"
        assert len(service.get_inspection(s, own)["history"]) == 1
