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

from hotline.errors import Forbidden, HotlineError, InvalidInput, TooManyAttempts


class Grant(StrEnum):
    """A role an account holds. The first five are people's; the last two are other systems'."""

    AGENT = "agent"
    DISPATCHER = "dispatcher"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    FEED = "feed"  # a sub-centre's or city's system delivering its data (bound to its source code)
    PROXY = "proxy"  # the SIP proxy asking where a call goes


GRANT_LABELS = {
    Grant.AGENT: "话务员",
    Grant.DISPATCHER: "派单员",
    Grant.DEPARTMENT: "承办单位",
    Grant.SUPERVISOR: "督办审核员",
    Grant.ADMIN: "管理员",
    Grant.FEED: "数据接入系统",
    Grant.PROXY: "SIP 代理",
}
STAFF = frozenset({Grant.AGENT, Grant.DISPATCHER, Grant.DEPARTMENT, Grant.SUPERVISOR, Grant.ADMIN})
# Roles bound to one code: a handling unit's staff act for their unit, a feed system for its source.
BOUND = frozenset({Grant.DEPARTMENT, Grant.FEED})

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 8
MAX_FAILURES = 5  # wrong passwords in a row before the account is locked for LOCK_FOR
LOCK_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=12)  # one shift; signing in again after a long shift is expected
TOKEN_DAYS = 90


EVENT_LABELS = {
    "created": "新建账号",
    "signed-in": "登录",
    "sign-in-failed": "登录失败",
    "locked": "账号锁定",
    "signed-out": "退出登录",
    "password-changed": "修改密码",
    "disabled": "停用账号",
    "enabled": "启用账号",
    "token-issued": "签发接口令牌",
    "tokens-revoked": "注销会话和令牌",
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
        """How the account appears in a work order's history: a name people know plus the login that is unique."""
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
    bound = [g for g in grants if g in BOUND]
    if len(bound) > 1:
        raise InvalidInput("承办单位角色与数据接入角色不能在同一账号上", code="grants-conflict")
    if bound and not bound_to:
        what = "承办单位代码" if bound[0] is Grant.DEPARTMENT else "数据来源代码"
        raise InvalidInput(f"{GRANT_LABELS[bound[0]]}账号须指定{what}", code="binding-required")
    if bound_to and not bound:
        raise InvalidInput("只有承办单位或数据接入账号可以绑定单位或来源", code="binding-not-allowed")


def check_password(password: str, login: str) -> None:
    """At least 8 characters with letters and digits, and not the login name (等保 requires complexity)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位", code="weak-password")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise InvalidInput("密码须同时包含字母和数字", code="weak-password")
    if login and login.lower() in password.lower():
        raise InvalidInput("密码不能包含登录名", code="weak-password")


def recent_failures(failures: int, last_failure: datetime | None, at: datetime) -> int:
    """Wrong passwords count while each follows the last within LOCK_FOR; a quiet quarter of an hour (which is
    also how long a lock lasts) starts the count again, so an expired lock is not renewed by one more typo."""
    if last_failure is None or at - last_failure >= LOCK_FOR:
        return 0
    return failures


def locked_until(failures: int, last_failure: datetime | None) -> datetime | None:
    """When a locked account may try again, or None if it is not locked."""
    if failures < MAX_FAILURES or last_failure is None:
        return None
    return last_failure + LOCK_FOR


def check_not_locked(failures: int, last_failure: datetime | None, at: datetime) -> None:
    until = locked_until(failures, last_failure)
    if until is not None and at < until:
        minutes = max(1, int((until - at).total_seconds() + 59) // 60)
        raise TooManyAttempts(
            f"密码连续错误 {MAX_FAILURES} 次，账号已锁定，请 {minutes} 分钟后再试", code="account-locked"
        )


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
            raise Forbidden(f"账号 {identity.login} 没有“{role}”角色", code="role-not-granted", role=role)
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
