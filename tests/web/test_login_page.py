"""Signing in with a real browser: a server with HOTLINE_AUTH=on, accounts made beforehand, and Chromium.

The server runs `hotline db upgrade` and `hotline demo load` (units and work orders), then this module adds an
agent, a supervisor who also dispatches, and a handling unit's clerk bound to a unit that has demo orders.
It runs on SQLite and on PostgreSQL (`--db`), each in a database of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hotline import db
from hotline.accounts import service as accounts
from hotline.workorders import service as workorders
from tests.platform_process import Platform

pytestmark = pytest.mark.browser

PASSWORD = "Shift2024night"
AGENT = ("zhao.xy", "赵晓雨", ["agent"])
SUPERVISOR = ("qian.lm", "钱立明", ["supervisor", "dispatcher"])
CLERK = ("sun.jw", "孙建伟", ["department"])


@dataclass(frozen=True)
class SignInServer:
    url: str
    unit_name: str  # the clerk's unit
    unit_orders: frozenset[str]  # the numbers of the orders that unit leads


@pytest.fixture(scope="module")
def signin_server(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInServer]:
    data = tmp_path_factory.mktemp("signin")
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": own_database}
    hotline = [sys.executable, "-m", "hotline"]
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([*hotline, *command], env={**os.environ, **env}, check=True, capture_output=True)
    with db.session_scope(own_database) as session:
        led: dict[str, set[str]] = {}
        for order in workorders.list_orders(session, role="supervisor", limit=1000):
            if order["lead_unit"]:
                led.setdefault(order["lead_unit"]["code"], set()).add(order["number"])
        assert led, "the demo orders should have been dispatched to handling units"
        unit_code = max(led, key=lambda code: len(led[code]))
        unit_name = str(workorders.get_unit(session, unit_code).name)
        for login, name, roles in (AGENT, SUPERVISOR):
            accounts.create_account(session, login, name, roles, password=PASSWORD)
        login, name, roles = CLERK
        accounts.create_account(session, login, name, roles, bound_to=unit_code, password=PASSWORD)
    assert len(led) > 1, "the demo orders should be spread over several units, so the clerk's view is a filter"
    platform = Platform({**env, "HOTLINE_AUTH": "on"}, log=data / "server.log")
    platform.start()
    yield SignInServer(platform.url, unit_name, frozenset(led[unit_code]))
    platform.stop()


@pytest.fixture
def context(browser: Any, signin_server: SignInServer) -> Iterator[Any]:
    ctx = browser.new_context(base_url=signin_server.url, locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _sign_in(page: Any, login: str, password: str = PASSWORD) -> None:
    page.fill("#login input[name=login]", login)
    page.fill("#login input[name=password]", password)
    with page.expect_navigation():
        page.click("#login button[type=submit]")


def _session_cookies(context: Any) -> list[dict[str, Any]]:
    return [c for c in context.cookies() if c["name"] == "hotline_session"]


def _options(page: Any) -> list[tuple[str, str]]:
    options = page.locator("select[name=role] option")
    return [(options.nth(i).get_attribute("value"), options.nth(i).inner_text()) for i in range(options.count())]


def test_signing_in_from_a_page_returns_to_it_and_a_wrong_password_does_not(page, context) -> None:  # type: ignore[no-untyped-def]
    response = page.goto("/orders?sla=overdue")
    assert response.status == 200
    assert urlsplit(page.url).path == "/login"
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/orders?sla=overdue"]
    assert page.locator("#login input[name=next]").input_value() == "/orders?sla=overdue"
    assert page.locator("h1").inner_text() == "登录"
    assert page.get_by_role("button", name="退出登录").count() == 0
    assert page.locator("#orders").count() == 0

    login, name, _ = AGENT
    page.fill("#login input[name=login]", login)
    page.fill("#login input[name=password]", "Wrong2024pass")
    with page.expect_navigation() as refused:
        page.click("#login button[type=submit]")
    assert refused.value.status == 401
    assert urlsplit(page.url).path == "/login"
    alert = page.locator("[role=alert]")
    assert alert.inner_text() == "登录名或密码不正确"
    assert alert.get_attribute("data-code") == "bad-credentials"
    assert page.locator("#login input[name=login]").input_value() == login  # kept, so only the password is retyped
    assert page.locator("#login input[name=password]").input_value() == ""
    assert page.locator("#login input[name=next]").input_value() == "/orders?sla=overdue"
    assert _session_cookies(context) == []

    page.fill("#login input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#login button[type=submit]")
    assert _path(page.url) == "/orders?sla=overdue"
    assert page.locator("h1").inner_text() == "工单"
    assert page.locator("[data-field=signed-in]").inner_text() == f"{name}（{login}）"
    assert page.get_by_role("button", name="退出登录").is_visible()
    assert page.locator("select[name=sla]").input_value() == "overdue"

    # The session cookie is out of reach of the page's scripts and is not sent by other sites' forms.
    (cookie,) = _session_cookies(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["value"]
    assert "hotline_session" not in page.evaluate("document.cookie")


def test_orders_page_offers_only_the_roles_the_account_holds(browser, signin_server) -> None:  # type: ignore[no-untyped-def]
    def signed_in(account: tuple[str, str, list[str]]) -> Any:
        ctx = browser.new_context(base_url=signin_server.url, locale="zh-CN")
        pg = ctx.new_page()
        pg.goto("/orders")
        _sign_in(pg, account[0])
        assert _path(pg.url) == "/orders"
        return ctx, pg

    ctx, pg = signed_in(AGENT)
    try:
        assert _options(pg) == [("agent", "话务员")]
        assert pg.locator("select[name=role]").input_value() == "agent"
        # A role the account does not hold, typed into the address, is refused rather than shown.
        response = pg.goto("/orders?role=dispatcher")
        assert response.status == 403
        assert pg.locator("[role=alert]").get_attribute("data-code") == "role-not-granted"
        assert pg.locator("#orders tr[data-number]").count() == 0
    finally:
        ctx.close()

    ctx, pg = signed_in(SUPERVISOR)
    try:
        assert _options(pg) == [("dispatcher", "派单员"), ("supervisor", "督办审核员")]
        assert pg.locator("select[name=role]").input_value() == "supervisor"  # the account's first role
        assert pg.locator("#orders tr[data-number]").count() > 0
        pg.select_option("select[name=role]", "dispatcher")
        with pg.expect_navigation():
            pg.click("form.inline button[type=submit]")
        assert pg.locator("select[name=role]").input_value() == "dispatcher"
    finally:
        ctx.close()

    ctx, pg = signed_in(CLERK)
    try:
        assert _options(pg) == [("department", "承办单位")]
        rows = pg.locator("#orders tr[data-number]")
        shown = {rows.nth(i).get_attribute("data-number") for i in range(rows.count())}
        assert shown == signin_server.unit_orders  # its own unit's orders, and only those
        for i in range(rows.count()):
            assert rows.nth(i).locator("td").nth(6).inner_text() == signin_server.unit_name
    finally:
        ctx.close()


def test_a_page_the_role_may_not_use_shows_the_refusal(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kpis")
    assert urlsplit(page.url).path == "/login"
    login, name, _ = AGENT
    _sign_in(page, login)
    assert _path(page.url) == "/kpis"  # the agent is sent on to the page asked for, which refuses
    response = page.reload()
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert page.locator("[role=alert]").get_attribute("data-code") == "role-not-granted"
    assert page.locator("[data-field=signed-in]").inner_text() == f"{name}（{login}）"
    assert page.get_by_role("button", name="退出登录").is_visible()
    assert page.get_by_role("heading", name="话务指标").count() == 0

    response = page.goto("/orders")  # the pages the role may use still open
    assert response.status == 200
    assert page.locator("h1").inner_text() == "工单"


def test_supervisor_may_open_the_kpis(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kpis")
    _sign_in(page, SUPERVISOR[0])
    assert _path(page.url) == "/kpis"
    assert page.locator("h1").inner_text() == "考核指标"
    assert page.locator("[role=alert]").count() == 0
    assert page.get_by_role("heading", name="话务指标").is_visible()


def test_an_order_taken_while_signed_in_records_the_account(page, signin_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    login, name, _ = AGENT
    _sign_in(page, login)
    # The page's own scripts and fetches carry the cookie: the name typed in the request is not what is recorded.
    response = page.request.post(
        "/api/orders?advice=false",
        data={"type": "求助", "content": "小区路灯不亮", "phone": "13800001234", "region": "510100", "actor": "冒名者"},
    )
    assert response.status == 201, response.text()
    number = response.json()["number"]
    page.goto(f"/orders/{number}")
    intake = page.locator("#history tr").nth(1)
    assert "受理" in intake.inner_text()
    assert intake.locator("td").nth(3).inner_text() == f"{name}（{login}）"
    assert "冒名者" not in page.content()


def test_a_post_from_another_site_with_the_cookie_is_refused(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    _sign_in(page, AGENT[0])
    order = {"type": "求助", "content": "跨站提交", "phone": "13800001234", "region": "510100"}
    response = page.request.post("/api/orders?advice=false", data=order, headers={"Origin": "https://attacker.example"})
    assert response.status == 403
    assert response.json()["code"] == "cross-site-request"


def test_signing_out_ends_the_session(page, context) -> None:  # type: ignore[no-untyped-def]
    page.goto("/orders")
    _sign_in(page, SUPERVISOR[0])
    assert _path(page.url) == "/orders"
    (cookie,) = _session_cookies(context)

    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()
    assert _path(page.url) == "/login"
    assert page.get_by_role("button", name="退出登录").count() == 0
    assert _session_cookies(context) == []

    page.goto("/orders")
    assert urlsplit(page.url).path == "/login"
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/orders"]

    # The token itself was revoked: a copy of the cookie kept from before signing out opens nothing.
    context.add_cookies([cookie])
    page.goto("/orders")
    assert urlsplit(page.url).path == "/login"


def test_next_pointing_off_site_lands_on_the_overview(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login?next=//attacker.example/phish")
    _sign_in(page, SUPERVISOR[0])
    assert _path(page.url) == "/"
    assert page.locator("[data-field=signed-in]").count() == 1


def test_citizens_progress_lookup_needs_no_sign_in(page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto("/track")
    assert response.status == 200
    assert urlsplit(page.url).path == "/track"
    page.goto("/login")
    page.get_by_role("link", name="进度查询").last.click()
    assert urlsplit(page.url).path == "/track"


def test_the_overview_shows_the_signed_in_accounts_own_to_do(page, signin_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    _sign_in(page, CLERK[0])
    assert _path(page.url) == "/"
    card = page.locator("#todo")
    assert card.get_attribute("data-role") == "department"
    assert card.locator("h2").inner_text() == f"我的待办（承办单位 · {signin_server.unit_name}）"
    counts = card.locator("[data-field=count]")
    waiting = [i for i in range(counts.count()) if counts.nth(i).inner_text() != "0"]
    assert waiting, "the clerk's unit should have demo orders waiting on it"
    link = counts.nth(waiting[0])
    expected = int(link.inner_text())
    link.click()
    page.wait_for_load_state()
    rows = page.locator("#orders tr[data-number]")
    shown = {rows.nth(i).get_attribute("data-number") for i in range(rows.count())}
    assert len(shown) == expected and shown <= signin_server.unit_orders

    # A role the account does not hold is refused in the card; the rest of the overview is still shown.
    response = page.goto("/?role=dispatcher")
    assert response.status == 200
    assert page.locator("#todo [role=alert]").get_attribute("data-code") == "role-not-granted"
    assert page.locator("#plan-summary").is_visible()
