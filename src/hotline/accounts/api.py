"""HTTP resources of hotline.accounts: signing in and out (a JSON API and the /login page), who is signed in, and
changing one's own password (`/api/auth/password`, the /account page). The administrators' management of accounts
is `accounts.admin_api`.

Handlers elsewhere ask `acting(request, …)` which role, unit and name a request acts with; `source_allowed`
checks a feed system's own source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hotline.accounts import domain as d
from hotline.accounts import guard, service
from hotline.accounts.guard import COOKIE, credentials, forget
from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput

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


def client_address(request: Request) -> str | None:
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
    signed = service.sign_in(session, body.login, body.password, address=client_address(request))
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
        service.sign_out(session, token, address=client_address(request))
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
    )  # fmt: skip


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
        signed = await run_in_threadpool(service.sign_in, session, login, password, address=client_address(request))
    except HotlineError as exc:
        return _login_page(request, next_, login, exc)
    response = RedirectResponse(_safe_next(next_), status_code=303)
    _set_cookie(response, request, signed.token, signed.expires_at)
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, session: Session = SESSION) -> Response:
    token, _ = credentials(request.scope)
    if token:
        service.sign_out(session, token, address=client_address(request))
        forget(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def signed_actor(request: Request, typed: str, *, role: d.Grant | None = None) -> str:
    """Who a change is recorded as: the signed-in account; the typed name only when sign-in is off, and without
    one ROLE's label (管理员), the name the pages record a role's change under with sign-in off (`web.viewer`)."""
    identity = identity_of(request)
    if identity is not None:
        return identity.actor
    return typed or (d.GRANT_LABELS[role] if role is not None else "")


# -- one's own password ----------------------------------------------------------------------------------------------
def _me(request: Request) -> d.Identity:
    identity = identity_of(request)
    if identity is None:
        raise d.LoginRequired("未登录（平台未启用登录时没有账号信息）", code="login-required")
    return identity


def commit_forgetting(session: Session, login: str) -> None:
    """Commit, then make this process forget whom it remembered the account's tokens for (`guard.REMEMBER_FOR`),
    so a session or token just ended is refused from the next request on. After the commit: a request looking
    the token up in between would otherwise remember it as still valid. Other processes take up to 10 s."""
    session.commit()
    guard.forget_account(login)


def _change_own_password(request: Request, session: Session, current: str, new: str) -> None:
    me = _me(request)
    token, _ = credentials(request.scope)
    service.change_password(session, me.login, current, new, keep=token, address=client_address(request))
    commit_forgetting(session, me.login)


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
