"""Sign-in over HTTP with HOTLINE_AUTH=on: the guard in front of every route, the /login page, API tokens, and the
work-order and feed resources that act for the signed-in account (SQLite and PostgreSQL where a database is used)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from hotline.accounts import service
from hotline.accounts.policy import RULES, Policy
from hotline.app import create_app
from hotline.db import session_scope
from hotline.workorders import advice
from hotline.workorders import service as workorders

PASSWORD = "Hotline2021"
ZJJ, RSJ = "510100-zjj", "510100-rsj"
ORDER = {"type": "求助", "content": "小区停水两天", "phone": "13811112222", "region": "成都市"}


@pytest.fixture(autouse=True)
def _auth_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    # The dispatch classifier trains for a minute on first use; these tests are about who may act.
    monkeypatch.setattr(advice, "_advise_function", lambda: None)


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app()


@pytest.fixture
def anonymous(app: Any) -> TestClient:
    """A client for requests the guard refuses before any database is asked."""
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def client(db_url: str, app: Any) -> Iterator[TestClient]:
    with session_scope() as session:
        workorders.load_units(session)
        for code, name in ((ZJJ, "成都市住房和城乡建设局"), (RSJ, "成都市人力资源和社会保障局")):
            workorders.add_unit(session, code, name, "department", region_code="510100", parent="510100")
    yield TestClient(app, follow_redirects=False)


def _account(login: str, roles: list[str], *, name: str = "", bound_to: str | None = None) -> dict[str, str]:
    """An account without a password (no scrypt: fast) and the header carrying its API token."""
    with session_scope() as session:
        service.create_account(session, login, name or login, roles, bound_to=bound_to)
        token = service.issue_token(session, login).token
    return {"Authorization": f"Bearer {token}"}


def _person(login: str = "zhangmin", roles: tuple[str, ...] = ("agent",)) -> None:
    with session_scope() as session:
        service.create_account(session, login, "张敏", list(roles), password=PASSWORD)


def _filled(template: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "x9", template)


def _page(path: str) -> bool:
    return not path.startswith(("/api/", "/telephony/", "/open311/"))


# -- nobody signed in ----------------------------------------------------------------------------------------------
GUARDED = [(m, t) for m, t, g in RULES if g]


@pytest.mark.parametrize(("method", "template"), GUARDED)
def test_anonymous_requests_are_sent_to_sign_in(anonymous: TestClient, method: str, template: str) -> None:
    path = _filled(template)
    rule = Policy().find(method, path)
    assert rule is not None and rule.template == template  # the dummy values hit this very rule
    got = anonymous.request(method, path, json={} if method in {"POST", "PUT", "PATCH"} else None)
    if _page(path):  # a page's form posted signed out also goes to sign in, not to a JSON answer
        assert got.status_code == 303
        assert got.headers["location"] == f"/login?next={quote(path, safe='')}"
    else:
        assert got.status_code == 401, got.text
        assert got.json()["code"] == "login-required" and got.headers["www-authenticate"] == "Bearer"


def test_the_way_back_after_sign_in_keeps_the_query(anonymous: TestClient) -> None:
    got = anonymous.get("/orders", params={"state": "dispatched"})
    assert got.status_code == 303 and got.headers["location"] == "/login?next=%2Forders%3Fstate%3Ddispatched"


def test_head_is_guarded_like_get(anonymous: TestClient) -> None:
    assert anonymous.head("/api/orders").status_code == 401
    assert anonymous.head("/kpis").status_code == 303


def test_unknown_resources_are_refused_before_sign_in(anonymous: TestClient) -> None:
    missing = anonymous.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"
    wrong_method = anonymous.delete("/api/orders")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method-not-allowed"


def test_an_unknown_token_is_refused(db_url: str, anonymous: TestClient) -> None:
    got = anonymous.get("/api/orders", headers={"Authorization": "Bearer made-up"})
    assert got.status_code == 401 and got.json()["code"] == "login-required"


def test_public_resources_need_no_sign_in(db_url: str, anonymous: TestClient) -> None:
    assert anonymous.get("/api/health").json() == {"status": "ok"}
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/track").status_code == 200
    assert anonymous.get("/api/public/orders/5101002021093000001", params={"phone_last4": "2222"}).status_code == 404
    assert anonymous.get("/static/site.css").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200


# -- signed in, but not allowed ------------------------------------------------------------------------------------
def test_a_role_not_in_the_rule_is_refused(client: TestClient) -> None:
    agent = _account("zhangmin", ["agent"], name="张敏")
    dispatcher = _account("lihua", ["dispatcher"])
    supervisor = _account("wangfang", ["supervisor"])
    refused = client.get("/api/supervision/kpis", headers=agent)
    assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    assert client.get("/api/supervision/kpis", headers=supervisor).status_code == 200
    limit = client.put("/api/workorders/limits/投诉", json={"days": 5}, headers=dispatcher)
    assert limit.status_code == 403 and limit.json()["code"] == "role-not-granted"
    page = client.get("/seats", headers=agent)
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "无权访问" in page.text and "张敏（zhangmin）" in page.text
    assert client.get("/seats", headers=supervisor).status_code == 200


def test_who_am_i(client: TestClient) -> None:
    office = _account("chengban", ["department"], name="经办人", bound_to=ZJJ)
    me = client.get("/api/auth/me", headers=office).json()
    assert me == {
        "login": "chengban", "name": "经办人", "roles": ["department"], "role_labels": ["承办单位"], "bound_to": ZJJ,
    }  # fmt: skip


# -- the sign-in page ----------------------------------------------------------------------------------------------
def test_signing_in_on_the_page_sets_a_session_cookie(client: TestClient) -> None:
    _person()
    assert client.get("/orders").status_code == 303
    done = client.post("/login", data={"login": "zhangmin", "password": PASSWORD, "next": "/orders?state=dispatched"})
    assert done.status_code == 303 and done.headers["location"] == "/orders?state=dispatched"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("hotline_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie
    page = client.get("/orders")
    assert page.status_code == 200 and "张敏（zhangmin）" in page.text
    token = client.cookies["hotline_session"]
    out = client.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/orders").status_code == 303
    kept = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})  # a copy of the cookie
    assert kept.status_code == 401 and kept.json()["code"] == "login-required"


def test_a_wrong_password_shows_the_form_again(client: TestClient) -> None:
    _person()
    wrong = client.post("/login", data={"login": "zhangmin", "password": "Wrong1pass", "next": "/kb"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "登录名或密码不正确" in wrong.text
    assert 'value="zhangmin"' in wrong.text and 'value="/kb"' in wrong.text  # kept for the next try


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/orders", "/\\evil.example", "orders"])
def test_after_sign_in_the_page_stays_on_this_site(client: TestClient, target: str) -> None:
    _person()
    done = client.post("/login", data={"login": "zhangmin", "password": PASSWORD, "next": target})
    assert done.status_code == 303 and done.headers["location"] == "/"


def test_the_page_does_not_offer_an_off_site_return(anonymous: TestClient) -> None:
    page = anonymous.get("/login", params={"next": "//evil.example"})
    assert page.status_code == 200 and "evil.example" not in page.text


# -- the sign-in API -----------------------------------------------------------------------------------------------
def test_an_api_sign_in_gives_a_bearer_token_that_logout_revokes(client: TestClient) -> None:
    _person()
    signed = client.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD})
    assert signed.status_code == 200 and signed.json()["account"]["roles"] == ["agent"]
    client.cookies.clear()  # the token alone, as a script holds it
    bearer = {"Authorization": f"Bearer {signed.json()['token']}"}
    assert client.get("/api/auth/me", headers=bearer).json()["login"] == "zhangmin"
    assert client.get("/api/orders", headers=bearer).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer).status_code == 204
    after = client.get("/api/auth/me", headers=bearer)
    assert after.status_code == 401 and after.json()["code"] == "login-required"


def test_five_wrong_passwords_lock_the_account_from_that_address_only(client: TestClient, app: Any) -> None:
    _person()
    stranger = TestClient(app, follow_redirects=False, client=("198.51.100.7", 40000))
    codes = [
        stranger.post("/api/auth/login", json={"login": "zhangmin", "password": f"Wrong{i}pass"}).json()["code"]
        for i in range(5)
    ]
    assert codes == ["bad-credentials"] * 4 + ["account-locked"]
    locked = stranger.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json() == {
        "code": "account-locked", "message": "密码错误次数过多，此账号在本地址已锁定，请 15 分钟后再试",
    }  # fmt: skip
    page = stranger.post("/login", data={"login": "zhangmin", "password": PASSWORD, "next": "/"})
    assert page.status_code == 429 and 'data-code="account-locked"' in page.text and "本地址已锁定" in page.text
    # The agent at their own desk signs in as usual, on the page and over the API.
    desk = TestClient(app, follow_redirects=False, client=("10.20.30.40", 40000))
    assert desk.post("/login", data={"login": "zhangmin", "password": PASSWORD, "next": "/"}).status_code == 303
    assert desk.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD}).status_code == 200
    unknown = [
        stranger.post("/api/auth/login", json={"login": "nobody", "password": f"Wrong{i}pass"}) for i in range(5)
    ]  # a name that does not exist is locked out alike
    assert [(r.status_code, r.json()["code"]) for r in unknown] == [(401, "bad-credentials")] * 4 + [
        (429, "account-locked")
    ]


# -- cross-site requests -------------------------------------------------------------------------------------------
def test_a_cross_site_post_with_the_cookie_is_refused(client: TestClient) -> None:
    _person()
    assert client.post("/login", data={"login": "zhangmin", "password": PASSWORD}).status_code == 303
    for header in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/form"}, {"Origin": "null"}):
        got = client.post("/api/orders", params={"advice": "false"}, json=ORDER, headers=header)
        assert got.status_code == 403 and got.json()["code"] == "cross-site-request", header
    assert client.get("/api/orders", params={"role": "agent"}).json() == []  # nothing was created
    same = client.post("/api/orders", params={"advice": "false"}, json=ORDER, headers={"Origin": "http://testserver"})
    assert same.status_code == 201, same.text


def test_a_bearer_token_is_no_cross_site_risk(client: TestClient) -> None:
    agent = _account("zhangmin", ["agent"])
    got = client.post(
        "/api/orders", params={"advice": "false"}, json=ORDER, headers={**agent, "Origin": "https://other.example"}
    )
    assert got.status_code == 201, got.text


# -- the SIP proxy -------------------------------------------------------------------------------------------------
def test_the_proxy_asks_without_a_token_from_a_trusted_network(
    client: TestClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = TestClient(app, client=("127.0.0.1", 50000))
    assert "revision" in local.get("/telephony/revision").json()
    assert local.get("/telephony/calls").status_code == 401  # trust covers the proxy's own resources only
    remote = TestClient(app, client=("10.0.0.1", 50000))
    refused = remote.get("/telephony/revision")
    assert refused.status_code == 401 and refused.json()["code"] == "login-required"
    monkeypatch.setenv("HOTLINE_PROXY_NETWORKS", "10.0.0.0/8")
    assert remote.get("/telephony/revision").status_code == 200
    assert local.get("/telephony/revision").status_code == 401


# -- work orders and feeds act for the account ---------------------------------------------------------------------
def _history(client: TestClient, number: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    shown = client.get(f"/api/orders/{number}", headers=headers)
    assert shown.status_code == 200, shown.text
    history: list[dict[str, Any]] = shown.json()["history"]
    return history


def test_an_order_records_the_signed_in_agent(client: TestClient) -> None:
    agent = _account("zhangmin", ["agent"], name="张敏")
    made = client.post("/api/orders", params={"advice": "false"}, json={**ORDER, "actor": "冒名"}, headers=agent)
    assert made.status_code == 201, made.text
    [created] = _history(client, made.json()["number"], agent)
    assert created["actor"] == "张敏（zhangmin）" and created["role"] == "agent"
    as_other = client.post(
        "/api/orders", params={"advice": "false"}, json={**ORDER, "role": "supervisor"}, headers=agent
    )
    assert as_other.status_code == 403 and as_other.json()["code"] == "role-not-granted"


def test_a_handling_unit_acts_for_its_own_unit_only(client: TestClient) -> None:
    dispatcher = _account("lihua", ["dispatcher"], name="李华")
    office = _account("chengban", ["department"], name="经办人", bound_to=ZJJ)
    number = client.post("/api/orders", params={"advice": "false"}, json=ORDER, headers=dispatcher).json()["number"]
    sent = client.post(f"/api/orders/{number}/actions/dispatch", json={"target_unit": ZJJ}, headers=dispatcher)
    assert sent.status_code == 200, sent.text
    other = client.post(
        f"/api/orders/{number}/actions/accept", json={"role": "department", "unit": RSJ}, headers=office
    )
    assert other.status_code == 403 and other.json()["code"] == "unit-not-granted"
    peek = client.get(f"/api/orders/{number}", params={"unit": RSJ}, headers=office)
    assert peek.status_code == 403 and peek.json()["code"] == "unit-not-granted"
    accepted = client.post(f"/api/orders/{number}/actions/accept", json={"unit": ZJJ}, headers=office)
    assert accepted.status_code == 200, accepted.text
    last = _history(client, number, office)[-1]  # the unit is the account's own without naming it
    assert (last["action"], last["actor"], last["role"], last["unit"]) == (
        "accept",
        "经办人（chengban）",
        "department",
        ZJJ,
    )
    assert _history(client, number, dispatcher)[1]["actor"] == "李华（lihua）"


def test_a_feed_system_delivers_for_its_own_source_only(client: TestClient) -> None:
    feed = _account("tax", ["feed"], bound_to="12366")
    own = client.post("/api/feeds/12366", json={"records": []}, headers=feed)
    assert own.status_code == 200, own.text
    other = client.post("/api/feeds/12360", json={"records": []}, headers=feed)
    assert other.status_code == 403 and other.json()["code"] == "source-not-granted"
    assert client.get("/api/feeds", headers=feed).status_code == 403  # delivering is not reading


# -- sign-in off ---------------------------------------------------------------------------------------------------
def test_with_sign_in_off_requests_name_their_role(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "off")
    assert client.get("/api/supervision/kpis").status_code == 200
    assert client.get("/seats").status_code == 200
    made = client.post("/api/orders", params={"advice": "false"}, json={**ORDER, "actor": "王五"})
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    sent = client.post(f"/api/orders/{number}/actions/dispatch", json={"role": "dispatcher", "target_unit": ZJJ})
    assert sent.status_code == 200, sent.text
    seen = client.get(f"/api/orders/{number}", params={"role": "department", "unit": ZJJ})
    assert seen.status_code == 200 and seen.json()["history"][0]["actor"] == "王五"
    assert client.post("/api/feeds/12360", json={"records": []}).status_code == 200
    assert client.get("/api/auth/me").json()["code"] == "login-required"


# -- the pages' frame ----------------------------------------------------------------------------------------------
def _nav(client: TestClient, headers: dict[str, str]) -> list[str]:
    page = client.get("/", headers=headers)
    assert page.status_code == 200
    nav = page.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)">', nav)


def test_the_menu_offers_only_the_pages_the_account_may_open(client: TestClient) -> None:
    agent = _nav(client, _account("zhangmin", ["agent"]))
    boss = _account("wangfang", ["supervisor"])
    supervisor = _nav(client, boss)
    assert agent == [
        "/", "/plan", "/route", "/calls", "/callbacks", "/quality", "/nuisance", "/orders", "/orders/new",
        "/sms/replies", "/calendar", "/kb", "/track", "/docs",
    ]  # fmt: skip
    # 受理 is for those who may take a demand in: not a supervisor
    assert supervisor == [
        "/", "/plan", "/route", "/calls", "/callbacks", "/quality", "/nuisance", "/orders", "/sms", "/sms/replies",
        "/monitor", "/kpis", "/hotspots", "/feeds", "/seats", "/calendar", "/settings/dispatch", "/kb", "/track", "/docs",
    ]  # fmt: skip
    for href in supervisor[:-1]:  # every page offered opens (/docs is FastAPI's own)
        assert client.get(href, headers=boss).status_code == 200, href
    assert client.get("/orders/new", headers=boss).status_code == 403


def test_a_missing_page_answers_a_page(anonymous: TestClient) -> None:
    missing = anonymous.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "页面不存在" in missing.text and 'data-code="not-found"' in missing.text
    api = anonymous.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json()["code"] == "not-found"


def test_an_expired_session_is_sent_to_sign_in_with_the_reason(client: TestClient) -> None:
    with session_scope() as session:
        service.create_account(session, "desk", "张敏", ["agent"])
        # issued 31 days ago for 30 days: past its expiry now
        stale = service.issue_token(session, "desk", days=30, at=datetime.now(UTC) - timedelta(days=31)).token
    client.cookies.set("hotline_session", stale)
    got = client.get("/orders")
    assert got.status_code == 303 and got.headers["location"] == "/login?next=%2Forders&reason=expired"
    page = client.get(got.headers["location"])
    assert page.status_code == 200 and "登录已过期" in page.text and 'name="next" value="/orders"' in page.text
    assert "登录已过期" not in client.get("/login", params={"next": "/orders"}).text  # only when sent for that
    api = client.get("/api/orders")
    assert api.status_code == 401 and api.json()["code"] == "session-expired"
