"""Who views a page: the role it acts in, the name its changes are recorded under, and the grants the access table
(`accounts.policy`) is asked about, so a page shows only the actions its viewer may take and refuses the others
with the same words whether sign-in is on or off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.api import acting, identity_of
from hotline.accounts.domain import GRANT_LABELS, Grant
from hotline.accounts.policy import POLICY
from hotline.errors import Forbidden, HotlineError

T = TypeVar("T")


@dataclass(frozen=True)
class Viewer:
    role: str
    actor: str
    grants: tuple[Grant, ...]  # the account's; with sign-in off, the role's
    signed_in: bool

    def may(self, method: str, path: str) -> bool:
        """Whether the account (with sign-in off, the role) may: the guard's own question."""
        return POLICY.allows(method, path, self.grants)

    def acts_as(self, method: str, path: str) -> bool:
        """Whether the role acted in may, whatever else the account holds: for what depends on the role chosen
        (a page's own rule, the callers' numbers it unmasks, the links into pages that act in that role)."""
        return POLICY.allows(method, path, tuple(g for g in Grant if g.value == self.role))

    def require(self, method: str, path: str, *, as_role: bool = False) -> None:
        """With sign-in on the guard has refused already; with it off the role named is checked the same way.
        AS_ROLE: the role acted in must be allowed itself (`acts_as`), not only the account."""
        if self.acts_as(method, path) if as_role else self.may(method, path):
            return
        rule = POLICY.find(method, path)
        allowed = "、".join(GRANT_LABELS[g] for g in Grant if rule is not None and g in rule.grants)
        raise Forbidden(
            f"「{role_label(self.role)}」不能执行此操作（允许：{allowed}）", code="role-not-allowed", role=self.role
        )

    @property
    def query(self) -> str:
        return urlencode({"role": self.role})

    @property
    def kept_actor(self) -> str:
        """With sign-in off, the name typed (carried across a page's links and forms); else ""."""
        return self.actor if not self.signed_in and self.actor != role_label(self.role) else ""

    def keep(self, **more: str) -> str:
        """The query that keeps the role (and, with sign-in off, the name typed) across the pages, with MORE."""
        wanted = {"role": self.role, "actor": self.kept_actor, **more}
        return urlencode({k: v for k, v in wanted.items() if v})


def role_label(role: str) -> str:
    return next((GRANT_LABELS[g] for g in Grant if g.value == role), role)


def staff_roles(request: Request) -> list[tuple[str, str]]:
    """The roles a page may be viewed as: the account's own once signed in, every staff role otherwise."""
    from hotline.workorders.domain import ROLE_LABELS, Role

    me = identity_of(request)
    return [
        (r.value, ROLE_LABELS[r])
        for r in Role
        if r is not Role.CITIZEN and (me is None or any(g.value == r.value for g in me.grants))
    ]


def page_roles(request: Request, path: str) -> list[tuple[str, str]]:
    """The roles PATH may be viewed as: those of `staff_roles` the page is open to."""
    return [(value, label) for value, label in staff_roles(request) if POLICY.allows("GET", path, (Grant(value),))]


def viewer_of(request: Request, role: str, *, default: str, actor: str = "", page: str | None = None) -> Viewer:
    """The role named (signed in: if the account holds it), else, signed in, the account's first role PAGE is open
    to (its first staff role without PAGE), else DEFAULT. With sign-in off, changes are recorded under the name
    typed, else the role's (the services need a name); signed in, under the account."""
    me = identity_of(request)
    named = role or None
    if named is None and me is not None and page is not None:
        named = next(iter(page_roles(request, page)), ("", ""))[0] or None
    who = acting(request, named, actor=actor.strip(), default=default)
    grants = me.grants if me is not None else tuple(g for g in Grant if g.value == who.role)
    return Viewer(who.role, who.actor or role_label(who.role), grants, me is not None)


def page_viewer(request: Request, role: str, page: str, *, default: str, actor: str = "") -> Viewer:
    """`viewer_of` PAGE, refused (403) unless the role it acts in may open PAGE: a page showing what that role sees
    is never rendered for a role it is not open to, even when the account holds another that it is."""
    viewer = viewer_of(request, role, default=default, actor=actor, page=page)
    viewer.require("GET", page, as_role=True)
    return viewer


def posted_step(
    session: Session,
    viewer: Callable[[], Viewer],
    path: str,
    work: Callable[[Viewer], T],
    *,
    refused: Callable[[HotlineError], Response],
    done: Callable[[Viewer], str] | None = None,
    to: Callable[[Viewer, T], str] | None = None,
) -> Response:
    """One step posted from a page's form: the VIEWER checked for POST PATH in the role it acts in, WORK done and
    committed, then on to DONE(viewer), or TO(viewer, result) where the next page depends on what WORK returned (the
    record it made, the draw it took), with 303 so a reload does not post again; refused, REFUSED(error): the page
    again saying why, nothing written. One of DONE and TO is given."""
    if to is None and done is not None:
        to = _ignoring_result(done)
    elif to is None or done is not None:
        raise TypeError("posted_step takes one of done= and to=")
    try:
        who = viewer()
        who.require("POST", path, as_role=True)
        result = work(who)
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return refused(exc)
    return RedirectResponse(to(who, result), status_code=303)


def _ignoring_result(done: Callable[[Viewer], str]) -> Callable[[Viewer, object], str]:
    return lambda who, _result: done(who)
