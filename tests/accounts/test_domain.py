"""The pure rules of accounts: roles, login names and passwords, the lockout, and what a signed-in account may act as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.accounts.domain import (
    ACCOUNT_MAX_FAILURES,
    ADDRESS_MAX_LOGINS,
    EVENT_LABELS,
    GRANT_LABELS,
    LOCK_FOR,
    MAX_FAILURES,
    Acting,
    Attempt,
    Grant,
    Identity,
    Lock,
    Outcome,
    Profile,
    Scope,
    account_lock,
    acting,
    check_account,
    check_admin_removal,
    check_disabling,
    check_password,
    check_source,
    in_held_order,
    locks,
    outcome_of,
    parse_grants,
    profile_changes,
    refusing,
)
from hotline.errors import Conflict, Forbidden, InvalidInput, TooManyAttempts

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


def test_a_name_fits_what_the_history_keeps() -> None:
    check_account("zhangmin", "张" * 64, (Grant.AGENT,), None)
    with pytest.raises(InvalidInput) as caught:
        check_account("zhangmin", "张" * 65, (Grant.AGENT,), None)
    assert caught.value.code == "name-too-long"


# -- editing an account ------------------------------------------------------------------------------------------
def test_an_edit_is_described_before_and_after_in_chinese() -> None:
    before = Profile("张敏", (Grant.AGENT,), None)
    assert profile_changes(before, before) == []
    assert profile_changes(before, Profile("张敏", (Grant.AGENT, Grant.DISPATCHER), None)) == [
        "角色：话务员 → 话务员、派单员"
    ]
    assert profile_changes(before, Profile("张敏华", (Grant.DEPARTMENT,), ZJJ)) == [
        "姓名：张敏 → 张敏华",
        "角色：话务员 → 承办单位",
        f"绑定：无 → {ZJJ}",
    ]
    office = Profile("经办人", (Grant.DEPARTMENT,), ZJJ)
    assert profile_changes(office, Profile("经办人", (Grant.DEPARTMENT,), RSJ)) == [f"绑定：{ZJJ} → {RSJ}"]
    # The order is the default role a request acts in: reordering is a change.
    assert profile_changes(Profile("管理员", (Grant.ADMIN, Grant.SUPERVISOR), None),
                           Profile("管理员", (Grant.SUPERVISOR, Grant.ADMIN), None)) == [
        "角色：管理员、督办审核员 → 督办审核员、管理员"
    ]  # fmt: skip


def test_roles_ticked_in_a_form_keep_the_order_the_account_holds_them() -> None:
    # The form lists roles in its own order (督办审核员 before 管理员); ticking one more must not make the
    # administrator act as a supervisor by default.
    assert in_held_order(["admin", "supervisor"], ["dispatcher", "supervisor", "admin"]) == [
        "admin", "supervisor", "dispatcher",
    ]  # fmt: skip
    assert in_held_order(["agent"], []) == []


def test_an_administrator_cannot_take_their_own_admin_role_away() -> None:
    with pytest.raises(Conflict) as caught:
        check_admin_removal("admin", me="admin", active=True, other_admins=3)
    assert caught.value.code == "own-admin-role" and caught.value.http_status == 409
    check_admin_removal("admin", me="root", active=True, other_admins=1)
    check_admin_removal("admin", me=None, active=True, other_admins=1)  # the command line


def test_the_last_enabled_administrator_keeps_the_role_and_stays_enabled() -> None:
    with pytest.raises(Conflict) as removed:
        check_admin_removal("admin", me=None, active=True, other_admins=0)
    with pytest.raises(Conflict) as disabled:
        check_disabling("admin", me=None, admin=True, other_admins=0)
    assert removed.value.code == disabled.value.code == "last-admin"
    check_admin_removal("old-admin", me=None, active=False, other_admins=0)  # a disabled one manages nothing
    check_disabling("zhangmin", me="admin", admin=False, other_admins=0)
    with pytest.raises(Conflict) as own:
        check_disabling("admin", me="admin", admin=True, other_admins=2)
    assert own.value.code == "own-account"


def test_an_open311_app_is_a_role_of_its_own() -> None:
    assert parse_grants(["open311"]) == (Grant.OPEN311,) and GRANT_LABELS[Grant.OPEN311] == "服务请求应用"
    check_account("tianfu", "天府通办", (Grant.OPEN311,), None)  # a system: no binding, no staff role


def test_an_open311_apps_token_does_not_act_as_staff() -> None:
    with pytest.raises(Forbidden) as caught:
        acting(Identity("tianfu", "天府通办", (Grant.OPEN311,)), None, None, "", default="agent")
    assert caught.value.code == "role-not-granted"


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


@pytest.mark.parametrize("grants", [(Grant.AGENT,), (Grant.ADMIN, Grant.SUPERVISOR), (Grant.PROXY,), (Grant.OPEN311,)])
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
A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
SEC = timedelta(seconds=1)
MIN = timedelta(minutes=1)


def _wrong(
    n: int, *, login: str = "zhangmin", address: str | None = A, start: datetime = T0, every: timedelta = SEC
) -> list[Attempt]:
    return [Attempt(start + i * every, login, address, Outcome.WRONG) for i in range(n)]  # fmt: skip


def _scopes(attempts: list[Attempt], at: datetime, login: str = "zhangmin", address: str | None = A) -> set[Scope]:
    return {lock.scope for lock in locks(attempts, login, address, at)}


def _refused(
    attempts: list[Attempt], at: datetime, login: str = "zhangmin", address: str | None = A
) -> TooManyAttempts:
    lock = refusing(locks(attempts, login, address, at))
    assert lock is not None
    return lock.error(at)


def test_four_wrong_passwords_from_one_address_do_not_lock() -> None:
    assert locks(_wrong(4), "zhangmin", A, T0 + 4 * SEC) == []


def test_five_wrong_passwords_lock_the_account_from_that_address_for_a_quarter_of_an_hour() -> None:
    attempts = _wrong(5)
    fifth = T0 + 4 * SEC
    [lock] = locks(attempts, "zhangmin", A, fifth)
    assert lock == Lock(Scope.HERE, fifth + timedelta(minutes=15), 5, 1)
    assert lock.event == "locked-at-address" and lock.detail == "15 分钟内从此地址密码错误 5 次"
    assert lock.refusal == "账号在此地址锁定中"
    for at in (fifth, fifth + timedelta(minutes=14, seconds=59)):
        error = _refused(attempts, at)
        assert error.code == "account-locked" and error.http_status == 429
    assert locks(attempts, "zhangmin", A, fifth + timedelta(minutes=15)) == []


def test_a_lock_from_one_address_leaves_other_addresses_and_names_alone() -> None:
    attempts = _wrong(5)
    at = T0 + MIN
    assert _scopes(attempts, at) == {Scope.HERE}
    assert locks(attempts, "zhangmin", B, at) == []  # the real user at their own desk
    assert locks(attempts, "zhangmin", None, at) == []  # not over HTTP is an address of its own
    assert locks(attempts, "lihua", A, at) == []  # another account from the same address


def test_attempts_without_an_address_count_as_one_address() -> None:
    assert _scopes(_wrong(5, address=None), T0 + MIN, address=None) == {Scope.HERE}
    assert locks(_wrong(5, address=None), "zhangmin", A, T0 + MIN) == []


def test_the_lock_message_says_how_long_to_wait() -> None:
    attempts = _wrong(5)
    fifth = T0 + 4 * SEC
    assert _refused(attempts, fifth).message == "密码错误次数过多，此账号在本地址已锁定，请 15 分钟后再试"
    assert "请 1 分钟后再试" in _refused(attempts, fifth + timedelta(minutes=14, seconds=30)).message
    assert "请 2 分钟后再试" in _refused(attempts, fifth + timedelta(minutes=13)).message


@pytest.mark.parametrize(
    ("every", "locked"),
    [
        (timedelta(minutes=3), True),  # five within 12 minutes
        (timedelta(minutes=3, seconds=44), True),  # 14 min 56 s from the first to the fifth
        (timedelta(minutes=3, seconds=45), False),  # exactly 15 minutes: the first has left the count
        (timedelta(minutes=20), False),  # far apart
    ],
)
def test_wrong_passwords_count_within_a_quarter_of_an_hour(every: timedelta, locked: bool) -> None:
    attempts = _wrong(5, every=every)
    assert _scopes(attempts, attempts[-1].at) == ({Scope.HERE} if locked else set())


def test_a_slow_guess_is_locked_once_five_fall_within_the_window() -> None:
    # Every 4 minutes: never five within 15 minutes, so never locked, however long it goes on.
    attempts = _wrong(30, every=timedelta(minutes=4))
    assert all(_scopes(attempts[: i + 1], a.at) == set() for i, a in enumerate(attempts))
    # Every 3 minutes: the fifth locks.
    quicker = _wrong(5, every=timedelta(minutes=3))
    assert [bool(locks(quicker[: i + 1], "zhangmin", A, a.at)) for i, a in enumerate(quicker)] == [False] * 4 + [True]


def test_an_expired_lock_is_not_renewed_by_one_more_typo() -> None:
    fifth = T0 + 4 * SEC
    after = fifth + timedelta(minutes=15)
    attempts = _wrong(5) + _wrong(1, start=after)
    assert locks(attempts, "zhangmin", A, after) == []
    assert _scopes(attempts + _wrong(3, start=after + SEC), after + MIN) == set()  # 4 of 5 in the new count
    assert _scopes(attempts + _wrong(4, start=after + SEC), after + MIN) == {Scope.HERE}


def test_signing_in_from_an_address_starts_its_count_afresh() -> None:
    signed_in = Attempt(T0 + 10 * SEC, "zhangmin", A, Outcome.SIGNED_IN)
    attempts = [*_wrong(4), signed_in, *_wrong(4, start=T0 + MIN)]
    assert locks(attempts, "zhangmin", A, T0 + 2 * MIN) == []
    assert _scopes([*attempts, *_wrong(1, start=T0 + 2 * MIN)], T0 + 2 * MIN) == {Scope.HERE}


def test_signing_in_elsewhere_neither_clears_nor_lifts_a_lock_here() -> None:
    elsewhere = Attempt(T0 + MIN, "zhangmin", B, Outcome.SIGNED_IN)
    assert _scopes([*_wrong(5), elsewhere], T0 + 2 * MIN) == {Scope.HERE}
    assert _scopes([*_wrong(4), elsewhere, *_wrong(1, start=T0 + 2 * MIN)], T0 + 2 * MIN) == {Scope.HERE}


def test_a_new_password_lifts_the_accounts_locks_in_the_order_recorded() -> None:
    # Recorded after the wrong attempts, whatever its time says (an administrator's clock, tests' times).
    new_password = Attempt(T0 - timedelta(days=1), "zhangmin", None, Outcome.PASSWORD_SET)
    spread = [
        a for i, address in enumerate((A, B, C, "10.0.0.4")) for a in _wrong(5, address=address, start=T0 + i * MIN)
    ]
    assert _scopes(spread, T0 + 5 * MIN) == {Scope.HERE, Scope.ACCOUNT}
    assert locks([*spread, new_password], "zhangmin", A, T0 + 5 * MIN) == []
    other = Attempt(T0 + 5 * MIN, "lihua", A, Outcome.PASSWORD_SET)  # another account's new password
    assert _scopes([*spread, other], T0 + 5 * MIN) == {Scope.HERE, Scope.ACCOUNT}


def test_twenty_wrong_passwords_from_many_addresses_lock_the_account_everywhere() -> None:
    addresses = [f"10.0.1.{i}" for i in range(5)]
    attempts = [a for i, address in enumerate(addresses) for a in _wrong(4, address=address, start=T0 + i * MIN)]
    last = attempts[-1].at
    assert len(attempts) == 20  # four from each: no address alone reaches five
    for address in (B, None, *addresses):
        [lock] = locks(attempts, "zhangmin", address, last)
        assert lock.scope is Scope.ACCOUNT and lock.until == last + timedelta(minutes=15)
    assert lock.event == "locked" and lock.detail == "15 分钟内密码错误 20 次，来自 5 个地址"
    assert lock.refusal == "账号锁定中"
    error = lock.error(last)
    assert (
        error.code == "account-locked"
        and error.message == "此账号密码错误次数过多，已锁定，请 15 分钟后再试或联系管理员"
    )
    assert account_lock(attempts, "zhangmin", last) == lock
    assert locks(attempts, "lihua", B, last) == []
    assert locks(attempts, "zhangmin", B, last + timedelta(minutes=15)) == []
    assert not any(locks(attempts[:-1], "zhangmin", x, last) for x in (B, *addresses))  # nineteen


def test_signing_in_does_not_reset_the_count_across_addresses() -> None:
    attempts = [a for i in range(19) for a in _wrong(1, address=f"10.0.1.{i}", start=T0 + i * SEC)]
    attempts.append(Attempt(T0 + MIN, "zhangmin", B, Outcome.SIGNED_IN))  # the real user, at their desk
    attempts += _wrong(1, address=C, start=T0 + 2 * MIN)
    assert _scopes(attempts, T0 + 2 * MIN, address=B) == {Scope.ACCOUNT}


def test_one_address_trying_many_login_names_is_refused_for_every_name() -> None:
    names = [f"user{i:02d}" for i in range(ADDRESS_MAX_LOGINS)]
    attempts = [a for i, name in enumerate(names) for a in _wrong(1, login=name, start=T0 + i * SEC)]
    last = attempts[-1].at
    for login in ("zhangmin", *names):
        [lock] = locks(attempts, login, A, last)
        assert lock.scope is Scope.ADDRESS and lock.until == last + timedelta(minutes=15)
    assert lock.event == "address-blocked" and lock.detail == f"15 分钟内此地址 {ADDRESS_MAX_LOGINS} 个登录名登录失败"
    error = lock.error(last)
    assert error.code == "address-locked" and error.http_status == 429 and "本地址" in error.message
    assert locks(attempts, "zhangmin", B, last) == []  # other addresses may sign in
    assert locks(attempts[:-1], "zhangmin", A, last) == []  # one name fewer
    assert locks(attempts, "zhangmin", A, last + timedelta(minutes=15)) == []
    assert account_lock(attempts, "zhangmin", last) is None
    # Neither a success nor a new password there lifts it: it is about the address, not an account.
    cleared = [
        *attempts,
        Attempt(last, "user00", A, Outcome.SIGNED_IN),
        Attempt(last, "user01", A, Outcome.PASSWORD_SET),
    ]
    assert _scopes(cleared, last + MIN, login="user00") == {Scope.ADDRESS}


def test_many_wrong_passwords_for_a_few_names_from_one_address_are_not_many_names() -> None:
    attempts = [a for i, name in enumerate(("a1", "b2", "c3", "d4")) for a in _wrong(4, login=name, start=T0 + i * MIN)]
    assert not any(locks(attempts, name, A, T0 + 5 * MIN) for name in ("a1", "b2", "c3", "d4", "e5"))


def test_attempts_recorded_for_a_later_time_do_not_count_yet() -> None:
    assert locks(_wrong(5, start=T0 + MIN), "zhangmin", A, T0) == []


def test_the_longest_lock_is_the_one_to_wait_for() -> None:
    here = Lock(Scope.HERE, T0 + 10 * MIN, 5, 1)
    everywhere = Lock(Scope.ACCOUNT, T0 + 12 * MIN, 20, 4)
    assert refusing([here, everywhere]) == everywhere and refusing([everywhere, here]) == everywhere
    assert refusing([]) is None


@pytest.mark.parametrize(
    ("event", "detail", "outcome"),
    [
        ("sign-in-failed", "密码错误", Outcome.WRONG),
        ("sign-in-failed", "修改密码：密码错误", Outcome.WRONG),  # a wrong current password counts alike
        ("sign-in-failed", "无此账号或账号不用密码登录", Outcome.WRONG),  # so does an unknown login name
        ("sign-in-failed", "账号已停用", None),  # the right password of a disabled account
        ("sign-in-failed", "账号锁定中", None),  # refused by a lock: no password was checked
        ("sign-in-failed", "修改密码：账号在此地址锁定中", None),
        ("sign-in-failed", "地址暂停登录中", None),
        ("signed-in", "", Outcome.SIGNED_IN),
        ("password-changed", "本人修改", Outcome.PASSWORD_SET),
        ("password-changed", "由 系统管理员（admin） 操作", Outcome.PASSWORD_SET),
        ("locked", "15 分钟内密码错误 20 次，来自 5 个地址", None),
        ("disabled", "", None),
    ],
)
def test_what_the_audit_trail_means_to_the_lockout(event: str, detail: str, outcome: Outcome | None) -> None:
    assert outcome_of(event, detail) is outcome


def test_every_lock_event_has_a_label() -> None:
    for scope in Scope:
        assert Lock(scope, T0, 1, 1).event in EVENT_LABELS


_LOGINS = st.sampled_from(["zhangmin", "lihua", "nobody"])
_ADDRESSES = st.sampled_from([A, B, None])
_ATTEMPTS = st.lists(
    st.builds(
        Attempt,
        at=st.integers(0, 3600).map(lambda s: T0 + s * SEC),
        login=_LOGINS,
        address=_ADDRESSES,
        outcome=st.sampled_from(list(Outcome)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(attempts=_ATTEMPTS, login=_LOGINS, address=_ADDRESSES, seconds=st.integers(0, 4000))
def test_lock_properties(attempts: list[Attempt], login: str, address: str | None, seconds: int) -> None:
    at = T0 + seconds * SEC
    found = locks(attempts, login, address, at)
    for lock in found:
        assert at < lock.until <= at + LOCK_FOR  # a lock lasts a quarter of an hour at most
    scopes = {lock.scope for lock in found}
    counted = [a for a in attempts if a.outcome is Outcome.WRONG and at - 2 * LOCK_FOR < a.at <= at]
    if Scope.HERE in scopes:
        assert sum(a.login == login and a.address == address for a in counted) >= MAX_FAILURES
    if Scope.ACCOUNT in scopes:
        assert sum(a.login == login for a in counted) >= ACCOUNT_MAX_FAILURES
    # Another name from another address does not bear on this name from this address.
    unrelated = Attempt(at, "stranger", "192.0.2.99", Outcome.WRONG)
    assert locks([*attempts, unrelated], login, address, at) == found
    # Only the name's own attempts and the address's matter (what the service reads from the audit trail).
    assert locks([a for a in attempts if a.login == login or a.address == address], login, address, at) == found


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
    assert "没有“督办审核员”角色" in caught.value.message  # the role as people call it
    with pytest.raises(Forbidden) as caught:
        acting(AGENT, "citizen", None, "", default="agent")
    assert "没有“citizen”角色" in caught.value.message  # no such role: told as typed


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
