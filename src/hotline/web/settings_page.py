"""派单设置: the handling units, the dispatch catalogue (派单目录) and the working-day limits (办理时限) that the CLI and
the API keep (`hotline order units|unit-add|catalogue-set|limits`, `/api/workorders/…`), in the browser. Supervisors
read it; administrators (the access table's `POST /settings/dispatch/…`) change it through the same service
functions, so the page refuses what they refuse, with their codes, and keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError, NotFound
from hotline.plan.regions import PROVINCE, region_name
from hotline.web.pages import render
from hotline.web.viewer import Viewer, viewer_of
from hotline.workorders import service as orders
from hotline.workorders.domain import ACCEPT_LIMIT, RETURN_LIMIT

router = APIRouter(include_in_schema=False)

PAGE = "/settings/dispatch"
UNITS = f"{PAGE}/units"
CATALOGUE = f"{PAGE}/catalogue"
REMOVE = f"{CATALOGUE}/remove"
LIMITS = f"{PAGE}/limits"
TITLE = "派单设置"
DEFAULT_ROLE = "admin"  # with sign-in off and no role named: the one who keeps these settings
ANY_REGION, ANY_LINE = "全省", "全部号码"
LIMIT_LABELS = {ACCEPT_LIMIT: "签收（派单后）", RETURN_LIMIT: "退单（派单后）"}


@router.get(PAGE, response_class=HTMLResponse)
def settings_page(
    request: Request,
    role: str = "",
    region: str = "",  # the units shown: those of a region (a 市（州）with its 区（县）)
    ask_category: str = "",
    ask_region: str = PROVINCE.code,
    ask_line: str = "",
    done: str = "",
    what: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    asked = {"category": ask_category.strip(), "region": ask_region, "line": ask_line.strip()}
    return _page(request, session, role, region=region, asked=asked, notice=_notice(session, done, what))


@router.post(UNITS)
def unit_form(
    request: Request,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    region_code: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"form": "unit", "code": code, "name": name, "kind": kind, "region_code": region_code, "parent": parent}

    def change(_viewer: Viewer) -> str:
        unit = orders.add_unit(session, code, name, kind, region_code=region_code, parent=parent.strip() or None)
        return unit.code

    return _change(request, session, role, UNITS, typed, change)


@router.post(CATALOGUE)
def catalogue_form(
    request: Request,
    category: Annotated[str, Form()] = "",
    region_code: Annotated[str, Form()] = "",
    line: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"form": "catalogue", "category": category, "region_code": region_code, "line": line, "unit": unit}

    def change(_viewer: Viewer) -> str:
        entry = orders.set_catalogue_entry(session, category, unit, region_code=region_code, line=line)
        return _entry_key(entry.category, entry.region_code, entry.line)

    return _change(request, session, role, CATALOGUE, typed, change)


@router.post(REMOVE)
def remove_form(
    request: Request,
    category: Annotated[str, Form()] = "",
    region_code: Annotated[str, Form()] = "",
    line: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    def change(_viewer: Viewer) -> str:
        orders.remove_catalogue_entry(session, category, region_code=region_code, line=line)
        return _entry_key(category, region_code, line)

    return _change(request, session, role, REMOVE, {"form": "remove"}, change)


@router.post(LIMITS)
def limit_form(
    request: Request,
    key: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"form": "limit", "key": key, "days": days}

    def change(viewer: Viewer) -> str:
        # What is not a whole number goes on as 0, for the service to refuse in its own words.
        number = int(days.strip()) if days.strip().isdigit() else 0
        orders.set_limit(session, key, number, actor=viewer.actor)
        return key

    return _change(request, session, role, LIMITS, typed, change)


def _change(
    request: Request,
    session: Session,
    role: str,
    path: str,
    typed: dict[str, str],
    change: Callable[[Viewer], str],
) -> Response:
    """One write from a form: checked against the access table, done by the service and committed, then back to
    the page with what was done; refused, nothing is written and the page shows why with what was typed."""
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        viewer.require("POST", path)
        what = change(viewer)
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return _page(request, session, role, error=exc, typed=typed)
    query = {"role": viewer.role, "done": typed["form"], "what": what}
    return RedirectResponse(f"{PAGE}?{urlencode(query)}", status_code=303)


def _entry_key(category: str, region_code: str, line: str) -> str:
    return f"{category}|{region_code}|{line}"


def region_label(code: str) -> str:
    """A unit's or an entry's region as people say it: 全省 for any region, a 区（县）by its 市（州）and code."""
    if not code:
        return ANY_REGION
    named = region_name(code)
    return named if named != code else f"{region_name(code[:4] + '00')} {code}"


def _entry_label(category: str, region_code: str, line: str) -> str:
    return f"{category}（{region_label(region_code)}，{line or ANY_LINE}）"


def _notice(session: Session, done: str, what: str) -> str:
    """The redirect's words, read back from the settings (so a link cannot make the page claim a change)."""
    if done == "unit":
        try:
            unit = orders.get_unit(session, what)
        except NotFound:
            return ""
        return f"已保存承办单位：{unit.code} {unit.name}"
    if done == "limit":
        row = next((r for r in orders.limit_settings(session) if r["key"] == what), None)
        return f"已将「{LIMIT_LABELS.get(what, what)}」的时限改为 {row['days']} 个工作日" if row else ""
    if done in ("catalogue", "remove") and what.count("|") >= 2:
        category, region_code, line = what.rsplit("|", 2)
        entry = next(
            (
                e
                for e in orders.list_catalogue(session)
                if (e.category, e.region_code, e.line) == (category, region_code, line)
            ),
            None,
        )
        if done == "catalogue" and entry is not None:
            return f"已保存派单目录：{_entry_label(category, region_code, line)} → {entry.unit.name}"
        if done == "remove" and entry is None:
            return f"已删除派单目录：{_entry_label(category, region_code, line)}"
    return ""


def _page(
    request: Request,
    session: Session,
    role: str,
    *,
    region: str = "",
    asked: dict[str, str] | None = None,
    notice: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    asked = asked or {"category": "", "region": PROVINCE.code, "line": ""}
    context: dict[str, Any] = {"error": error, "typed": typed or {}, "region": region, "asked": asked, "units": []}
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE, page=PAGE)
        viewer.require("GET", PAGE)
    except HotlineError as exc:
        return render(request, "settings.html", TITLE, status_code=exc.http_status, **{**context, "error": exc})
    units = orders.list_units(session)
    names = {u["code"]: u["name"] for u in units}
    shown = [u for u in units if not region or u["region_code"] == region or _within(u["region_code"], region)]
    tree = orders.category_tree(session)
    context.update(
        viewer=viewer,
        can_change=viewer.may("POST", UNITS),
        notice=notice,
        units=[
            {**u, "region_label": region_label(u["region_code"]), "parent_name": names.get(u["parent"] or "")}
            for u in shown
        ],
        all_units=units,
        kinds=list(orders.UNIT_KINDS.items()),
        entries=[
            {"entry": e, "region_label": region_label(e.region_code), "line_label": e.line or ANY_LINE}
            for e in orders.list_catalogue(session)
        ],
        # Offered in the 分类 fields: every level (an entry may name a prefix of the tree).
        category_paths=list(dict.fromkeys(p for a, b, c in tree for p in (a, f"{a}/{b}", f"{a}/{b}/{c}"))),
        answer=_lookup(session, asked),
        limits=[{**r, "label": LIMIT_LABELS.get(r["key"], r["key"])} for r in orders.limit_settings(session)],
        any_region=ANY_REGION,
        any_line=ANY_LINE,
    )
    return render(request, "settings.html", TITLE, status_code=error.http_status if error else 200, **context)


def _within(code: str, city: str) -> bool:
    """A 区（县）code within the 市（州）CITY (the province holds none of its own)."""
    return city != PROVINCE.code and city.endswith("00") and code[:4] == city[:4]


def _lookup(session: Session, asked: dict[str, str]) -> dict[str, Any] | None:
    """这个分类在某地区派给谁: the very lookup the dispatch suggestion makes for a demand of that region and line."""
    if not asked["category"]:
        return None
    unit = orders.lookup_dispatch_catalogue(session, asked["category"], asked["region"], asked["line"] or None)
    return {"unit": unit, "region_label": region_label(asked["region"])}
