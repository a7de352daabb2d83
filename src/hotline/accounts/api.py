"""HTTP resources of hotline.accounts: signing in and out (a JSON API and the /login page), who is signed in,
changing one's own password (`/api/auth/password`, the /account page), and the administrators' management of
accounts (`/api/accounts…`, the /accounts page).

Handlers elsewhere ask `acting(request, …)` which role, unit and name a request acts with; `source_allowed`
checks a feed system's own source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hotline.accounts import domain as d
from hotline.accounts import guard, service
from hotline.accounts.guard import COOKIE, credentials, forget
from hotline.deps import SESSION
from hotline.errors import Conflict, HotlineError, InvalidInput
from hotline.timeutil import china

router = APIRouter(tags=["accounts"])


def identity_of(request: Request) -> d.Identity | None:
    """The signed-in account, or None when sign-in is off (or the route is public and nobody signed in)."""
    return getattr(request.state, "identity", None)


def acting(request: Request, role: str | None, unit: str | None = None, actor: str = "", *, default: str) -> d.Acting:
    return d.acting(identity_of(request), role, unit, actor, default)


def source_allowed(request: Request, source: str) -> None:
    d.check_source(identity_of(request), source)


def identity_view(identity: d.Identity) -> dict[str, Any]:
    return {
        "login": identity.login,
        "name": identity.name,
        "roles": [g.value for g in identity.grants],
        "role_labels": [d.GRANT_LABELS[g] for g in identity.grants],
        "bound_to": identity.bound_to,
    }


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _set_cookie(response: Response, request: Request, token: str, expires_at: datetime) -> None:
    response.set_cookie(
        COOKIE, token, expires=expires_at, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )


class SignInBody(BaseModel):
    login: str
    password: str


@router.post("/api/auth/login")
def sign_in(body: SignInBody, request: Request, response: Response, session: Session = SESSION) -> dict[str, Any]:
    """Sign in with a login name and password: a session cookie for browsers, and the same token in the body for
    scripts (send it as `Authorization: Bearer …`). Valid for one shift (12 hours)."""
    signed = service.sign_in(session, body.login, body.password, address=_address(request))
    _set_cookie(response, request, signed.token, signed.expires_at)
    return {
        "token": signed.token,
        "expires_at": signed.expires_at.isoformat(),
        "account": identity_view(signed.identity),
    }


@router.post("/api/auth/logout", status_code=204)
def sign_out(request: Request, session: Session = SESSION) -> Response:
    token, _ = credentials(request.scope)
    if token:
        service.sign_out(session, token, address=_address(request))
        forget(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/api/auth/events")
def events(login: str | None = None, limit: int = 100, session: Session = SESSION) -> list[dict[str, Any]]:
    """The audit trail: sign-ins (also failed ones, with the client's address) and account changes, newest first."""
    return service.audit_log(session, login=login, limit=min(max(limit, 1), 1000))


@router.get("/api/auth/me")
def me(request: Request) -> dict[str, Any]:
    identity = identity_of(request)
    if identity is None:
        raise d.LoginRequired("未登录（平台未启用登录时没有账号信息）", code="login-required")
    return identity_view(identity)


# -- the sign-in page ----------------------------------------------------------------------------------------------
def _safe_next(target: str) -> str:
    """Only a path on this site: `//host` or `https://host` after signing in would send the user elsewhere."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request, next_: str, login: str = "", error: HotlineError | None = None, notice: str = ""
) -> HTMLResponse:
    from hotline.web.pages import render

    status = error.http_status if error is not None else 200
    return render(
        request, "login.html", "登录", status_code=status, next=_safe_next(next_), login=login, error=error,
        notice=notice,
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/", reason: str = "") -> HTMLResponse:
    if reason == "expired":  # sent here by the guard: say why, as a notice rather than an error status
        return _login_page(request, next, notice="登录已过期（每次登录有效一个班次，12 小时），请重新登录")
    return _login_page(request, next)


@router.post("/login", include_in_schema=False)
async def login_form(request: Request, session: Session = SESSION) -> Response:
    form = await request.form()
    login, password, next_ = (str(form.get(k) or "") for k in ("login", "password", "next"))
    try:
        # scrypt takes tens of milliseconds: off the event loop, like the synchronous handlers
        signed = await run_in_threadpool(service.sign_in, session, login, password, address=_address(request))
    except HotlineError as exc:
        return _login_page(request, next_, login, exc)
    response = RedirectResponse(_safe_next(next_), status_code=303)
    _set_cookie(response, request, signed.token, signed.expires_at)
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, session: Session = SESSION) -> Response:
    token, _ = credentials(request.scope)
    if token:
        service.sign_out(session, token, address=_address(request))
        forget(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def signed_actor(request: Request, typed: str) -> str:
    """Who a change is recorded as: the signed-in account; the typed name only when sign-in is off."""
    identity = identity_of(request)
    return identity.actor if identity is not None else typed


# -- one's own password ----------------------------------------------------------------------------------------------
def _me(request: Request) -> d.Identity:
    identity = identity_of(request)
    if identity is None:
        raise d.LoginRequired("未登录（平台未启用登录时没有账号信息）", code="login-required")
    return identity


def _commit_forgetting(session: Session, login: str) -> None:
    """Commit, then make this process forget whom it remembered the account's tokens for (`guard.REMEMBER_FOR`),
    so a session or token just ended is refused from the next request on. After the commit: a request looking
    the token up in between would otherwise remember it as still valid. Other processes take up to 10 s."""
    session.commit()
    guard.forget_account(login)


def _change_own_password(request: Request, session: Session, current: str, new: str) -> None:
    me = _me(request)
    token, _ = credentials(request.scope)
    service.change_password(session, me.login, current, new, keep=token, address=_address(request))
    _commit_forgetting(session, me.login)


class PasswordChangeBody(BaseModel):
    current: str
    new: str


@router.post("/api/auth/password", status_code=204)
def change_password(body: PasswordChangeBody, request: Request, session: Session = SESSION) -> Response:
    """Change one's own password. A wrong `current` answers 401 `bad-credentials` and counts toward the lockout
    like a sign-in; `new` must follow the password rules and differ from it. The account's other web sessions
    end; the credentials of this request (and API tokens) stay valid."""
    _change_own_password(request, session, body.current, body.new)
    return Response(status_code=204)


def _bound_name(session: Session, identity: d.Identity) -> str | None:
    """The name of the unit or data source the account is bound to, if it can be found."""
    if identity.bound_to is None:
        return None
    try:
        if identity.holds(d.Grant.DEPARTMENT):
            from hotline.workorders import service as workorders

            return str(workorders.get_unit(session, identity.bound_to).name)
        from hotline.aggregation import service as aggregation

        return str(aggregation.get_source(session, identity.bound_to).name)
    except HotlineError:
        return None


def _account_page(
    request: Request, session: Session, *, error: HotlineError | None = None, changed: bool = False
) -> HTMLResponse:
    from hotline.web.pages import render

    me = identity_of(request)
    if me is None and error is None:
        error = d.LoginRequired("未登录（平台未启用登录时没有账号信息）", code="login-required")
    status = error.http_status if error is not None else 200
    bound = _bound_name(session, me) if me is not None else None
    return render(
        request, "account.html", "我的账号", status_code=status, error=error, changed=changed, bound_name=bound,
        role_labels=[d.GRANT_LABELS[g] for g in me.grants] if me is not None else [],
    )  # fmt: skip


@router.get("/account", response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, done: str = "", session: Session = SESSION) -> HTMLResponse:
    return _account_page(request, session, changed=done == "password")


@router.post("/account", include_in_schema=False)
def account_form(
    request: Request,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    try:
        if new != confirm:
            raise InvalidInput("两次输入的新密码不一致", code="password-mismatch")
        _change_own_password(request, session, current, new)
    except HotlineError as exc:
        session.rollback()
        return _account_page(request, session, error=exc)
    return RedirectResponse("/account?done=password", status_code=303)


# -- account administration (administrators) -----------------------------------------------------------------------
def _administrator(request: Request) -> str | None:
    """The administrator a change is recorded as made by (nobody when sign-in is off)."""
    identity = identity_of(request)
    return identity.actor if identity is not None else None


def _create(request: Request, session: Session, login: str, name: str, roles: list[str], bound_to: str | None,
            password: str | None) -> dict[str, Any]:  # fmt: skip
    by, address = _administrator(request), _address(request)
    account = service.create_account(
        session, login, name, roles, bound_to=bound_to, password=password, by=by, address=address
    )
    return service.account_view(account)


def _set_active(request: Request, session: Session, login: str, active: bool) -> dict[str, Any]:
    me = identity_of(request)
    if not active and me is not None and me.login == login:
        raise Conflict("不能停用自己正在使用的账号", code="own-account", login=login)
    account = service.set_active(session, login, active, by=_administrator(request), address=_address(request))
    view = service.account_view(account)
    _commit_forgetting(session, login)
    return view


def _set_password(request: Request, session: Session, login: str, password: str) -> dict[str, Any]:
    account = service.set_password(session, login, password, by=_administrator(request), address=_address(request))
    view = service.account_view(account)
    _commit_forgetting(session, login)
    return view


def _issue(request: Request, session: Session, login: str, label: str, days: int) -> service.SignedIn:
    by, address = _administrator(request), _address(request)
    return service.issue_token(session, login, label=label, days=days, by=by, address=address)


def _revoke(request: Request, session: Session, login: str) -> int:
    count = service.revoke_tokens(session, login, by=_administrator(request), address=_address(request))
    _commit_forgetting(session, login)
    return count


class NewAccountBody(BaseModel):
    login: str
    name: str
    roles: list[str]
    bound_to: str | None = None
    password: str | None = None  # none: a system account, which holds API tokens


class NewPasswordBody(BaseModel):
    password: str


class NewTokenBody(BaseModel):
    label: str = ""
    days: int = d.TOKEN_DAYS


@router.get("/api/accounts")
def accounts(session: Session = SESSION) -> list[dict[str, Any]]:
    """Every account with its roles, binding and state (enabled, locked until when)."""
    return service.list_accounts(session)


@router.post("/api/accounts", status_code=201)
def add_account(body: NewAccountBody, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """A new account; without `password` a system account, which is then issued API tokens."""
    return _create(request, session, body.login, body.name, body.roles, body.bound_to, body.password)


@router.post("/api/accounts/{login}/disable")
def disable_account(login: str, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """The account can no longer sign in, and all its sessions and tokens end at once."""
    return _set_active(request, session, login, False)


@router.post("/api/accounts/{login}/enable")
def enable_account(login: str, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """The account may sign in again; earlier sessions and tokens do not come back."""
    return _set_active(request, session, login, True)


@router.post("/api/accounts/{login}/password")
def set_password(login: str, body: NewPasswordBody, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """A new password: the account's web sessions end (its API tokens stay) and a lock is lifted."""
    return _set_password(request, session, login, body.password)


@router.post("/api/accounts/{login}/tokens", status_code=201)
def issue_token(login: str, body: NewTokenBody, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """An API token, shown in this answer only (the platform keeps its SHA-256)."""
    issued = _issue(request, session, login, body.label, body.days)
    return {"token": issued.token, "expires_at": issued.expires_at.isoformat()}


@router.post("/api/accounts/{login}/revoke")
def revoke_tokens(login: str, request: Request, session: Session = SESSION) -> dict[str, int]:
    """Ends all the account's sessions and API tokens; the account stays enabled."""
    return {"revoked": _revoke(request, session, login)}


# -- the administrators' page ----------------------------------------------------------------------------------------
_NOTICES = {
    "created": "已新建账号 {login}",
    "disabled": "已停用账号 {login}：其全部会话和接口令牌已失效",
    "enabled": "已启用账号 {login}（此前的会话和令牌不会恢复）",
    "password": "已为账号 {login} 设置新密码：其网页登录已失效，锁定已解除",
    "revoked": "已注销账号 {login} 的全部会话和接口令牌",
}
_NEW_ACCOUNT = {"login": "", "name": "", "roles": [], "bound_to": ""}


def _accounts_page(
    request: Request,
    session: Session,
    *,
    error: HotlineError | None = None,
    notice: str = "",
    form: dict[str, Any] | None = None,
    issued: dict[str, Any] | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    from hotline.web.pages import render

    rows = service.list_accounts(session) if rows is None else rows
    me = identity_of(request)
    response = render(
        request, "accounts.html", "账号管理", status_code=error.http_status if error is not None else 200,
        rows=rows, error=error, notice=notice, form=form or _NEW_ACCOUNT, issued=issued,
        grant_choices=[(g.value, label) for g, label in d.GRANT_LABELS.items()],
        own_login=me.login if me is not None else None, token_days=d.TOKEN_DAYS,
    )  # fmt: skip
    if issued is not None:
        response.headers["Cache-Control"] = "no-store"  # the token is shown this once
    return response


@router.get("/accounts", response_class=HTMLResponse, include_in_schema=False)
def accounts_page(request: Request, done: str = "", login: str = "", session: Session = SESSION) -> HTMLResponse:
    rows = service.list_accounts(session)
    template = _NOTICES.get(done)
    known = any(row["login"] == login for row in rows)  # a crafted address confirms nothing that does not exist
    notice = template.format(login=login) if template is not None and known else ""
    return _accounts_page(request, session, notice=notice, rows=rows)


def _page_change(request: Request, session: Session, change: Callable[[], object], done: str, login: str,
                 form: dict[str, Any] | None = None) -> Response:  # fmt: skip
    """A change from the page: back to the list with a confirmation (POST, then 303 to GET), or the list again
    with the error."""
    try:
        change()
    except HotlineError as exc:
        session.rollback()
        return _accounts_page(request, session, error=exc, form=form)
    return RedirectResponse(f"/accounts?done={done}&login={quote(login, safe='')}", status_code=303)


@router.post("/accounts", include_in_schema=False)
def add_account_form(
    request: Request,
    login: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    bound_to: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    login = login.strip().lower()  # as signing in treats what is typed
    form = {"login": login, "name": name, "roles": roles or [], "bound_to": bound_to}
    return _page_change(
        request, session,
        lambda: _create(request, session, login, name, roles or [], bound_to.strip() or None, password or None),
        "created", login, form,
    )  # fmt: skip


@router.post("/accounts/{login}/disable", include_in_schema=False)
def disable_form(login: str, request: Request, session: Session = SESSION) -> Response:
    return _page_change(request, session, lambda: _set_active(request, session, login, False), "disabled", login)


@router.post("/accounts/{login}/enable", include_in_schema=False)
def enable_form(login: str, request: Request, session: Session = SESSION) -> Response:
    return _page_change(request, session, lambda: _set_active(request, session, login, True), "enabled", login)


@router.post("/accounts/{login}/password", include_in_schema=False)
def password_form(
    login: str, request: Request, password: Annotated[str, Form()] = "", session: Session = SESSION
) -> Response:
    return _page_change(request, session, lambda: _set_password(request, session, login, password), "password", login)


@router.post("/accounts/{login}/revoke", include_in_schema=False)
def revoke_form(login: str, request: Request, session: Session = SESSION) -> Response:
    return _page_change(request, session, lambda: _revoke(request, session, login), "revoked", login)


@router.post("/accounts/{login}/tokens", include_in_schema=False)
def token_form(
    login: str,
    request: Request,
    label: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """Answered with the page itself rather than a redirect: the token must not travel in an address."""
    try:
        try:
            count = int(days) if days.strip() else d.TOKEN_DAYS
        except ValueError:
            raise InvalidInput("有效期须为 1–3660 天", code="invalid-days") from None
        issued = _issue(request, session, login, label.strip(), count)
    except HotlineError as exc:
        session.rollback()
        return _accounts_page(request, session, error=exc)
    session.commit()
    shown = {"login": login, "token": issued.token, "expires_at": f"{china(issued.expires_at):%Y-%m-%d %H:%M}",
             "open311": issued.identity.holds(d.Grant.OPEN311)}  # fmt: skip
    return _accounts_page(request, session, notice=f"已为账号 {login} 签发接口令牌", issued=shown)
