"""HTTP resources of hotline.dispatch: `POST /api/dispatch/suggest`, `POST /api/dispatch/feedback`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.accounts.api import signed_actor
from hotline.deps import SESSION
from hotline.dispatch import service
from hotline.timeutil import parse_instant

router = APIRouter(prefix="/api/dispatch", tags=["dispatch"])


class SuggestIn(BaseModel):
    text: str = Field(description="诉求内容（原文）")
    region_code: str | None = Field(None, description="地区代码或名称，如 510100")
    line: str | None = Field(None, description="市民拨打的号码")
    phone: str | None = Field(None, description="来电号码，用于查找重复诉求")
    place: str | None = Field(None, description="事发地点")
    at: str | None = Field(None, description="受理时间 ISO 8601；不带时区按北京时间；默认现在")
    threshold: float | None = Field(None, description="人工派单阈值 0–1（默认 0.6）")
    exclude: str | None = Field(None, description="不作为重复候选的工单编号（正在创建的工单）")


class FeedbackIn(BaseModel):
    text: str
    category: str = Field(description="派单员最终确定的一级分类")
    actor: str = Field(description="派单员")
    order_id: str | None = None
    suggested: str = Field("", description="系统当时建议的分类")


@router.post("/suggest")
def suggest(body: SuggestIn, session: Session = SESSION) -> dict[str, Any]:
    return service.advise(
        session,
        text=body.text,
        region_code=body.region_code,
        line=body.line,
        phone=body.phone,
        place=body.place,
        at=parse_instant(body.at) if body.at else None,
        threshold=body.threshold,
        exclude=body.exclude,
    )


@router.post("/feedback", status_code=201)
def feedback(body: FeedbackIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    fid = service.record_feedback(
        session,
        text=body.text,
        category=body.category,
        actor=signed_actor(request, body.actor),
        order_id=body.order_id,
        suggested=body.suggested,
    )
    return {"id": fid, "category": body.category}
