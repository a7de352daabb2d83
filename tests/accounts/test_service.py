"""Accounts in the database (SQLite and PostgreSQL): creating them, signing in, the lockout, sessions and API
tokens, and the demo accounts."""

from __future__ import annotations

import stat
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.accounts import service
from hotline.accounts.domain import ADDRESS_MAX_LOGINS, Grant, LoginRequired
from hotline.accounts.store import Account, Token
from hotline.db import session_scope
from hotline.errors import Conflict, HotlineError, InvalidInput, NotFound, TooManyAttempts
from hotline.workorders import service as workorders

T0 = datetime(2021, 11, 1, 2, 0, tzinfo=UTC)
PASSWORD = "Hotline2021"
A, B = "10.0.0.1", "10.0.0.2"
ZJJ = "510100-zjj"


def _add(login: str = "zhangmin", roles: tuple[str, ...] = ("agent",), password: str | None = PASSWORD) -> None:
    with session_scope() as session:
        service.create_account(session, login, "张敏", list(roles), password=password, at=T0)


def _sign_in(password: str, at: datetime, login: str = "zhangmin", address: str | None = None) -> service.SignedIn:
    with session_scope() as session:
        return service.sign_in(session, login, password, address=address, at=at)


def _refused_sign_in(password: str, at: datetime, login: str = "zhangmin", address: str | None = None) -> HotlineError:
    with pytest.raises(HotlineError) as caught:
        _sign_in(password, at, login, address)
    return caught.value


def _trail(login: str) -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        return [(r["event"], r["detail"], r["address"]) for r in reversed(service.audit_log(session, login=login))]


def _identify(token: str, at: datetime | None = None) -> str:
    with session_scope() as session:
        return service.identify(session, token, at=at).login


def _refused(token: str, at: datetime | None = None) -> str:
    with pytest.raises(LoginRequired) as caught:
        _identify(token, at)
    return caught.value.code


def _stored(login: str = "zhangmin") -> Account:
    with session_scope() as session:
        account = service.get_account(session, login)
        session.expunge(account)
        return account


# -- creating accounts ---------------------------------------------------------------------------------------------
def test_a_login_name_is_taken_once(db_url: str) -> None:
    _add(password=None)
    with pytest.raises(Conflict) as caught:
        _add(roles=("supervisor",), password=None)
    assert caught.value.code == "account-exists" and caught.value.http_status == 409
    assert _stored().grants == ["agent"]


def test_the_password_is_kept_as_a_salted_scrypt_hash(db_url: str) -> None:
    _add()
    _add("lihua")
    first, second = _stored().password_hash, _stored("lihua").password_hash
    assert first is not None and second is not None
    assert first.startswith("scrypt$") and PASSWORD not in first
    assert first != second  # same password, different salt
    assert service.verify_password(PASSWORD, first) and not service.verify_password("Hotline2022", first)


def test_a_weak_password_creates_no_account(db_url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _add(password="zhangmin1")
    assert caught.value.code == "weak-password"
    with pytest.raises(NotFound):
        _stored()


def test_a_department_account_names_an_existing_unit(db_url: str) -> None:
    with session_scope() as session, pytest.raises(NotFound) as caught:
        service.create_account(session, "chengban", "经办人", ["department"], bound_to=ZJJ)
    assert caught.value.code == "unit-not-found"
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
    with session_scope() as session:
        service.create_account(session, "chengban", "经办人", ["department"], bound_to=ZJJ)
    assert _stored("chengban").bound_to == ZJJ


def test_a_feed_account_names_an_existing_source(db_url: str) -> None:
    with session_scope() as session, pytest.raises(NotFound) as caught:
        service.create_account(session, "nowhere", "无此系统", ["feed"], bound_to="99999")
    assert caught.value.code == "feed-source-not-found"
    with session_scope() as session:
        service.create_account(session, "tax", "税务分中心系统", ["feed"], bound_to="12366")
    account = _stored("tax")
    assert account.bound_to == "12366" and account.password_hash is None


def test_accounts_are_listed_without_secrets(db_url: str) -> None:
    _add()
    with session_scope() as session:
        service.create_account(session, "admin", "管理员", ["admin", "supervisor"])
        rows = service.list_accounts(session)
    assert [r["login"] for r in rows] == ["admin", "zhangmin"]
    assert rows[0]["role_labels"] == ["管理员", "督办审核员"] and rows[0]["has_password"] is False
    assert rows[1]["has_password"] is True and rows[1]["locked_until"] is None
    assert not any("scrypt" in str(v) for row in rows for v in row.values())


# -- signing in ----------------------------------------------------------------------------------------------------
def test_the_right_password_signs_in_for_one_shift(db_url: str) -> None:
    _add()
    signed = _sign_in(PASSWORD, T0, login=" ZhangMin ")  # typed with a capital and spaces
    assert signed.identity.login == "zhangmin" and signed.identity.grants == (Grant.AGENT,)
    assert signed.expires_at == T0 + timedelta(hours=12)
    assert _identify(signed.token, T0 + timedelta(hours=11, minutes=59)) == "zhangmin"
    assert _refused(signed.token, T0 + timedelta(hours=12)) == "session-expired"


def test_a_wrong_password_and_an_unknown_login_answer_alike(db_url: str) -> None:
    _add()
    answers = []
    for login, password in (("zhangmin", "Hotline2022"), ("nobody", PASSWORD)):
        with pytest.raises(service.BadCredentials) as caught:
            _sign_in(password, T0, login=login)
        answers.append((caught.value.code, caught.value.message, caught.value.http_status))
    assert answers[0] == answers[1] == ("bad-credentials", "登录名或密码不正确", 401)


def test_an_account_without_a_password_cannot_sign_in(db_url: str) -> None:
    _add(password=None)
    with pytest.raises(service.BadCredentials):
        _sign_in("", T0)


def test_five_wrong_passwords_lock_the_account_from_that_address_for_fifteen_minutes(db_url: str) -> None:
    _add()
    # Each attempt in its own unit of work, which rolls back when sign_in raises: the count must survive.
    codes = [_refused_sign_in(f"Wrong{i}pass", T0 + timedelta(seconds=i), address=A).code for i in range(5)]
    assert codes == ["bad-credentials"] * 4 + ["account-locked"]
    last = T0 + timedelta(seconds=4)
    refused = _refused_sign_in(PASSWORD, last + timedelta(minutes=14, seconds=59), address=A)  # even the right one
    assert isinstance(refused, TooManyAttempts) and refused.code == "account-locked" and refused.http_status == 429
    assert refused.message == "密码错误次数过多，此账号在本地址已锁定，请 1 分钟后再试"
    # The real user at their own desk is not affected, and their signing in lifts nothing at A.
    assert _sign_in(PASSWORD, last + timedelta(minutes=1), address=B).identity.login == "zhangmin"
    assert _refused_sign_in(PASSWORD, last + timedelta(minutes=2), address=A).code == "account-locked"
    with session_scope() as session:
        assert service.list_accounts(session, at=last + timedelta(minutes=2))[0]["locked_until"] is None  # only here
    assert _sign_in(PASSWORD, last + timedelta(minutes=15), address=A).identity.login == "zhangmin"
    trail = _trail("zhangmin")
    assert ("locked-at-address", "15 分钟内从此地址密码错误 5 次", A) in trail
    assert trail.count(("sign-in-failed", "账号在此地址锁定中", A)) == 2  # refusals are audited, and not counted


def test_a_right_password_clears_earlier_failures_from_its_address(db_url: str) -> None:
    _add()
    for i in range(4):
        _refused_sign_in("Wrong1pass", T0 + timedelta(seconds=i))
    _sign_in(PASSWORD, T0 + timedelta(seconds=5))
    codes = [_refused_sign_in("Wrong1pass", T0 + timedelta(seconds=6 + i)).code for i in range(5)]
    assert codes == ["bad-credentials"] * 4 + ["account-locked"]  # a new count of five


def test_twenty_wrong_passwords_from_many_addresses_lock_the_account_everywhere(db_url: str) -> None:
    _add()
    codes = [
        _refused_sign_in(f"Wrong{i}pass", T0 + timedelta(seconds=5 * n + i), address=f"10.0.1.{n}").code
        for n in range(5)
        for i in range(4)
    ]
    assert codes == ["bad-credentials"] * 19 + ["account-locked"]
    last = T0 + timedelta(seconds=23)
    for address in (A, B, None):
        refused = _refused_sign_in(PASSWORD, last + timedelta(minutes=14), address=address)
        assert refused.code == "account-locked" and "联系管理员" in refused.message
    with session_scope() as session:
        [row] = service.list_accounts(session, at=last + timedelta(minutes=14))
        assert row["locked_until"] == (last + timedelta(minutes=15)).isoformat()
    assert ("locked", "15 分钟内密码错误 20 次，来自 5 个地址", "10.0.1.4") in _trail("zhangmin")
    assert _sign_in(PASSWORD, last + timedelta(minutes=15), address=A).identity.login == "zhangmin"


def test_unknown_login_names_are_locked_out_alike(db_url: str) -> None:
    _add()
    answers = {}
    for login in ("zhangmin", "nobody"):
        refused = [_refused_sign_in(f"Wrong{i}pass", T0 + timedelta(seconds=i), login, A) for i in range(6)]
        answers[login] = [(e.code, e.message, e.http_status) for e in refused]
    assert answers["zhangmin"] == answers["nobody"]
    assert [code for code, _, _ in answers["nobody"]] == ["bad-credentials"] * 4 + ["account-locked"] * 2
    assert ("locked-at-address", "15 分钟内从此地址密码错误 5 次", A) in _trail("nobody")


def test_an_unknown_login_name_takes_as_long_as_a_wrong_password(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _add()
    checked: list[str] = []
    real = service.verify_password

    def counting(password: str, stored: str) -> bool:
        checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(service, "verify_password", counting)
    for login in ("zhangmin", "nobody"):
        for i in range(6):
            _refused_sign_in(f"Wrong{i}pass", T0 + timedelta(seconds=i), login, A)
    # One scrypt check per attempt for either name, none once locked (refused before any is checked).
    assert checked == [f"Wrong{i}pass" for i in range(5)] * 2


def test_one_address_trying_many_login_names_is_refused_for_every_name(db_url: str) -> None:
    _add()
    n = ADDRESS_MAX_LOGINS
    codes = [_refused_sign_in(PASSWORD, T0 + timedelta(seconds=i), f"guess{i:02d}", A).code for i in range(n)]
    assert codes == ["bad-credentials"] * (n - 1) + ["address-locked"]
    assert _refused_sign_in(PASSWORD, T0 + timedelta(minutes=1), address=A).code == "address-locked"
    assert _sign_in(PASSWORD, T0 + timedelta(minutes=1), address=B).identity.login == "zhangmin"
    assert ("address-blocked", f"15 分钟内此地址 {n} 个登录名登录失败", A) in _trail(f"guess{n - 1:02d}")
    assert _sign_in(PASSWORD, T0 + timedelta(seconds=n - 1, minutes=15), address=A).identity.login == "zhangmin"


def test_a_wrong_current_password_counts_toward_the_lockout_like_a_sign_in(db_url: str) -> None:
    _add()
    for i in range(3):
        _refused_sign_in("Wrong1pass", T0 + timedelta(seconds=i), address=A)
    for i in range(2):
        with session_scope() as session, pytest.raises(HotlineError) as caught:
            service.change_password(
                session, "zhangmin", "Wrong2pass", "Renewed2021", address=A, at=T0 + timedelta(minutes=1, seconds=i)
            )
    assert caught.value.code == "account-locked"  # the fifth of both together
    assert _refused_sign_in(PASSWORD, T0 + timedelta(minutes=2), address=A).code == "account-locked"
    with session_scope() as session:
        service.change_password(session, "zhangmin", PASSWORD, "Renewed2021", address=B, at=T0 + timedelta(minutes=2))
    # A new password starts every count of the account afresh, here too.
    assert _sign_in("Renewed2021", T0 + timedelta(minutes=3), address=A).identity.login == "zhangmin"


# -- passwords, disabling, tokens ----------------------------------------------------------------------------------
def test_a_new_password_ends_web_sessions_keeps_api_tokens_and_lifts_the_lock(db_url: str) -> None:
    _add()
    session_token = _sign_in(PASSWORD, T0).token
    with session_scope() as session:
        api_token = service.issue_token(session, "zhangmin", label="报表脚本", at=T0).token
    for i in range(5):
        with pytest.raises(HotlineError):
            _sign_in("Wrong1pass", T0 + timedelta(minutes=1, seconds=i))
    with session_scope() as session:
        service.set_password(session, "zhangmin", "Renewed2021")
    at = T0 + timedelta(minutes=2)
    assert _refused(session_token, at) == "login-required"
    assert _identify(api_token, at) == "zhangmin"
    with pytest.raises(service.BadCredentials):
        _sign_in(PASSWORD, at)  # the old password no longer works
    assert _sign_in("Renewed2021", at + timedelta(seconds=1)).identity.login == "zhangmin"  # not locked


def test_a_new_password_obeys_the_rules(db_url: str) -> None:
    _add()
    with session_scope() as session, pytest.raises(InvalidInput):
        service.set_password(session, "zhangmin", "short1")
    with session_scope() as session, pytest.raises(NotFound) as caught:
        service.set_password(session, "nobody", "Renewed2021")
    assert caught.value.code == "account-not-found"


def test_disabling_ends_everything_and_refuses_sign_in(db_url: str) -> None:
    _add()
    session_token = _sign_in(PASSWORD, T0).token
    with session_scope() as session:
        api_token = service.issue_token(session, "zhangmin", at=T0).token
        service.set_active(session, "zhangmin", False)
    at = T0 + timedelta(minutes=1)
    assert _refused(session_token, at) == "login-required"
    assert _refused(api_token, at) == "login-required"
    with pytest.raises(service.BadCredentials) as caught:
        _sign_in(PASSWORD, at)
    assert caught.value.code == "account-disabled"
    with session_scope() as session, pytest.raises(Conflict) as refused:
        service.issue_token(session, "zhangmin", at=at)
    assert refused.value.code == "account-disabled"
    with session_scope() as session:
        service.set_active(session, "zhangmin", True)
    assert _refused(api_token, at) == "login-required"  # enabling again does not bring old tokens back
    assert _sign_in(PASSWORD, at).identity.login == "zhangmin"


def test_a_disabled_account_still_counts_wrong_passwords(db_url: str) -> None:
    # Whether an account is disabled is told only to someone who knows its password.
    _add()
    with session_scope() as session:
        service.set_active(session, "zhangmin", False)
    codes = [_refused_sign_in("Wrong1pass", T0 + timedelta(seconds=i)).code for i in range(5)]
    assert codes == ["bad-credentials"] * 4 + ["account-locked"]


def test_identify_refuses_unknown_revoked_and_expired_tokens(db_url: str) -> None:
    _add()
    assert _refused("not-a-token") == "login-required"
    signed = _sign_in(PASSWORD, T0)
    with session_scope() as session:
        assert service.sign_out(session, signed.token) is True
        assert service.sign_out(session, signed.token) is False  # once
    assert _refused(signed.token, T0) == "login-required"
    other = _sign_in(PASSWORD, T0)
    assert _refused(other.token, T0 + timedelta(hours=13)) == "session-expired"


def test_tokens_are_kept_only_as_digests(db_url: str) -> None:
    _add(password=None)
    with session_scope() as session:
        token = service.issue_token(session, "zhangmin", at=T0).token
    with session_scope() as session:
        stored = session.scalars(select(Token)).one()
        assert stored.digest != token and token not in stored.digest and stored.kind == "api"


def test_an_api_token_lasts_the_days_it_was_issued_for(db_url: str) -> None:
    _add(password=None)
    with session_scope() as session:
        short = service.issue_token(session, "zhangmin", days=30, at=T0)
        default = service.issue_token(session, "zhangmin", at=T0)
    assert short.expires_at == T0 + timedelta(days=30) and default.expires_at == T0 + timedelta(days=90)
    assert _identify(short.token, T0 + timedelta(days=29, hours=23)) == "zhangmin"
    assert _refused(short.token, T0 + timedelta(days=30)) == "session-expired"
    assert _identify(default.token, T0 + timedelta(days=30)) == "zhangmin"
    with session_scope() as session:
        service.revoke_tokens(session, "zhangmin")
    assert _refused(default.token, T0 + timedelta(days=1)) == "login-required"


def test_the_signer_of_a_message_is_found_by_the_digest_of_its_token_never_the_token(db_url: str) -> None:
    """`identify_signer`: the message queue's sign-in, where a source signs with its token's SHA-256 and sends no
    token. Here a "signature" is simply the digest it was made with; the HMAC is the stream's (tests/aggregation)."""
    with session_scope() as session:
        for login, roles, bound in (("tax", ["feed"], "12366"), ("tax-old", ["feed"], "12366"),
                                    ("customs", ["feed"], "12360"), ("admin", ["admin"], None),
                                    ("zhangmin", ["agent"], None)):  # fmt: skip
            service.create_account(session, login, login, roles, bound_to=bound, password=PASSWORD, at=T0)
        token = {login: service.issue_token(session, login, at=T0).token for login in ("tax", "customs", "admin")}
        token["late"] = service.issue_token(session, "tax", days=1, at=T0).token
        token["revoked"] = service.issue_token(session, "tax-old", at=T0).token
        token["disabled"] = service.issue_token(session, "zhangmin", at=T0).token
        service.revoke_tokens(session, "tax-old")
        service.set_active(session, "zhangmin", False)
    token["session"] = _sign_in(PASSWORD, T0, login="admin").token  # a person's web session: never a signing key

    def signer(key: str, at: datetime = T0 + timedelta(hours=1)) -> tuple[str, list[str]]:
        tried: list[str] = []

        def signed_with(digest: str) -> bool:
            tried.append(digest)
            return digest == service.token_digest(key)

        with session_scope() as session:
            try:
                return service.identify_signer(session, "12366", signed_with, at=at).login, tried
            except LoginRequired as refused:
                return refused.code, tried

    found, tried = signer(token["tax"])
    assert found == "tax" and service.token_digest(token["customs"]) not in tried  # other sources' keys: not tried
    assert signer(token["admin"])[0] == "admin"  # an administrator may deliver for any source, as over HTTP
    # Another source's token is found, so the caller refuses it as that (`check_source`: source-not-granted).
    found, tried = signer(token["customs"])
    assert found == "customs" and tried[-1] == service.token_digest(token["customs"])
    assert signer(token["late"])[0] == "tax" and signer(token["late"], T0 + timedelta(days=1))[0] == "session-expired"
    for refused in ("revoked", "disabled", "session"):
        found, tried = signer(token[refused])
        assert found == "login-required" and service.token_digest(token[refused]) not in tried, refused
    assert signer("not-a-token")[0] == "login-required"
    with session_scope() as session:  # its last use is recorded, as when a token is shown over HTTP
        used = {digest: at for digest, at in session.execute(select(Token.digest, Token.last_used_at))}
    assert used[service.token_digest(token["tax"])] == T0 + timedelta(hours=1)
    assert used[service.token_digest(token["revoked"])] is None


@pytest.mark.parametrize("days", [0, -1, 3661])
def test_an_api_token_has_a_sensible_validity(db_url: str, days: int) -> None:
    _add(password=None)
    with session_scope() as session, pytest.raises(InvalidInput) as caught:
        service.issue_token(session, "zhangmin", days=days, at=T0)
    assert caught.value.code == "invalid-days"


# -- editing accounts ----------------------------------------------------------------------------------------------
RSJ = "510100-rsj"


def _units() -> None:
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        workorders.add_unit(
            session, RSJ, "成都市人力资源和社会保障局", "department", region_code="510100", parent="510100"
        )


def _edit(login: str = "zhangmin", **changes: object) -> service.Edited:
    with session_scope() as session:
        edited = service.update_account(session, login, **changes)  # type: ignore[arg-type]
        session.flush()
        session.expunge(edited.account)
        return edited


def _refused_edit(login: str = "zhangmin", **changes: object) -> HotlineError:
    with pytest.raises(HotlineError) as caught:
        _edit(login, **changes)
    return caught.value


def test_an_agent_promoted_to_dispatcher_keeps_the_login_password_and_sessions(db_url: str) -> None:
    _add()
    signed = _sign_in(PASSWORD, T0)
    with session_scope() as session:
        script = service.issue_token(session, "zhangmin", at=T0).token
    edited = _edit(grants=["agent", "dispatcher"], by="系统管理员（admin）", address=A)
    assert edited.changes == ("角色：话务员 → 话务员、派单员",)
    assert edited.account.grants == ["agent", "dispatcher"] and edited.account.name == "张敏"
    # The session signed in before holds the new roles from its next request: no copy of them was kept.
    with session_scope() as session:
        identity = service.identify(session, signed.token, at=T0 + timedelta(minutes=1))
    assert identity.grants == (Grant.AGENT, Grant.DISPATCHER) and identity.actor == "张敏（zhangmin）"
    assert _identify(script, T0 + timedelta(minutes=1)) == "zhangmin"
    assert _sign_in(PASSWORD, T0 + timedelta(minutes=2)).identity.grants == (Grant.AGENT, Grant.DISPATCHER)
    assert [e for e in _trail("zhangmin") if e[0] == "edited"] == [
        ("edited", "角色：话务员 → 话务员、派单员；由 系统管理员（admin） 操作", A)
    ]


def test_fewer_roles_hold_from_the_next_request_of_an_existing_session(db_url: str) -> None:
    _add(roles=("dispatcher", "supervisor"))
    signed = _sign_in(PASSWORD, T0)
    _edit(grants=["dispatcher"], name="张敏（调岗）")
    with session_scope() as session:
        identity = service.identify(session, signed.token, at=T0 + timedelta(minutes=1))
    assert identity.grants == (Grant.DISPATCHER,) and identity.actor == "张敏（调岗）（zhangmin）"


def test_a_rename_and_a_new_unit_are_audited_before_and_after(db_url: str) -> None:
    _units()
    with session_scope() as session:
        service.create_account(session, "chengban", "经办人", ["department"], bound_to=ZJJ)
    edited = _edit("chengban", name=" 王经办 ", bound_to=RSJ)
    assert edited.changes == ("姓名：经办人 → 王经办", f"绑定：{ZJJ} → {RSJ}")
    assert (edited.account.name, edited.account.bound_to) == ("王经办", RSJ)
    assert _trail("chengban")[-1] == ("edited", f"姓名：经办人 → 王经办；绑定：{ZJJ} → {RSJ}", None)
    # Nothing given, nothing changed: no audit entry.
    assert _edit("chengban", name="王经办").changes == ()
    assert [event for event, _, _ in _trail("chengban")] == ["created", "edited"]


def test_edits_follow_the_rules_of_creation_and_change_nothing_when_refused(db_url: str) -> None:
    _units()
    _add()
    refused = {
        "unknown-role": {"grants": ["boss"]},
        "role-required": {"grants": []},
        "name-required": {"name": "  "},
        "name-too-long": {"name": "张" * 65},
        "binding-required": {"grants": ["department"]},
        "binding-not-allowed": {"bound_to": ZJJ},
        "grants-conflict": {"grants": ["department", "feed"], "bound_to": ZJJ},
        "unit-not-found": {"grants": ["department"], "bound_to": "510100-nowhere"},
        "feed-source-not-found": {"grants": ["feed"], "bound_to": "99999"},
    }
    for code, changes in refused.items():
        assert _refused_edit(**changes).code == code, code
    assert _refused_edit("nobody", name="某").code == "account-not-found"
    account = _stored()
    assert (account.name, account.grants, account.bound_to) == ("张敏", ["agent"], None)
    assert [event for event, _, _ in _trail("zhangmin")] == ["created"]


def test_a_binding_goes_with_its_role_unless_given(db_url: str) -> None:
    _units()
    with session_scope() as session:
        service.create_account(session, "chengban", "经办人", ["department"], bound_to=ZJJ, password=PASSWORD)
    # A unit's clerk joins the centre as a dispatcher: the unit binding goes with the department role.
    edited = _edit("chengban", grants=["dispatcher"])
    assert edited.changes == ("角色：承办单位 → 派单员", f"绑定：{ZJJ} → 无")
    assert _stored("chengban").bound_to is None
    # Kept while the bound role stays; a unit code is not a source code.
    _edit("chengban", grants=["department"], bound_to=ZJJ)
    assert _edit("chengban", grants=["department", "agent"]).account.bound_to == ZJJ
    assert _refused_edit("chengban", grants=["feed"]).code == "feed-source-not-found"
    assert _edit("chengban", grants=["feed"], bound_to="12366").account.bound_to == "12366"
    assert _refused_edit("chengban", bound_to=None).code == "binding-required"


def test_the_password_stays_whatever_the_roles(db_url: str) -> None:
    # Roles and the way an account signs in are independent, as at creation: a person's account keeps its password,
    # a system's stays token-only (an administrator gives it a password with `passwd` if ever needed).
    _add()
    _add("sip", roles=("proxy",), password=None)
    _edit(grants=["agent", "proxy"])
    _edit("sip", grants=["agent"], name="话务员脚本")
    assert _stored().password_hash is not None and _stored("sip").password_hash is None
    assert _sign_in(PASSWORD, T0).identity.grants == (Grant.AGENT, Grant.PROXY)


def test_the_last_enabled_administrator_keeps_the_admin_role(db_url: str) -> None:
    _add("admin", roles=("admin", "supervisor"), password=None)
    _add("old-admin", roles=("admin",), password=None)
    with session_scope() as session:
        service.set_active(session, "old-admin", False)  # another administrator, but disabled
    refused = _refused_edit("admin", grants=["supervisor"])
    assert (refused.code, refused.http_status) == ("last-admin", 409)
    with session_scope() as session, pytest.raises(Conflict) as disabling:
        service.set_active(session, "admin", False)
    assert disabling.value.code == "last-admin"
    assert _stored("admin").grants == ["admin", "supervisor"] and _stored("admin").active
    # A disabled administrator's role may go: it manages nothing.
    assert _edit("old-admin", grants=["supervisor"]).changes == ("角色：管理员 → 督办审核员",)
    # With a second enabled administrator, either may lose the role, but not by their own hand.
    _add("root", roles=("admin",), password=None)
    assert _refused_edit("admin", grants=["supervisor"], me="admin").code == "own-admin-role"
    assert _edit("admin", grants=["supervisor"], me="root").account.grants == ["supervisor"]
    assert _refused_edit("root", grants=["agent"]).code == "last-admin"
    with session_scope() as session, pytest.raises(Conflict) as own:
        service.set_active(session, "root", False, me="root")
    assert own.value.code == "own-account"
    with session_scope() as session, pytest.raises(Conflict) as last:
        service.set_active(session, "root", False)
    assert last.value.code == "last-admin"


# -- demo ----------------------------------------------------------------------------------------------------------
def _password_in(text: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith("密码："))
    return line.removeprefix("密码：")


def test_demo_accounts_share_a_password_kept_in_a_private_file(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    with session_scope() as session:
        workorders.load_units(session)
    with session_scope() as session:
        said = service.load_demo(session)
    path = tmp_path / "demo-accounts.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    password = _password_in(text)
    assert password in said
    for login in ("admin", "zhangmin", "lihua", "wangfang", "chengban"):
        assert login in text
    assert _sign_in(password, T0, login="admin").identity.grants == (Grant.ADMIN, Grant.SUPERVISOR)
    assert _stored("chengban").bound_to is not None  # bound to a unit that exists
    key = _app_key_in(text)  # the demo Open311 app's api_key: shown once and kept beside the password
    assert key in said
    with session_scope() as session:
        app = service.identify(session, key)
    assert (app.login, app.grants) == ("tianfu", (Grant.OPEN311,)) and _stored("tianfu").password_hash is None
    with session_scope() as session:
        again = service.load_demo(session)
        assert len(service.list_accounts(session)) == 6
    assert "已存在" in again and str(path) in again and password not in again and key not in again
    assert path.read_text(encoding="utf-8") == text  # the password on file still signs in, the key still works


def test_the_demo_handling_unit_account_works_for_the_unit_with_the_most_demo_orders(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    with session_scope() as session:
        workorders.load_demo(session)
    with session_scope() as session:
        service.load_demo(session)
    with session_scope() as session:
        led = Counter(o["lead_unit"]["code"] for o in workorders.list_orders(session, limit=1000) if o["lead_unit"])
        mine = workorders.list_orders(session, workorders.OrderFilters(unit=_stored("chengban").bound_to),
                                      role="department", limit=1000)  # fmt: skip
    assert led and led[_stored("chengban").bound_to] == max(led.values())
    assert len(mine) == max(led.values()) > 1  # signed in as it, the demo has work to show


def _file_left_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """The demo's file as an earlier run (or someone) left it, readable by others."""
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    path = tmp_path / "demo-accounts.txt"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def _app_key_in(text: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith("Open311 演示应用"))
    return line.split("api_key：")[1]


def test_an_earlier_demo_gets_the_open311_app_added_to_its_file(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file_left_before(tmp_path, monkeypatch, "演示账号（密码相同）\n密码：abc12345\n")
    _add("admin", ("admin",))  # the people of a demo loaded before Open311 apps were accounts
    with session_scope() as session:
        said = service.load_demo(session)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("演示账号（密码相同）\n密码：abc12345\n") and _app_key_in(text) in said
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _identify(_app_key_in(text)) == "tianfu"


def test_demo_password_file_is_private_even_if_it_was_there_before(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file_left_before(tmp_path, monkeypatch, "旧文件\n")
    with session_scope() as session:
        service.load_demo(session)  # no units: no handling unit's account
        logins = [a["login"] for a in service.list_accounts(session)]
        assert logins == ["admin", "lihua", "tianfu", "wangfang", "zhangmin"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _sign_in(_password_in(path.read_text(encoding="utf-8")), T0, login="wangfang").identity.login == "wangfang"


def test_an_expired_lock_is_not_renewed_by_one_more_typo(db_url: str) -> None:
    _add()
    for i in range(5):
        with pytest.raises(HotlineError):
            _sign_in(f"Wrong{i}pass", T0 + timedelta(seconds=i))
    after = T0 + timedelta(seconds=4, minutes=15)
    with pytest.raises(HotlineError) as caught:
        _sign_in("Wrong5pass", after)
    assert caught.value.code == "bad-credentials"  # counted afresh: 1 of 5, not a sixth failure
    codes = [_refused_sign_in("Wrong6pass", after + timedelta(seconds=1 + i)).code for i in range(4)]
    assert codes == ["bad-credentials"] * 3 + ["account-locked"]


def test_failures_far_apart_do_not_add_up_to_a_lock(db_url: str) -> None:
    _add()
    for i in range(6):
        with pytest.raises(HotlineError) as caught:
            _sign_in(f"Wrong{i}pass", T0 + i * timedelta(minutes=20))
        assert caught.value.code == "bad-credentials"
