"""The FastAPI application: mounts each capability's router; maps domain errors to JSON once."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hotline.errors import HotlineError


def create_app() -> FastAPI:
    from hotline.accounts import admin_api as accounts_admin_api
    from hotline.accounts import api as accounts_api
    from hotline.accounts.guard import Guard
    from hotline.aggregation import api as aggregation_api
    from hotline.attachments import api as attachments_api
    from hotline.calendar import api as calendar_api
    from hotline.changelog import api as changelog_api
    from hotline.dispatch import api as dispatch_api
    from hotline.knowledge import api as knowledge_api
    from hotline.nuisance import api as nuisance_api
    from hotline.open311 import api as open311_api
    from hotline.plan import api as plan_api
    from hotline.quality import api as quality_api
    from hotline.routing import api as routing_api
    from hotline.sms import api as sms_api
    from hotline.staffing import api as staffing_api
    from hotline.supervision import api as supervision_api
    from hotline.telephony import api as telephony_api
    from hotline.web import (
        calendar_page,
        callbacks_page,
        calls_page,
        hotspots_page,
        intake,
        kb_pages,
        monitor_page,
        nuisance_page,
        order_actions,
        order_attachments,
        pages,
        plan_page,
        quality_page,
        settings_page,
        sms_page,
    )
    from hotline.workorders import api as workorders_api

    app = FastAPI(title="12345 政务服务便民热线平台", version="0.1.0")

    @app.exception_handler(HotlineError)
    async def _domain_error(_request: Request, exc: HotlineError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(
            {"code": "invalid-input", "message": "请求参数不正确", "details": {"errors": errors}},
            status_code=422,
        )

    @app.get("/api/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for router in (
        accounts_api.router,
        accounts_admin_api.router,
        routing_api.router,
        plan_api.router,
        calendar_api.router,
        workorders_api.router,
        attachments_api.router,  # /api/orders/{number}/attachments: 工单附件
        changelog_api.router,  # /api/settings/changes: 设置变更记录
        knowledge_api.router,
        dispatch_api.router,
        telephony_api.router,
        telephony_api.callbacks_router,  # /api/callbacks: 漏话回拨
        quality_api.router,  # /api/quality: 话务质检
        nuisance_api.router,  # /api/nuisance: 骚扰号码名单
        sms_api.router,  # /api/sms: 短信通知
        supervision_api.router,
        staffing_api.router,
        aggregation_api.router,
        open311_api.router,
    ):
        app.include_router(router)
    app.include_router(intake.router)  # before pages': /orders/new is not an order number
    app.include_router(kb_pages.router)  # /kb/new, /kb/articles/…: the article pages beside pages' /kb search
    app.include_router(calls_page.router)  # /calls, /calls/{call_id}: the 话务记录 pages
    app.include_router(callbacks_page.router)  # /callbacks: 漏话回拨
    app.include_router(quality_page.router)  # /quality: 话务质检
    app.include_router(nuisance_page.router)  # /nuisance: 骚扰号码名单
    app.include_router(sms_page.router)  # /sms: 短信记录
    app.include_router(hotspots_page.router)  # /hotspots: 热点诉求
    app.include_router(monitor_page.router)  # /monitor: 实时监控
    app.include_router(plan_page.router)  # /plan: 整合进度 and its records
    app.include_router(calendar_page.router)  # /calendar: 工作日历
    app.include_router(settings_page.router)  # /settings/dispatch: 派单设置 (units, 派单目录, 办理时限)
    app.include_router(pages.router)
    app.include_router(order_actions.router)
    app.include_router(order_attachments.router)  # 附件 on the order page: upload and download
    app.mount("/static", pages.static, name="static")
    # Outermost, so no request reaches a route (including the plain Starlette ones) unchecked.
    app.add_middleware(Guard)
    return app
