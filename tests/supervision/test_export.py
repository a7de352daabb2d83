"""考核报表: the KPI report of a period as an Excel workbook, read back with openpyxl (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from hotline.app import create_app
from hotline.db import session_scope
from hotline.supervision import export, service
from hotline.timeutil import CHINA_TZ
from hotline.workbooks import XLSX
from tests.conftest import bearer
from tests.supervision.test_service import AT, DAY, JUNE, RSJ, ZJJ, _act, _create
from tests.supervision.test_service import loop as loop  # the fixtures: three demands in June
from tests.supervision.test_service import units as units

MADE = datetime(2021, 7, 30, 10, 0, tzinfo=CHINA_TZ)  # the day open orders are judged on, as test_service's
HEADER = export.HEADER_ROW


def _export(region: str | None = None) -> tuple[Workbook, dict[str, Any]]:
    with session_scope() as session:
        done = export.export_report(session, *JUNE, region=region, by="王芳（wangfang）", at=MADE)
    assert done.filename == "考核报表_2021-06-01_2021-06-30.xlsx"
    return load_workbook(io.BytesIO(done.content)), done.report


def _table(book: Workbook, sheet: str) -> list[dict[str, Any]]:
    """The rows under a sheet's header, keyed by it, up to the first empty row."""
    rows = list(book[sheet].iter_rows(min_row=HEADER, values_only=True))
    header = rows[0]
    found = []
    for row in rows[1:]:
        if all(v is None for v in row):
            break
        found.append(dict(zip(header, row, strict=True)))
    return found


def _texts(book: Workbook) -> str:
    return "\n".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None)


def test_the_workbook_has_the_reports_figures(loop: None) -> None:
    book, report = _export()
    assert book.sheetnames == ["总体指标", "承办单位考核", "超期工单", "话务质检"]
    for ws in book:
        title, made = ws["A1"].value, ws["A2"].value
        assert title == f"考核报表 · {ws.title}：2021-06-01 至 2021-06-30（全部地区）"
        assert "生成时间：2021-07-30 10:00（北京时间）" in made and "生成人：王芳（wangfang）" in made
        assert ws.freeze_panes == "B4"  # the header stays in view
        assert max(d.width for d in ws.column_dimensions.values()) >= 30  # widths set: text is not cut at 8.43
    kpis = {row["指标"]: row for row in _table(book, "总体指标")}
    assert list(kpis)[:2] == ["人工接通率", "15秒接通率"]
    assert set(kpis) >= {"按时签收率", "按时办结率", "超期率", "满意率", "退单率", "重办率"}
    # A rate is the report's figure, as a percentage cell.
    satisfaction = next(k for k in report["order_kpis"] if k["key"] == "satisfaction")
    row = kpis["满意率"]
    assert (row["分子"], row["分母"]) == (satisfaction["numerator"], satisfaction["denominator"]) == (1, 2)
    assert row["比率"] == pytest.approx(satisfaction["value"]) == 0.5
    assert (row["目标"], row["是否达标"]) == ("≥ 95%", "未达标")
    assert "已回访" in row["口径说明"]
    cell = next(c for c in book["总体指标"]["E"] if c.value == 0.5)
    assert cell.number_format == "0.0%"
    overdue = kpis["超期率"]
    assert overdue["目标"] == "≤ 0.01%" and (overdue["分子"], overdue["分母"]) == (1, 3)
    assert next(c for c in book["总体指标"]["E"] if c.value == pytest.approx(1 / 3)).number_format == "0.000%"
    # No calls: the call KPIs' denominators are empty, and so are their rates (not 0 %).
    assert (kpis["人工接通率"]["分母"], kpis["人工接通率"]["比率"]) == (0, None)
    assert "受理诉求 3 件。" in _texts(book)


def test_each_unit_has_a_row_with_every_figure_of_the_page(loop: None) -> None:
    book, report = _export()
    rows = {row["单位代码"]: row for row in _table(book, "承办单位考核")}
    assert list(rows) == [u["unit"] for u in report["units"]]
    rsj = rows[RSJ]
    assert rsj["承办单位"] == "成都市人社局" and (rsj["承办工单"], rsj["其中协办"], rsj["在办超期"]) == (1, 0, 1)
    assert (rsj["按时签收率"], rsj["按时签收（次）"], rsj["已判定的交办（次）"]) == (0, 0, 1)
    assert (rsj["满意率"], rsj["已回访（件）"]) == (None, 0)  # nothing called back: no rate, not 0 %
    zjj = rows[ZJJ]
    assert (zjj["退单率"], zjj["退单（次）"], zjj["交办（次）"]) == (0.5, 1, 2)
    ws = book["承办单位考核"]
    assert ws.auto_filter.ref == f"A{HEADER}:T{HEADER + 2}"  # sortable from the header
    assert ws.cell(HEADER, 20).value == "交办（次）"  # the last column


def test_the_overdue_sheet_lists_the_orders_counted_overdue_without_callers(units: None) -> None:
    late = _create(type="求助", content="拖欠工资，张三 13800001111")
    _act(late, "dispatch", AT, role="dispatcher", target_unit=ZJJ, co_units=[RSJ])
    _act(late, "accept", AT, role="department", unit=ZJJ)
    on_time = _create()
    _act(on_time, "dispatch", AT, role="dispatcher", target_unit=ZJJ)
    _act(on_time, "accept", AT, role="department", unit=ZJJ)
    _act(on_time, "resolve", AT + DAY, role="department", unit=ZJJ, reply="已处理")
    book, report = _export()
    rows = _table(book, "超期工单")
    assert [(r["工单编号"], r["主办/协办"], r["承办单位"]) for r in rows] == [
        (f"{late}-01", "协办", "成都市人社局"),
        (late, "主办", "成都市住房和城乡建设局"),
    ]
    lead = rows[1]
    assert lead["办理期限"].date().isoformat() == report["overdue_orders"][1]["due"]
    assert lead["超期天数（自然日）"] == (date(2021, 7, 30) - lead["办理期限"].date()).days > 0
    assert (lead["地区"], lead["当前状态"], lead["办结时间"]) == ("成都市", "办理中", None)
    overdue = next(k for k in report["order_kpis"] if k["key"] == "overdue")
    assert sum(r["主办/协办"] == "主办" for r in rows) == overdue["numerator"]
    text = _texts(book)
    assert "13812341234" not in text and "13800001111" not in text and "张三" not in text


def test_an_empty_period_and_a_region(loop: None) -> None:
    book, report = _export(region="绵阳市")
    assert report["orders"] == 0
    assert book["总体指标"]["A1"].value.endswith("（绵阳市）")
    assert all(row["比率"] is None for row in _table(book, "总体指标"))
    assert _table(book, "承办单位考核") == [] and "本期没有交办到承办单位的工单。" in _texts(book)
    assert _table(book, "超期工单") == [] and "本期没有超期工单。" in _texts(book)


def test_the_report_without_overdue_orders_is_unchanged(loop: None) -> None:
    with session_scope() as session:
        plain = service.report(session, *JUNE, today=date(2021, 7, 30))
        full = service.report(session, *JUNE, today=date(2021, 7, 30), overdue_orders=True)
    assert "overdue_orders" not in plain
    assert {k: v for k, v in full.items() if k != "overdue_orders"} == plain


# -- over HTTP -------------------------------------------------------------------------------------------------


def test_http_export_is_a_named_xlsx_for_monitors_only(loop: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    client = TestClient(create_app())
    supervisor = bearer("wangfang", ["supervisor"], "王芳")
    agent = bearer("zhangmin", ["agent"], "张敏")
    params = {"since": "2021-06-01", "until": "2021-06-30", "region": "成都市"}
    got = client.get("/api/supervision/kpis/export.xlsx", params=params, headers=supervisor)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX
    name = quote("考核报表_2021-06-01_2021-06-30.xlsx", safe="")
    assert got.headers["content-disposition"] == (
        f"attachment; filename=\"kpi_report_2021-06-01_2021-06-30.xlsx\"; filename*=UTF-8''{name}"
    )
    book = load_workbook(io.BytesIO(got.content))
    assert book["总体指标"]["A1"].value == "考核报表 · 总体指标：2021-06-01 至 2021-06-30（成都市）"
    assert "生成人：王芳（wangfang）" in book["总体指标"]["A2"].value
    kpis = {row["指标"]: row for row in _table(book, "总体指标")}
    api = client.get("/api/supervision/kpis", params=params, headers=supervisor).json()
    direct = next(k for k in api["order_kpis"] if k["key"] == "direct")
    assert (kpis["直接办结率"]["分子"], kpis["直接办结率"]["分母"]) == (direct["numerator"], direct["denominator"])
    refused = client.get("/api/supervision/kpis/export.xlsx", params=params, headers=agent)
    assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    bad = client.get("/api/supervision/kpis/export.xlsx", params={"since": "2021-06-30", "until": "2021-06-01"},
                     headers=supervisor)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-period"
