"""派单设置: the handling units, the dispatch catalogue (派单目录) and the working-day limits (办理时限) that the CLI and
the API keep (`hotline order units|unit-add|unit-deactivate|unit-activate|catalogue-set|catalogue-remove|limits`,
`/api/workorders/…`), in the browser. Supervisors read it; administrators (the access table's
`POST /settings/dispatch/…`) change it through the same service functions, so the page refuses what they refuse,
with their codes, and keeps what was typed.

停用 a unit (机构调整) is two steps: its row's link shows what holds it (orders being worked on, catalogue entries,
child units, bound accounts) with a choice of successor, and 确认停用 does it; the page then lists the entries and
units the successor took over. 启用 is two steps too: its row's link says what putting it back changes (it is given
work again) and what it does not (what its 停用 handed to the successor stays there), and 确认启用 does it.

变更记录 at the bottom: every change to these settings and to the 工作日历 (`changelog`), newest first, 50 at a time
(更早 pages back), by 类型; each change recorded as the viewer's (`Viewer.actor`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts import service as accounts
from hotline.deps import SESSION
from hotline.errors import HotlineError, NotFound
from hotline.plan.regions import PROVINCE, city_code
from hotline.tables import whole_number
from hotline.web.change_records import change_records, wanted_before, wanted_kind
from hotline.web.pages import render
from hotline.web.viewer import Viewer, viewer_of
from hotline.workorders import service as orders
from hotline.workorders import units as reorganise
from hotline.workorders.domain import (
    ACCEPT_LIMIT,
    ANY_LINE,
    ANY_REGION,
    RETURN_LIMIT,
    VISIT_LIMIT,
    catalogue_key,
    entry_label,
    region_label,
)

router = APIRouter(include_in_schema=False)

PAGE = "/settings/dispatch"
UNITS = f"{PAGE}/units"
DEACTIVATE = f"{UNITS}/deactivate"
ACTIVATE = f"{UNITS}/activate"
CATALOGUE = f"{PAGE}/catalogue"
REMOVE = f"{CATALOGUE}/remove"
LIMITS = f"{PAGE}/limits"
TITLE = "派单设置"
DEFAULT_ROLE = "admin"  # with sign-in off and no role named: the one who keeps these settings
LIMIT_LABELS = {
    ACCEPT_LIMIT: "签收（派单后）",
    RETURN_LIMIT: "退单（派单后）",
    VISIT_LIMIT: "回访（审核通过或直接办结后，本中心规定）",
}
UNIT_STATUSES = {"": "全部", "active": "在用", "inactive": "已停用"}
Done = str | dict[str, str | list[str]]  # what a change did: a key, or the query that says it (`what` and more)


@router.get(PAGE, response_class=HTMLResponse)
def settings_page(
    request: Request,
    role: str = "",
    region: str = "",  # the units shown: those of a region (a 市（州）with its 区（县）)
    status: str = "",  # and those in service, or out of it (UNIT_STATUSES)
    deactivate: str = "",  # the unit whose 停用 is to be confirmed
    activate: str = "",  # the unit whose 启用 is to be confirmed
    ask_category: str = "",
    ask_region: str = "",  # the province when empty
    ask_line: str = "",
    done: str = "",
    what: str = "",
    to: str = "",  # a 停用's successor, and what it took over (read back, see `_notice`)
    moved: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies the default)
    children: Annotated[list[str], Query()] = [],  # noqa: B006
    changes_kind: str = "",  # the 变更记录 shown: of one kind (`changelog.domain.Kind`), or all
    changes_before: str = "",  # and older than this record (更早)
    session: Session = SESSION,
) -> HTMLResponse:
    asked = {"category": ask_category.strip(), "region": ask_region.strip(), "line": ask_line.strip()}
    notice = _notice(session, done, what, to=to, moved=moved, children=children)
    shown = {
        "region": region,
        "status": status if status in UNIT_STATUSES else "",
        "changes_kind": wanted_kind(changes_kind),
        "changes_before": changes_before,
    }
    return _page(
        request, session, role, shown=shown, asked=asked, notice=notice, deactivating=deactivate, activating=activate
    )


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

    def change(viewer: Viewer) -> str:
        unit = orders.add_unit(
            session, code, name, kind, region_code=region_code, parent=parent.strip() or None, actor=viewer.actor
        )
        return unit.code

    return _change(request, session, role, UNITS, typed, change)


@router.post(DEACTIVATE)
def deactivate_form(
    request: Request,
    code: Annotated[str, Form()] = "",
    successor: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"form": "deactivate", "code": code, "successor": successor}

    def change(viewer: Viewer) -> Done:
        done = reorganise.deactivate_unit(session, code, successor=successor.strip() or None, actor=viewer.actor)
        return {
            "what": done.unit.code,
            "to": done.successor.code if done.successor else "",
            "moved": [catalogue_key(e.category, e.region_code, e.line) for e in done.moved],
            "children": [u.code for u in done.reparented],
        }

    return _change(request, session, role, DEACTIVATE, typed, change)


@router.post(ACTIVATE)
def activate_form(
    request: Request,
    code: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    def change(viewer: Viewer) -> Done:
        return reorganise.activate_unit(session, code, actor=viewer.actor).code

    return _change(request, session, role, ACTIVATE, {"form": "activate", "code": code}, change)


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

    def change(viewer: Viewer) -> str:
        entry = orders.set_catalogue_entry(
            session, category, unit, region_code=region_code, line=line, actor=viewer.actor
        )
        return catalogue_key(entry.category, entry.region_code, entry.line)

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
    def change(viewer: Viewer) -> str:
        orders.remove_catalogue_entry(session, category, region_code=region_code, line=line, actor=viewer.actor)
        return catalogue_key(category, region_code, line)

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
        number = whole_number(days) or 0
        orders.set_limit(session, key, number, actor=viewer.actor)
        return key

    return _change(request, session, role, LIMITS, typed, change)


def _change(
    request: Request,
    session: Session,
    role: str,
    path: str,
    typed: dict[str, str],
    change: Callable[[Viewer], Done],
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
    query: dict[str, str | list[str]] = {"role": viewer.role, "done": typed["form"]}
    query.update({"what": what} if isinstance(what, str) else what)
    return RedirectResponse(f"{PAGE}?{urlencode(query, doseq=True)}", status_code=303)


def _notice(
    session: Session, done: str, what: str, *, to: str = "", moved: Sequence[str] = (), children: Sequence[str] = ()
) -> str:
    """The redirect's words, read back from the settings (so a link cannot make the page claim a change): of a
    停用's entries and child units, those the successor now holds."""
    if done in ("unit", "deactivate", "activate"):
        try:
            unit = orders.get_unit(session, what)
        except NotFound:
            return ""
        if done == "deactivate":
            return _deactivated(session, unit, to, moved, children)
        if done == "activate":
            return f"已启用承办单位：{unit.code} {unit.name}" if unit.active else ""
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
            return f"已保存派单目录：{entry_label(category, region_code, line)} → {entry.unit.name}"
        if done == "remove" and entry is None:
            return f"已删除派单目录：{entry_label(category, region_code, line)}"
    return ""


def _deactivated(session: Session, unit: Any, to: str, moved: Sequence[str], children: Sequence[str]) -> str:
    if unit.active:
        return ""
    said = f"已停用承办单位：{unit.code} {unit.name}"
    try:
        heir = orders.get_unit(session, to) if to else None
    except NotFound:
        heir = None
    if heir is None:
        return said
    held = {
        catalogue_key(e.category, e.region_code, e.line) for e in orders.list_catalogue(session) if e.unit_id == heir.id
    }
    entries = [entry_label(*key.rsplit("|", 2)) for key in moved if key in held]
    under = {u["code"]: u["name"] for u in orders.list_units(session) if u["parent"] == heir.code}
    units = [f"{under[code]}（{code}）" for code in children if code in under]
    if entries:
        said += f"。以下 {len(entries)} 条派单目录改由{heir.name}承办：{'、'.join(entries)}"
    if units:
        said += f"。以下 {len(units)} 个下级单位改隶{heir.name}：{'、'.join(units)}"
    return said


def _page(
    request: Request,
    session: Session,
    role: str,
    *,
    shown: dict[str, str] | None = None,
    asked: dict[str, str] | None = None,
    notice: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
    deactivating: str = "",
    activating: str = "",
) -> HTMLResponse:
    asked = asked or {"category": "", "region": "", "line": ""}
    shown = shown or {"region": "", "status": "", "changes_kind": "", "changes_before": ""}
    region = shown["region"]
    context: dict[str, Any] = {"error": error, "typed": typed or {}, "shown": shown, "asked": asked, "units": []}
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE, page=PAGE)
        viewer.require("GET", PAGE)
    except HotlineError as exc:
        return render(request, "settings.html", TITLE, status_code=exc.http_status, **{**context, "error": exc})
    units = orders.list_units(session)
    names = {u["code"]: u["name"] for u in units}
    wanted = {"": None, "active": True, "inactive": False}[shown["status"]]
    listed = [
        u
        for u in units
        if (not region or u["region_code"] == region or _within(u["region_code"], region))
        and (wanted is None or u["active"] is wanted)
    ]
    tree = orders.category_tree(session)
    can_change = viewer.may("POST", UNITS)
    if typed and typed.get("form") == "deactivate":
        deactivating = typed["code"]
    if typed and typed.get("form") == "activate":
        activating = typed["code"]
    context.update(
        viewer=viewer,
        can_change=can_change,
        notice=notice,
        units=[
            {**u, "region_label": region_label(u["region_code"]), "parent_name": names.get(u["parent"] or "")}
            for u in listed
        ],
        statuses=list(UNIT_STATUSES.items()),
        all_units=units,
        deactivation=_deactivation(session, viewer, deactivating) if can_change and deactivating else None,
        activation=_activation(session, activating) if can_change and activating else None,
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
        changes=change_records(
            session, viewer, PAGE, kind=shown["changes_kind"], before=wanted_before(shown["changes_before"])
        ),
    )
    return render(request, "settings.html", TITLE, status_code=error.http_status if error else 200, **context)


def _deactivation(session: Session, viewer: Viewer, code: str) -> dict[str, Any] | None:
    """What the 停用 of CODE would meet: the confirmation step's facts, and the successors to choose from."""
    try:
        held = reorganise.ties(session, code)
    except NotFound:
        return None
    return {
        "unit": held.unit,
        "open_orders": held.open_orders,
        "orders_href": f"/orders?{urlencode({'role': viewer.role, 'unit': held.unit.code})}",
        "entries": [entry_label(e.category, e.region_code, e.line) for e in held.entries],
        "children": held.children,
        "accounts": accounts.bound_to_unit(session, held.unit.code),
        "successors": reorganise.successor_choices(session, held.unit.code),
    }


def _activation(session: Session, code: str) -> dict[str, Any] | None:
    """What the 启用 of CODE, out of service, would change: the confirmation step's facts."""
    try:
        held = reorganise.ties(session, code)
    except NotFound:
        return None
    if held.unit.active:
        return None
    return {
        "unit": held.unit,
        "successor": reorganise.successor_named(session, held.unit.code),
        "entries": [entry_label(e.category, e.region_code, e.line) for e in held.entries],
        "accounts": accounts.bound_to_unit(session, held.unit.code),
    }


def _within(code: str, city: str) -> bool:
    """A 区（县）code within the 市（州）CITY (the province holds none of its own)."""
    return city != PROVINCE.code and city_code(code) == city


def _lookup(session: Session, asked: dict[str, str]) -> dict[str, Any] | None:
    """这个分类在某地区派给谁: the very lookup the dispatch suggestion makes for a demand of that region and line."""
    if not asked["category"]:
        return None
    try:
        # The province, a 市（州）by name or code, or a 区（县）by its code as orders carry it.
        region = orders.unit_region(asked["region"] or PROVINCE.code)
        unit = orders.lookup_dispatch_catalogue(session, asked["category"], region, asked["line"] or None)
    except HotlineError as exc:
        return {"error": exc}
    return {"unit": unit, "region_label": region_label(region)}
