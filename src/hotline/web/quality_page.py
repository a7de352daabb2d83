"""质检 (话务/工单质检): for supervisors and administrators, the 待质检 tasks with the draw (抽检) and pick forms, the
appeals to review (申诉待复核), the results given, and the figures per agent; for an agent, 我的质检: their own results
and figures. Each inspection has its page (`/quality/{id}`): the order (caller masked, as supervisors see it
everywhere), the call it was taken from (no recording is kept: the page says so), the result item by item, its
history, and the form its viewer may use now (评分 or 作废, 确认/申诉, 复核). 质检标准 (`/quality/sheet`): the sheet, which an
administrator changes, and its 变更记录.

Thin handlers over `quality.service`. Who may do what is the access table's rule for the role acted in; with sign-in
off the page is viewed as the role named (`role`, by default 督办审核员) and an agent names themself (`actor`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.quality import domain as q
from hotline.quality import service
from hotline.supervision.service import KPI_DAYS, period_bounds, period_of
from hotline.tables import whole_number
from hotline.timeutil import china_day, now
from hotline.web.change_records import change_records, wanted_before
from hotline.web.pages import render
from hotline.web.viewer import Viewer, page_roles, page_viewer, posted_step, viewer_of

router = APIRouter(include_in_schema=False)

TITLE = "话务质检"
PAGE = "/quality"
SHEET_PAGE = "/quality/sheet"
DEFAULT_ROLE = "supervisor"
TABS = (
    ("pending", "待质检"),
    ("appeals", "申诉待复核"),
    ("done", "已质检"),
    ("voided", "已作废"),
    ("figures", "质检统计"),
)
NO_RECORDING = "本平台不保存通话录音：质检依据工单记录和通话信息（时间、拨打号码、时长）。"
NOTICES = {  # what the page says after a step, by the step (the pick form's: `picked`)
    "picked": "已列入待质检",
    "score": "已评分",
    "confirm": "已确认质检结果",
    "appeal": "已提交申诉，待复核",
    "review": "已复核",
    "void": "已作废该质检任务：不再评分，该工单不会再被抽检",
}
VOID_RULE = "作废仅限待质检的任务（如测试来电、重复工单已并单、话务员已离职），须写明原因；作废后不能评分，该工单也不会再被抽检或指定抽检（每张工单只质检一次）。"


def _viewer(request: Request, role: str, actor: str = "") -> Viewer:
    return page_viewer(request, role, PAGE, default=DEFAULT_ROLE, actor=actor)


def _inspects(viewer: Viewer) -> bool:
    """Whether the role acted in inspects (draws, scores, reviews); else it is an agent seeing their own."""
    return viewer.acts_as("POST", "/quality/draw")


def _query(viewer: Viewer, **more: str) -> str:
    """The query that keeps the viewer's role (and, with sign-in off, the agent's name) across the pages."""
    keep = {"role": viewer.role, **({"actor": viewer.actor} if not viewer.signed_in and not _inspects(viewer) else {})}
    return urlencode({**keep, **{k: v for k, v in more.items() if v}})


# -- the list page ---------------------------------------------------------------------------------------------------
@router.get(PAGE, response_class=HTMLResponse)
def quality_page(
    request: Request,
    role: str = "",
    actor: str = "",
    tab: str = "pending",
    since: str = "",
    until: str = "",
    drawn: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    return _list_page(request, session, role, actor, tab, since, until, drawn=drawn)


@router.post("/quality/draw")
def draw_form(
    request: Request,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    per_agent: Annotated[str, Form()] = "",
    seed: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"since": since, "until": until, "per_agent": per_agent, "seed": seed}

    def work(viewer: Viewer) -> dict[str, Any]:
        start, end = period_of(since or None, until or None, days=service.DRAW_DAYS)
        count = _integer(per_agent, "每人抽取数须为正整数", "quality-invalid-count")
        return service.draw(session, start, end, count, seed=_seed(seed), actor=viewer.actor)

    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        "/quality/draw",
        work,
        refused=lambda exc: _list_page(request, session, role, actor, "pending", "", "", error=exc, typed=typed),
        to=lambda viewer, done: f"{PAGE}?{_query(viewer, drawn=str(done['draw']['id']))}",
    )


@router.post("/quality/pick")
def pick_form(
    request: Request,
    number: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        "/quality/pick",
        lambda viewer: service.pick(session, number, actor=viewer.actor),
        refused=lambda exc: _list_page(
            request, session, role, actor, "pending", "", "", error=exc, typed={"number": number}
        ),
        to=lambda viewer, made: f"{PAGE}/{made['id']}?{_query(viewer, done='picked')}",
    )


def _integer(text: str, message: str, code: str) -> int:
    found = whole_number(text)
    if found is None:
        raise InvalidInput(message, code=code)
    return found


def _seed(text: str) -> int | None:
    return _integer(text, "随机种子须为非负整数", "quality-invalid-seed") if text.strip() else None


def _period(since: str, until: str) -> tuple[str, str, Any, Any]:
    start, end = period_of(since or None, until or None, days=KPI_DAYS)
    return start.isoformat(), end.isoformat(), *period_bounds(start, end)


def _list_page(
    request: Request,
    session: Session,
    role: str,
    actor: str,
    tab: str,
    since: str,
    until: str,
    *,
    drawn: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    today = china_day(now())
    context: dict[str, Any] = {
        "role": role,
        "roles": page_roles(request, PAGE),
        "tab": tab if tab in dict(TABS) else "pending",
        "inspections": [],
        "total": None,
        "figures": None,
        "error": error,
        "typed": typed or {},
        "draw_since": (today - timedelta(days=service.DRAW_DAYS - 1)).isoformat(),
        "draw_until": today.isoformat(),
        "since": since,
        "until": until,
    }
    try:
        viewer = _viewer(request, role, actor)
        inspects = _inspects(viewer)
        context.update(role=viewer.role, viewer=viewer, inspects=inspects, actor=viewer.actor)
        context["since"], context["until"], start, end = _period(since, until)
        if inspects:
            if context["tab"] == "figures":
                context["figures"] = service.figures(session, start, end)
            else:
                found = service.list_inspections(session, status=context["tab"])
                context.update(inspections=found["inspections"], total=found["total"])
            context["counts"] = service.inspector_counts(session)
        else:
            found = service.list_inspections(session, status="done", agent=viewer.actor)
            context.update(inspections=found["inspections"], total=found["total"])
            context["figures"] = service.figures(session, start, end, agent=viewer.actor)
        context["sheet"] = service.sheet_view(session)
    except HotlineError as exc:
        return render(request, "quality.html", TITLE, status_code=exc.http_status, **{**context, "error": error or exc})
    context.update(
        tabs=[(value, label, f"{PAGE}?{_query(viewer, tab=value)}") for value, label in TABS],
        can_draw=inspects,
        notice=_drawn_notice(session, drawn),
        query=_query(viewer),
    )
    status = error.http_status if error is not None else 200
    return render(request, "quality.html", TITLE if inspects else "我的质检", status_code=status, **context)


def _drawn_notice(session: Session, drawn: str) -> str:
    draw_id = whole_number(drawn)
    found = service.get_draw(session, draw_id) if draw_id is not None else None
    if found is None:
        return ""
    return (
        f"已抽检：{found['since']} 至 {found['until']} 受理的 {found['candidates']} 张未质检工单中，"
        f"每名话务员抽取 {found['per_agent']} 张，共 {found['drawn']} 张待质检（随机种子 {found['seed']}）"
    )


# -- one inspection --------------------------------------------------------------------------------------------------
@router.get("/quality/sheet", response_class=HTMLResponse)
def sheet_page(
    request: Request,
    role: str = "",
    actor: str = "",
    done: str = "",
    changes_before: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    return _sheet_page(request, session, role, actor, done=done, before=changes_before)


@router.post("/quality/sheet")
def sheet_form(
    request: Request,
    items: Annotated[str, Form()] = "",
    vetoes: Annotated[str, Form()] = "",
    pass_line: Annotated[str, Form()] = "",
    appeal_days: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"items": items, "vetoes": vetoes, "pass_line": pass_line, "appeal_days": appeal_days}

    def work(viewer: Viewer) -> object:
        return service.set_sheet(
            session,
            items=q.parse_items(items),
            vetoes=q.parse_lines(vetoes),
            pass_line=_integer(pass_line, "合格线须为整数", "quality-invalid-sheet"),
            appeal_days=_integer(appeal_days, "申诉时限须为整数", "quality-invalid-sheet"),
            actor=viewer.actor,
        )

    return posted_step(
        session,
        lambda: viewer_of(request, role, default="admin", actor=actor, page=SHEET_PAGE),
        SHEET_PAGE,
        work,
        refused=lambda exc: _sheet_page(request, session, role, actor, error=exc, typed=typed),
        done=lambda viewer: f"{SHEET_PAGE}?{urlencode({'role': viewer.role, 'done': '1'})}",
    )


def _sheet_page(
    request: Request,
    session: Session,
    role: str,
    actor: str,
    *,
    done: str = "",
    before: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {"role": role, "roles": page_roles(request, SHEET_PAGE), "error": error}
    try:
        viewer = page_viewer(request, role, SHEET_PAGE, default=DEFAULT_ROLE, actor=actor)
        sheet = service.sheet_view(session)
    except HotlineError as exc:
        return render(
            request, "quality_sheet.html", "质检标准", status_code=exc.http_status, **{**context, "error": exc}
        )
    shown = q.Sheet.from_dict(sheet)
    as_saved = {
        "items": q.items_text(shown),
        "vetoes": "\n".join(shown.vetoes),
        "pass_line": str(shown.pass_line),
        "appeal_days": str(shown.appeal_days),
    }
    context.update(
        role=viewer.role,
        viewer=viewer,
        sheet=sheet,
        can_change=viewer.acts_as("POST", SHEET_PAGE),
        typed=typed or as_saved,
        notice="已保存质检标准：此后的评分按新标准，已评分的结果不变" if done else "",
        changes=change_records(
            session, viewer, SHEET_PAGE, kind="quality", before=wanted_before(before), choose_kind=False
        ),
        back=f"{PAGE}?{_query(viewer)}",
    )
    status = error.http_status if error is not None else 200
    return render(request, "quality_sheet.html", "质检标准", status_code=status, **context)


@router.get("/quality/{inspection_id}", response_class=HTMLResponse)
def inspection_page(
    request: Request,
    inspection_id: int,
    role: str = "",
    actor: str = "",
    done: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    return _inspection_page(request, session, inspection_id, role, actor, done=done)


def _deductions(items: list[str], points: list[str], notes: list[str]) -> list[q.Deduction]:
    """The scoring form's rows: each item's label, the points typed (blank: none) and its note."""
    return [
        q.Deduction(item, q.parse_points(typed, item), note)
        for item, typed, note in zip(items, points + [""] * len(items), notes + [""] * len(items), strict=False)
    ]


def _veto(item: str, reason: str) -> q.Veto | None:
    return q.Veto(item, reason) if item.strip() else None


def _typed_scores(items: list[str], points: list[str], notes: list[str], veto: str, reason: str) -> dict[str, Any]:
    return {
        "points": dict(zip(items, points, strict=False)),
        "notes": dict(zip(items, notes, strict=False)),
        "veto": veto,
        "veto_reason": reason,
    }


def _act(
    request: Request,
    session: Session,
    inspection_id: int,
    step: str,
    role: str,
    actor: str,
    work: Callable[[Viewer], object],
    typed: dict[str, Any] | None = None,
) -> Response:
    """One step taken from an inspection's page: checked for the role acted in, done by WORK and committed, then back
    to the page saying so; refused, the page again with why and what was typed, nothing written."""
    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        f"/quality/{inspection_id}/{step}",
        work,
        refused=lambda exc: _inspection_page(request, session, inspection_id, role, actor, error=exc, typed=typed),
        done=lambda viewer: f"{PAGE}/{inspection_id}?{_query(viewer, done=step)}",
    )


@router.post("/quality/{inspection_id}/score")
def score_form(
    request: Request,
    inspection_id: int,
    item: Annotated[list[str] | None, Form()] = None,
    points: Annotated[list[str] | None, Form()] = None,
    note: Annotated[list[str] | None, Form()] = None,
    veto: Annotated[str, Form()] = "",
    veto_reason: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    rows = (item or [], points or [], note or [])
    typed = {"form": "score", **_typed_scores(*rows, veto, veto_reason)}

    def work(viewer: Viewer) -> object:
        return service.score(
            session, inspection_id, _deductions(*rows), veto=_veto(veto, veto_reason), actor=viewer.actor
        )

    return _act(request, session, inspection_id, "score", role, actor, work, typed)


@router.post("/quality/{inspection_id}/confirm")
def confirm_form(
    request: Request,
    inspection_id: int,
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    def work(viewer: Viewer) -> object:
        return service.confirm(session, inspection_id, agent=viewer.actor)

    return _act(request, session, inspection_id, "confirm", role or "agent", actor, work)


@router.post("/quality/{inspection_id}/appeal")
def appeal_form(
    request: Request,
    inspection_id: int,
    reason: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    def work(viewer: Viewer) -> object:
        return service.appeal(session, inspection_id, reason, agent=viewer.actor)

    typed = {"form": "appeal", "reason": reason}
    return _act(request, session, inspection_id, "appeal", role or "agent", actor, work, typed)


@router.post("/quality/{inspection_id}/review")
def review_form(
    request: Request,
    inspection_id: int,
    outcome: Annotated[str, Form()] = "",
    review_note: Annotated[str, Form()] = "",
    item: Annotated[list[str] | None, Form()] = None,
    points: Annotated[list[str] | None, Form()] = None,
    note: Annotated[list[str] | None, Form()] = None,
    veto: Annotated[str, Form()] = "",
    veto_reason: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    rows = (item or [], points or [], note or [])
    typed = {
        "form": "review",
        "outcome": outcome,
        "review_note": review_note,
        **_typed_scores(*rows, veto, veto_reason),
    }
    changing = outcome == q.Outcome.CHANGE.value  # 维持原结果 leaves the result as it is, whatever the table says

    def work(viewer: Viewer) -> object:
        return service.review(
            session,
            inspection_id,
            outcome,
            review_note,
            deductions=_deductions(*rows) if changing else (),
            veto=_veto(veto, veto_reason) if changing else None,
            actor=viewer.actor,
        )

    return _act(request, session, inspection_id, "review", role, actor, work, typed)


@router.post("/quality/{inspection_id}/void")
def void_form(
    request: Request,
    inspection_id: int,
    void_reason: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    def work(viewer: Viewer) -> object:
        return service.void(session, inspection_id, void_reason, actor=viewer.actor)

    typed = {"form": "void", "void_reason": void_reason}
    return _act(request, session, inspection_id, "void", role, actor, work, typed)


def _inspection_page(
    request: Request,
    session: Session,
    inspection_id: int,
    role: str,
    actor: str,
    *,
    done: str = "",
    error: HotlineError | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    title = f"质检 #{inspection_id}"
    context: dict[str, Any] = {"role": role, "roles": page_roles(request, PAGE), "inspection": None, "error": error}
    try:
        viewer = _viewer(request, role, actor)
        inspects = _inspects(viewer)
        found = service.get_inspection(session, inspection_id, own=None if inspects else viewer.actor)
    except HotlineError as exc:
        return render(
            request, "quality_inspection.html", title, status_code=exc.http_status, **{**context, "error": exc}
        )
    path = f"/quality/{inspection_id}"
    sheet = q.Sheet.from_dict(found["sheet"])
    result = found["result"] or {}
    context.update(
        role=viewer.role,
        viewer=viewer,
        inspection=found,
        inspects=inspects,
        may_score=found["status"] == q.Status.PENDING.value and viewer.acts_as("POST", f"{path}/score"),
        may_void=found["status"] == q.Status.PENDING.value and viewer.acts_as("POST", f"{path}/void"),
        void_rule=VOID_RULE,
        may_answer=found["open_for_agent"] and viewer.acts_as("POST", f"{path}/appeal"),
        may_review=found["status"] == q.Status.APPEALED.value and viewer.acts_as("POST", f"{path}/review"),
        rows=_sheet_rows(sheet, result),
        first_rows=_sheet_rows(sheet, found["first_result"]) if found["first_result"] else None,
        typed={**_typed_from(result), **(typed or {})},
        no_recording=NO_RECORDING,
        notice=NOTICES.get(done, ""),
        back=f"{PAGE}?{_query(viewer)}",
        query=_query(viewer),
        outcomes=[(o.value, label) for o, label in q.OUTCOME_LABELS.items()],
    )
    status = error.http_status if error is not None else 200
    return render(request, "quality_inspection.html", title, status_code=status, **context)


def _sheet_rows(sheet: q.Sheet, result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The sheet's items, each with what a result deducted from it."""
    taken = {d["item"]: d for d in (result or {}).get("deductions", [])}
    return [
        {
            "number": n,
            "label": i.label,
            "points": i.points,
            "deducted": taken[i.label]["points"] if i.label in taken else 0,
            "note": taken[i.label]["note"] if i.label in taken else "",
        }
        for n, i in enumerate(sheet.items, start=1)
    ]


def _typed_from(result: dict[str, Any]) -> dict[str, Any]:
    """The review form starts from the result under appeal."""
    deductions = result.get("deductions", [])
    veto = result.get("veto") or {}
    return {
        "form": "",
        "points": {d["item"]: str(d["points"]) for d in deductions},
        "notes": {d["item"]: d["note"] for d in deductions},
        "veto": veto.get("item", ""),
        "veto_reason": veto.get("reason", ""),
    }


# -- 我的待办 --------------------------------------------------------------------------------------------------------
def todo_line(session: Session, role: str, actor: str, *, signed_in: bool) -> dict[str, Any] | None:
    """The 质检 line of 我的待办: for those who inspect, 待质检 and 申诉待复核; for an agent (ACTOR: the account signed
    in, or with sign-in off the name given), their results still to confirm or appeal. None for the other roles,
    and for an agent nobody named."""
    from hotline.accounts.domain import Grant
    from hotline.accounts.policy import POLICY

    grants = tuple(g for g in Grant if g.value == role)
    if POLICY.allows("POST", "/quality/draw", grants):
        href = f"{PAGE}?{urlencode({'role': role})}"
        pending, appeals = service.inspector_counts(session)
        return {
            "inspects": True,
            "pending": pending,
            "appeals": appeals,
            "href": href,
            "appeals_href": f"{href}&tab=appeals",
        }
    if role == Grant.AGENT.value and actor.strip():
        href = f"{PAGE}?{urlencode({'role': role, **({} if signed_in else {'actor': actor})})}"
        return {"inspects": False, "open": service.agent_open_count(session, actor), "href": href}
    return None
