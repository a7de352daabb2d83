"""Managing accounts in a real browser: a server with HOTLINE_AUTH=on and Chromium.

An administrator adds a person on /accounts, the person signs in and changes their own password on /account
(their other browser is signed out), the administrator disables them and their session stops working, and a
system account's token is shown once. Runs on SQLite and on PostgreSQL (`--db`), each in a database of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hotline import db
from hotline.accounts import service as accounts
from tests.platform_process import Platform

pytestmark = pytest.mark.browser

ADMIN = ("admin", "系统管理员", "Desk2024center")
PERSON = ("zhou.hm", "周海明")
FIRST_PASSWORD = "Welcome2024"
OWN_PASSWORD = "Night2024shift"


@pytest.fixture(scope="module")
def server(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("accounts-page")
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": own_database}
    subprocess.run(
        [sys.executable, "-m", "hotline", "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True
    )
    login, name, password = ADMIN
    with db.session_scope(own_database) as session:
        accounts.create_account(session, login, name, ["admin", "supervisor"], password=password)
    platform = Platform({**env, "HOTLINE_AUTH": "on"}, log=data / "server.log")  # one worker: changes apply at once
    platform.start()
    yield platform.url
    platform.stop()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _browser(browser: Any, server: str) -> tuple[Any, Any]:
    context = browser.new_context(base_url=server, locale="zh-CN")
    return context, context.new_page()


def _sign_in(page: Any, login: str, password: str) -> Any:
    page.fill("#login input[name=login]", login)
    page.fill("#login input[name=password]", password)
    with page.expect_navigation() as answer:
        page.click("#login button[type=submit]")
    return answer.value


def _submit(page: Any, selector: str) -> Any:
    with page.expect_navigation() as answer:
        page.click(selector)
    return answer.value


def _row(page: Any, login: str) -> Any:
    return page.locator(f"#accounts tr[data-login='{login}']")


@pytest.fixture
def admin_page(browser: Any, server: str) -> Iterator[Any]:
    context, page = _browser(browser, server)
    page.goto("/accounts")
    assert urlsplit(page.url).path == "/login"
    _sign_in(page, ADMIN[0], ADMIN[2])
    assert _path(page.url) == "/accounts"
    yield page
    context.close()


def _add(page: Any, login: str, name: str, roles: list[str], password: str = "") -> Any:
    page.fill("#new-account input[name=login]", login)
    page.fill("#new-account input[name=name]", name)
    for role in roles:
        page.check(f"#new-account input[name=roles][value={role}]")
    if password:
        page.fill("#new-account input[name=password]", password)
    return _submit(page, "#new-account button[type=submit]")


def test_an_administrator_adds_a_person_who_changes_their_password_and_is_then_disabled(
    admin_page: Any, browser: Any, server: str
) -> None:
    page = admin_page
    assert page.locator("h1").inner_text() == "账号管理"
    assert page.locator("nav a", has_text="账号管理").get_attribute("href") == "/accounts"
    assert page.locator("[data-field=signed-in]").get_attribute("href") == "/account"
    assert _row(page, "admin").locator("[data-field=state]").inner_text() == "正常"
    assert _row(page, "admin").locator("form[data-action=disable]").count() == 0  # not the account in use

    login, name = PERSON
    _add(page, login, name, ["agent"], FIRST_PASSWORD)
    assert _path(page.url) == f"/accounts?done=created&login={login}"
    assert page.locator("[role=status]").inner_text() == f"已新建账号 {login}"
    row = _row(page, login)
    assert row.locator("td").nth(1).inner_text() == name
    assert row.locator("td").nth(2).inner_text() == "话务员"
    assert row.locator("td").nth(4).inner_text() == "密码"
    assert row.locator("[data-field=state]").inner_text() == "正常"

    # The same login again: the form comes back with the error and what was typed.
    answer = _add(page, login, "另一个周海明", ["dispatcher"])
    assert answer.status == 409
    assert page.locator("[role=alert]").get_attribute("data-code") == "account-exists"
    assert page.locator("[role=alert]").inner_text() == f"账号 {login} 已存在"
    assert page.locator("#new-account input[name=name]").input_value() == "另一个周海明"
    assert page.locator("#new-account input[name=roles][value=dispatcher]").is_checked()
    assert page.locator("#accounts tr[data-login]").count() == 2

    # The new person signs in twice (a second browser too) and changes the password on their own page.
    person_ctx, person = _browser(browser, server)
    other_ctx, other = _browser(browser, server)
    try:
        other.goto("/orders")
        _sign_in(other, login, FIRST_PASSWORD)
        assert _path(other.url) == "/orders"

        person.goto("/orders")
        _sign_in(person, login, FIRST_PASSWORD)
        assert person.locator("nav a", has_text="账号管理").count() == 0  # an agent's menu
        with person.expect_navigation():
            person.locator("[data-field=signed-in]").click()
        assert _path(person.url) == "/account"
        assert person.locator("h1").inner_text() == "我的账号"
        assert person.locator("#me [data-field=name]").inner_text() == name
        assert person.locator("#me [data-field=login]").inner_text() == login
        assert person.locator("#me [data-field=roles]").inner_text() == "话务员"

        def change(current: str, new: str, confirm: str) -> Any:
            person.fill("#password input[name=current]", current)
            person.fill("#password input[name=new]", new)
            person.fill("#password input[name=confirm]", confirm)
            return _submit(person, "#password button[type=submit]")

        assert change("Wrong2024pass", OWN_PASSWORD, OWN_PASSWORD).status == 401
        alert = person.locator("[role=alert]")
        assert (alert.get_attribute("data-code"), alert.inner_text()) == ("bad-credentials", "当前密码不正确")
        assert change(FIRST_PASSWORD, OWN_PASSWORD, "Other2024pass").status == 422
        assert person.locator("[role=alert]").get_attribute("data-code") == "password-mismatch"
        assert change(FIRST_PASSWORD, OWN_PASSWORD, OWN_PASSWORD).status == 200
        assert _path(person.url) == "/account?done=password"
        assert "密码已修改" in person.locator("[role=status]").inner_text()
        assert person.goto("/orders").status == 200 and _path(person.url) == "/orders"  # still signed in here

        other.goto("/orders")  # the other browser was signed out
        assert urlsplit(other.url).path == "/login"
        assert _sign_in(other, login, FIRST_PASSWORD).status == 401
        _sign_in(other, login, OWN_PASSWORD)
        assert _path(other.url) == "/orders"

        # The administrator disables the account, and the person's session stops at once.
        page.goto("/accounts")
        _submit(page, f"#accounts tr[data-login='{login}'] form[data-action=disable] button")
        assert _path(page.url) == f"/accounts?done=disabled&login={login}"
        assert page.locator("[role=status]").inner_text() == f"已停用账号 {login}：其全部会话和接口令牌已失效"
        assert _row(page, login).locator("[data-field=state]").inner_text() == "停用"
        assert _row(page, login).locator("form[data-action=enable]").count() == 1

        person.goto("/orders")
        assert urlsplit(person.url).path == "/login"
        assert parse_qs(urlsplit(person.url).query)["next"] == ["/orders"]
        assert _sign_in(person, login, OWN_PASSWORD).status == 401
        assert person.locator("[role=alert]").get_attribute("data-code") == "account-disabled"
    finally:
        person_ctx.close()
        other_ctx.close()


def test_a_system_accounts_token_is_shown_once(admin_page: Any, browser: Any, server: str) -> None:
    page = admin_page
    _add(page, "sip-remote", "外地 SIP 代理", ["proxy"])
    row = _row(page, "sip-remote")
    assert row.locator("td").nth(4).inner_text() == "仅接口令牌"

    row.locator("form[data-action=token] input[name=label]").fill("外地代理")
    row.locator("form[data-action=token] input[name=days]").fill("30")
    answer = _submit(page, "#accounts tr[data-login='sip-remote'] form[data-action=token] button")
    assert answer.status == 200 and answer.headers["cache-control"] == "no-store"
    assert page.locator("#issued").get_attribute("data-login") == "sip-remote"
    token = page.locator("#issued [data-field=token]").inner_text()
    assert len(token) >= 40
    assert _path(page.url) == "/accounts/sip-remote/tokens" and token not in page.url  # nor in any address

    # The token works, for the resources of its account's role.
    api = browser.new_context(base_url=server)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        me = api.request.get("/api/auth/me", headers=bearer)
        assert me.status == 200 and me.json()["login"] == "sip-remote"
        assert api.request.get("/telephony/revision", headers=bearer).status == 200
        assert api.request.get("/api/orders", headers=bearer).status == 403
    finally:
        api.close()

    page.goto("/accounts")  # shown once: the list does not show it again
    assert page.locator("#issued").count() == 0
    assert token not in page.content()


def test_an_open311_app_is_added_and_its_token_is_its_api_key(admin_page: Any, browser: Any, server: str) -> None:
    page = admin_page
    assert page.locator("#new-account label.check", has_text="服务请求应用").count() == 1
    _add(page, "tianfu", "天府通办", ["open311"])
    row = _row(page, "tianfu")
    assert row.locator("td").nth(2).inner_text() == "服务请求应用"
    _submit(page, "#accounts tr[data-login='tianfu'] form[data-action=token] button")
    # Sent as the standard's parameter, not in a header.
    assert "api_key=<令牌>" in page.locator("#issued [data-field=use]").inner_text()
    token = page.locator("#issued [data-field=token]").inner_text()

    api = browser.new_context(base_url=server)
    try:
        mine = api.request.get("/open311/v2/requests.json", params={"api_key": token})
        assert mine.status == 200 and mine.json() == []
        page.goto("/accounts")
        _submit(page, "#accounts tr[data-login='tianfu'] form[data-action=revoke] button")
        refused = api.request.get("/open311/v2/requests.json", params={"api_key": token})
        assert refused.status == 403 and refused.json()[0]["error_code"] == "open311-key-invalid"
    finally:
        api.close()


def test_a_non_administrator_has_no_accounts_page(browser: Any, server: str) -> None:
    context, page = _browser(browser, server)
    try:
        page.goto("/login")
        _sign_in(page, ADMIN[0], ADMIN[2])
        made = page.request.post(
            "/api/accounts",
            data={"login": "qian.lm", "name": "钱立明", "roles": ["supervisor"], "password": FIRST_PASSWORD},
        )
        assert made.status == 201, made.text()
        with page.expect_navigation():
            page.get_by_role("button", name="退出登录").click()
        _sign_in(page, "qian.lm", FIRST_PASSWORD)
        assert page.locator("nav a", has_text="账号管理").count() == 0
        answer = page.goto("/accounts")
        assert answer.status == 403
        assert page.locator("[role=alert]").get_attribute("data-code") == "role-not-granted"
        assert page.locator("#accounts").count() == 0
    finally:
        context.close()


def _edit_form(page: Any, login: str) -> Any:
    details = _row(page, login).locator("details[data-action=edit]")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details.locator("form")


def test_an_agent_promoted_to_dispatcher_keeps_the_login_and_gets_the_new_role_at_once(
    admin_page: Any, browser: Any, server: str
) -> None:
    page = admin_page
    _add(page, "sun.li", "孙丽", ["agent"], FIRST_PASSWORD)
    person_ctx, person = _browser(browser, server)
    try:
        person.goto("/orders")
        _sign_in(person, "sun.li", FIRST_PASSWORD)
        assert person.goto("/kpis").status == 403  # a dispatcher's page

        form = _edit_form(page, "sun.li")
        assert form.locator("input[name=name]").input_value() == "孙丽"
        assert form.locator("input[name=roles][value=agent]").is_checked()
        form.locator("input[name=name]").fill("孙丽华")
        form.locator("input[name=roles][value=dispatcher]").check()
        _submit(page, "#accounts tr[data-login='sun.li'] details[data-action=edit] button[type=submit]")
        assert _path(page.url) == "/accounts?done=edited&login=sun.li"
        assert page.locator("[role=status]").inner_text().startswith("已修改账号 sun.li")
        row = _row(page, "sun.li")
        assert row.locator("td").nth(1).inner_text() == "孙丽华"
        assert row.locator("td").nth(2).inner_text() == "话务员、派单员"

        # The same browser, not signed in again: the new role and name from the next page on.
        assert person.goto("/kpis").status == 200
        assert person.locator("[data-field=signed-in]").inner_text() == "孙丽华（sun.li）"
        assert person.locator("nav a", has_text="账号管理").count() == 0

        # Saving the form unchanged changes nothing.
        _edit_form(page, "sun.li")
        _submit(page, "#accounts tr[data-login='sun.li'] details[data-action=edit] button[type=submit]")
        assert page.locator("[role=status]").inner_text() == "账号 sun.li 没有变化"
    finally:
        person_ctx.close()


def test_an_administrator_cannot_take_their_own_admin_role_away_on_the_page(admin_page: Any) -> None:
    page = admin_page
    form = _edit_form(page, "admin")
    form.locator("input[name=roles][value=admin]").uncheck()
    form.locator("input[name=name]").fill("改名的管理员")
    answer = _submit(page, "#accounts tr[data-login='admin'] details[data-action=edit] button[type=submit]")
    assert answer.status == 409
    assert page.locator("[role=alert]").get_attribute("data-code") == "own-admin-role"
    # The form comes back open with what was typed; nothing was changed.
    details = _row(page, "admin").locator("details[data-action=edit]")
    assert details.get_attribute("open") is not None
    assert details.locator("input[name=name]").input_value() == "改名的管理员"
    assert not details.locator("input[name=roles][value=admin]").is_checked()
    assert _row(page, "admin").locator("td").nth(2).inner_text() == "管理员、督办审核员"

    # A department account needs an existing unit, and a refusal names it.
    _add(page, "chen.gb", "陈经办", ["agent"], FIRST_PASSWORD)
    form = _edit_form(page, "chen.gb")
    form.locator("input[name=roles][value=agent]").uncheck()
    form.locator("input[name=roles][value=department]").check()
    form.locator("input[name=bound_to]").fill("510100-nowhere")
    answer = _submit(page, "#accounts tr[data-login='chen.gb'] details[data-action=edit] button[type=submit]")
    assert answer.status == 404
    assert page.locator("[role=alert]").get_attribute("data-code") == "unit-not-found"
    assert _row(page, "chen.gb").locator("td").nth(2).inner_text() == "话务员"
