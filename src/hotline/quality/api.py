"""HTTP resources of 话务/工单质检 (`/api/quality/...`): the scoring sheet, draws, inspections and their steps, and
the figures. Supervisors and administrators draw, score and review; an agent reads, confirms and appeals their own
results only (who is who: `accounts.policy`; the role acted in must itself be allowed, as on 漏话回拨). With sign-in
off an agent names themself (`actor`), as the history names them when they take an order in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.accounts.api import acting, identity_of, signed_actor
from hotline.accounts.domain import GRANT_LABELS, Acting, Grant
from hotline.accounts.policy import POLICY
from hotline.deps import SESSION
from hotline.errors import Forbidden, InvalidInput
from hotline.plan.regions import find_region
from hotline.quality import domain as q
from hotline.quality import service
from hotline.supervision.service import KPI_DAYS, period_bounds, period_of

router = APIRouter(prefix="/api/quality", tags=["quality"])


def sees_agents(request: Request) -> bool:
    """Whether the request's account may read each agent's 质检 results by name where the KPIs are shown
    (`domain.sees_agents`)."""
    me = identity_of(request)
    return q.sees_agents(me.grants if me is not None else None)


def acting_in(request: Request, role: str | None, actor: str, method: str, path: str) -> Acting:
    """The role a request acts in (signed in: one the account holds), refused unless that role itself may use the
    resource, and the name it acts under: the account's once signed in; else the name typed, or for those who
    inspect, their role's label. An agent must be someone: their results are theirs (`actor-required`)."""
    who = acting(request, role or None, actor=actor.strip(), default=Grant.SUPERVISOR.value)
    grants = tuple(g for g in Grant if g.value == who.role)
    if not POLICY.allows(method, path, grants):
        raise Forbidden(f"角色 {who.role} 不能执行此操作", code="role-not-allowed", role=who.role)
    name = who.actor or ("" if who.role == Grant.AGENT.value else GRANT_LABELS[grants[0]])
    if not name:
        raise InvalidInput("请说明是哪位话务员（actor）", code="actor-required")
    return Acting(who.role, who.unit, name)


def own_of(who: Acting) -> str | None:
    """Whose results the acting role may see: an agent only their own; those who inspect, everyone's."""
    return who.actor if who.role == Grant.AGENT.value else None


class ItemIn(BaseModel):
    label: str
    points: int


class SheetIn(BaseModel):
    items: list[ItemIn] = Field(..., description="评分项，分值合计 100")
    vetoes: list[str] = Field(default_factory=list, description="一票否决项")
    pass_line: int = Field(q.DEFAULT_PASS_LINE, description="合格线（本中心规定）")
    appeal_days: int = Field(q.DEFAULT_APPEAL_DAYS, description="申诉时限：评分后若干个工作日内（本中心规定）")
    actor: str = Field("", description="修改人（未启用登录时）；登录后记为当前账号")


@router.get("/sheet")
def sheet(session: Session = SESSION) -> dict[str, Any]:
    """The 质检标准 results are scored with now: `items` (label, points; 100 in all), `vetoes` (一票否决),
    `pass_line` (合格线), `appeal_days` (working days to appeal), its `version`."""
    return service.sheet_view(session)


@router.put("/sheet")
def put_sheet(body: SheetIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Change the 质检标准 (administrators): recorded in 设置变更记录; results already given keep the sheet they
    were scored with. 422 `quality-invalid-sheet`."""
    return service.set_sheet(
        session,
        items=[q.Item(i.label, i.points) for i in body.items],
        vetoes=body.vetoes,
        pass_line=body.pass_line,
        appeal_days=body.appeal_days,
        actor=signed_actor(request, body.actor.strip(), role=Grant.ADMIN),
    )


class DrawIn(BaseModel):
    since: str | None = Field(None, description="受理日期起（含），默认最近 7 天")
    until: str | None = Field(None, description="受理日期止（含），默认今天")
    per_agent: int = Field(..., description="每名话务员抽取的工单数")
    seed: int | None = Field(None, description="随机种子（默认随机生成并记录；同一种子对同一批工单抽取结果相同）")
    role: str | None = None
    actor: str = ""


@router.post("/draws", status_code=201)
def post_draw(body: DrawIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """抽检: `per_agent` orders of each agent at random among the lead orders agents took in over the period and
    not yet inspected; answers the draw (with its `seed`) and the 待质检 tasks made. 422 `invalid-period`,
    `quality-invalid-count`, `quality-invalid-seed`."""
    who = acting_in(request, body.role, body.actor, "POST", "/api/quality/draws")
    since, until = period_of(body.since, body.until, days=service.DRAW_DAYS)
    return service.draw(session, since, until, body.per_agent, seed=body.seed, actor=who.actor)


class PickIn(BaseModel):
    number: str = Field(..., description="工单编号")
    role: str | None = None
    actor: str = ""


@router.post("/inspections", status_code=201)
def post_pick(body: PickIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """A 待质检 task on one order picked by its number. 404 `workorder-not-found`, 422 `quality-not-agent-order`,
    409 `quality-already-inspected`."""
    who = acting_in(request, body.role, body.actor, "POST", "/api/quality/inspections")
    return service.pick(session, body.number, actor=who.actor)


@router.get("/inspections")
def list_inspections(
    request: Request,
    status: str = "pending",
    agent: str = "",
    role: str = "",
    actor: str = "",
    limit: int = 200,
    offset: int = 0,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Inspections: `status` pending (待质检), done (已质检), appeals (申诉待复核), voided (已作废) or all. An agent gets their own only;
    those who inspect everyone's, or one `agent`'s (login or name)."""
    who = acting_in(request, role, actor, "GET", "/api/quality/inspections")
    mine = own_of(who)
    return service.list_inspections(
        session, status=status, agent=mine if mine is not None else (agent.strip() or None), limit=limit, offset=offset
    )


@router.get("/inspections/{inspection_id}")
def get_inspection(
    inspection_id: int, request: Request, role: str = "", actor: str = "", session: Session = SESSION
) -> dict[str, Any]:
    """One inspection with the order (caller masked), its call (time, number dialed, duration; no recording is
    kept), the sheet it was scored with and its history. 404 `quality-task-not-found`; an agent, another's:
    403 `quality-not-own`."""
    who = acting_in(request, role, actor, "GET", f"/api/quality/inspections/{inspection_id}")
    return service.get_inspection(session, inspection_id, own=own_of(who))


class DeductionIn(BaseModel):
    item: str = Field(..., description="评分项名称或序号（1 起）")
    points: int
    note: str = ""


class VetoIn(BaseModel):
    item: str = Field(..., description="一票否决项名称或序号（1 起）")
    reason: str = ""


class ScoreIn(BaseModel):
    deductions: list[DeductionIn] = Field(default_factory=list)
    veto: VetoIn | None = None
    role: str | None = None
    actor: str = ""


def _deductions(items: list[DeductionIn]) -> list[q.Deduction]:
    return [q.Deduction(d.item, d.points, d.note) for d in items]


def _veto(veto: VetoIn | None) -> q.Veto | None:
    return q.Veto(veto.item, veto.reason) if veto is not None else None


@router.post("/inspections/{inspection_id}/score")
def post_score(inspection_id: int, body: ScoreIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """评分 on the current sheet: deductions per item with a note, or a 一票否决 with its reason. 404
    `quality-task-not-found`; 409 `quality-already-scored`; 403 `quality-own-order`; 422
    `quality-deduction-too-large`, `quality-note-required`, `quality-unknown-item`, `quality-duplicate-item`,
    `quality-unknown-veto`, `quality-reason-required`."""
    who = acting_in(request, body.role, body.actor, "POST", f"/api/quality/inspections/{inspection_id}/score")
    return service.score(session, inspection_id, _deductions(body.deductions), veto=_veto(body.veto), actor=who.actor)


class AgentIn(BaseModel):
    role: str | None = None
    actor: str = Field("", description="话务员本人（未启用登录时）；登录后为当前账号")


@router.post("/inspections/{inspection_id}/confirm")
def post_confirm(inspection_id: int, body: AgentIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """The agent confirms their own result, giving up the appeal. 403 `quality-not-own`; 409
    `quality-not-confirmable`, `quality-not-scored`."""
    who = acting_in(request, body.role or Grant.AGENT.value, body.actor, "POST", _step(inspection_id, "confirm"))
    return service.confirm(session, inspection_id, agent=who.actor)


class AppealIn(AgentIn):
    reason: str = ""


@router.post("/inspections/{inspection_id}/appeal")
def post_appeal(inspection_id: int, body: AppealIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """The agent appeals their own result once, within the sheet's working days of it. 403 `quality-not-own`; 409
    `quality-appeal-closed`, `quality-not-scored`; 422 `quality-reason-required`."""
    who = acting_in(request, body.role or Grant.AGENT.value, body.actor, "POST", _step(inspection_id, "appeal"))
    return service.appeal(session, inspection_id, body.reason, agent=who.actor)


class ReviewIn(ScoreIn):
    outcome: str = Field(..., description="keep 维持原结果 | change 改分")
    note: str = ""


@router.post("/inspections/{inspection_id}/review")
def post_review(inspection_id: int, body: ReviewIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """复核 an appeal: keep (维持原结果) or change (改分, with the new deductions or veto), with a note. 409
    `quality-not-appealed`; 422 `quality-invalid-outcome`, `quality-note-required` and the scoring refusals."""
    who = acting_in(request, body.role, body.actor, "POST", _step(inspection_id, "review"))
    return service.review(
        session,
        inspection_id,
        body.outcome,
        body.note,
        deductions=_deductions(body.deductions),
        veto=_veto(body.veto),
        actor=who.actor,
    )


class VoidIn(BaseModel):
    reason: str = Field("", description="作废原因（必填）：如测试来电、重复工单已并单、话务员已离职")
    role: str | None = None
    actor: str = ""


@router.post("/inspections/{inspection_id}/void")
def post_void(inspection_id: int, body: VoidIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """作废 a task still 待质检, with a reason: it leaves 待质检 and is never scored; its order is not drawn again.
    404 `quality-task-not-found`; 409 `quality-not-voidable` (scored), `quality-task-voided`; 403 `quality-own-order`;
    422 `quality-reason-required`."""
    who = acting_in(request, body.role, body.actor, "POST", _step(inspection_id, "void"))
    return service.void(session, inspection_id, body.reason, actor=who.actor)


def _step(inspection_id: int, name: str) -> str:
    return f"/api/quality/inspections/{inspection_id}/{name}"


@router.get("/figures")
def get_figures(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    role: str = "",
    actor: str = "",
    session: Session = SESSION,
) -> dict[str, Any]:
    """质检数, 平均得分, 合格率, 申诉数, 改分数 of the results on orders taken in over the period (China dates, both
    included; default the last 30 days), for the centre and per agent; an agent gets their own only."""
    who = acting_in(request, role, actor, "GET", "/api/quality/figures")
    start, end = period_bounds(*period_of(since, until, days=KPI_DAYS))
    code = find_region(region).code if region else None
    return service.figures(session, start, end, region_code=code, agent=own_of(who))
