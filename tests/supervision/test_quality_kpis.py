"""话务质检's figures in the KPI report (`supervision.service.report`, so the KPI API), and its sheet 话务质检 in the
Excel 考核报表: per agent and for the centre, counted on the orders taken in over the period (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hotline.db import session_scope
from hotline.quality import service as quality
from hotline.quality.domain import Deduction, Veto
from hotline.supervision import export, service
from hotline.timeutil import CHINA_TZ
from tests.conftest import bearer
from tests.quality.orders import LI, WANG, ZHANG, take

JUNE = (date(2021, 6, 1), date(2021, 6, 30))
MADE = datetime(2021, 7, 30, 10, 0, tzinfo=CHINA_TZ)


def _results() -> None:
    """ZHANG 90 and 0 (a veto, appealed and kept); LI 75; one task still waiting; one result on a July order."""
    numbers = [
        take(ZHANG, date(2021, 6, 2)), take(ZHANG, date(2021, 6, 3)), take(LI, date(2021, 6, 4), region="510700"),
        take(LI, date(2021, 6, 5)), take(LI, date(2021, 7, 1)),
    ]  # fmt: skip
    with session_scope() as s:
        tasks = [int(quality.pick(s, number, actor=WANG)["id"]) for number in numbers]
        quality.score(s, tasks[0], [Deduction("政策解答准确", 10, "解答不全")], actor=WANG)
        quality.score(s, tasks[1], [], veto=Veto("泄露来电人信息", "把来电人号码告诉被投诉人"), actor=WANG)
        quality.appeal(s, tasks[1], "没有泄露", agent=ZHANG)
        quality.review(s, tasks[1], "keep", "经核实确有泄露", actor=WANG)
        quality.score(s, tasks[2], [Deduction("诉求记录完整准确", 25, "未记录诉求")], actor=WANG)
        quality.score(s, tasks[4], [], actor=WANG)


def test_the_report_has_the_quality_figures_of_the_period(db_url: str) -> None:
    _results()
    with session_scope() as s:
        found = service.report(s, *JUNE)["quality"]
        assert found["centre"] == {
            "inspected": 3, "average": 55.0, "passed": 1, "pass_rate": 1 / 3, "appeals": 1, "changed": 0, "pending": 1,
        }  # fmt: skip
        assert [(a["agent"], a["inspected"], a["average"], a["passed"]) for a in found["agents"]] == [
            (LI, 1, 75.0, 0), (ZHANG, 2, 45.0, 1),
        ]  # fmt: skip
        assert found["pass_line"] == 80
        mianyang = service.report(s, *JUNE, region="绵阳市")["quality"]
        assert [a["agent_key"] for a in mianyang["agents"]] == ["lina"]


def test_the_kpi_api_carries_them(db_url: str) -> None:
    from hotline.app import create_app

    _results()
    res = TestClient(create_app()).get("/api/supervision/kpis", params={"since": "2021-06-01", "until": "2021-06-30"})
    assert res.status_code == 200 and res.json()["quality"]["centre"]["inspected"] == 3


def test_signed_in_only_those_who_inspect_read_each_agents_results(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dispatchers read the KPIs too, and are inspected themselves: the centre's 质检 figures, not each agent's."""
    from hotline.app import create_app

    _results()
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    client = TestClient(create_app())
    supervisor, dispatcher = bearer("wangfang", ["supervisor"], "王芳"), bearer("lihua", ["dispatcher"], "李华")
    june = {"since": "2021-06-01", "until": "2021-06-30"}
    full = client.get("/api/supervision/kpis", params=june, headers=supervisor).json()["quality"]
    assert [a["agent_key"] for a in full["agents"]] == ["lina", "zhangmin"] and "agents_hidden" not in full
    kept = client.get("/api/supervision/kpis", params=june, headers=dispatcher).json()["quality"]
    assert kept["agents"] == [] and kept["agents_hidden"] is True
    assert kept["centre"] == full["centre"]
    page = client.get("/kpis", params=june, headers=dispatcher)
    assert page.status_code == 200 and 'id="agents-hidden"' in page.text and "zhangmin" not in page.text
    assert "zhangmin" in client.get("/kpis", params=june, headers=supervisor).text
    book = client.get("/api/supervision/kpis/export.xlsx", params=june, headers=dispatcher)
    _, centre = _rows(load_workbook(io.BytesIO(book.content))["话务质检"])
    assert centre[:3] == ("全中心", None, 3)


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    rows = list(sheet.iter_rows(min_row=export.HEADER_ROW, values_only=True))
    end = next(i for i, row in enumerate(rows) if all(v is None for v in row))
    return rows[:end]


def test_the_workbook_has_a_quality_sheet_per_agent_and_for_the_centre(db_url: str) -> None:
    _results()
    with session_scope() as s:
        done = export.export_report(s, *JUNE, by=WANG, at=MADE)
    sheet = load_workbook(io.BytesIO(done.content))["话务质检"]
    assert sheet["A1"].value == "考核报表 · 话务质检：2021-06-01 至 2021-06-30（全部地区）"
    header, *agents, centre = _rows(sheet)
    assert header == ("话务员", "账号", "质检数", "平均得分", "合格数", "合格率", "申诉数", "改分数")
    assert agents == [(LI, "lina", 1, 75.0, 0, 0.0, 0, 0), (ZHANG, "zhangmin", 2, 45.0, 1, 0.5, 1, 0)]
    assert centre[:3] == ("全中心", None, 3) and centre[5] == 1 / 3
    first = next(sheet.iter_rows(min_row=export.HEADER_ROW + 1, max_row=export.HEADER_ROW + 1))
    assert (first[3].number_format, first[5].number_format) == ("0.00", "0.0%")
    notes = [row[0] for row in sheet.iter_rows(min_row=export.HEADER_ROW + 5, values_only=True) if row[0]]
    assert "本期另有待质检 1 张未计入" in notes[0] and "合格线 80 分" in notes[-1]
    assert sheet.auto_filter.ref == f"A{export.HEADER_ROW}:H{export.HEADER_ROW + 2}"  # the agents, not the total


def test_an_empty_period_says_so(db_url: str) -> None:
    with session_scope() as s:
        done = export.export_report(s, *JUNE, by=WANG, at=MADE)
    sheet = load_workbook(io.BytesIO(done.content))["话务质检"]
    _, centre = _rows(sheet)
    assert centre[:3] == ("全中心", None, 0) and centre[3] is None and centre[5] is None  # no 0 % without results
    notes = [row[0] for row in sheet.iter_rows(min_row=export.HEADER_ROW + 3, values_only=True) if row[0]]
    assert notes[0] == "本期受理的工单没有质检结果。"


def test_a_voided_task_counts_neither_as_a_result_nor_as_waiting(db_url: str) -> None:
    _results()
    with session_scope() as s:
        quality.void(s, int(quality.pick(s, take(ZHANG, date(2021, 6, 6)), actor=WANG)["id"]), "测试来电", actor=WANG)
    with session_scope() as s:
        found = service.report(s, *JUNE)["quality"]
        assert (found["centre"]["inspected"], found["centre"]["average"], found["centre"]["pending"]) == (3, 55.0, 1)
        assert [(a["agent_key"], a["inspected"]) for a in found["agents"]] == [("lina", 1), ("zhangmin", 2)]
        done = export.export_report(s, *JUNE, by=WANG, at=MADE)
    sheet = load_workbook(io.BytesIO(done.content))["话务质检"]
    notes = [row[0] for row in sheet.iter_rows(min_row=export.HEADER_ROW + 5, values_only=True) if row[0]]
    assert "本期另有待质检 1 张未计入" in notes[0]
