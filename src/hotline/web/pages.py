"""Web pages for people: thin views over the capabilities' services, rendered on the server.

Each page parses its query, calls service functions, and renders a template. Domain errors are shown on
the page (with their stable code in `data-code`) and answered with the error's HTTP status.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from hotline.accounts.api import acting, identity_of
from hotline.accounts.policy import POLICY
from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.plan import service as plan_service
from hotline.plan.domain import MODE_LABELS, STATUS_LABELS
from hotline.plan.regions import PROVINCE, REGIONS, region_name
from hotline.routing import service as routing_service
from hotline.timeutil import china, china_day, now, parse_day, parse_instant
from hotline.web.viewer import staff_roles

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _marked(text: str) -> Markup:
    """Escape a search snippet, then let only its <mark> tags through."""
    escaped = str(escape(text))
    return Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))


templates.env.filters["marked"] = _marked
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=str(HERE / "static"))


NAV = (
    ("/", "总览"),
    ("/plan", "整合进度"),
    ("/route", "来电路由"),
    ("/calls", "话务记录"),
    ("/callbacks", "漏话回拨"),
    ("/quality", "质检"),
    ("/nuisance", "骚扰号码"),
    ("/orders", "工单"),
    ("/orders/new", "受理工单"),
    ("/sms", "短信记录"),
    ("/sms/replies", "短信回访"),
    ("/monitor", "实时监控"),
    ("/kpis", "考核指标"),
    ("/hotspots", "热点诉求"),
    ("/feeds", "数据汇聚"),
    ("/seats", "座席测算"),
    ("/calendar", "工作日历"),
    ("/settings/dispatch", "派单设置"),
    ("/kb", "知识库"),
    ("/track", "进度查询"),
    ("/accounts", "账号管理"),
)


def _context(request: Request, title: str, context: dict[str, Any]) -> dict[str, Any]:
    """What every page's frame needs: the signed-in account and the links it may follow."""
    me = identity_of(request)
    nav = [(href, label) for href, label in NAV if me is None or POLICY.allows("GET", href, me.grants)]
    own_page = me is not None and POLICY.allows("GET", "/account", me.grants)  # people's, not systems'
    return {"title": title, "regions": REGIONS, "me": me, "nav": nav, "own_page": own_page, **context}


def render(request: Request, name: str, title: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, _context(request, title, context), status_code=status_code)


def page_html(request: Request, name: str, title: str, **context: Any) -> str:
    """A page as text, for answers made outside a route (the sign-in guard's refusals)."""
    return templates.get_template(name).render(request=request, **_context(request, title, context))


def _error_page(request: Request, name: str, title: str, exc: HotlineError, **context: Any) -> HTMLResponse:
    return render(request, name, title, status_code=exc.http_status, error=exc, **context)


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, role: str = "", unit: str = "", actor: str = "", session: Session = SESSION
) -> HTMLResponse:
    today = china_day(now())
    todo = _todo(request, session, role, unit, actor)
    statuses = plan_service.status(session, None, today)
    by_mode: dict[str, Counter[str]] = {}
    for item in statuses:
        by_mode.setdefault(MODE_LABELS[item.line.mode], Counter())[item.status.value] += 1
    overdue = plan_service.overdue(session, today, statuses=statuses)
    from hotline import workers
    from hotline.aggregation import service as aggregation
    from hotline.aggregation.domain import FRESHNESS_LABELS
    from hotline.calendar import service as calendar
    from hotline.settings import get_settings

    feeds = aggregation.overview(session)["sources"]
    settings = get_settings()
    queue = workers.read_status(settings.data_dir, enabled=settings.queue_workers)
    return render(
        request,
        "overview.html",
        "总览",
        today=today,
        todo=todo,
        calendar_gaps=calendar.unentered_years(session, today),
        # A stopped listener turns every source 延迟 then 中断: the overview says so before the counts.
        queue_warnings=[w for w in queue.workers.values() if w.level == "warn"],
        feed_counts=Counter(f["freshness"] for f in feeds),
        feed_labels={f.value: label for f, label in FRESHNESS_LABELS.items()},
        feed_classes=_FRESHNESS_CLASSES,
        silent_feeds=[f for f in feeds if f["freshness"] in ("late", "silent")],
        by_mode=by_mode,
        overdue_units=sorted(((unit, len(items)) for unit, items in overdue.items()), key=lambda x: -x[1])[:15],
        status_labels={s.value: label for s, label in STATUS_LABELS.items()},
    )


def _todo(request: Request, session: Session, role: str, unit: str, actor: str = "") -> dict[str, Any] | None:
    """我的待办 of the acting role (as /orders takes it), each count linking to the order list narrowed to it; None
    for a role without order work. ACTOR: with sign-in off, who an agent is (their own 质检 results)."""
    from hotline.workorders import domain as wo
    from hotline.workorders import service as orders

    try:
        who = acting(request, role or None, unit or None, actor.strip(), default="supervisor")
    except HotlineError as exc:
        # Only a role asked for and not held is worth saying; an account without a staff role has no order work.
        return {"error": exc, "lines": []} if role else None
    kind = next((r for r in wo.TODO_STATES if r.value == who.role), None)
    if kind is None:
        return None
    card: dict[str, Any] = {"role": who.role, "role_label": wo.ROLE_LABELS[kind], "lines": [], "error": None}
    query = {"role": who.role}
    try:
        if kind is wo.Role.DEPARTMENT and who.unit:
            query["unit"] = who.unit
            card["unit_name"] = orders.get_unit(session, who.unit).name
        lines = orders.todo(session, who.role, unit=query.get("unit"))
    except HotlineError as exc:
        card["error"] = exc
        return card
    for line in lines:
        href = "/orders?" + urlencode({**query, "state": line.state})
        card["lines"].append(
            {"line": line, "href": href, "near_due_href": f"{href}&sla=near_due", "overdue_href": f"{href}&sla=overdue"}
        )
    card["kb"] = _kb_todo(session, who.role)
    card["visits"] = _visits_todo(session, who.role)
    from hotline.web.callbacks_page import todo_line

    card["callbacks"] = todo_line(session, who.role)  # 待回拨 (漏话回拨), for those who call back
    from hotline.web import quality_page

    # 质检: 待质检 and 申诉待复核 for those who inspect; an agent's results to confirm or appeal
    card["quality"] = quality_page.todo_line(session, who.role, who.actor, signed_in=identity_of(request) is not None)
    from hotline.web import nuisance_page

    card["nuisance"] = nuisance_page.todo_line(session, who.role)  # 骚扰号码待审核, for those who decide, when any
    from hotline.web import sms_page

    card["sms"] = sms_page.todo_line(session, who.role)  # 短信发送失败, for those who may resend, when any
    card["sms_survey"] = sms_page.survey_todo_line(session, who.role)  # 短信评价不满意, for agents and dispatchers
    return card


def _visits_todo(session: Session, role: str) -> dict[str, Any] | None:
    """The 回访超期 line of 我的待办 for the roles that chase the agents' late callbacks (`VISIT_OVERDUE_WATCHERS`):
    how many orders wait for their callback past the 回访时限, linking to the very list that counts them."""
    from hotline.workorders import domain as wo
    from hotline.workorders import service as orders

    if role not in {r.value for r in wo.VISIT_OVERDUE_WATCHERS}:
        return None
    state, sla = wo.State.TO_VISIT.value, wo.Sla.OVERDUE.value
    count = orders.count_orders(session, orders.OrderFilters(state=state, sla=sla), role=role)
    return {"count": count, "href": "/orders?" + urlencode({"role": role, "state": state, "sla": sla})}


def _kb_todo(session: Session, role: str) -> dict[str, Any] | None:
    """The knowledge lines of 我的待办 for a role that maintains the knowledge base (知识维护), else None."""
    from hotline.accounts.domain import Grant
    from hotline.knowledge import service as knowledge
    from hotline.knowledge.domain import REVIEW_WORKDAYS
    from hotline.web.kb_pages import MANAGE

    if not POLICY.allows("GET", MANAGE, tuple(g for g in Grant if g.value == role)):
        return None
    queue = knowledge.maintenance_queue(session)
    href = f"{MANAGE}?{urlencode({'role': role})}"
    counts = {"review": len(queue.review), "flags": len(queue.flags), "overdue": queue.overdue_flags}
    return {**counts, "href": href, "review_days": REVIEW_WORKDAYS}


@router.get("/route", response_class=HTMLResponse)
def route_page(
    request: Request,
    dialed: str = "",
    region: str = PROVINCE.name,
    at: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    context: dict[str, Any] = {"dialed": dialed, "region": region, "at": at, "decision": None}
    if not dialed:
        return render(request, "route.html", "来电路由", **context)
    try:
        instant = parse_instant(at) if at else now()
        decision = routing_service.decide(session, dialed, region, instant)
    except HotlineError as exc:
        return _error_page(request, "route.html", "来电路由", exc, **context)
    context.update(decision=decision, at=china(instant).strftime("%Y-%m-%dT%H:%M"))
    return render(request, "route.html", "来电路由", **context)


# -- work orders -------------------------------------------------------------------------------------------------
@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request,
    role: str = "",
    state: str = "",
    sla: str = "",
    unit: str = "",
    region: str = "",
    type: str = "",
    channel: str = "",
    since: str = "",
    until: str = "",
    category: str = "",  # a path or a prefix of one (热点诉求 links a category's orders of a period)
    words: str = "",  # 关键词 (热点诉求 links a hot word's orders of a period)
    session: Session = SESSION,
) -> HTMLResponse:
    from hotline.workorders import domain as wo
    from hotline.workorders import service as orders

    filters = {
        "state": state, "sla": sla, "unit": unit, "region": region, "type": type, "channel": channel,
        "since": since, "until": until, "category": category, "words": words,
    }  # fmt: skip
    context: dict[str, Any] = {"role": role, **filters}
    context["roles"] = staff_roles(request)
    context["states"] = [(s.value, label) for s, label in wo.STATE_LABELS.items()]
    context["types"] = [t.value for t in wo.OrderType]
    context["channels"] = [(c.value, label) for c, label in wo.CHANNEL_LABELS.items()]
    # Units out of service too (停用): their past orders are still looked up.
    context["units"] = [
        (u["code"], u["name"] + ("" if u["active"] else "（已停用）")) for u in orders.list_units(session)
    ]
    try:
        # A handling unit sees its own unit's orders (signed in: the account's unit, whatever the query says);
        # for the others 承办单位 is one more filter.
        who = acting(request, role or None, unit or None, default="supervisor")
        context.update(role=who.role, unit=who.unit or "")
        filters["unit"] = who.unit or ""
        rows = orders.list_orders(session, orders.OrderFilters.parse(**filters), role=who.role, limit=200)
    except HotlineError as exc:
        return _error_page(request, "orders.html", "工单", exc, rows=[], **context)
    # 导出 Excel: every order under the page's filters (the page shows at most 200), for the same role.
    wanted = {"role": who.role, **{k: v for k, v in filters.items() if v}}
    context["export_href"] = f"/api/orders/export.xlsx?{urlencode(wanted)}"
    return render(request, "orders.html", "工单", rows=rows, **context)


@router.get("/orders/{number}", response_class=HTMLResponse)
def order_page(
    request: Request,
    number: str,
    role: str = "",
    unit: str = "",
    done: str = "",
    created: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    from hotline.web import order_actions
    from hotline.workorders import service as orders

    try:
        who = acting(request, role or None, unit or None, default="supervisor")
        order = orders.show_order(session, number, who.role, unit=who.unit)
    except HotlineError as exc:
        return _error_page(request, "order.html", f"工单 {number}", exc, order=None, role=role)
    # 办理: the steps the role may take now, and the notice of the one just taken (web.order_actions)
    work = order_actions.work_context(session, request, order, who, done=done)
    return render(request, "order.html", f"工单 {number}", order=order, role=who.role, created=bool(created), **work)


@router.get("/track", response_class=HTMLResponse)
def track_page(request: Request, number: str = "", phone_last4: str = "", session: Session = SESSION) -> HTMLResponse:
    """Citizens look up their own order with its number and the last four digits of their phone."""
    from hotline.workorders import service as orders

    context: dict[str, Any] = {"number": number, "phone_last4": phone_last4, "order": None}
    if not number:
        return render(request, "track.html", "办理进度查询", **context)
    try:
        context["order"] = orders.public_lookup(session, number, phone_last4)
    except HotlineError as exc:
        return _error_page(request, "track.html", "办理进度查询", exc, **context)
    return render(request, "track.html", "办理进度查询", **context)


# -- knowledge base ----------------------------------------------------------------------------------------------
@router.get("/kb", response_class=HTMLResponse)
def kb_page(
    request: Request, q: str = "", line: str = "", region: str = "", role: str = "", session: Session = SESSION
) -> HTMLResponse:
    from hotline.knowledge import search
    from hotline.knowledge import service as knowledge
    from hotline.web.kb_pages import search_context  # each hit links to its article page (web.kb_pages)

    context: dict[str, Any] = {"q": q, "line": line, "region": region, "hits": None, **search_context(request, role)}
    if not q.strip():
        return render(request, "kb.html", "知识库", **context)
    filters = search.Filters(line=line or None, region=region or None)
    try:
        context["hits"] = knowledge.search_articles(session, q, top=10, filters=filters)
    except HotlineError as exc:
        return _error_page(request, "kb.html", "知识库", exc, **context)
    return render(request, "kb.html", "知识库", **context)


# -- seat planning -----------------------------------------------------------------------------------------------
_SEAT_DEFAULTS = {"region": PROVINCE.code, "first": "", "last": "", "available": "", "answer_within": "15",
                  "service_level": "0.8", "max_occupancy": "0.85", "shrinkage": "0.3", "patience": "60"}  # fmt: skip


@router.get("/seats", response_class=HTMLResponse)
def seats_page(request: Request) -> HTMLResponse:
    return render(request, "seats.html", "座席测算", form=_SEAT_DEFAULTS, plan=None)


@router.post("/seats", response_class=HTMLResponse)
async def seats_plan(request: Request, session: Session = SESSION) -> HTMLResponse:
    from hotline.staffing import service as staffing
    from hotline.staffing.domain import Target
    from hotline.tables import uploaded

    data = await request.form()
    form = {k: str(data.get(k) or default) for k, default in _SEAT_DEFAULTS.items()}
    upload = data.get("forecast")
    try:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InvalidInput("请选择来电预测文件", code="forecast-required")
        try:
            target = Target(*(float(form[k]) for k in ("answer_within", "service_level", "max_occupancy", "shrinkage")))
            available = int(form["available"]) if form["available"] else None
            patience = float(form["patience"])
        except ValueError:
            raise InvalidInput("测算参数须为数字", code="invalid-target") from None
        with uploaded(upload.filename, await upload.read()) as path:
            forecast = staffing.read_forecast(path)
        plan = staffing.plan_seats(
            session,
            forecast,
            region=form["region"],
            first=parse_day(form["first"]) if form["first"] else None,
            last=parse_day(form["last"]) if form["last"] else None,
            target=target,
            available=available,
            patience=patience,
        )
    except HotlineError as exc:
        return _error_page(request, "seats.html", "座席测算", exc, form=form, plan=None)
    return render(request, "seats.html", "座席测算", form=form, plan=plan.to_dict())


# -- supervision -------------------------------------------------------------------------------------------------
@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(
    request: Request,
    since: str = "",
    until: str = "",
    region: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    from datetime import timedelta

    from hotline.quality.api import sees_agents
    from hotline.settings import get_settings
    from hotline.supervision import service as supervision
    from hotline.supervision.export import AGENTS_HIDDEN

    context: dict[str, Any] = {"since": since, "until": until, "region": region, "report": None}
    try:
        end = parse_day(until) if until else china_day(now())
        start = parse_day(since) if since else end - timedelta(days=29)
        # 质检 results by name to those who inspect only
        report = supervision.report(session, start, end, region=region or None, quality_agents=sees_agents(request))
    except HotlineError as exc:
        return _error_page(request, "kpis.html", "考核指标", exc, **context)
    context.update(since=start.isoformat(), until=end.isoformat(), report=report)
    context["callback_hours"] = get_settings().callback_hours  # 漏话回拨's deadline, said with its KPIs
    context["agents_hidden"] = AGENTS_HIDDEN
    context["visit_days"] = _visit_days(session)  # the 回访时限 按时回访率 is judged by, said with it
    # 导出 Excel: the report shown, so the period the defaults filled in, not only what the query named.
    shown = {"since": start.isoformat(), "until": end.isoformat(), **({"region": region} if region else {})}
    context["export_href"] = f"/api/supervision/kpis/export.xlsx?{urlencode(shown)}"
    if report["orders"] == 0:
        # An empty period (the demo's orders are from the plan's year): point to where the latest orders are.
        latest = supervision.latest_order_day(session, region=region or None)
        if latest is not None and latest < start:
            context["latest"] = {"day": latest.isoformat(), "since": (latest - timedelta(days=29)).isoformat()}
    return render(request, "kpis.html", "考核指标", **context)


def _visit_days(session: Session) -> int:
    """The 回访 limit in working days (派单设置), as the pages state the local rule."""
    from hotline.workorders import service as orders
    from hotline.workorders.domain import VISIT_LIMIT

    return orders.get_limits(session)[VISIT_LIMIT]


# -- data gathered from sub-centres and cities (数据汇聚) ---------------------------------------------------------
_FRESHNESS_CLASSES = {"live": "state-done", "late": "sla-near_due", "silent": "state-overdue", "never": "state-overdue"}
_TRANSPORT_LABELS = {"http": "接口", "queue": "消息队列"}


def _china_minute(value: str | None) -> str:
    """An ISO instant (as the services give it, UTC if it has no offset) in China time to the minute; "—" if none."""
    return china(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M") if value else "—"


templates.env.filters["china_minute"] = _china_minute
# A region code as people know it (成都市), or what was stored if the catalogue does not name it.
templates.env.filters["region_name"] = region_name


@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(request: Request, session: Session = SESSION) -> HTMLResponse:
    from hotline import workers
    from hotline.accounts.domain import Grant
    from hotline.aggregation import service as aggregation
    from hotline.aggregation.domain import LATE_WITHIN, LIVE_WITHIN
    from hotline.settings import get_settings

    state = aggregation.overview(session)
    settings = get_settings()
    me = identity_of(request)
    return render(
        request,
        "feeds.html",
        "数据汇聚",
        **state,
        # When the listener is down every source turns 延迟 then 中断 with it: the page says why first.
        queue=workers.read_status(settings.data_dir, enabled=settings.queue_workers),
        administrator=me is not None and Grant.ADMIN in me.grants,
        freshness_classes=_FRESHNESS_CLASSES,
        live_minutes=int(LIVE_WITHIN.total_seconds() // 60),
        late_minutes=int(LATE_WITHIN.total_seconds() // 60),
    )


@router.get("/feeds/{code}", response_class=HTMLResponse)
def feed_page(
    request: Request, code: str, since: str = "", until: str = "", session: Session = SESSION
) -> HTMLResponse:
    from datetime import timedelta

    from hotline.aggregation import service as aggregation

    context: dict[str, Any] = {"code": code, "since": since, "until": until, "report": None}
    context["transport_labels"] = _TRANSPORT_LABELS
    try:
        end = parse_day(until) if until else china_day(now())
        start = parse_day(since) if since else end - timedelta(days=29)
        report = aggregation.report(session, code, start, end)
    except HotlineError as exc:
        return _error_page(request, "feed.html", f"数据来源 {code}", exc, **context)
    context.update(since=start.isoformat(), until=end.isoformat(), report=report)
    return render(request, "feed.html", f"数据汇聚 · {report['source']['name']}", **context)
