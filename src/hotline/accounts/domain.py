"""Who may do what: staff accounts, their roles, the rules for passwords and sign-in, and which role may use
each of the platform's HTTP resources.

Pure: no web framework, no database. The HTTP guard (`accounts.guard`) and the service apply these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.errors import Conflict, Forbidden, HotlineError, InvalidInput, TooManyAttempts


class Grant(StrEnum):
    """A role an account holds. The first five are people's; the others are other systems'."""

    AGENT = "agent"
    DISPATCHER = "dispatcher"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    FEED = "feed"  # a sub-centre's or city's system delivering its data (bound to its source code)
    PROXY = "proxy"  # the SIP proxy asking where a call goes
    # An app submitting citizens' service requests through Open311 (天府通办, a WeChat mini-program): its token is
    # the standard's `api_key`, and its login names the requests it submitted (`open311:<login>:…` on the order).
    OPEN311 = "open311"
    SMS_GATEWAY = "sms_gateway"  # the SMS gateway delivering citizens' replies (短信回访)


GRANT_LABELS = {
    Grant.AGENT: "话务员",
    Grant.DISPATCHER: "派单员",
    Grant.DEPARTMENT: "承办单位",
    Grant.SUPERVISOR: "督办审核员",
    Grant.ADMIN: "管理员",
    Grant.FEED: "数据接入系统",
    Grant.PROXY: "SIP 代理",
    Grant.OPEN311: "服务请求应用",
    Grant.SMS_GATEWAY: "短信网关",
}
STAFF = frozenset({Grant.AGENT, Grant.DISPATCHER, Grant.DEPARTMENT, Grant.SUPERVISOR, Grant.ADMIN})
# Roles bound to one code: a handling unit's staff act for their unit, a feed system for its source.
BOUND = frozenset({Grant.DEPARTMENT, Grant.FEED})

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_ACTOR_LOGIN = re.compile(r"（([^（）]+)）$")


def actor_login(actor: str) -> str | None:
    """The login in an actor as `Account.actor` writes it (`张敏（zhangmin）`: the name may change, the login does
    not); None for an actor written otherwise (a name typed in with sign-in off, `system`)."""
    found = _ACTOR_LOGIN.search(actor.strip())
    return found[1] if found is not None and LOGIN_PATTERN.match(found[1]) else None


MAX_NAME = 64  # what `acc_accounts.name` holds
MIN_PASSWORD = 8
SESSION_FOR = timedelta(hours=12)  # one shift; signing in again after a long shift is expected
TOKEN_DAYS = 90


EVENT_LABELS = {
    "created": "新建账号",
    "signed-in": "登录",
    "sign-in-failed": "登录失败",
    "locked": "账号锁定",
    "locked-at-address": "账号在该地址锁定",
    "address-blocked": "地址暂停登录",
    "signed-out": "退出登录",
    "password-changed": "修改密码",
    "disabled": "停用账号",
    "enabled": "启用账号",
    "token-issued": "签发接口令牌",
    "tokens-revoked": "注销会话和令牌",
    "edited": "修改账号",
    "exported": "导出数据",
}


class LoginRequired(HotlineError):
    code = "login-required"
    http_status = 401


@dataclass(frozen=True)
class Identity:
    """The signed-in account as a request sees it."""

    login: str
    name: str
    grants: tuple[Grant, ...]
    bound_to: str | None = None  # unit code (department) or source code (feed)

    @property
    def actor(self) -> str:
        """How the account appears in a work order's history: a name people know plus the login that is unique
        (`actor_login` reads it back)."""
        return f"{self.name}（{self.login}）"

    def holds(self, grant: Grant) -> bool:
        return grant in self.grants


@dataclass(frozen=True)
class Acting:
    """The role, unit and name a request acts with after the account's grants have been checked."""

    role: str
    unit: str | None
    actor: str


def parse_grants(names: Iterable[str]) -> tuple[Grant, ...]:
    grants: list[Grant] = []
    for name in names:
        try:
            grant = Grant(name.strip())
        except ValueError:
            known = "、".join(g.value for g in Grant)
            raise InvalidInput(f"未知角色 {name!r}，可选：{known}", code="unknown-role", role=name) from None
        if grant not in grants:
            grants.append(grant)
    if not grants:
        raise InvalidInput("账号至少需要一个角色", code="role-required")
    return tuple(grants)


def check_account(login: str, name: str, grants: Sequence[Grant], bound_to: str | None) -> None:
    if not LOGIN_PATTERN.match(login):
        raise InvalidInput(
            "登录名须为 2–32 位小写字母、数字、点、下划线或连字符，以字母或数字开头", code="invalid-login", login=login
        )
    if not name.strip():
        raise InvalidInput("请填写姓名或系统名称", code="name-required")
    if len(name.strip()) > MAX_NAME:
        raise InvalidInput(f"姓名或系统名称至多 {MAX_NAME} 个字", code="name-too-long")
    bound = [g for g in grants if g in BOUND]
    if len(bound) > 1:
        raise InvalidInput("承办单位角色与数据接入角色不能在同一账号上", code="grants-conflict")
    if bound and not bound_to:
        what = "承办单位代码" if bound[0] is Grant.DEPARTMENT else "数据来源代码"
        raise InvalidInput(f"{GRANT_LABELS[bound[0]]}账号须指定{what}", code="binding-required")
    if bound_to and not bound:
        raise InvalidInput("只有承办单位或数据接入账号可以绑定单位或来源", code="binding-not-allowed")


def labels(grants: Iterable[Grant]) -> str:
    return "、".join(GRANT_LABELS[g] for g in grants)


@dataclass(frozen=True)
class Profile:
    """What an administrator may change of an account: the name the work-order history shows, the roles (their
    order matters: the first staff role is the one a request acts in by default) and the binding."""

    name: str
    grants: tuple[Grant, ...]
    bound_to: str | None

    @property
    def bound_role(self) -> Grant | None:
        return next((g for g in self.grants if g in BOUND), None)


def in_held_order(held: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """Roles ticked in a form (a set, in the form's order) put in the order the account holds them, new ones
    after: ticking one more must not change the role the account acts in by default."""
    return [g for g in held if g in chosen] + [g for g in chosen if g not in held]


def profile_changes(before: Profile, after: Profile) -> list[str]:
    """What an edit changed, as the audit trail and the command line say it: `角色：话务员 → 话务员、派单员`."""
    found = []
    if after.name != before.name:
        found.append(f"姓名：{before.name} → {after.name}")
    if after.grants != before.grants:
        found.append(f"角色：{labels(before.grants)} → {labels(after.grants)}")
    if after.bound_to != before.bound_to:
        found.append(f"绑定：{before.bound_to or '无'} → {after.bound_to or '无'}")
    return found


# The platform must keep an enabled administrator: only one can manage accounts over the web, and a centre whose
# last one was disabled or demoted by a click would need the command line on the server to recover.
def check_disabling(login: str, *, me: str | None, admin: bool, other_admins: int) -> None:
    """LOGIN is about to be disabled by ME (the signed-in administrator; None from the command line). `admin`:
    whether it is an enabled administrator's account; `other_admins`: the enabled administrators besides it."""
    if me == login:
        raise Conflict("不能停用自己正在使用的账号", code="own-account", login=login)
    if admin and other_admins == 0:
        raise Conflict(f"账号 {login} 是唯一启用的管理员账号，不能停用", code="last-admin", login=login)


def check_admin_removal(login: str, *, me: str | None, active: bool, other_admins: int) -> None:
    """LOGIN is about to lose the admin role, by ME's edit. Like disabling one's own account, taking one's own admin
    role away cannot be undone by oneself."""
    if me == login:
        raise Conflict("不能取消自己正在使用的账号的管理员角色", code="own-admin-role", login=login)
    if active and other_admins == 0:
        raise Conflict(
            f"账号 {login} 是唯一启用的管理员账号，不能取消其管理员角色（请先为另一账号授予管理员角色）",
            code="last-admin",
            login=login,
        )


def check_password(password: str, login: str) -> None:
    """At least 8 characters with letters and digits, and not the login name (等保 requires complexity)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位", code="weak-password")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise InvalidInput("密码须同时包含字母和数字", code="weak-password")
    if login and login.lower() in password.lower():
        raise InvalidInput("密码不能包含登录名", code="weak-password")


# -- lockout ---------------------------------------------------------------------------------------------------------
# Wrong passwords are counted per account AND client address (OWASP's advice against lockout as a denial of
# service): a stranger who knows a login name locks it out of their own machine only. Two brakes stay for attacks
# from many machines or on many names: one per account across all addresses, one per address across all names.
class Outcome(StrEnum):
    """What a recorded sign-in attempt means to the lockout."""

    WRONG = "wrong"  # a wrong password, or a login name without a password: counted alike, so names cannot be probed
    SIGNED_IN = "signed-in"  # the right password: its account's count from its address starts afresh
    PASSWORD_SET = "password-set"  # a new password: every count of its account starts afresh (its locks are lifted)


@dataclass(frozen=True)
class Attempt:
    at: datetime
    login: str  # as typed (trimmed and lowercased), whether or not such an account exists
    address: str | None  # the client's; attempts with none (not over HTTP) count as one address
    outcome: Outcome


class Scope(StrEnum):
    """What a lock refuses."""

    HERE = "here"  # the account, from the address the wrong passwords came from
    ACCOUNT = "account"  # the account, from every address
    ADDRESS = "address"  # every login name, from the address


MAX_FAILURES = 5  # wrong passwords for an account from one address within LOCK_FOR: that address is refused for it
ACCOUNT_MAX_FAILURES = 20  # from all addresses together: the account is refused everywhere (a distributed guess)
# Login names with a wrong attempt from one address within LOCK_FOR: the address is refused. Well above a shift
# of agents mistyping behind one NAT or a proxy that hides their addresses (20 within a quarter of an hour is
# plausible there), low enough that spraying passwords over the names of a centre takes hours.
ADDRESS_MAX_LOGINS = 50
# Both the period wrong attempts are counted over and how long a lock lasts. Being equal, when a lock ends the
# attempts that set it off have left the count, so an expired lock is not renewed by one more typo.
LOCK_FOR = timedelta(minutes=15)
_MINUTES = int(LOCK_FOR.total_seconds()) // 60

# The reasons a refused sign-in is audited with (`sign-in-failed`); the first two are what the lockout counts.
WRONG_PASSWORD = "密码错误"
NO_PASSWORD_ACCOUNT = "无此账号或账号不用密码登录"


def outcome_of(event: str, detail: str) -> Outcome | None:
    """How an entry of the audit trail counts toward the lockout, if at all. A refusal because of a lock, or a
    disabled account's right password, is no wrong password. Details may start with a purpose (`修改密码：`)."""
    if event == "sign-in-failed":
        return Outcome.WRONG if detail.endswith((WRONG_PASSWORD, NO_PASSWORD_ACCOUNT)) else None
    if event == "signed-in":
        return Outcome.SIGNED_IN
    if event == "password-changed":
        return Outcome.PASSWORD_SET
    return None


_LOCK_EVENTS = {Scope.HERE: "locked-at-address", Scope.ACCOUNT: "locked", Scope.ADDRESS: "address-blocked"}
_REFUSALS = {Scope.HERE: "账号在此地址锁定中", Scope.ACCOUNT: "账号锁定中", Scope.ADDRESS: "地址暂停登录中"}


@dataclass(frozen=True)
class Lock:
    scope: Scope
    until: datetime
    count: int  # the wrong attempts (HERE, ACCOUNT) or login names (ADDRESS) within LOCK_FOR that set it off
    addresses: int  # how many addresses those attempts came from

    @property
    def event(self) -> str:
        """The audit trail's name for the lock starting."""
        return _LOCK_EVENTS[self.scope]

    @property
    def detail(self) -> str:
        if self.scope is Scope.HERE:
            return f"{_MINUTES} 分钟内从此地址密码错误 {self.count} 次"
        if self.scope is Scope.ACCOUNT:
            return f"{_MINUTES} 分钟内密码错误 {self.count} 次，来自 {self.addresses} 个地址"
        return f"{_MINUTES} 分钟内此地址 {self.count} 个登录名登录失败"

    @property
    def refusal(self) -> str:
        """The reason an attempt refused by the lock is audited with (not a wrong password: it was not checked)."""
        return _REFUSALS[self.scope]

    def error(self, at: datetime) -> TooManyAttempts:
        wait = f"请 {max(1, int((self.until - at).total_seconds() + 59) // 60)} 分钟后再试"
        if self.scope is Scope.HERE:
            return TooManyAttempts(f"密码错误次数过多，此账号在本地址已锁定，{wait}", code="account-locked")
        if self.scope is Scope.ACCOUNT:
            return TooManyAttempts(f"此账号密码错误次数过多，已锁定，{wait}或联系管理员", code="account-locked")
        return TooManyAttempts(f"本地址登录失败次数过多，已暂停登录，{wait}", code="address-locked")


def locks(attempts: Sequence[Attempt], login: str, address: str | None, at: datetime) -> list[Lock]:
    """The locks refusing `login` from `address` at `at`, given the attempts recorded before (in the order they
    were recorded, which decides what a success or a new password clears). Attempts of other names from other
    addresses, and those after `at`, do not matter.

    A lock starts at the wrong attempt that makes the count within LOCK_FOR reach its limit and lasts LOCK_FOR.
    """
    here: list[Attempt] = []
    account: list[Attempt] = []
    address_wide: list[Attempt] = []
    for attempt in attempts:
        own, same_address = attempt.login == login, attempt.address == address
        if attempt.outcome is Outcome.WRONG:
            if attempt.at > at:
                continue
            if own:
                account.append(attempt)
                if same_address:
                    here.append(attempt)
            if same_address:
                address_wide.append(attempt)
        elif own and attempt.outcome is Outcome.PASSWORD_SET:
            here, account = [], []
        elif own and same_address and attempt.outcome is Outcome.SIGNED_IN:
            # Signed in from here. The account's count across addresses stands: the real user signing in must
            # not give a guess spread over many addresses more tries.
            here = []
    found = [
        _lock(Scope.HERE, here, at, MAX_FAILURES, distinct=False),
        _lock(Scope.ACCOUNT, account, at, ACCOUNT_MAX_FAILURES, distinct=False),
        _lock(Scope.ADDRESS, address_wide, at, ADDRESS_MAX_LOGINS, distinct=True),
    ]
    return [lock for lock in found if lock is not None]


def _lock(scope: Scope, wrong: list[Attempt], at: datetime, limit: int, *, distinct: bool) -> Lock | None:
    """The lock the latest wrong attempt within LOCK_FOR before `at` that reached `limit` started, if any."""
    wrong = sorted(wrong, key=lambda a: a.at)
    for end in range(len(wrong) - 1, -1, -1):
        last = wrong[end].at
        if last + LOCK_FOR <= at:
            return None
        within = [a for a in wrong[: end + 1] if a.at > last - LOCK_FOR]
        count = len({a.login for a in within}) if distinct else len(within)
        if count >= limit:
            return Lock(scope, last + LOCK_FOR, count, len({a.address for a in within}))
    return None


def account_lock(attempts: Sequence[Attempt], login: str, at: datetime) -> Lock | None:
    """The lock refusing `login` from every address at `at`, if any: what the list of accounts shows."""
    return next((lock for lock in locks(attempts, login, None, at) if lock.scope is Scope.ACCOUNT), None)


def refusing(found: Sequence[Lock]) -> Lock | None:
    """The lock to answer with when several hold: the one lasting longest, which is how long the caller must wait."""
    return max(found, key=lambda lock: lock.until, default=None)


def acting(identity: Identity | None, role: str | None, unit: str | None, actor: str, default: str) -> Acting:
    """The role a request acts in.

    Without sign-in (HOTLINE_AUTH=off, for a deployment whose gateway vouches for the caller) the request's own
    words are taken. Signed in, the role must be one the account holds (by default its first staff role), a
    handling unit acts only for its own unit, and the history records the account, not a typed name.
    """
    if identity is None:
        return Acting(role or default, unit or None, actor)
    if role is None or role == "":
        staff = [g for g in identity.grants if g in STAFF]
        if not staff:
            raise Forbidden("该账号没有工作人员角色", code="role-not-granted")
        chosen = staff[0]
    else:
        held = next((g for g in identity.grants if g.value == role), None)
        if held is None:
            label = next((GRANT_LABELS[g] for g in Grant if g.value == role), role)
            raise Forbidden(f"账号 {identity.login} 没有“{label}”角色", code="role-not-granted", role=role)
        chosen = held
    if chosen is Grant.DEPARTMENT:
        if unit and unit != identity.bound_to:
            raise Forbidden(f"账号 {identity.login} 只能代表本单位操作", code="unit-not-granted", unit=unit)
        unit = identity.bound_to
    return Acting(chosen.value, unit or None, identity.actor)


def check_source(identity: Identity | None, source: str) -> None:
    """A feed system delivers for its own source only; an administrator may deliver for any."""
    if identity is None or identity.holds(Grant.ADMIN):
        return
    if identity.holds(Grant.FEED) and identity.bound_to == source:
        return
    raise Forbidden(f"账号 {identity.login} 不能代表数据来源 {source} 报送", code="source-not-granted", source=source)
