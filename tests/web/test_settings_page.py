"""派单设置 (web.settings_page): the units, the dispatch catalogue and the time limits an administrator keeps in the
browser. What is saved is what dispatch and new orders then use (the catalogue lookup of the dispatch suggestion,
the due date of an order taken in afterwards); a refused change writes nothing and shows the page again with the
service's code and what was typed; supervisors read, only administrators write. In process, SQLite and
PostgreSQL; sign-in off (the role named by `role`) and on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service
from tests.conftest import bearer

PAGE = "/settings/dispatch"
ZJJ, CGJ = "510100-zjj", "510107-cgj"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    with session_scope() as s:
        service.load_units(s)
        service.add_unit(s, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        service.add_unit(s, "510107", "武侯区12345热线分中心", "county", region_code="510107", parent="510100")
        service.add_unit(s, CGJ, "武侯区综合行政执法局", "department", region_code="510107", parent="510107")
    yield TestClient(create_app())


def _state() -> tuple[Any, ...]:
    """Everything the page may change."""
    with session_scope() as s:
        entries = [(e.category, e.region_code, e.line, e.unit.code) for e in service.list_catalogue(s)]
        return service.list_units(s), entries, service.get_limits(s)


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr {attribute}="([^"]*)"', html)


def _notice(html: str) -> str:
    found = re.search(r'data-field="done">([^<]*)', html)
    return found.group(1) if found else ""


def _form(html: str, form_id: str) -> str:
    found = re.search(rf'<form [^>]*id="{form_id}">(.*?)</form>', html, re.S)
    assert found is not None, form_id
    return found.group(1)


def _answer(client: TestClient, category: str, region: str, line: str = "") -> str | None:
    """The unit code the page's lookup names ("" when none), None when it answers nothing."""
    params = {"ask_category": category, "ask_region": region, "ask_line": line, "role": "supervisor"}
    page = client.get(PAGE, params=params)
    assert page.status_code == 200
    found = re.search(r'data-field="answer">.*?data-unit="([^"]*)"', page.text, re.S)
    return found.group(1) if found else None


def test_a_supervisor_reads_units_catalogue_and_limits_without_forms(client: TestClient) -> None:
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
        service.set_catalogue_entry(s, "经济管理", ZJJ, line="12366")
    page = client.get(PAGE, params={"role": "supervisor"})
    assert page.status_code == 200
    assert {"510000", "510100", "510300", ZJJ, "510107", CGJ} <= set(_rows(page.text, "data-unit"))
    row = re.search(rf'<tr data-unit="{CGJ}">(.*?)</tr>', page.text, re.S)
    assert row is not None and "部门" in row.group(1) and "成都市 510107" in row.group(1)
    assert "武侯区12345热线分中心（510107）" in row.group(1)  # its parent, by name
    assert _rows(page.text, "data-entry") == ["城乡建设|510100|", "经济管理||12366"]
    entry = re.search(r'<tr data-entry="经济管理\|\|12366">(.*?)</tr>', page.text, re.S)
    assert entry is not None and "全省" in entry.group(1) and "成都市住房和城乡建设局" in entry.group(1)
    assert _rows(page.text, "data-limit") == [
        "咨询",
        "求助",
        "意见建议",
        "投诉",
        "举报",
        "表扬",
        "其他",
        "签收",
        "退单",
        "回访",
    ]
    assert "已经定下的期限不变" in page.text
    assert 'action="/settings/dispatch/units"' not in page.text and 'data-action="remove"' not in page.text
    assert "只有管理员可以修改派单设置" in page.text

    # 成都市: the city's own units and those of its districts, none of another city's
    chengdu = _rows(client.get(PAGE, params={"role": "supervisor", "region": "510100"}).text, "data-unit")
    assert sorted(chengdu) == sorted(["510100", ZJJ, "510107", CGJ])


def test_an_administrator_adds_a_unit_then_updates_it(client: TestClient) -> None:
    data = {"code": "510104-sw", "name": "锦江区水务局", "kind": "department", "region_code": "510104"}
    sent = client.post(PAGE + "/units", data={**data, "parent": "510100", "role": "admin"}, follow_redirects=False)
    assert sent.status_code == 303
    back = urlsplit(sent.headers["location"])
    assert back.path == PAGE and parse_qs(back.query) == {"role": ["admin"], "done": ["unit"], "what": ["510104-sw"]}
    page = client.get(sent.headers["location"])
    assert _notice(page.text) == "已保存承办单位：510104-sw 锦江区水务局"
    assert "510104-sw" in _rows(page.text, "data-unit")

    again = {**data, "name": "成都市锦江区水务局", "region_code": "成都市", "parent": ""}
    assert client.post(PAGE + "/units", data=again, follow_redirects=False).status_code == 303
    with session_scope() as s:
        unit = service.unit_view(service.get_unit(s, "510104-sw"))
    assert (unit["name"], unit["region_code"], unit["parent"]) == ("成都市锦江区水务局", "510100", None)


def test_a_catalogue_entry_is_what_the_lookup_answers_until_it_is_removed(client: TestClient) -> None:
    assert _answer(client, "城乡建设/安全生产/事故处理", "510100") == ""  # nothing yet: dispatched by hand
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", CGJ)  # any region

    entry = {"category": "城乡建设", "region_code": "成都市", "line": "", "unit": ZJJ, "role": "admin"}
    sent = client.post(PAGE + "/catalogue", data=entry, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert _notice(page.text) == "已保存派单目录：城乡建设（成都市，全部号码） → 成都市住房和城乡建设局"
    assert "城乡建设|510100|" in _rows(page.text, "data-entry")
    # the lookup the dispatch suggestion makes: Chengdu's entry wins over the any-region one, elsewhere not
    assert _answer(client, "城乡建设/安全生产/事故处理", "510100") == ZJJ
    assert _answer(client, "城乡建设/安全生产/事故处理", "510300") == CGJ
    with session_scope() as s:
        assert service.lookup_dispatch_catalogue(s, "城乡建设/安全生产", "510100", None).code == ZJJ  # type: ignore[union-attr]

    key = {"category": "城乡建设", "region_code": "510100", "line": "", "role": "admin"}
    removed = client.post(PAGE + "/catalogue/remove", data=key, follow_redirects=False)
    assert removed.status_code == 303
    assert _notice(client.get(removed.headers["location"]).text) == "已删除派单目录：城乡建设（成都市，全部号码）"
    assert _answer(client, "城乡建设/安全生产/事故处理", "510100") == CGJ  # back to the any-region entry

    before = _state()
    again = client.post(PAGE + "/catalogue/remove", data=key)
    assert again.status_code == 404 and 'data-code="catalogue-entry-not-found"' in again.text
    assert _state() == before


def test_a_changed_limit_is_the_due_date_of_the_next_order(client: TestClient) -> None:
    def take_in() -> str:
        at = datetime(2021, 6, 1, 10, 0, tzinfo=CHINA_TZ)  # a Tuesday
        with session_scope() as s:
            order = service.create_order(
                s, type="咨询", content="社保怎么转移？", phone="13812341234", region="510100", at=at
            )
            return order.due.isoformat()

    assert take_in() == "2021-06-04"  # 咨询: 3 working days
    sent = client.post(PAGE + "/limits", data={"key": "咨询", "days": "5", "role": "admin"}, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert _notice(page.text) == "已将「咨询」的时限改为 5 个工作日"
    row = re.search(r'<tr data-limit="咨询">(.*?)</tr>', page.text, re.S)
    assert row is not None and 'name="days" value="5"' in row.group(1) and "管理员 于" in row.group(1)
    assert take_in() == "2021-06-08"  # 5 working days, over the weekend


UNIT = {"code": "510104-sw", "name": "锦江区水务局", "kind": "department", "region_code": "510104", "parent": "510100"}
ENTRY = {"category": "城乡建设", "region_code": "510100", "line": "12319", "unit": ZJJ}


@pytest.mark.parametrize(
    ("path", "data", "status", "code"),
    [
        ("/units", {**UNIT, "kind": "bureau"}, 422, "invalid-unit-kind"),
        ("/units", {**UNIT, "region_code": "火星市"}, 404, "region-not-found"),
        ("/units", {**UNIT, "parent": "nope"}, 404, "unit-not-found"),
        ("/units", {**UNIT, "name": "  "}, 422, "unit-incomplete"),
        ("/units", {**UNIT, "code": "510107", "region_code": "510107", "parent": CGJ}, 422, "unit-parent-loop"),
        ("/catalogue", {**ENTRY, "category": "城乡建设/不存在的分类"}, 422, "category-not-found"),
        ("/catalogue", {**ENTRY, "unit": "nope"}, 404, "unit-not-found"),
        ("/catalogue", {**ENTRY, "line": "1" * 40}, 422, "field-too-long"),
        ("/limits", {"key": "咨询", "days": "0"}, 422, "invalid-limit-days"),
        ("/limits", {"key": "咨询", "days": "91"}, 422, "invalid-limit-days"),
        ("/limits", {"key": "咨询", "days": "三天"}, 422, "invalid-limit-days"),
        ("/limits", {"key": "加急", "days": "2"}, 422, "invalid-limit-key"),
    ],
)
def test_a_refused_change_writes_nothing_and_keeps_what_was_typed(
    client: TestClient, path: str, data: dict[str, str], status: int, code: str
) -> None:
    before = _state()
    res = client.post(PAGE + path, data={**data, "role": "admin"}, follow_redirects=False)
    assert res.status_code == status and f'data-code="{code}"' in res.text
    assert _state() == before
    if path == "/units":
        form = _form(res.text, "unit-form")
        assert f'value="{data["name"]}"' in form and f'value="{data["region_code"]}"' in form
        if data["kind"] == "department":
            assert '<option value="department" selected>' in form
    elif path == "/catalogue":
        form = _form(res.text, "catalogue-form")
        assert f'value="{data["category"]}"' in form and f'value="{data["line"]}"' in form
    elif data["key"] == "咨询":
        row = re.search(r'<tr data-limit="咨询">(.*?)</tr>', res.text, re.S)
        assert row is not None and f'name="days" value="{data["days"]}"' in row.group(1)


def test_roles_other_than_administrators_are_refused(client: TestClient) -> None:
    refused = client.get(PAGE, params={"role": "agent"})
    assert refused.status_code == 403 and 'data-code="role-not-allowed"' in refused.text
    assert "data-unit" not in refused.text
    before = _state()
    changes = (
        ("/units", UNIT),
        ("/units/deactivate", {"code": CGJ}),
        ("/units/activate", {"code": CGJ}),
        ("/catalogue", ENTRY),
        ("/limits", {"key": "咨询", "days": "5"}),
    )
    for path, data in changes:
        res = client.post(PAGE + path, data={**data, "role": "supervisor"})
        assert res.status_code == 403 and 'data-code="role-not-allowed"' in res.text, path
    assert _state() == before


def test_signed_in_a_supervisor_reads_and_an_administrator_changes_under_the_account(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    chief, admin = bearer("wangfang", ["supervisor"], "王芳"), bearer("zhaolei", ["admin"], "赵磊")
    agent = bearer("zhoujing", ["agent"], "周静")
    page = client.get(PAGE, headers=chief)
    assert page.status_code == 200 and 'action="/settings/dispatch/limits"' not in page.text
    assert f'href="{PAGE}"' in page.text  # in the supervisor's menu
    assert f'href="{PAGE}"' not in client.get("/", headers=agent).text
    assert client.get(PAGE, headers=agent).status_code == 403

    before = _state()
    refused = client.post(PAGE + "/limits", data={"key": "投诉", "days": "10"}, headers=chief)
    assert refused.status_code == 403 and _state() == before
    # an administrator's page names the role on its own (no ?role=) and the change is the account's
    assert 'action="/settings/dispatch/limits"' in client.get(PAGE, headers=admin).text
    sent = client.post(PAGE + "/limits", data={"key": "投诉", "days": "10"}, headers=admin, follow_redirects=False)
    assert sent.status_code == 303
    with session_scope() as s:
        row = next(r for r in service.limit_settings(s) if r["key"] == "投诉")
    assert (row["days"], row["set_by"]) == (10, "赵磊（zhaolei）")


def test_the_lookup_takes_a_district_code_as_orders_carry_it(client: TestClient) -> None:
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
        service.set_catalogue_entry(s, "城乡建设", CGJ, region_code="510107")
    assert _answer(client, "城乡建设/安全生产/事故处理", "510107") == CGJ
    assert _answer(client, "城乡建设/安全生产/事故处理", "510104") == ZJJ  # another district: its 市（州）'s entry
    assert _answer(client, "城乡建设/安全生产/事故处理", "成都市") == ZJJ
    page = client.get(PAGE, params={"ask_category": "城乡建设", "ask_region": "510107", "role": "supervisor"})
    assert re.search(r'data-field="answer">城乡建设（成都市 510107）', page.text)
    assert '<input name="ask_region" value="510107" list="region-names"' in page.text  # typed, not picked
    wrong = client.get(PAGE, params={"ask_category": "城乡建设", "ask_region": "519907", "role": "supervisor"})
    assert wrong.status_code == 200 and 'data-field="answer" data-code="region-not-found"' in wrong.text


def _deactivate(client: TestClient, code: str, successor: str = "") -> Any:
    data = {"code": code, "successor": successor, "role": "admin"}
    return client.post(PAGE + "/units/deactivate", data=data, follow_redirects=False)


def test_deactivating_a_unit_with_open_orders_is_refused_with_a_link_to_them(client: TestClient) -> None:
    at = datetime(2021, 6, 1, 10, 0, tzinfo=CHINA_TZ)
    with session_scope() as s:
        order = service.create_order(s, type="投诉", content="占道经营", phone="13812341234", region="510100", at=at)
        service.act(s, order.number, "dispatch", role="dispatcher", target_unit=CGJ, at=at)
    confirm = client.get(PAGE, params={"role": "admin", "deactivate": CGJ})
    card = re.search(r'<div class="card" id="deactivate"[^>]*>(.*?)</div>', confirm.text, re.S)
    assert card is not None and "尚有 1 张工单正在办理" in card.group(1)
    assert f'href="/orders?role=admin&amp;unit={CGJ}"' in card.group(1)
    assert 'data-action="confirm-deactivate" disabled' in card.group(1)

    before = _state()
    refused = _deactivate(client, CGJ, ZJJ)
    assert refused.status_code == 409 and 'data-code="unit-has-open-orders"' in refused.text
    assert "请先改派" in refused.text and f'<div class="card" id="deactivate" data-unit="{CGJ}">' in refused.text
    assert f'<option value="{ZJJ}" selected>' in refused.text  # the successor chosen, kept
    assert _state() == before


@pytest.mark.parametrize(
    ("code", "successor", "status", "refusal"),
    [
        (ZJJ, "", 409, "unit-in-catalogue"),
        ("510107", "", 409, "unit-has-children"),
        ("510107", CGJ, 422, "invalid-successor"),  # its own unit
        (ZJJ, ZJJ, 422, "invalid-successor"),
    ],
)
def test_a_refused_deactivation_writes_nothing_and_says_why(
    client: TestClient, code: str, successor: str, status: int, refusal: str
) -> None:
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
    before = _state()
    refused = _deactivate(client, code, successor)
    assert refused.status_code == status and f'data-code="{refusal}"' in refused.text
    assert _state() == before


def test_the_unit_list_filters_units_out_of_service(client: TestClient) -> None:
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
    sent = _deactivate(client, ZJJ, "510100")
    assert sent.status_code == 303
    notice = _notice(client.get(sent.headers["location"]).text)
    assert notice == (
        f"已停用承办单位：{ZJJ} 成都市住房和城乡建设局。以下 1 条派单目录改由成都市12345热线中心承办：城乡建设（成都市，全部号码）"
    )
    # a forged link claims nothing the settings do not show
    forged = {"role": "admin", "done": "deactivate", "what": CGJ, "to": "510100", "moved": "城乡建设|510100|"}
    assert _notice(client.get(PAGE, params=forged).text) == ""
    inactive = client.get(PAGE, params={"role": "supervisor", "status": "inactive"})
    assert _rows(inactive.text, "data-unit") == [ZJJ] and "已停用" in inactive.text
    active = _rows(client.get(PAGE, params={"role": "supervisor", "status": "active"}).text, "data-unit")
    assert ZJJ not in active and CGJ in active


def _card(html: str, card_id: str) -> str:
    found = re.search(rf'<div class="card" id="{card_id}"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def test_activating_a_unit_asks_first_and_says_what_stays_with_the_successor(client: TestClient) -> None:
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
    assert _deactivate(client, ZJJ, "510100").status_code == 303
    listed = client.get(PAGE, params={"role": "admin", "status": "inactive"}).text
    row = re.search(rf'<tr data-unit="{ZJJ}"[^>]*>(.*?)</tr>', listed, re.S)
    assert row is not None and 'data-action="activate"' in row.group(1)
    assert f'href="/settings/dispatch?role=admin&amp;activate={ZJJ}#activate"' in row.group(1)
    assert "<form" not in row.group(1)  # no 启用 in one click

    before = _state()
    card = _card(client.get(PAGE, params={"role": "admin", "activate": ZJJ}).text, "activate")
    assert f"<h3>启用承办单位：成都市住房和城乡建设局（{ZJJ}）</h3>" in card
    assert "可以再接收新的工单" in card
    said = re.search(r'data-field="successor">([^<]*)', card)
    assert said is not None and said.group(1).startswith("停用时由成都市12345热线中心（510100）接替")
    assert "启用不会把它们转回" in said.group(1)
    assert 'data-action="confirm-activate"' in card
    assert _state() == before  # asking changes nothing
    # not offered to a supervisor, nor for a unit in service
    assert _card(client.get(PAGE, params={"role": "supervisor", "activate": ZJJ}).text, "activate") == ""
    assert _card(client.get(PAGE, params={"role": "admin", "activate": CGJ}).text, "activate") == ""

    sent = client.post(PAGE + "/units/activate", data={"code": ZJJ, "role": "admin"}, follow_redirects=False)
    assert sent.status_code == 303
    assert _notice(client.get(sent.headers["location"]).text) == f"已启用承办单位：{ZJJ} 成都市住房和城乡建设局"
    with session_scope() as s:  # back in service; its entry stays with the successor
        assert service.get_unit(s, ZJJ).active is True
        assert [e.unit.code for e in service.list_catalogue(s)] == ["510100"]
