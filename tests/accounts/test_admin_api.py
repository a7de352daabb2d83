"""Managing accounts over HTTP with HOTLINE_AUTH=on (SQLite and PostgreSQL): the administrators' API
(`/api/accounts…`) and everyone's own password change (`/api/auth/password`).

Accounts are made without a password (no scrypt, fast) and use API tokens, except where the test is about
passwords."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.accounts import guard, service
from hotline.app import create_app
from hotline.db import session_scope

PASSWORD = "Hotline2021"
NEW_PASSWORD = "Evening2022shift"
ADMIN_ACTOR = "系统管理员（admin）"


@pytest.fixture(autouse=True)
def _auth_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    monkeypatch.setattr(guard, "_remembered", {})  # who holds a token is remembered per test, as per process


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app()


@pytest.fixture
def client(db_url: str, app: Any) -> Iterator[TestClient]:
    yield TestClient(app, follow_redirects=False)


def _token(login: str, roles: list[str], name: str = "") -> dict[str, str]:
    """An account without a password and the header carrying an API token of it."""
    with session_scope() as session:
        service.create_account(session, login, name or login, roles)
        token = service.issue_token(session, login).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return _token("admin", ["admin", "supervisor"], "系统管理员")


def _person(login: str = "zhangmin", roles: tuple[str, ...] = ("agent",)) -> None:
    with session_scope() as session:
        service.create_account(session, login, "张敏", list(roles), password=PASSWORD)


def _signed_in(client: TestClient, login: str = "zhangmin", password: str = PASSWORD) -> dict[str, str]:
    """A web session of its own (the token the sign-in answers), as a second browser would hold it."""
    signed = client.post("/api/auth/login", json={"login": login, "password": password})
    assert signed.status_code == 200, signed.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {signed.json()['token']}"}


def _works(client: TestClient, headers: dict[str, str]) -> bool:
    got = client.get("/api/auth/me", headers=headers)
    assert got.status_code in (200, 401), got.text
    return got.status_code == 200


def _trail(login: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        rows = service.audit_log(session, login=login)
    return [(r["event"], r["detail"]) for r in reversed(rows)]


def _row(client: TestClient, admin: dict[str, str], login: str) -> dict[str, Any]:
    rows = client.get("/api/accounts", headers=admin).json()
    [row] = [r for r in rows if r["login"] == login]
    return dict(row)


# -- administrators ----------------------------------------------------------------------------------------------
def test_an_administrator_adds_a_system_account_and_lists_it(client: TestClient, admin: dict[str, str]) -> None:
    made = client.post(
        "/api/accounts", json={"login": "sip-proxy", "name": "SIP 代理（外网）", "roles": ["proxy"]}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.json() == {
        "login": "sip-proxy", "name": "SIP 代理（外网）", "roles": ["proxy"], "role_labels": ["SIP 代理"],
        "bound_to": None, "active": True, "has_password": False, "locked_until": None,
    }  # fmt: skip
    listed = client.get("/api/accounts", headers=admin)
    assert listed.status_code == 200
    assert [r["login"] for r in listed.json()] == ["admin", "sip-proxy"]
    # A system account has no password: it cannot sign in, whatever is typed.
    refused = client.post("/api/auth/login", json={"login": "sip-proxy", "password": ""})
    assert refused.status_code == 401 and refused.json()["code"] == "bad-credentials"


def test_a_person_added_with_a_password_can_sign_in(client: TestClient, admin: dict[str, str]) -> None:
    made = client.post(
        "/api/accounts",
        json={"login": "lihua", "name": "李华", "roles": ["dispatcher"], "password": PASSWORD},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["has_password"] is True
    assert client.get("/api/auth/me", headers=_signed_in(client, "lihua")).json()["name"] == "李华"


def test_a_taken_login_a_weak_password_and_a_bad_binding_are_refused(client: TestClient, admin: dict[str, str]) -> None:
    again = client.post("/api/accounts", json={"login": "admin", "name": "又一个", "roles": ["agent"]}, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "account-exists"
    for weak in ("short1", "lettersonly", "zhangmin2021"):
        got = client.post(
            "/api/accounts",
            json={"login": "zhangmin", "name": "张敏", "roles": ["agent"], "password": weak},
            headers=admin,
        )
        assert got.status_code == 422 and got.json()["code"] == "weak-password", weak
    unbound = client.post(
        "/api/accounts", json={"login": "cb", "name": "经办人", "roles": ["department"]}, headers=admin
    )
    assert unbound.status_code == 422 and unbound.json()["code"] == "binding-required"
    nobody = client.post("/api/accounts", json={"login": "x1", "name": "某", "roles": ["root"]}, headers=admin)
    assert nobody.status_code == 422 and nobody.json()["code"] == "unknown-role"
    assert [r["login"] for r in client.get("/api/accounts", headers=admin).json()] == ["admin"]


ADMIN_ONLY = [
    ("GET", "/api/accounts", None),
    ("POST", "/api/accounts", {"login": "x1", "name": "某", "roles": ["agent"]}),
    ("PATCH", "/api/accounts/lihua", {"roles": ["admin"]}),
    ("POST", "/api/accounts/lihua/disable", None),
    ("POST", "/api/accounts/lihua/enable", None),
    ("POST", "/api/accounts/lihua/password", {"password": NEW_PASSWORD}),
    ("POST", "/api/accounts/lihua/tokens", {"label": "脚本", "days": 30}),
    ("POST", "/api/accounts/lihua/revoke", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_only_administrators_manage_accounts(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    supervisor = _token("wangfang", ["supervisor", "dispatcher"])
    lihua = _token("lihua", ["dispatcher"])
    got = client.request(method, path, json=body, headers=supervisor)
    assert got.status_code == 403 and got.json()["code"] == "role-not-granted"
    assert _works(client, lihua)  # nothing happened to the account
    with session_scope() as session:
        assert [r["login"] for r in service.list_accounts(session)] == ["lihua", "wangfang"]
    assert [e for e, _ in _trail("lihua")] == ["created", "token-issued"]
    with session_scope() as session:
        assert service.get_account(session, "lihua").grants == ["dispatcher"]


def test_the_accounts_page_and_its_menu_link_are_for_administrators(client: TestClient, admin: dict[str, str]) -> None:
    supervisor = _token("wangfang", ["supervisor"])
    refused = client.get("/accounts", headers=supervisor)
    assert refused.status_code == 403 and "无权访问" in refused.text
    assert 'href="/accounts"' not in client.get("/", headers=supervisor).text
    page = client.get("/", headers=admin)
    assert '<a href="/accounts">账号管理</a>' in page.text
    assert client.get("/accounts", headers=admin).status_code == 200


def test_disabling_ends_the_accounts_tokens_at_once_and_enabling_does_not_bring_them_back(
    client: TestClient, admin: dict[str, str]
) -> None:
    proxy = _token("tax", ["proxy"])
    assert _works(client, proxy)  # this process now remembers who holds the token
    off = client.post("/api/accounts/tax/disable", headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    refused = client.get("/api/auth/me", headers=proxy)
    assert refused.status_code == 401 and refused.json()["code"] == "login-required"
    assert _row(client, admin, "tax")["active"] is False
    issue = client.post("/api/accounts/tax/tokens", json={}, headers=admin)
    assert issue.status_code == 409 and issue.json()["code"] == "account-disabled"
    on = client.post("/api/accounts/tax/enable", headers=admin)
    assert on.status_code == 200 and on.json()["active"] is True
    assert not _works(client, proxy)


def test_an_administrator_cannot_disable_the_account_in_use(client: TestClient, admin: dict[str, str]) -> None:
    own = client.post("/api/accounts/admin/disable", headers=admin)
    assert own.status_code == 409 and own.json()["code"] == "own-account"
    assert _works(client, admin)
    missing = client.post("/api/accounts/nobody/disable", headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "account-not-found"


def test_a_token_is_shown_once_and_works(client: TestClient, admin: dict[str, str]) -> None:
    _token("etl", ["proxy"], "SIP 代理")
    issued = client.post("/api/accounts/etl/tokens", json={"label": "夜间同步", "days": 30}, headers=admin)
    assert issued.status_code == 201, issued.text
    assert set(issued.json()) == {"token", "expires_at"}
    token = issued.json()["token"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["login"] == "etl"
    assert token not in client.get("/api/accounts", headers=admin).text  # never shown again
    for days in (0, 3661):
        got = client.post("/api/accounts/etl/tokens", json={"days": days}, headers=admin)
        assert got.status_code == 422 and got.json()["code"] == "invalid-days"
    missing = client.post("/api/accounts/nobody/tokens", json={}, headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "account-not-found"


def test_revoking_ends_every_session_and_token(client: TestClient, admin: dict[str, str]) -> None:
    first = _token("etl", ["proxy"])
    second = {
        "Authorization": f"Bearer {client.post('/api/accounts/etl/tokens', json={}, headers=admin).json()['token']}"
    }
    assert _works(client, first) and _works(client, second)
    revoked = client.post("/api/accounts/etl/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 2}
    assert not _works(client, first) and not _works(client, second)
    assert _row(client, admin, "etl")["active"] is True  # the account stays; a new token may be issued
    assert client.post("/api/accounts/etl/tokens", json={}, headers=admin).status_code == 201


def test_an_administrator_sets_a_password_ending_web_sessions_and_lifting_a_lock(
    client: TestClient, admin: dict[str, str], app: Any
) -> None:
    _person()
    session = _signed_in(client)
    api = _token_of("zhangmin")
    for n in range(5):  # four wrong from each of five addresses: locked everywhere
        elsewhere = TestClient(app, client=(f"192.0.2.{n}", 40000))
        for i in range(4):
            elsewhere.post("/api/auth/login", json={"login": "zhangmin", "password": f"Wrong{i}pass"})
    assert _row(client, admin, "zhangmin")["locked_until"] is not None
    locked = client.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["code"] == "account-locked"
    weak = client.post("/api/accounts/zhangmin/password", json={"password": "12345678"}, headers=admin)
    assert weak.status_code == 422 and weak.json()["code"] == "weak-password"
    done = client.post("/api/accounts/zhangmin/password", json={"password": NEW_PASSWORD}, headers=admin)
    assert done.status_code == 200 and done.json()["locked_until"] is None
    assert not _works(client, session)  # the web session ended at once
    assert _works(client, api)  # API tokens stay
    assert _works(client, _signed_in(client, "zhangmin", NEW_PASSWORD))


# -- editing accounts ----------------------------------------------------------------------------------------------
def _monitors(client: TestClient, headers: dict[str, str]) -> int:
    """What the account gets from a dispatcher's resource (the data gathering overview)."""
    return client.get("/api/feeds", headers=headers).status_code


def test_an_agent_promoted_to_dispatcher_gets_the_new_role_at_once_and_keeps_the_login(
    client: TestClient, admin: dict[str, str]
) -> None:
    _person()
    zhangmin = _signed_in(client)
    assert _monitors(client, zhangmin) == 403  # and this process now remembers her as an agent
    promoted = client.patch("/api/accounts/zhangmin", json={"roles": ["agent", "dispatcher"]}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json() == {
        "login": "zhangmin", "name": "张敏", "roles": ["agent", "dispatcher"], "role_labels": ["话务员", "派单员"],
        "bound_to": None, "active": True, "has_password": True, "locked_until": None,
    }  # fmt: skip
    assert _monitors(client, zhangmin) == 200  # the same session, not signed in again
    assert client.get("/api/auth/me", headers=zhangmin).json()["roles"] == ["agent", "dispatcher"]
    # Back to the desk: the remembered dispatcher is forgotten at once too.
    assert client.patch("/api/accounts/zhangmin", json={"roles": ["agent"]}, headers=admin).status_code == 200
    assert _monitors(client, zhangmin) == 403
    assert ("edited", f"角色：话务员 → 话务员、派单员；由 {ADMIN_ACTOR} 操作") in _trail("zhangmin")


def test_an_edit_changes_what_is_given_and_keeps_the_rest(client: TestClient, admin: dict[str, str]) -> None:
    _person()
    renamed = client.patch("/api/accounts/zhangmin", json={"name": "张敏华"}, headers=admin)
    assert renamed.status_code == 200 and renamed.json()["roles"] == ["agent"]
    assert client.get("/api/auth/me", headers=_signed_in(client)).json()["name"] == "张敏华"
    same = client.patch("/api/accounts/zhangmin", json={}, headers=admin)
    assert same.status_code == 200 and same.json()["name"] == "张敏华"
    assert [e for e, _ in _trail("zhangmin")].count("edited") == 1  # an edit changing nothing is not audited


def test_edits_are_refused_with_the_rules_codes(client: TestClient, admin: dict[str, str]) -> None:
    _person()
    tax = client.post(
        "/api/accounts", json={"login": "tax", "name": "税务", "roles": ["feed"], "bound_to": "12366"}, headers=admin
    )
    assert tax.status_code == 201, tax.text
    refused = [
        ("nobody", {"name": "某"}, 404, "account-not-found"),
        ("zhangmin", {"roles": ["boss"]}, 422, "unknown-role"),
        ("zhangmin", {"roles": []}, 422, "role-required"),
        ("zhangmin", {"name": ""}, 422, "name-required"),
        ("zhangmin", {"roles": ["department"]}, 422, "binding-required"),
        ("zhangmin", {"bound_to": "12366"}, 422, "binding-not-allowed"),
        ("zhangmin", {"roles": ["department"], "bound_to": "510100-nowhere"}, 404, "unit-not-found"),
        ("tax", {"bound_to": None}, 422, "binding-required"),  # null removes the binding the feed needs
        ("tax", {"bound_to": "99999"}, 404, "feed-source-not-found"),
        ("admin", {"roles": ["supervisor"]}, 409, "own-admin-role"),
        ("zhangmin", {"roles": "agent"}, 422, "invalid-input"),
    ]
    for login, body, status, code in refused:
        got = client.patch(f"/api/accounts/{login}", json=body, headers=admin)
        assert (got.status_code, got.json()["code"]) == (status, code), (login, body)
    assert _row(client, admin, "tax")["bound_to"] == "12366"  # left out: kept
    assert client.patch("/api/accounts/tax", json={"name": "税务分中心"}, headers=admin).json()["bound_to"] == "12366"
    assert _row(client, admin, "admin")["roles"] == ["admin", "supervisor"] and _works(client, admin)


def test_the_last_administrator_keeps_the_role_and_stays_enabled(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signed in, an administrator is always one more besides any other; with sign-in off nobody is.
    monkeypatch.setenv("HOTLINE_AUTH", "off")
    demoted = client.patch("/api/accounts/admin", json={"roles": ["supervisor"]})
    assert demoted.status_code == 409 and demoted.json()["code"] == "last-admin"
    disabled = client.post("/api/accounts/admin/disable")
    assert disabled.status_code == 409 and disabled.json()["code"] == "last-admin"
    _token("root", ["admin"])
    assert client.patch("/api/accounts/admin", json={"roles": ["supervisor"]}).status_code == 200
    assert client.post("/api/accounts/root/disable").json()["code"] == "last-admin"


def _token_of(login: str) -> dict[str, str]:
    with session_scope() as session:
        return {"Authorization": f"Bearer {service.issue_token(session, login).token}"}


def test_changes_over_http_name_the_administrator(client: TestClient, admin: dict[str, str]) -> None:
    assert client.post("/api/accounts", json={"login": "etl", "name": "数据接入", "roles": ["proxy"]},
                       headers=admin).status_code == 201  # fmt: skip
    for step in ("tokens", "disable", "enable", "revoke"):
        assert client.post(f"/api/accounts/etl/{step}", json={"label": "同步", "days": 7}, headers=admin).is_success
    by = f"由 {ADMIN_ACTOR} 操作"
    assert _trail("etl") == [
        ("created", f"SIP 代理；{by}"),
        ("token-issued", f"同步，7 天；{by}"),
        ("disabled", by),
        ("enabled", by),
        ("tokens-revoked", f"0 个；{by}"),
    ]
    with session_scope() as session:
        addresses = {r["address"] for r in service.audit_log(session, login="etl")}
    assert addresses == {"testclient"}


def test_with_sign_in_off_the_api_records_no_administrator(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "off")  # a gateway in front vouches for the caller
    made = client.post("/api/accounts", json={"login": "etl", "name": "数据接入", "roles": ["proxy"]})
    assert made.status_code == 201, made.text
    assert _trail("etl") == [("created", "SIP 代理")]
    mine = client.post("/api/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD})
    assert mine.status_code == 401 and mine.json()["code"] == "login-required"


# -- one's own password ------------------------------------------------------------------------------------------
def test_changing_ones_own_password_ends_the_other_sessions_only(client: TestClient) -> None:
    _person()
    here, elsewhere = _signed_in(client), _signed_in(client)
    script = _token_of("zhangmin")
    assert _works(client, here) and _works(client, elsewhere)  # both remembered by this process
    same = client.post("/api/auth/password", json={"current": PASSWORD, "new": PASSWORD}, headers=here)
    assert same.status_code == 422 and same.json()["code"] == "same-password"
    weak = client.post("/api/auth/password", json={"current": PASSWORD, "new": "zhangmin99"}, headers=here)
    assert weak.status_code == 422 and weak.json()["code"] == "weak-password"
    done = client.post("/api/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=here)
    assert done.status_code == 204, done.text
    assert _works(client, here)  # the session that made the change stays signed in
    gone = client.get("/api/auth/me", headers=elsewhere)
    assert gone.status_code == 401 and gone.json()["code"] == "login-required"
    assert _works(client, script)  # API tokens are not web sessions
    old = client.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD})
    assert old.status_code == 401 and old.json()["code"] == "bad-credentials"
    assert _works(client, _signed_in(client, "zhangmin", NEW_PASSWORD))
    assert ("password-changed", "本人修改") in _trail("zhangmin")


def test_a_wrong_current_password_is_refused_audited_and_counts_toward_the_lockout(
    client: TestClient, app: Any
) -> None:
    _person()
    here = _signed_in(client)
    codes = []
    for i in range(5):
        got = client.post("/api/auth/password", json={"current": f"Wrong{i}pass", "new": NEW_PASSWORD}, headers=here)
        codes.append((got.status_code, got.json()["code"]))
    assert codes == [(401, "bad-credentials")] * 4 + [(429, "account-locked")]
    # Locked like five wrong sign-ins from this address: the right password is refused too, for changing and for
    # signing in, here; from another address the account still signs in.
    right = client.post("/api/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=here)
    assert right.status_code == 429 and right.json()["code"] == "account-locked"
    signing_in = client.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD})
    assert signing_in.status_code == 429 and signing_in.json()["code"] == "account-locked"
    elsewhere = TestClient(app, client=("192.0.2.9", 40000))
    assert elsewhere.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD}).status_code == 200
    assert _works(client, here)  # the session is not ended by the lock; the password stays the old one
    trail = _trail("zhangmin")
    assert trail.count(("sign-in-failed", "修改密码：密码错误")) == 5
    assert ("locked-at-address", "15 分钟内从此地址密码错误 5 次") in trail
    assert ("sign-in-failed", "修改密码：账号在此地址锁定中") in trail
    assert all(event != "password-changed" for event, _ in trail)


def test_a_wrong_current_password_message_names_the_current_password(client: TestClient) -> None:
    _person()
    got = client.post(
        "/api/auth/password", json={"current": "Wrong1pass", "new": NEW_PASSWORD}, headers=_signed_in(client)
    )
    assert got.status_code == 401 and got.json() == {"code": "bad-credentials", "message": "当前密码不正确"}


def test_systems_have_no_password_to_change(client: TestClient) -> None:
    proxy = _token("sip", ["proxy"])
    got = client.post("/api/auth/password", json={"current": "x", "new": NEW_PASSWORD}, headers=proxy)
    assert got.status_code == 403 and got.json()["code"] == "role-not-granted"
