"""HTTP resources of 短信通知 (`/api/sms`): supervisors and administrators read the texts (numbers masked for every
role) and send a failed one again (who is who: `accounts.policy`; the role acted in must itself be allowed, as on
质检)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.quality.api import acting_in
from hotline.sms import service

router = APIRouter(prefix="/api/sms", tags=["sms"])
PATH = "/api/sms"


@router.get("")
def list_messages(
    request: Request,
    state: str = "",
    order: str = "",
    limit: int = 200,
    role: str = "",
    actor: str = "",
    session: Session = SESSION,
) -> dict[str, Any]:
    """The texts, newest first (numbers masked), of `state` pending (待发送), sent (已发送), failed (发送失败) or
    skipped (不发送), all when empty, and of the order numbered `order`; with `counts` per state. 422
    `sms-invalid-state`, `sms-invalid-limit`."""
    acting_in(request, role, actor or "查询", "GET", PATH)
    return {
        "counts": service.state_counts(session),
        "messages": service.list_messages(session, state=state or None, order=order or None, limit=limit),
    }


class RetryIn(BaseModel):
    role: str | None = None
    actor: str = Field("", description="操作人（未启用登录时）；登录后记为当前账号")


@router.post("/{message_id}/retry")
def retry(message_id: int, request: Request, body: RetryIn | None = None, session: Session = SESSION) -> dict[str, Any]:
    """重新发送 a failed text: back to 待发送 (its tries counted afresh), recorded under the account. 404
    `sms-not-found`; 409 `sms-not-failed`."""
    body = body or RetryIn.model_validate({})
    who = acting_in(request, body.role, body.actor, "POST", f"{PATH}/{message_id}/retry")
    return service.retry(session, message_id, who.actor)
