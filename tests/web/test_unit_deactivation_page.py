"""机构调整 in a real browser: an administrator signed in on /settings/dispatch deactivates (停用) a bureau merged
into another, the confirmation step showing what holds it (its catalogue entry, its child unit, the account bound
to it), the successor chosen there taking them over; the page then lists what moved, the unit list filters the
units out of service, and 启用 (confirmed in a step of its own) puts it back. Runs on SQLite and on PostgreSQL (`--db`), each in a database of its
own, with sign-in on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from hotline import db
from hotline.accounts import service as accounts
from hotline.workorders import service as orders
from tests.platform_process import Platform

pytestmark = pytest.mark.browser

ADMIN = ("admin", "系统管理员", "Desk2024center")
ZJJ, CGJ, WATER = "510100-zjj", "510100-cgj", "510100-zjj-gs"


@pytest.fixture(scope="module")
def server(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("unit-deactivation-page")
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": own_database}
    subprocess.run(
        [sys.executable, "-m", "hotline", "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True
    )
    login, name, password = ADMIN
    with db.session_scope(own_database) as s:
        accounts.create_account(s, login, name, ["admin"], password=password)
        orders.load_units(s)
        orders.add_unit(s, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        orders.add_unit(s, CGJ, "成都市城市管理委员会", "department", region_code="510100", parent="510100")
        orders.add_unit(s, WATER, "成都市供水管理办公室", "department", region_code="510100", parent=ZJJ)
        orders.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
        accounts.create_account(s, "zjj.chen", "陈静", ["department"], bound_to=ZJJ)
    platform = Platform({**env, "HOTLINE_AUTH": "on"}, log=data / "server.log")
    platform.start()
    yield platform.url
    platform.stop()


@pytest.fixture
def admin_page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server, locale="zh-CN")
    page = context.new_page()
    page.goto("/settings/dispatch")
    page.fill("#login input[name=login]", ADMIN[0])
    page.fill("#login input[name=password]", ADMIN[2])
    with page.expect_navigation():
        page.click("#login button[type=submit]")
    yield page
    context.close()


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _row(page: Any, code: str) -> Any:
    return page.locator(f"#unit-table tr[data-unit='{code}']")


def test_an_administrator_deactivates_a_bureau_into_its_successor_and_back(admin_page: Any) -> None:
    page = admin_page
    assert page.locator("h1").inner_text() == "派单设置"
    _submit(page, f"#unit-table tr[data-unit='{ZJJ}'] a[data-action=deactivate]")

    card = page.locator("#deactivate")
    assert card.locator("h3").inner_text() == f"停用承办单位：成都市住房和城乡建设局（{ZJJ}）"
    assert card.locator("[data-field=open-orders]").count() == 0
    assert "城乡建设（成都市，全部号码）" in card.locator("[data-field=entries]").inner_text()
    assert f"成都市供水管理办公室（{WATER}）" in card.locator("[data-field=children]").inner_text()
    assert "1 个承办单位账号绑定该单位（zjj.chen）" in card.locator("[data-field=accounts]").inner_text()
    offered = card.locator("select[name=successor] option").evaluate_all("options => options.map(o => o.value)")
    assert CGJ in offered and ZJJ not in offered and WATER not in offered  # neither itself nor its own unit
    page.select_option("#deactivate select[name=successor]", CGJ)
    _submit(page, "#deactivate button[data-action=confirm-deactivate]")

    notice = page.locator("[role=status]").inner_text()
    assert notice.startswith(f"已停用承办单位：{ZJJ} 成都市住房和城乡建设局")
    assert "以下 1 条派单目录改由成都市城市管理委员会承办：城乡建设（成都市，全部号码）" in notice
    assert f"以下 1 个下级单位改隶成都市城市管理委员会：成都市供水管理办公室（{WATER}）" in notice
    assert _row(page, ZJJ).locator("[data-field=status]").inner_text() == "已停用"
    assert "成都市城市管理委员会" in page.locator("#catalogue-table tr[data-entry='城乡建设|510100|']").inner_text()
    assert _row(page, WATER).locator("[data-field=parent]").inner_text() == f"成都市城市管理委员会（{CGJ}）"
    # no longer offered in the catalogue form, nor as a parent
    assert page.locator(f"#catalogue-form select[name=unit] option[value='{ZJJ}']").count() == 0
    assert page.locator(f"#unit-form select[name=parent] option[value='{ZJJ}']").count() == 0

    # Its past orders can still be looked up: the order list offers it, marked out of service.
    page.goto("/orders?role=supervisor")
    option = page.locator(f"select[name=unit] option[value='{ZJJ}']")
    assert option.inner_text() == "成都市住房和城乡建设局（已停用）"
    page.goto("/settings/dispatch")

    page.select_option("#units select[name=status]", "inactive")
    _submit(page, "#units form.inline button[type=submit]")
    assert page.locator("#unit-table tr[data-unit]").evaluate_all("rows => rows.map(r => r.dataset.unit)") == [ZJJ]

    _submit(page, f"#unit-table tr[data-unit='{ZJJ}'] a[data-action=activate]")  # 启用 asks first, as 停用 does
    assert page.locator("#activate h3").inner_text() == f"启用承办单位：成都市住房和城乡建设局（{ZJJ}）"
    assert "启用不会把它们转回" in page.locator("#activate [data-field=successor]").inner_text()
    assert _row(page, ZJJ).locator("[data-field=status]").inner_text() == "已停用"
    _submit(page, "#activate button[data-action=confirm-activate]")
    assert page.locator("[role=status]").inner_text() == f"已启用承办单位：{ZJJ} 成都市住房和城乡建设局"
    assert _row(page, ZJJ).locator("[data-field=status]").inner_text() == "在用"
