"""HTTP resources of the 骚扰号码名单 (`/api/nuisance`): agents, dispatchers, supervisors and administrators apply and
read; supervisors and administrators approve, reject and lift (who is who: `accounts.policy`; the role acted in
must itself be allowed, as on 质检). Numbers are masked for every role: an agent applies from a call record or a work
order and never sees the number; only the proxy gets them in full (`/telephony/screened-callers`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.nuisance import domain as n
from hotline.nuisance import service
from hotline.quality.api import acting_in

router = APIRouter(prefix="/api/nuisance", tags=["nuisance"])
PATH = "/api/nuisance"


@router.get("")
def list_entries(request: Request, state: str = "", role: str = "", actor: str = "", session: Session = SESSION) -> Any:
    """Entries (numbers masked), `state` pending (待审核), active (生效中), expired (已到期), lifted (已解除),
    rejected (已驳回) or all when empty; with `pending` (how many wait for a decision). 422 `nuisance-invalid-state`."""
    acting_in(request, role, actor or "查询", "GET", PATH)
    return {"entries": service.list_entries(session, state=state or None), "pending": service.pending_count(session)}


class ProposeIn(BaseModel):
    call_id: str = Field("", description="来电编号（SIP Call-ID，话务记录中的来电）")
    order: str = Field("", description="工单编号（取工单的来电号码）")
    number: str = Field("", description="号码（仅班长、管理员可直接填写）")
    treatment: str = Field(n.Treatment.WARN.value, description="warn 提示后转骚扰专席 | release 提示后挂断")
    days: int = Field(n.DEFAULT_DAYS, description=f"限制天数 1..{n.MAX_DAYS}")
    reason: str = Field("", description="申请理由（必填）")
    evidence: str = Field("", description="证据说明（如多次来电的时间）")
    role: str | None = None
    actor: str = ""


@router.post("", status_code=201)
def propose(body: ProposeIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """申请 to list the caller of a call record (`call_id`) or of a work order (`order`), or (supervisors and
    administrators) a `number`: pending until approved. 404/422 `nuisance-source-not-found`; 403
    `nuisance-number-not-allowed`; 409 `nuisance-already-listed`; 422 `nuisance-invalid-number`,
    `nuisance-invalid-treatment`, `nuisance-invalid-days`, `nuisance-reason-required`."""
    who = acting_in(request, body.role, body.actor, "POST", PATH)
    return service.propose(
        session,
        actor=who.actor,
        role=who.role,
        call_id=body.call_id,
        order=body.order,
        number=body.number,
        treatment=body.treatment,
        days=body.days,
        reason=body.reason,
        evidence=body.evidence,
    )


@router.get("/{entry_id}")
def get_entry(entry_id: int, request: Request, role: str = "", actor: str = "", session: Session = SESSION) -> Any:
    """One entry (number masked) with its history. 404 `nuisance-not-found`."""
    acting_in(request, role, actor or "查询", "GET", f"{PATH}/{entry_id}")
    return service.get_entry(session, entry_id)


class DecisionIn(BaseModel):
    note: str = Field("", description="审核意见（通过时可不填）")
    reason: str = Field("", description="驳回或解除的理由（必填）")
    role: str | None = None
    actor: str = ""


@router.post("/{entry_id}/approve")
def approve(entry_id: int, body: DecisionIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """审核通过: in force from now for its days. 404 `nuisance-not-found`; 409 `nuisance-transition-not-allowed`."""
    who = acting_in(request, body.role, body.actor, "POST", f"{PATH}/{entry_id}/approve")
    return service.approve(session, entry_id, actor=who.actor, note=body.note or body.reason)


@router.post("/{entry_id}/reject")
def reject(entry_id: int, body: DecisionIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """驳回 with a reason. 404 `nuisance-not-found`; 409 `nuisance-transition-not-allowed`; 422
    `nuisance-reason-required`."""
    who = acting_in(request, body.role, body.actor, "POST", f"{PATH}/{entry_id}/reject")
    return service.reject(session, entry_id, actor=who.actor, reason=body.reason or body.note)


@router.post("/{entry_id}/lift")
def lift(entry_id: int, body: DecisionIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """解除 an entry in force, with a reason. 404 `nuisance-not-found`; 409 `nuisance-transition-not-allowed`; 422
    `nuisance-reason-required`."""
    who = acting_in(request, body.role, body.actor, "POST", f"{PATH}/{entry_id}/lift")
    return service.lift(session, entry_id, actor=who.actor, reason=body.reason or body.note)
