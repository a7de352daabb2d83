"""HTTP resources of hotline.workorders: the whole loop, reference data, and the citizens' progress lookup.

A request names the role it acts in (and the unit, for a handling unit); the response is masked for that role.
Signed in, the role must be one the account holds, a handling unit acts only for its own unit, and the history
records the account rather than a typed name (`accounts.api.acting`).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from hotline import workbooks
from hotline.accounts.api import acting, client_address, identity_of, signed_actor
from hotline.accounts.domain import Grant
from hotline.deps import SESSION
from hotline.settings import get_settings
from hotline.timeutil import parse_instant
from hotline.workorders import domain, export, service
from hotline.workorders import units as units_service

router = APIRouter(tags=["workorders"])

# scope="function": the unit of work commits before the response leaves, so an acknowledged order (201) is
# always stored; with the default scope the commit would run after the response is sent.


class CreateOrder(BaseModel):
    type: str = Field(description="咨询 求助 投诉 举报 意见建议 表扬 其他")
    content: str
    phone: str
    region: str = Field(description="地区代码或名称，如 510100 或 成都市")
    at: str | None = Field(None, description="受理时间 ISO 8601（导入历史工单用）；不带时区按北京时间")
    client_key: str | None = Field(None, description="幂等键：重复提交同一内容返回同一工单")
    channel: str = "phone"
    caller_name: str = ""
    line: str = Field("", description="市民拨打的号码")
    call_id: str = ""
    category: str = ""
    place: str = ""
    urgency: str = "normal"
    confidential: bool = False
    sms: bool = Field(True, description="发送短信（受理回执、办结告知）；市民不需要时为 false")
    actor: str = ""
    role: str | None = Field(None, description="受理角色，默认话务员（登录后默认账号的第一个角色）")


class ActOnOrder(BaseModel):
    role: str | None = Field(None, description="操作角色（登录后默认账号的第一个角色）")
    unit: str = Field("", description="操作单位代码（承办单位操作时必填）")
    actor: str = ""
    reason: str = ""
    version: int | None = Field(None, description="客户端看到的版本号；不一致时返回 stale-version")
    at: str | None = Field(None, description="仅测试环境（HOTLINE_ALLOW_TIME_OVERRIDE）生效")
    target_unit: str | None = Field(
        None, description="派单/改派/重办的承办单位；重办不指定时退回原承办单位（已停用的交其接替单位）"
    )
    co_units: list[str] = Field(default_factory=list)
    days: int | None = None
    reply: str = ""
    satisfaction: str | None = None
    citizen_resolved: bool | None = None
    master: str | None = None
    category: str | None = Field(None, description="派单/改派时设置或更正分类")
    article: str | None = Field(None, description="直接办结时答复所依据的知识（编号或外部编号）；答复默认为其正文")


ACTOR_HELP = "操作人（未启用登录时；默认“管理员”），记入设置变更记录；登录后记为当前账号"


class UnitIn(BaseModel):
    code: str
    name: str
    kind: str
    region_code: str
    parent: str | None = None
    actor: str = Field("", description=ACTOR_HELP)


class DeactivateIn(BaseModel):
    successor: str | None = Field(None, description="接替单位代码：承接其派单目录条目和下级单位")
    actor: str = Field("", description=ACTOR_HELP)


class CatalogueIn(BaseModel):
    category: str
    unit: str
    region_code: str = ""
    line: str = ""
    actor: str = Field("", description=ACTOR_HELP)


class LimitIn(BaseModel):
    days: int
    actor: str = Field("", description=ACTOR_HELP)


def _actor(request: Request, typed: str = "") -> str:
    """Who a change to the settings is recorded as (only administrators make them: `accounts.policy`)."""
    return signed_actor(request, typed.strip(), role=Grant.ADMIN)


def _advice(session: Session, body: CreateOrder, at: datetime | None) -> dict[str, Any] | None:
    from hotline.workorders.advice import advise_for

    return advise_for(
        session,
        text=body.content,
        region_code=body.region,
        line=body.line or None,
        phone=body.phone,
        place=body.place,
        at=at,
    )


@router.post("/api/orders", status_code=201)
def create_order(
    body: CreateOrder,
    request: Request,
    advice: bool = Query(True, description="附上派单建议（分类、承办单位、疑似重复工单）"),
    session: Session = SESSION,
) -> dict[str, Any]:
    who = acting(request, body.role, actor=body.actor, default="agent")
    at = parse_instant(body.at) if body.at else None
    suggestion = _advice(session, body, at) if advice else None
    fields = body.model_dump(exclude={"at", "role", "actor"})
    order = service.create_order(session, **fields, role=who.role, actor=who.actor, at=at)
    view = service.order_view(session, order, who.role)
    if suggestion is not None:
        view["advice"] = suggestion
    return view


class OrderQuery(BaseModel):
    """The list's filters (`service.OrderFilters`) in a query string, shared by the list and the export."""

    role: str | None = Field(None, description="查看角色（登录后默认账号的第一个角色）")
    state: str | None = None
    sla: str | None = Field(None, description="on_time | near_due | overdue")
    unit: str | None = Field(None, description="承办单位代码（承办单位查看时为本单位）")
    region: str | None = None
    type: str | None = None
    category: str | None = Field(None, description="分类或其前缀，如 城乡建设")
    channel: str | None = Field(None, description="phone web sms app subcentre system")
    since: str | None = Field(None, description="受理日期起（北京时间，含当日），如 2021-06-01")
    until: str | None = Field(None, description="受理日期止（北京时间，含当日）")
    phone: str | None = Field(None, description="来电号码（来电人历史工单；督办审核员、市民不可用）")
    words: str | None = Field(None, description="关键词：诉求内容或地点中含有的词，多个以空格分隔（须全部含有）")

    def filters(self, unit: str | None) -> service.OrderFilters:
        """The filters for the acting role: a handling unit's own UNIT (`accounts.api.acting`)."""
        return service.OrderFilters.parse(**self.model_dump(exclude={"role", "unit"}), unit=unit)


TOTAL_HEADER = "X-Total-Count"


@router.get("/api/orders")
def list_orders(
    request: Request,
    response: Response,
    query: Annotated[OrderQuery, Query()],
    limit: int = 50,
    order: str = Query("due", description="due：先到期的在前；newest：最近受理的在前"),
    session: Session = SESSION,
) -> list[dict[str, Any]]:
    """The orders, at most LIMIT; the X-Total-Count header says how many match in all."""
    who = acting(request, query.role, query.unit, default="dispatcher")
    filters = query.filters(who.unit)
    rows = service.list_orders(session, filters, role=who.role, limit=limit, order=order)
    # Counted only when the page is full: a shorter one is all there is.
    total = len(rows) if len(rows) < limit else service.count_orders(session, filters, role=who.role)
    response.headers[TOTAL_HEADER] = str(total)
    return rows


@router.get("/api/orders/export.xlsx")
def export_orders(
    request: Request, query: Annotated[OrderQuery, Query()], actor: str = "", session: Session = SESSION
) -> FileResponse:
    """The orders the role sees under the list's filters as an Excel file (at most 100,000; `export-too-large`),
    masked as the list is; the export is recorded in the audit trail."""
    who = acting(request, query.role, query.unit, actor, default="dispatcher")
    me = identity_of(request)
    login = me.login if me else (who.actor or "未登录")
    exporter = export.Exporter(login=login, name=who.actor or login, address=client_address(request))
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    try:
        with handle:
            done = export.export_orders(
                session, handle, role=who.role, filters=query.filters(who.unit), exporter=exporter
            )
        session.commit()  # the audit record is stored before the file leaves
    except BaseException:
        os.unlink(handle.name)
        raise
    return FileResponse(
        handle.name,
        media_type=workbooks.XLSX,
        headers=workbooks.download_headers(done.filename, done.ascii_filename),
        background=BackgroundTask(os.unlink, handle.name),
    )


@router.get("/api/orders/lifecycle")
def lifecycle() -> list[dict[str, Any]]:
    return [row.__dict__ for row in domain.lifecycle_rows()]


@router.get("/api/orders/{number}")
def show_order(
    number: str, request: Request, role: str | None = None, unit: str | None = None, session: Session = SESSION
) -> dict[str, Any]:
    who = acting(request, role, unit, default="dispatcher")
    return service.show_order(session, number, who.role, unit=who.unit)


@router.post("/api/orders/{number}/actions/{action}")
def act(number: str, action: str, body: ActOnOrder, request: Request, session: Session = SESSION) -> dict[str, Any]:
    who = acting(request, body.role, body.unit, body.actor, default="")
    at = parse_instant(body.at) if body.at and get_settings().allow_time_override else None
    fields = body.model_dump(exclude={"at", "role", "unit", "actor"})
    order = service.act(session, number, action, **fields, role=who.role, unit=who.unit or "", actor=who.actor, at=at)
    view = service.order_view(session, order, who.role)
    # A lead's co-handling orders as the step left them (归档 and 重办 take the answered ones along).
    view["children"] = service.children_view(session, order)
    return view


@router.get("/api/public/orders/{number}")
def public_lookup(number: str, phone_last4: str = "", session: Session = SESSION) -> dict[str, Any]:
    return service.public_lookup(session, number, phone_last4)


@router.get("/api/workorders/units")
def units(
    active: bool | None = Query(None, description="true：只列在用的；false：只列已停用的"), session: Session = SESSION
) -> list[dict[str, Any]]:
    return service.list_units(session, active=active)


@router.post("/api/workorders/units", status_code=201)
def add_unit(body: UnitIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    unit = service.add_unit(
        session,
        body.code,
        body.name,
        body.kind,
        region_code=body.region_code,
        parent=body.parent,
        actor=_actor(request, body.actor),
    )
    return service.unit_view(unit)


@router.post("/api/workorders/units/{code}/deactivate")
def deactivate_unit(code: str, body: DeactivateIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """停用 a unit (机构调整): the successor takes over its catalogue entries and child units, each listed in the
    answer. 409 `unit-has-open-orders` (改派 them first), `unit-in-catalogue`, `unit-has-children` (without a
    successor); 422 `invalid-successor`."""
    done = units_service.deactivate_unit(session, code, successor=body.successor, actor=_actor(request, body.actor))
    return units_service.deactivation_view(done)


@router.post("/api/workorders/units/{code}/activate")
def activate_unit(code: str, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """启用 a unit again (its flag only)."""
    return service.unit_view(units_service.activate_unit(session, code, actor=_actor(request)))


@router.put("/api/workorders/catalogue")
def set_catalogue(body: CatalogueIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    entry = service.set_catalogue_entry(
        session,
        body.category,
        body.unit,
        region_code=body.region_code,
        line=body.line,
        actor=_actor(request, body.actor),
    )
    return {"category": entry.category, "region_code": entry.region_code, "line": entry.line, "unit": body.unit}


@router.delete("/api/workorders/catalogue")
def remove_catalogue(
    request: Request,
    category: str,
    region_code: str = "",
    line: str = "",
    actor: str = Query("", description=ACTOR_HELP),
    session: Session = SESSION,
) -> dict[str, Any]:
    """Remove one entry (lookups fall back to a less specific one); 404 `catalogue-entry-not-found`."""
    service.remove_catalogue_entry(session, category, region_code=region_code, line=line, actor=_actor(request, actor))
    return {"removed": True, "category": category, "region_code": region_code, "line": line}


@router.get("/api/workorders/catalogue/lookup")
def lookup_catalogue(
    category: str, region: str = "", line: str | None = None, session: Session = SESSION
) -> dict[str, Any] | None:
    unit = service.lookup_dispatch_catalogue(session, category, region, line)
    return service.unit_view(unit) if unit else None


@router.get("/api/workorders/limits")
def limits(session: Session = SESSION) -> dict[str, int]:
    return service.get_limits(session)


@router.put("/api/workorders/limits/{key}")
def set_limit(key: str, body: LimitIn, request: Request, session: Session = SESSION) -> dict[str, int]:
    return service.set_limit(session, key, body.days, actor=_actor(request, body.actor))
