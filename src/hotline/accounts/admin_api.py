"""HTTP resources of the administrators' management of accounts: the JSON API (`/api/accounts…`) and the
账号管理 page (`/accounts`). Only administrators reach them (`policy.RULES`)."""

from __future__ import annotations

from collections.abc import Callable
from types import EllipsisType
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hotline.accounts import domain as d
from hotline.accounts import service
from hotline.accounts.api import client_address, commit_forgetting, identity_of
from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.timeutil import china

router = APIRouter(tags=["accounts"])


def _who(request: Request) -> dict[str, Any]:
    """Who makes a change and from where, as the service audits it (nobody is named when sign-in is off)."""
    identity = identity_of(request)
    return {"by": identity.actor if identity is not None else None, "address": client_address(request)}


def _me(request: Request) -> str | None:
    """The administrator's own login: the account they may not disable or take the admin role from."""
    identity = identity_of(request)
    return identity.login if identity is not None else None


def _create(request: Request, session: Session, login: str, name: str, roles: list[str], bound_to: str | None,
            password: str | None) -> dict[str, Any]:  # fmt: skip
    account = service.create_account(session, login, name, roles, bound_to=bound_to, password=password, **_who(request))
    return service.account_view(account)


def _edit(request: Request, session: Session, login: str, name: str | None, roles: list[str] | None,
          bound_to: str | EllipsisType | None) -> tuple[dict[str, Any], tuple[str, ...]]:  # fmt: skip
    """The account as edited, and what changed."""
    edited = service.update_account(
        session, login, name=name, grants=roles, bound_to=bound_to, me=_me(request), **_who(request)
    )
    view = service.account_view(edited.account)
    # Fewer roles or another unit: this process must not answer one more request with the remembered ones.
    commit_forgetting(session, login)
    return view, edited.changes


def _set_active(request: Request, session: Session, login: str, active: bool) -> dict[str, Any]:
    account = service.set_active(session, login, active, me=_me(request), **_who(request))
    view = service.account_view(account)
    commit_forgetting(session, login)
    return view


def _set_password(request: Request, session: Session, login: str, password: str) -> dict[str, Any]:
    account = service.set_password(session, login, password, **_who(request))
    view = service.account_view(account)
    commit_forgetting(session, login)
    return view


def _issue(request: Request, session: Session, login: str, label: str, days: int) -> service.SignedIn:
    return service.issue_token(session, login, label=label, days=days, **_who(request))


def _revoke(request: Request, session: Session, login: str) -> int:
    count = service.revoke_tokens(session, login, **_who(request))
    commit_forgetting(session, login)
    return count


class NewAccountBody(BaseModel):
    login: str
    name: str
    roles: list[str]
    bound_to: str | None = None
    password: str | None = None  # none: a system account, which holds API tokens


class AccountEditBody(BaseModel):
    """What to change; what is left out stays. `bound_to`: null or "" removes the binding; left out, it stays
    while the account keeps a bound role."""

    name: str | None = None
    roles: list[str] | None = None  # replaces the set, in this order (the first staff role is the default one)
    bound_to: str | None = None


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


@router.patch("/api/accounts/{login}")
def edit_account(login: str, body: AccountEditBody, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Changes the account's name, roles or binding; its login, password and tokens stay. The audit trail says
    what changed (`edited`). An administrator cannot take their own admin role away (409 `own-admin-role`), and
    nobody the last enabled administrator's (409 `last-admin`)."""
    bound_to = body.bound_to if "bound_to" in body.model_fields_set else ...
    view, _ = _edit(request, session, login, body.name, body.roles, bound_to)
    return view


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
    "edited": "已修改账号 {login}：新的姓名、角色和绑定从其下一次操作起生效",
    "unchanged": "账号 {login} 没有变化",
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
    editing: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The list; `form` is what was typed in the new-account form, `editing` in an account's edit form (shown
    open again with it after a refusal)."""
    from hotline.web.pages import render

    rows = service.list_accounts(session) if rows is None else rows
    me = identity_of(request)
    response = render(
        request, "accounts.html", "账号管理", status_code=error.http_status if error is not None else 200,
        rows=rows, error=error, notice=notice, form=form or _NEW_ACCOUNT, issued=issued,
        grant_choices=[(g.value, label) for g, label in d.GRANT_LABELS.items()],
        own_login=me.login if me is not None else None, token_days=d.TOKEN_DAYS, editing=editing,
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
    return _done(done, login)


def _done(done: str, login: str) -> Response:
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


@router.post("/accounts/{login}/edit", include_in_schema=False)
def edit_form(
    login: str,
    request: Request,
    name: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    bound_to: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """The form shows every field filled in: an empty binding removes it."""
    try:
        held = service.get_account(session, login).grants
        _, changes = _edit(request, session, login, name, d.in_held_order(held, roles or []), bound_to)
    except HotlineError as exc:
        session.rollback()
        typed = {"login": login, "name": name, "roles": roles or [], "bound_to": bound_to}
        return _accounts_page(request, session, error=exc, editing=typed)
    return _done("edited" if changes else "unchanged", login)


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
