"""The pure rules of accounts: roles, login names and passwords, the lockout, and what a signed-in account may act as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.accounts.domain import (
    Acting,
    Grant,
    Identity,
    acting,
    check_account,
    check_not_locked,
    check_password,
    check_source,
    locked_until,
    parse_grants,
)
from hotline.errors import Forbidden, InvalidInput, TooManyAttempts

T0 = datetime(2021, 11, 1, 2, 0, tzinfo=UTC)
ZJJ, RSJ = "510100-zjj", "510100-rsj"

AGENT = Identity("zhangmin", "张敏", (Grant.AGENT,))
DESK = Identity("lihua", "李华", (Grant.DISPATCHER, Grant.AGENT))
OFFICE = Identity("chengban", "经办人", (Grant.DEPARTMENT,), bound_to=ZJJ)
FEED = Identity("tax", "税务系统", (Grant.FEED,), bound_to="12366")
ADMIN = Identity("admin", "管理员", (Grant.ADMIN, Grant.SUPERVISOR))


# -- roles ---------------------------------------------------------------------------------------------------------
def test_grants_are_parsed_in_order_without_duplicates() -> None:
    assert parse_grants(["supervisor", " admin ", "supervisor"]) == (Grant.SUPERVISOR, Grant.ADMIN)


def test_an_unknown_role_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_grants(["agent", "root"])
    assert caught.value.code == "unknown-role" and caught.value.details["role"] == "root"
    assert "root" in caught.value.message and "agent" in caught.value.message  # names the choices


def test_an_account_needs_a_role() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_grants([])
    assert caught.value.code == "role-required"


# -- accounts ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("login", ["zhangmin", "li.hua_2", "ab", "0ops", "a" * 32, "x-1"])
def test_good_login_names(login: str) -> None:
    check_account(login, "某人", (Grant.AGENT,), None)


@pytest.mark.parametrize("login", ["a", "a" * 33, "ZhangMin", "-abc", ".abc", "zhang min", "张敏", "", "ab/c"])
def test_bad_login_names(login: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_account(login, "某人", (Grant.AGENT,), None)
    assert caught.value.code == "invalid-login"


def test_an_account_needs_a_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_account("zhangmin", "  ", (Grant.AGENT,), None)
    assert caught.value.code == "name-required"


@pytest.mark.parametrize("grant", [Grant.DEPARTMENT, Grant.FEED])
def test_a_bound_role_needs_its_binding(grant: Grant) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_account("bound", "某单位", (grant,), None)
    assert caught.value.code == "binding-required"
    check_account("bound", "某单位", (grant,), "510100")


@pytest.mark.parametrize("grants", [(Grant.AGENT,), (Grant.ADMIN, Grant.SUPERVISOR), (Grant.PROXY,)])
def test_only_a_bound_role_may_have_a_binding(grants: tuple[Grant, ...]) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_account("someone", "某人", grants, ZJJ)
    assert caught.value.code == "binding-not-allowed"


def test_department_and_feed_do_not_share_an_account() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_account("both", "某单位", (Grant.DEPARTMENT, Grant.FEED), ZJJ)
    assert caught.value.code == "grants-conflict"


def test_a_bound_role_may_sit_beside_unbound_ones() -> None:
    check_account("office", "经办人", (Grant.DEPARTMENT, Grant.AGENT), ZJJ)


# -- passwords -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("abc1234", "至少 8 位"),
        ("", "至少 8 位"),
        ("abcdefghij", "字母和数字"),
        ("1234567890", "字母和数字"),
        ("zhangmin2021", "登录名"),
        ("2021ZHANGMIN", "登录名"),  # letter case does not hide the login name
    ],
)
def test_weak_passwords_are_refused(password: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password(password, "zhangmin")
    assert caught.value.code == "weak-password" and fragment in caught.value.message


@pytest.mark.parametrize("password", ["abcd1234", "Hotline12345", "correct horse 9"])
def test_good_passwords(password: str) -> None:
    check_password(password, "zhangmin")


# -- lockout -------------------------------------------------------------------------------------------------------
def test_four_failures_do_not_lock() -> None:
    assert locked_until(4, T0) is None
    check_not_locked(4, T0, T0)


def test_five_failures_lock_for_a_quarter_of_an_hour() -> None:
    assert locked_until(5, T0) == T0 + timedelta(minutes=15)
    for at in (T0, T0 + timedelta(minutes=14, seconds=59)):
        with pytest.raises(TooManyAttempts) as caught:
            check_not_locked(5, T0, at)
        assert caught.value.code == "account-locked" and caught.value.http_status == 429
    check_not_locked(5, T0, T0 + timedelta(minutes=15))
    check_not_locked(7, T0, T0 + timedelta(hours=1))


def test_the_lock_message_says_how_long_to_wait() -> None:
    with pytest.raises(TooManyAttempts) as caught:
        check_not_locked(5, T0, T0)
    assert "15 分钟" in caught.value.message
    with pytest.raises(TooManyAttempts) as caught:
        check_not_locked(5, T0, T0 + timedelta(minutes=14, seconds=30))
    assert "1 分钟" in caught.value.message


def test_no_failure_time_no_lock() -> None:
    assert locked_until(9, None) is None
    check_not_locked(9, None, T0)


# -- acting --------------------------------------------------------------------------------------------------------
def test_without_sign_in_the_request_is_taken_at_its_word() -> None:
    assert acting(None, "supervisor", ZJJ, "王五", default="agent") == Acting("supervisor", ZJJ, "王五")
    assert acting(None, None, "", "", default="agent") == Acting("agent", None, "")
    assert acting(None, "", None, "赵六", default="dispatcher") == Acting("dispatcher", None, "赵六")


def test_signed_in_the_default_role_is_the_first_staff_role() -> None:
    assert acting(DESK, None, None, "", default="agent") == Acting("dispatcher", None, "李华（lihua）")
    assert acting(DESK, "", None, "", default="agent").role == "dispatcher"
    mixed = Identity("ops", "运维", (Grant.PROXY, Grant.SUPERVISOR))
    assert acting(mixed, None, None, "", default="agent").role == "supervisor"  # proxy is no staff role


def test_an_account_without_a_staff_role_cannot_act() -> None:
    with pytest.raises(Forbidden) as caught:
        acting(FEED, None, None, "", default="agent")
    assert caught.value.code == "role-not-granted"


def test_signed_in_the_role_must_be_held() -> None:
    assert acting(DESK, "agent", None, "", default="dispatcher").role == "agent"
    with pytest.raises(Forbidden) as caught:
        acting(AGENT, "supervisor", None, "", default="agent")
    assert caught.value.code == "role-not-granted" and caught.value.http_status == 403
    with pytest.raises(Forbidden):
        acting(AGENT, "citizen", None, "", default="agent")


def test_signed_in_the_actor_is_the_account_not_the_typed_name() -> None:
    assert AGENT.actor == "张敏（zhangmin）"
    assert acting(AGENT, "agent", None, "冒名顶替", default="agent").actor == "张敏（zhangmin）"


def test_a_handling_unit_acts_for_its_own_unit_only() -> None:
    assert acting(OFFICE, None, None, "", default="agent") == Acting("department", ZJJ, "经办人（chengban）")
    assert acting(OFFICE, "department", ZJJ, "", default="agent").unit == ZJJ
    assert acting(OFFICE, "department", "", "", default="agent").unit == ZJJ
    with pytest.raises(Forbidden) as caught:
        acting(OFFICE, "department", RSJ, "", default="agent")
    assert caught.value.code == "unit-not-granted"


def test_a_unit_named_by_an_unbound_role_is_kept() -> None:
    # A dispatcher or supervisor may look at one unit's orders; only a department is tied to its own.
    assert acting(DESK, "dispatcher", RSJ, "", default="agent").unit == RSJ


# -- sources -------------------------------------------------------------------------------------------------------
def test_a_feed_delivers_for_its_own_source() -> None:
    check_source(FEED, "12366")
    check_source(None, "12360")  # sign-in off
    check_source(ADMIN, "12360")  # an administrator may deliver for any source


@pytest.mark.parametrize("who", [FEED, AGENT, OFFICE])
def test_others_may_not_deliver_for_a_source(who: Identity) -> None:
    with pytest.raises(Forbidden) as caught:
        check_source(who, "12360")
    assert caught.value.code == "source-not-granted" and caught.value.http_status == 403
