"""The knowledge pages beside the /kb search (pages.kb_page): an article in full with its kept versions and open
纠错, the 纠错 form every staff role has, and for supervisors and administrators the forms to write and edit
articles, move them through their lifecycle and review 纠错.

Thin handlers over `knowledge.service`, the functions /api/kb calls: the service validates and refuses, and a
refusal shows the page again with its message and what was typed, nothing written. Which controls a page shows,
and which forms it accepts, is the access table's rule (accounts.policy) for the signed-in account, or with
sign-in off for the role the page is viewed as (`role`, by default 督办审核员 as on the order pages).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.api import identity_of
from hotline.deps import SESSION
from hotline.errors import Conflict, HotlineError, InvalidInput
from hotline.knowledge import domain
from hotline.knowledge import service as knowledge
from hotline.knowledge.domain import ArticleInput, FlagKind, Status
from hotline.tables import whole_number
from hotline.timeutil import parse_day
from hotline.web.pages import _error_page, render
from hotline.web.viewer import Viewer, viewer_of
from hotline.workorders import service as orders

router = APIRouter(include_in_schema=False)

DEFAULT_ROLE = "supervisor"  # with sign-in off and no role named, as the order pages
FIELDS = ("title", "body", "category", "owner_unit", "lines", "regions", "keywords", "effective_from", "expires_on")
_BLANK = {**dict.fromkeys(FIELDS, ""), "external_id": "", "note": "", "actor": ""}
# The button of each lifecycle move, in the order shown; which moves an article has is domain.TRANSITIONS'.
_MOVES = {
    Status.REVIEW: "提交审核",
    Status.PUBLISHED: "发布",
    Status.DRAFT: "转为草稿",
    Status.WITHDRAWN: "撤回",
    Status.EXPIRED: "设为已过期",
}
_NOTICES = {
    "flagged": "已提交纠错，等待审核",
    "created": "已新建知识（草稿），提交审核后可发布",
    "unchanged": "内容没有变化，未生成新版本",
    "reviewed": "纠错已处理",
    "useful": "已标记本版有用",
}
# Placeholders for asking the policy about a route template (any value matches `{key}`).
_ARTICLE = "/kb/articles/0"
MANAGE = "/kb/manage"  # 知识维护 (manage_page); the overview's 我的待办 links to it too


def _viewer(request: Request, role: str, actor: str = "") -> Viewer:
    return viewer_of(request, role, actor=actor, default=DEFAULT_ROLE)


def _href(key: str | int, viewer: Viewer, suffix: str = "", **query: str) -> str:
    return f"/kb/articles/{quote(str(key), safe='')}{suffix}?{urlencode({'role': viewer.role, **query})}"


def search_context(request: Request, role: str) -> dict[str, Any]:
    """What /kb needs to link its hits to the article pages and offer 新建知识 to those who may write."""
    try:
        viewer = _viewer(request, role)
    except HotlineError:  # a role the account does not hold: the search is shown as the account's own
        viewer = _viewer(request, "")
    href: Callable[[str | int], str] = lambda key: _href(key, viewer)  # noqa: E731
    return {
        "role": viewer.role,
        "can_write": viewer.may("GET", "/kb/new"),
        "can_manage": viewer.may("GET", MANAGE),
        "article_href": href,
    }


# -- 知识维护: what waits on those who maintain the knowledge base ---------------------------------------------------
@router.get(MANAGE, response_class=HTMLResponse)
def manage_page(request: Request, role: str = "", unit: str = "", session: Session = SESSION) -> HTMLResponse:
    """Articles awaiting review, open 纠错 (超期 marked), published articles expired or expiring soon, drafts;
    each row links to its article page, where the work is done."""
    context: dict[str, Any] = {"role": role, "query": "", "unit": unit, "queue": None}
    context.update(expiring_days=knowledge.EXPIRING_WITHIN_DAYS, review_days=domain.REVIEW_WORKDAYS)
    try:
        viewer = _viewer(request, role)
        context.update(role=viewer.role, query=viewer.query, article_href=lambda key: _href(key, viewer))
        viewer.require("GET", MANAGE)
        context["queue"] = knowledge.maintenance_queue(session, unit=unit.strip() or None)
    except HotlineError as exc:
        return _error_page(request, "kb_manage.html", "知识维护", exc, **context)
    return render(request, "kb_manage.html", "知识维护", **context)


# -- the article page ---------------------------------------------------------------------------------------------
def _article_context(session: Session, key: str, viewer: Viewer) -> dict[str, Any]:
    article = knowledge.get_article(session, key)
    shown = knowledge.article_dict(article)
    own = article.external_id or str(article.id)
    versions = [
        {
            "version": v.version,
            "changed_by": v.changed_by,
            "changed_at": v.changed_at.isoformat(),
            "fields": "、".join(domain.FIELD_LABELS.get(f, f) for f in v.changed_fields),
            "status_label": domain.STATUS_LABELS[Status(v.status)],
            "note": v.note,
        }
        for v in reversed(knowledge.list_versions(session, article.id))
    ]
    flags = [
        {
            "id": f.id,
            "agent": f.agent,
            "comment": f.comment,
            "created_at": f.created_at.isoformat(),
            "article_version": f.article_version,
            "review_due": f.review_due.isoformat() if f.review_due else "",
            "overdue": knowledge.is_overdue(f),
        }
        for f in knowledge.list_flags(session, article=article.id, kind=FlagKind.OUTDATED.value)
    ]
    moves = [
        (target.value, label)
        for target, label in _MOVES.items()
        if target in domain.TRANSITIONS[Status(article.status)]
    ]
    rated = knowledge.usefulness(session, article.id, viewer.actor)
    usage = {
        "useful": rated.useful,
        "useful_this_version": rated.useful_this_version,
        "marked": rated.marked_by_agent,
        # Orders record the external id they were answered from (an article without one cannot be cited).
        "cited": orders.count_answered_from(session, article.external_id) if article.external_id else 0,
    }
    return {
        "article": shown,
        "versions": versions,
        "flags": flags,
        "usage": usage,
        # 有用 is for what agents answer from: the published text, once per person and version.
        "can_mark": viewer.may("POST", f"{_ARTICLE}/useful")
        and article.status == Status.PUBLISHED.value
        and not rated.marked_by_agent,
        "href": lambda suffix="": _href(own, viewer, suffix),
        "moves": moves if viewer.may("POST", f"{_ARTICLE}/status") else [],
        "can_edit": viewer.may("GET", f"{_ARTICLE}/edit"),
        "can_flag": viewer.may("POST", f"{_ARTICLE}/flag"),
        "can_review": viewer.may("POST", "/kb/flags/0/review"),
        "resolutions": [(r.value, label) for r, label in domain.RESOLUTION_LABELS.items()],
        "review_days": domain.REVIEW_WORKDAYS,
    }


def _article_page(
    request: Request,
    session: Session,
    key: str,
    viewer: Viewer | None,
    *,
    error: HotlineError | None = None,
    notice: str = "",
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The article as it now stands; with ERROR, the refusal and what was typed in the form refused."""
    base: dict[str, Any] = {
        "role": viewer.role if viewer else "",
        "query": viewer.query if viewer else "",
        "signed_in": identity_of(request) is not None,
        "notice": notice,
        "typed": {"reason": "", "actor": "", "note": "", "flag": "", **(typed or {})},
        "article": None,
    }
    title = f"知识 {key}"
    if viewer is not None:
        try:
            viewer.require("GET", _ARTICLE)
            base.update(_article_context(session, key, viewer))
            title = base["article"]["title"] or f"知识 {base['article']['external_id']}"
        except HotlineError as exc:
            error = error or exc
    status = error.http_status if error is not None else 200
    return render(request, "kb_article.html", title, status_code=status, error=error, **base)


def _notice(done: str, session: Session, key: str) -> str:
    if done == "saved":
        try:
            return f"已保存修改（第 {knowledge.get_article(session, key).version} 版）"
        except HotlineError:
            return ""
    if done in _NOTICES:
        return _NOTICES[done]
    try:
        return f"知识状态已改为“{domain.STATUS_LABELS[Status(done)]}”" if done else ""
    except ValueError:
        return ""


@router.get("/kb/articles/{key}", response_class=HTMLResponse)
def article_page(
    request: Request, key: str, role: str = "", done: str = "", session: Session = SESSION
) -> HTMLResponse:
    try:
        viewer = _viewer(request, role)
    except HotlineError as exc:
        return _article_page(request, session, key, None, error=exc)
    return _article_page(request, session, key, viewer, notice=_notice(done, session, key))


def _done(key: str | int, viewer: Viewer, done: str) -> RedirectResponse:
    return RedirectResponse(_href(key, viewer, done=done), status_code=303)


def _refused(
    request: Request, session: Session, key: str, viewer: Viewer | None, exc: HotlineError, typed: dict[str, Any]
) -> HTMLResponse:
    session.rollback()
    return _article_page(request, session, key, viewer, error=exc, typed=typed)


@router.post("/kb/articles/{key}/flag")
def flag_form(
    request: Request,
    key: str,
    reason: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """纠错: the article is marked outdated with the reason, for its owning unit to review."""
    typed = {"reason": reason, "actor": actor, "flag": "new"}
    return _mark(request, session, key, role, actor, FlagKind.OUTDATED, reason, typed)


@router.post("/kb/articles/{key}/useful")
def useful_form(
    request: Request,
    key: str,
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """有用: an agent says the article answered a caller well (once per person and version)."""
    return _mark(request, session, key, role, actor, FlagKind.USEFUL, "", {})


# The form each mark is sent from, and the notice shown once it is recorded.
_MARKS = {FlagKind.OUTDATED: ("/flag", "flagged"), FlagKind.USEFUL: ("/useful", "useful")}


def _mark(
    request: Request,
    session: Session,
    key: str,
    role: str,
    actor: str,
    kind: FlagKind,
    comment: str,
    typed: dict[str, Any],
) -> Response:
    suffix, done = _MARKS[kind]
    viewer = None
    try:
        viewer = _viewer(request, role, actor)
        viewer.require("POST", f"{_ARTICLE}{suffix}")
        flag = knowledge.flag_article(session, key, kind.value, agent=viewer.actor, comment=comment)
        own = knowledge.get_article(session, flag.article_id).external_id or flag.article_id
        session.commit()
    except HotlineError as exc:
        return _refused(request, session, key, viewer, exc, typed)
    return _done(own, viewer, done)


@router.post("/kb/articles/{key}/status")
def status_form(
    request: Request,
    key: str,
    status: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    viewer = None
    try:
        viewer = _viewer(request, role)
        viewer.require("POST", f"{_ARTICLE}/status")
        article = knowledge.set_status(session, key, status, actor=viewer.actor, version=_version(version))
        own = article.external_id or article.id
        session.commit()
    except HotlineError as exc:
        return _refused(request, session, key, viewer, _shown(exc, "页面已显示最新内容，请核对后重新操作"), {})
    return _done(own, viewer, status)


@router.post("/kb/flags/{flag_id}/review")
def review_form(
    request: Request,
    flag_id: str,
    resolution: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    article: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """The owning side closes a 纠错: confirmed as correct, updated, or the article withdrawn (the service's)."""
    typed = {"note": note, "actor": actor, "flag": flag_id}
    viewer = None
    try:
        viewer = _viewer(request, role, actor)
        viewer.require("POST", "/kb/flags/0/review")
        number = whole_number(flag_id)
        if number is None:
            raise InvalidInput(f"纠错编号不正确：{flag_id}", code="invalid-flag-id")
        flag = knowledge.review_flag(session, number, resolution, actor=viewer.actor, note=note)
        own = knowledge.get_article(session, flag.article_id).external_id or flag.article_id
        session.commit()
    except HotlineError as exc:
        # The form names its article, so the refusal is shown on that article's page.
        return _refused(request, session, article or "?", viewer, exc, typed)
    return _done(own, viewer, "reviewed")


# -- writing and editing ------------------------------------------------------------------------------------------
def _version(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput("版本号须为整数", code="invalid-version") from None


def _shown(exc: HotlineError, then: str) -> HotlineError:
    """A stale form's refusal as the page says it: what to do next, after the service's reason."""
    if exc.code != "stale-version":
        return exc
    return Conflict(f"{exc.message}。{then}", code=exc.code, **exc.details)


def _day(text: str) -> date | None:
    return parse_day(text) if text.strip() else None


def _content(typed: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the service takes them (lists split as /api/kb splits them)."""
    content: dict[str, Any] = {name: typed[name] for name in ("title", "body", "category", "owner_unit")}
    for name in ("lines", "regions", "keywords"):
        content[name] = domain.split_list(typed[name])
    content["effective_from"] = _day(typed["effective_from"])
    content["expires_on"] = _day(typed["expires_on"])
    return content


def _form_page(
    request: Request,
    viewer: Viewer | None,
    *,
    key: str | None,
    form: dict[str, Any] | None,
    version: int | None = None,
    error: HotlineError | None = None,
    article: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The article form: blank for /kb/new, filled for an edit; FORM None when the page may not show it."""
    title = "新建知识" if key is None else f"编辑知识 {key}"
    status = error.http_status if error is not None else 200
    return render(
        request, "kb_form.html", title, status_code=status, error=error, form=form, key=key, version=version,
        article=article, role=viewer.role if viewer else "", query=viewer.query if viewer else "",
        action="/kb/new" if key is None else (_href(key, viewer, "/edit") if viewer else ""),
        back=_href(key, viewer) if key is not None and viewer else "/kb" + (f"?{viewer.query}" if viewer else ""),
        signed_in=identity_of(request) is not None,
    )  # fmt: skip


def _typed(**fields: str) -> dict[str, str]:
    return {**_BLANK, **fields}


def _filled(article: dict[str, Any]) -> dict[str, str]:
    form = _typed(**{name: article[name] or "" for name in ("title", "body", "category", "owner_unit")})
    for name in ("lines", "regions", "keywords"):
        form[name] = "、".join(article[name])
    form["effective_from"] = article["effective_from"] or ""
    form["expires_on"] = article["expires_on"] or ""
    return form


@router.get("/kb/new", response_class=HTMLResponse)
def new_page(request: Request, role: str = "") -> HTMLResponse:
    viewer = None
    try:
        viewer = _viewer(request, role)
        viewer.require("GET", "/kb/new")
    except HotlineError as exc:
        return _form_page(request, viewer, key=None, form=None, error=exc)
    return _form_page(request, viewer, key=None, form=_typed())


_Text = Annotated[str, Form()]


@router.post("/kb/new", response_class=HTMLResponse)
def new_form(
    request: Request,
    title: _Text = "",
    body: _Text = "",
    category: _Text = "",
    owner_unit: _Text = "",
    lines: _Text = "",
    regions: _Text = "",
    keywords: _Text = "",
    effective_from: _Text = "",
    expires_on: _Text = "",
    external_id: _Text = "",
    role: _Text = "",
    actor: _Text = "",
    session: Session = SESSION,
) -> Response:
    form = _typed(
        title=title, body=body, category=category, owner_unit=owner_unit, lines=lines, regions=regions,
        keywords=keywords, effective_from=effective_from, expires_on=expires_on, external_id=external_id,
        actor=actor,
    )  # fmt: skip
    viewer = None
    try:
        viewer = _viewer(request, role, actor)
        viewer.require("POST", "/kb/new")
        article = knowledge.create_article(
            session,
            ArticleInput(**_content(form)),
            actor=viewer.actor,
            external_id=external_id if external_id.strip() else None,
        )
        own = article.external_id or article.id
        session.commit()
    except HotlineError as exc:
        session.rollback()
        may = viewer is not None and viewer.may("POST", "/kb/new")
        return _form_page(request, viewer, key=None, form=form if may else None, error=exc)
    return _done(own, viewer, "created")


@router.get("/kb/articles/{key}/edit", response_class=HTMLResponse)
def edit_page(request: Request, key: str, role: str = "", session: Session = SESSION) -> HTMLResponse:
    viewer = None
    try:
        viewer = _viewer(request, role)
        viewer.require("GET", f"{_ARTICLE}/edit")
        article = knowledge.article_dict(knowledge.get_article(session, key))
    except HotlineError as exc:
        return _form_page(request, viewer, key=key, form=None, error=exc)
    return _form_page(request, viewer, key=key, form=_filled(article), version=article["version"], article=article)


@router.post("/kb/articles/{key}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request,
    key: str,
    title: _Text = "",
    body: _Text = "",
    category: _Text = "",
    owner_unit: _Text = "",
    lines: _Text = "",
    regions: _Text = "",
    keywords: _Text = "",
    effective_from: _Text = "",
    expires_on: _Text = "",
    note: _Text = "",
    version: _Text = "",
    role: _Text = "",
    actor: _Text = "",
    session: Session = SESSION,
) -> Response:
    """Save an edit as a new version. The form carries the version it was filled from: when someone changed the
    article meanwhile the service refuses (`stale-version`), and the form comes back with what was typed and the
    current version, so saving again overwrites that change knowingly, never unawares."""
    form = _typed(
        title=title, body=body, category=category, owner_unit=owner_unit, lines=lines, regions=regions,
        keywords=keywords, effective_from=effective_from, expires_on=expires_on, note=note, actor=actor,
    )  # fmt: skip
    viewer = None
    try:
        viewer = _viewer(request, role, actor)
        viewer.require("POST", f"{_ARTICLE}/edit")
        expected = _version(version)
        before = knowledge.get_article(session, key).version
        article = knowledge.update_article(
            session, key, _content(form), actor=viewer.actor, note=note.strip(), version=expected
        )
        own, changed = article.external_id or article.id, article.version != before
        session.commit()
    except HotlineError as exc:
        session.rollback()
        if viewer is None or not viewer.may("POST", f"{_ARTICLE}/edit"):
            return _form_page(request, viewer, key=key, form=None, error=exc)
        try:
            current = knowledge.article_dict(knowledge.get_article(session, key))
        except HotlineError:
            return _form_page(request, viewer, key=key, form=None, error=exc)
        shown = _shown(
            exc, f"下面保留了您填写的内容；请先查看最新内容，核对后再次保存（将覆盖第 {current['version']} 版）"
        )
        kept = current["version"] if exc.code == "stale-version" else _safe_version(version, current["version"])
        return _form_page(request, viewer, key=key, form=form, version=kept, error=shown, article=current)
    return _done(own, viewer, "saved" if changed else "unchanged")


def _safe_version(text: str, fallback: int) -> int:
    try:
        return int(text)
    except ValueError:
        return fallback
