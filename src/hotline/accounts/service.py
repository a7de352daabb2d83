"""Use cases of the accounts capability: keep accounts, sign in and out, issue API tokens, and tell who holds a
token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, object_session

from hotline.accounts import domain as d
from hotline.accounts.store import Account, AccountEvent, Token
from hotline.errors import Conflict, HotlineError, InvalidInput, NotFound
from hotline.timeutil import now

# scrypt with N=2^14, r=8, p=1 (16 MiB, about 50 ms here): the parameters OWASP lists as a floor for scrypt.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_MAXMEM = 64 * 1024 * 1024
# Used for unknown logins so a wrong login name takes as long as a wrong password.
_DUMMY_HASH = ""
# The audit trail keeps this much of a typed login name (`_audit`); the lockout looks it up as kept.
_LOGIN_KEPT = 64
# Events the lockout reads (`domain.outcome_of`).
_COUNTED_EVENTS = ("sign-in-failed", "signed-in", "password-changed")
# A token's last use is written at most this often, so reading a page does not always write to the database.
_TOUCH_EVERY = timedelta(minutes=5)


class BadCredentials(HotlineError):
    code = "bad-credentials"
    http_status = 401


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=_MAXMEM, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def token_digest(token: str) -> str:
    """How a token is kept (and looked up): its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def _identity(account: Account) -> d.Identity:
    return d.Identity(
        login=account.login, name=account.name, grants=d.parse_grants(account.grants), bound_to=account.bound_to
    )


def _check_binding(session: Session, grants: tuple[d.Grant, ...], bound_to: str | None) -> None:
    if bound_to is None:
        return
    if d.Grant.DEPARTMENT in grants:
        from hotline.workorders import service as workorders

        workorders.get_unit(session, bound_to)  # NotFound (unit-not-found) names the unknown unit
    elif d.Grant.FEED in grants:
        from hotline.aggregation import service as aggregation

        aggregation.get_source(session, bound_to)


def _audit(
    session: Session,
    login: str,
    event: str,
    detail: str = "",
    *,
    address: str | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        AccountEvent(at=at or now(), login=login[:_LOGIN_KEPT], event=event, detail=detail[:200], address=address)
    )


def _by(detail: str, by: str | None) -> str:
    """An audit detail naming the administrator who made a change over HTTP (`by` is their `Identity.actor`);
    the command line on the platform's machine names nobody."""
    if not by:
        return detail
    return f"{detail}；由 {by} 操作" if detail else f"由 {by} 操作"


def record_export(
    session: Session, login: str, detail: str, *, address: str | None = None, at: datetime | None = None
) -> None:
    """Personal data taken out of the platform (a work-order export with callers' contacts): who, what, from
    which address, kept with the sign-ins (等保 asks that it be traceable)."""
    _audit(session, login, "exported", detail, address=address, at=at)


def audit_log(session: Session, *, login: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The latest sign-ins and account changes, newest first."""
    query = select(AccountEvent).order_by(AccountEvent.id.desc()).limit(limit)
    if login:
        query = query.where(AccountEvent.login == login)
    return [
        {"at": e.at.isoformat(), "login": e.login, "event": e.event, "event_label": d.EVENT_LABELS.get(e.event, e.event),
         "detail": e.detail, "address": e.address}
        for e in session.scalars(query)
    ]  # fmt: skip


def get_account(session: Session, login: str) -> Account:
    account = session.scalar(select(Account).where(Account.login == login))
    if account is None:
        raise NotFound(f"账号 {login} 不存在", code="account-not-found", login=login)
    return account


def account_view(account: Account) -> dict[str, Any]:
    session = object_session(account)
    return _view(account, _locked_until(session, [account.login], now()) if session is not None else {})


def _view(account: Account, locked: dict[str, datetime]) -> dict[str, Any]:
    """An account as lists show it; `locked_until` is when a lock refusing it from every address ends (a lock
    refusing one address is about that address, see `_verified`)."""
    until = locked.get(account.login)
    return {
        "login": account.login,
        "name": account.name,
        "roles": list(account.grants),
        "role_labels": [d.GRANT_LABELS[d.Grant(g)] for g in account.grants],
        "bound_to": account.bound_to,
        "active": account.active,
        "has_password": account.password_hash is not None,
        "locked_until": until.isoformat() if until is not None else None,
    }


def create_account(
    session: Session,
    login: str,
    name: str,
    roles: list[str],
    *,
    bound_to: str | None = None,
    password: str | None = None,
    at: datetime | None = None,
    by: str | None = None,
    address: str | None = None,
) -> Account:
    grants = d.parse_grants(roles)
    bound_to = bound_to or None
    d.check_account(login, name, grants, bound_to)
    if password is not None:
        d.check_password(password, login)
    if session.scalar(select(Account.id).where(Account.login == login)) is not None:
        raise Conflict(f"账号 {login} 已存在", code="account-exists", login=login)
    _check_binding(session, grants, bound_to)
    account = Account(
        login=login,
        name=name.strip(),
        password_hash=hash_password(password) if password is not None else None,
        grants=[g.value for g in grants],
        bound_to=bound_to,
        active=True,
        created_at=at or now(),
    )
    session.add(account)
    session.flush()
    what = d.labels(grants) + (f" [{bound_to}]" if bound_to else "")
    _audit(session, login, "created", _by(what, by), address=address)
    return account


def _store_password(session: Session, account: Account, password: str, *, keep: str | None = None) -> None:
    """A new password hash; the account's web sessions end, except the one whose token is `keep` (API tokens
    stay). The `password-changed` event the caller audits lifts its locks (`domain.locks`)."""
    account.password_hash = hash_password(password)
    _revoke(session, account, kind="session", keep=keep)


def set_password(
    session: Session, login: str, password: str, *, by: str | None = None, address: str | None = None
) -> Account:
    """A new password set by an administrator; the account's web sessions end (API tokens stay) and a lock is
    lifted."""
    account = get_account(session, login)
    d.check_password(password, login)
    _store_password(session, account, password)
    _audit(session, login, "password-changed", _by("", by), address=address)
    return account


def change_password(
    session: Session,
    login: str,
    current: str,
    new: str,
    *,
    keep: str | None = None,
    address: str | None = None,
    at: datetime | None = None,
) -> Account:
    """Someone signed in changes their own password. The current one is checked as at sign-in (a wrong one is
    audited and counts toward the lockout); the new one follows the rules and differs from it. The account's
    other web sessions end; the one holding the token `keep` (the request making the change) stays, and so do
    API tokens."""
    at = at or now()
    d.check_password(new, login)
    if new == current:
        raise InvalidInput("新密码不能与当前密码相同", code="same-password")
    account = _verified(session, login, current, address=address, at=at, purpose="修改密码：", wrong="当前密码不正确")
    _store_password(session, account, new, keep=token_digest(keep) if keep else None)
    _audit(session, login, "password-changed", "本人修改", address=address, at=at)
    return account


def set_active(
    session: Session,
    login: str,
    active: bool,
    *,
    by: str | None = None,
    me: str | None = None,
    address: str | None = None,
) -> Account:
    """Disabling an account ends its sessions and tokens at once; enabling it does not bring them back. ME, the
    administrator signed in, cannot disable their own account, and nobody the last enabled administrator's."""
    account = get_account(session, login)
    if not active:
        admin = account.active and d.Grant.ADMIN.value in account.grants
        d.check_disabling(login, me=me, admin=admin, other_admins=_other_admins(session, account) if admin else 0)
    account.active = active
    if not active:
        _revoke(session, account)
    _audit(session, login, "enabled" if active else "disabled", _by("", by), address=address)
    return account


def _other_admins(session: Session, account: Account) -> int:
    """The enabled administrators besides ACCOUNT. Every enabled account's row is locked (in one order, so two
    administrators demoting each other at once wait rather than deadlock) until the change commits: the second
    then counts what the first left."""
    rows = session.scalars(
        select(Account)
        .where(Account.active.is_(True))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return sum(1 for a in rows if a.id != account.id and d.Grant.ADMIN.value in a.grants)


def _profile(account: Account) -> d.Profile:
    return d.Profile(account.name, d.parse_grants(account.grants), account.bound_to)


@dataclass(frozen=True)
class Edited:
    account: Account
    changes: tuple[str, ...]  # as audited, e.g. `角色：话务员 → 话务员、派单员`; none when nothing changed


def update_account(
    session: Session,
    login: str,
    *,
    name: str | None = None,
    grants: list[str] | None = None,
    bound_to: str | EllipsisType | None = ...,
    by: str | None = None,
    me: str | None = None,
    address: str | None = None,
) -> Edited:
    """An administrator changes an account's name, roles (GRANTS replaces the set, in its order) or binding (None
    or "" removes it); what is not given stays. Left unsaid, a binding stays while a bound role does and goes with
    it. The rules are creation's, and the account keeps its login, password and tokens: its history stays one
    person's. ME, the administrator signed in, cannot take their own admin role away, and nobody the last enabled
    administrator's.

    The change holds from the account's next request: who holds a token is looked up afresh (`identify`); the
    caller makes the guard forget what it remembers (`guard.forget_account`) after committing."""
    account = get_account(session, login)
    before = _profile(account)
    new_grants = d.parse_grants(grants) if grants is not None else before.grants
    if bound_to is ...:
        bound_to = before.bound_to if any(g in d.BOUND for g in new_grants) else None
    after = d.Profile(name.strip() if name is not None else before.name, new_grants, (bound_to or "").strip() or None)
    d.check_account(login, after.name, after.grants, after.bound_to)
    if (after.bound_role, after.bound_to) != (before.bound_role, before.bound_to):
        _check_binding(session, after.grants, after.bound_to)  # an unchanged binding is not asked about again
    if d.Grant.ADMIN in before.grants and d.Grant.ADMIN not in after.grants:
        other_admins = _other_admins(session, account) if account.active else 0
        d.check_admin_removal(login, me=me, active=account.active, other_admins=other_admins)
    changes = tuple(d.profile_changes(before, after))
    if changes:
        account.name, account.grants, account.bound_to = after.name, [g.value for g in after.grants], after.bound_to
        _audit(session, login, "edited", _by("；".join(changes), by), address=address)
    return Edited(account, changes)


def _revoke(session: Session, account: Account, *, kind: str | None = None, keep: str | None = None) -> int:
    """Ends the account's unrevoked tokens (of one kind, if given), except the one whose digest is `keep`."""
    stmt = update(Token).where(Token.account_id == account.id, Token.revoked_at.is_(None)).values(revoked_at=now())
    if kind is not None:
        stmt = stmt.where(Token.kind == kind)
    if keep is not None:
        stmt = stmt.where(Token.digest != keep)
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def revoke_tokens(session: Session, login: str, *, by: str | None = None, address: str | None = None) -> int:
    count = _revoke(session, get_account(session, login))
    _audit(session, login, "tokens-revoked", _by(f"{count} 个", by), address=address)
    return count


def list_accounts(session: Session, *, at: datetime | None = None) -> list[dict[str, Any]]:
    accounts = list(session.scalars(select(Account).order_by(Account.login)))
    locked = _locked_until(session, None, at or now())
    return [_view(a, locked) for a in accounts]


def bound_to_unit(session: Session, unit: str) -> list[str]:
    """The logins of the handling-unit (承办单位) accounts in service that act for UNIT."""
    rows = session.execute(
        select(Account.login, Account.grants)
        .where(Account.bound_to == unit, Account.active.is_(True))
        .order_by(Account.login)
    )
    return [login for login, grants in rows if d.Grant.DEPARTMENT.value in grants]


def _issue(session: Session, account: Account, kind: str, expires_at: datetime, label: str, at: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        Token(
            digest=token_digest(token),
            account_id=account.id,
            kind=kind,
            label=label[:64],
            created_at=at,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class SignedIn:
    token: str
    identity: d.Identity
    expires_at: datetime


def sign_in(
    session: Session, login: str, password: str, *, address: str | None = None, at: datetime | None = None
) -> SignedIn:
    """A web session for a login name and password.

    Wrong login names and wrong passwords answer alike, and are locked out alike (`_verified`). Every attempt is
    audited; a failed one's record, which the lockout counts, is committed at once, because the request that
    carries it fails and its own transaction is rolled back.
    """
    at = at or now()
    login = login.strip().lower()
    account = _verified(session, login, password, address=address, at=at)
    expires = at + d.SESSION_FOR
    token = _issue(session, account, "session", expires, "网页登录", at)
    _audit(session, login, "signed-in", address=address, at=at)
    return SignedIn(token, _identity(account), expires)


def _verified(
    session: Session,
    login: str,
    password: str,
    *,
    address: str | None,
    at: datetime,
    purpose: str = "",
    wrong: str = "登录名或密码不正确",
) -> Account:
    """The enabled account whose password this is, unless a lock refuses the login name from this address: what
    signing in and changing one's own password both check.

    The lockout's counts are the audit trail's (`domain.locks`): each refusal is audited as a failed sign-in (its
    detail starting with `purpose`), a new lock as its own event, and both are committed here, because the request
    that carries them fails and its own transaction is rolled back. A login name without an account is counted
    and locked like one with a wrong password, and takes as long (a dummy hash is checked), so the answers tell
    nothing about which names exist.
    """

    def refuse(error: HotlineError, detail: str) -> HotlineError:
        _audit(session, login, "sign-in-failed", purpose + detail, address=address, at=at)
        session.commit()
        return error

    def wrong_guess() -> HotlineError:
        now_locked = d.locks([*attempts, d.Attempt(at, login, address, d.Outcome.WRONG)], login, address, at)
        for lock in now_locked:  # none held before this attempt, or it would have been refused: all are new
            _audit(session, login, lock.event, lock.detail, address=address, at=at)
        answer = d.refusing(now_locked)
        return answer.error(at) if answer is not None else BadCredentials(wrong, code="bad-credentials")

    login = login[:_LOGIN_KEPT]
    attempts = _attempts(session, login, address, at)
    held = d.refusing(d.locks(attempts, login, address, at))
    if held is not None:
        raise refuse(held.error(at), held.refusal)
    account = session.scalar(select(Account).where(Account.login == login))
    if account is None or account.password_hash is None:
        verify_password(password, _dummy_hash())
        raise refuse(wrong_guess(), d.NO_PASSWORD_ACCOUNT)
    if not verify_password(password, account.password_hash):
        raise refuse(wrong_guess(), d.WRONG_PASSWORD)
    if not account.active:
        raise refuse(BadCredentials("账号已停用，请联系管理员", code="account-disabled"), "账号已停用")
    return account


def _attempts(session: Session, login: str, address: str | None, at: datetime) -> list[d.Attempt]:
    """The audit trail's sign-in attempts that may bear on a lock of `login` from `address` at `at`, in the order
    they were recorded: the name's own (from every address, with the successes and new passwords that clear
    counts) and the address's wrong ones (for every name). A lock holding at `at` started within LOCK_FOR, from
    attempts within LOCK_FOR before that."""
    since = at - 2 * d.LOCK_FOR
    own = select(AccountEvent).where(
        AccountEvent.login == login, AccountEvent.at > since, AccountEvent.event.in_(_COUNTED_EVENTS)
    )
    here = AccountEvent.address.is_(None) if address is None else AccountEvent.address == address
    from_address = select(AccountEvent).where(here, AccountEvent.at > since, AccountEvent.event == "sign-in-failed")
    rows = {e.id: e for query in (own, from_address) for e in session.scalars(query)}
    return [
        d.Attempt(e.at, e.login, e.address, outcome)
        for _, e in sorted(rows.items())
        if (outcome := d.outcome_of(e.event, e.detail)) is not None
    ]


def _locked_until(session: Session, logins: list[str] | None, at: datetime) -> dict[str, datetime]:
    """When the locks refusing these accounts (or all) from every address end, for those locked at `at`."""
    query = select(AccountEvent).where(AccountEvent.at > at - 2 * d.LOCK_FOR, AccountEvent.event.in_(_COUNTED_EVENTS))
    if logins is not None:
        query = query.where(AccountEvent.login.in_(logins))
    by_login: dict[str, list[d.Attempt]] = {}
    for e in session.scalars(query.order_by(AccountEvent.id)):
        if (outcome := d.outcome_of(e.event, e.detail)) is not None:
            by_login.setdefault(e.login, []).append(d.Attempt(e.at, e.login, e.address, outcome))
    locks = {login: d.account_lock(attempts, login, at) for login, attempts in by_login.items()}
    return {login: lock.until for login, lock in locks.items() if lock is not None}


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if not _DUMMY_HASH:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(12))
    return _DUMMY_HASH


def issue_token(
    session: Session,
    login: str,
    *,
    label: str = "",
    days: int = d.TOKEN_DAYS,
    at: datetime | None = None,
    by: str | None = None,
    address: str | None = None,
) -> SignedIn:
    """An API token for a system (or a person's script), valid for `days` days; shown once, kept as a hash."""
    at = at or now()
    account = get_account(session, login)
    if not account.active:
        raise Conflict(f"账号 {login} 已停用", code="account-disabled", login=login)
    if not 1 <= days <= 3660:
        raise InvalidInput("有效期须为 1–3660 天", code="invalid-days", days=days)
    expires = at + timedelta(days=days)
    token = _issue(session, account, "api", expires, label or "接口令牌", at)
    _audit(session, login, "token-issued", _by(f"{label or '接口令牌'}，{days} 天", by), address=address, at=at)
    return SignedIn(token, _identity(account), expires)


def identify(session: Session, token: str, *, at: datetime | None = None) -> d.Identity:
    """Who holds a session or API token; `login-required` if it is unknown, expired, revoked or disabled."""
    at = at or now()
    row = session.execute(
        select(Token, Account).join(Account, Account.id == Token.account_id).where(Token.digest == token_digest(token))
    ).first()
    if row is None:
        raise d.LoginRequired("登录信息无效，请重新登录", code="login-required")
    held, account = row
    if held.revoked_at is not None or not account.active:
        raise d.LoginRequired("登录已失效，请重新登录", code="login-required")
    if held.expires_at <= at:
        raise d.LoginRequired("登录已过期，请重新登录", code="session-expired")
    if held.last_used_at is None or at - held.last_used_at >= _TOUCH_EVERY:
        held.last_used_at = at
    return _identity(account)


# The API tokens that may have signed a message for the source bound as `source`: first those of the accounts bound
# to it and of unbound ones, then the others (`identify_signer`). Built once: the listener asks for every batch.
_SIGNING_KEYS = tuple(
    select(Token.id, Token.digest, Token.expires_at, Token.last_used_at, Account)
    .join(Account, Account.id == Token.account_id)
    .where(Token.kind == "api", Token.revoked_at.is_(None), Account.active.is_(True), near)
    .order_by(Token.expires_at.desc())  # the newest first: the one a source signs with unless it rotates
    for near in (
        or_(Account.bound_to == bindparam("source"), Account.bound_to.is_(None)),
        Account.bound_to != bindparam("source"),
    )
)


def identify_signer(
    session: Session, source: str, signed_with: Callable[[str], bool], *, at: datetime | None = None
) -> d.Identity:
    """Who signed a message for SOURCE with an API token that was never sent: `signed_with(digest)` tells whether
    the token kept as DIGEST (its SHA-256, as `token_digest` gives) is the signature's key. The answers are
    `identify`'s for the token found: `login-required` when none is (a bad signature, or a token unknown, revoked or
    of a disabled account), `session-expired` past its expiry; its last use is recorded. Whether the account may
    deliver for SOURCE is the caller's to check, as over HTTP.

    Only API tokens sign: a web session's token is never handed to a system. The tokens of the accounts bound to
    SOURCE and of unbound ones (administrators, the proxy, people's scripts) are a handful and are tried first;
    those of accounts bound elsewhere (other sources' feeds, units' integrations), many more, only when none of
    those signed, so that a batch signed by another source's system is refused as such (`source-not-granted`)
    without their cost on every batch."""
    at = at or now()
    for keys in _SIGNING_KEYS:
        for token_id, digest, expires_at, last_used_at, account in session.execute(keys, {"source": source}):
            if not signed_with(digest):
                continue
            if expires_at <= at:
                raise d.LoginRequired("登录已过期，请重新登录", code="session-expired")
            if last_used_at is None or at - last_used_at >= _TOUCH_EVERY:
                session.execute(update(Token).where(Token.id == token_id).values(last_used_at=at))
            return _identity(account)
    raise d.LoginRequired("登录信息无效，请重新登录", code="login-required")


def sign_out(session: Session, token: str, *, address: str | None = None) -> bool:
    row = session.execute(
        select(Token, Account.login)
        .join(Account, Account.id == Token.account_id)
        .where(Token.digest == token_digest(token))
    ).first()
    if row is None or row[0].revoked_at is not None:
        return False
    row[0].revoked_at = now()
    _audit(session, row[1], "signed-out", address=address)
    return True


# -- demo ----------------------------------------------------------------------------------------------------------
DEMO_ACCOUNTS = (
    ("admin", "系统管理员", ["admin", "supervisor"], None),
    ("zhangmin", "张敏", ["agent"], None),
    ("lihua", "李华", ["dispatcher"], None),
    ("wangfang", "王芳", ["supervisor"], None),
)


def load_demo(session: Session) -> str:
    """Demo accounts, one per role, sharing one generated password, and an Open311 app with its token, both
    written to the data folder (mode 600)."""
    from hotline.settings import get_settings

    path = Path(get_settings().data_dir) / "demo-accounts.txt"
    people = _demo_people(session, path)
    app = _demo_app(session, path)
    if app is None:
        return people
    return f"{people}；{app}" + ("" if str(path) in people else f"（另存于 {path}）")


def _demo_people(session: Session, path: Path) -> str:
    if session.scalar(select(Account.id).where(Account.login == "admin")) is not None:
        where = f"，密码见 {path}" if path.exists() else ""
        return f"演示账号：已存在{where}"
    password = _demo_password()
    unit = _demo_unit(session)
    accounts = list(DEMO_ACCOUNTS) + ([("chengban", "承办单位经办人", ["department"], unit)] if unit else [])
    for login, name, roles, bound in accounts:
        create_account(session, login, name, roles, bound_to=bound, password=password)
    _private(path).write_text(
        "演示账号（密码相同）\n"
        + "".join(f"{login}\t{name}\t{'、'.join(roles)}\n" for login, name, roles, _ in accounts)
        + f"密码：{password}\n",
        encoding="utf-8",
    )
    return f"演示账号：{len(accounts)} 个（{'、'.join(a[0] for a in accounts)}），密码 {password}（另存于 {path}）"


# The demo Open311 app: its login is the name the example of HOTLINE_OPEN311_KEYS gave it (docs/open311.md).
DEMO_APP = ("tianfu", "天府通办", ["open311"])


def _demo_app(session: Session, path: Path) -> str | None:
    """The demo Open311 app and a token to use as its `api_key`, added once (also to an older demo's data)."""
    login, name, roles = DEMO_APP
    if session.scalar(select(Account.id).where(Account.login == login)) is not None:
        return None
    create_account(session, login, name, roles)
    issued = issue_token(session, login, label="演示 Open311 应用")
    with _private(path).open("a", encoding="utf-8") as out:
        out.write(f"Open311 演示应用\t{login}\t{name}\tapi_key：{issued.token}\n")
    return f"Open311 演示应用 {login}（{name}）的 api_key：{issued.token}"


def _private(path: Path) -> Path:
    """PATH, readable by its owner only, whether it is new or left from an earlier demo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)  # `touch` leaves the mode of a file left from an earlier demo alone
    return path


def _demo_password() -> str:
    # Letters and digits both present, as `check_password` requires; no look-alike characters.
    letters = "abcdefghjkmnpqrstuvwxyz"
    digits = "23456789"
    body = [secrets.choice(letters + digits) for _ in range(8)]
    return secrets.choice(letters) + "".join(body) + secrets.choice(digits)


def _demo_unit(session: Session) -> str | None:
    """The unit the demo's handling-unit account works for: the one leading the most demo orders, so that
    signing in as it shows work to do (签收, 办结 …), else the first unit."""
    from hotline.workorders import service as workorders
    from hotline.workorders.store import Order, Unit

    busiest = session.scalar(
        select(Unit.code).join(Order, Order.lead_unit_id == Unit.id).group_by(Unit.code)
        .order_by(func.count().desc(), Unit.code).limit(1)
    )  # fmt: skip
    if busiest is not None:
        return str(busiest)
    units = workorders.list_units(session)
    return str(units[0]["code"]) if units else None
