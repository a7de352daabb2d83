"""HTTP resources of hotline.staffing: the seat plan for a call forecast."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.plan.regions import PROVINCE
from hotline.staffing import service
from hotline.staffing.domain import DEFAULT_PATIENCE, Target

router = APIRouter(tags=["staffing"])


class DemandIn(BaseModel):
    line: str = Field(description="热线号码")
    hour: int = Field(description="时段（0–23 点）")
    calls: float = Field(description="该时段来电量（通/小时）")
    handle_seconds: float = Field(description="平均处理时长（秒，含话后处理）")
    day_kind: str = Field("any", description="日期类型：any 每天、workday 工作日、restday 休息日")


class SeatPlanIn(BaseModel):
    forecast: list[DemandIn]
    region: str = Field(PROVINCE.code, description="地区：代码、名称或别名")
    first: date | None = Field(None, description="开始日期（默认计划年度 1 月 1 日）")
    last: date | None = Field(None, description="结束日期（默认计划年度 12 月 31 日）")
    answer_within: float = Field(15, description="接通时限（秒）")
    service_level: float = Field(0.8, description="时限内接通的比例")
    max_occupancy: float = Field(0.85, description="最高占用率")
    shrinkage: float = Field(0.3, description="非在线比例")
    available: int | None = Field(None, description="现有12345可排班座席数")
    patience: float = Field(DEFAULT_PATIENCE, description="来电者平均耐心时长（秒），用于估算放弃率")


@router.post("/api/seats/plan")
def plan(body: SeatPlanIn, session: Session = SESSION) -> dict[str, Any]:
    target = Target(body.answer_within, body.service_level, body.max_occupancy, body.shrinkage)
    forecast = service.forecast_from_records([d.model_dump() for d in body.forecast])
    result = service.plan_seats(
        session,
        forecast,
        region=body.region,
        first=body.first,
        last=body.last,
        target=target,
        available=body.available,
        patience=body.patience,
    )
    return result.to_dict()
