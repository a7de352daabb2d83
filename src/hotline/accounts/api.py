"""HTTP resources of hotline.accounts: signing in and out (a JSON API and the /login page) and who is signed in.

Handlers elsewhere ask `acting(request, …)` which role, unit and name a request acts with; `source_allowed`
checks a feed system's own source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hotline.accounts import domain as d
from hotline.accounts import service
from hotline.accounts.guard import COOKIE, credentials, forget
from hotline.deps import SESSION
from hotline.errors import HotlineError

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


def _login_page(request: Request, next_: str, login: str = "", error: HotlineError | None = None) -> HTMLResponse:
    from hotline.web.pages import render

    status = error.http_status if error is not None else 200
    return render(request, "login.html", "登录", status_code=status, next=_safe_next(next_), login=login, error=error)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _login_page(request, next)


@router.post("/login", include_in_schema=False)
async def login_form(request: Request, session: Session = SESSION) -> Response:
    form = await request.form()
    login, password, next_ = (str(form.get(k) or "") for k in ("login", "password", "next"))
    try:
        signed = service.sign_in(session, login, password, address=_address(request))
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
