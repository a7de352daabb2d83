"""Open311 GeoReport v2 over HTTP, under /open311/v2: services, and service requests as work orders.

The `api_key` is an API token of the app's account (grant `open311`), checked here rather than by the guard, which
lets these routes through: the standard puts the key in a parameter, not a header. Errors follow the standard: a
list of `{"code": <HTTP status>, "description": …}` (XML: `<errors><error>`), with the platform's stable id added
as `"error_code"`; the standard's 400 stands for the platform's 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.open311 import render, service
from hotline.open311.domain import type_attribute

router = APIRouter(prefix="/open311/v2", tags=["open311"])
_MEDIA = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}


def _format(fmt: str) -> str:
    if fmt not in render.FORMATS:
        raise InvalidInput("格式应为 .json 或 .xml", code="open311-invalid-format")
    return fmt


def _answer(
    fmt: str, make: Callable[[], Any], root: str, item: str, session: Session, *, status_code: int = 200
) -> Response:
    try:
        body = make()
    except HotlineError as exc:
        session.rollback()  # the answer is an error: nothing of the request is kept
        status = 400 if exc.http_status == 422 else exc.http_status
        error = {"code": status, "description": exc.message, "error_code": exc.code}
        use = fmt if fmt in render.FORMATS else "json"
        content = render.xml("errors", "error", [error]) if use == "xml" else render.json_bytes([error])
        return Response(content, status_code=status, media_type=_MEDIA[use])
    if fmt == "xml":
        content = render.document(root, body) if isinstance(body, dict) else render.xml(root, item, body)
    else:
        content = render.json_bytes(body)
    return Response(content, status_code=status_code, media_type=_MEDIA[fmt])


@router.get("/services.{fmt}")
def services(fmt: str, session: Session = SESSION) -> Response:
    """服务列表：平台分类目录的二级分类，一级分类为 group。"""

    def make() -> list[dict[str, Any]]:
        _format(fmt)
        return [s.to_dict() for s in service.list_services(session)]

    return _answer(fmt, make, "services", "service", session)


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, session: Session = SESSION) -> Response:
    """服务定义：唯一的属性为诉求类型（type）。"""

    def make() -> dict[str, Any]:
        _format(fmt)
        found = service.get_service(session, code)
        return {"service_code": found.code, "attributes": [type_attribute()]}

    return _answer(fmt, make, "service_definition", "", session)


@router.post("/requests.{fmt}")
async def post_request(fmt: str, request: Request, session: Session = SESSION) -> Response:
    """提交服务请求（application/x-www-form-urlencoded，须 api_key）：即时受理为工单，返回工单编号。"""
    form = {k: str(v) for k, v in (await request.form()).items()}

    def make() -> list[dict[str, Any]]:
        _format(fmt)
        app = service.client_of(session, form.get("api_key"))
        return [service.submit(session, app, form)]

    return _answer(fmt, make, "service_requests", "request", session, status_code=201)


@router.get("/requests.{fmt}")
def requests(
    fmt: str,
    api_key: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    session: Session = SESSION,
) -> Response:
    """本应用提交的服务请求（须 api_key）：按编号，或按服务、状态和不超过 90 天的时段。"""

    def make() -> list[dict[str, Any]]:
        _format(fmt)
        app = service.client_of(session, api_key)
        return service.list_requests(session, app, ids=service_request_id, service=service_code,
                                     start=start_date, end=end_date, state=status)  # fmt: skip

    return _answer(fmt, make, "service_requests", "request", session)


@router.get("/requests/{request_id}.{fmt}")
def request_detail(request_id: str, fmt: str, api_key: str | None = None, session: Session = SESSION) -> Response:
    """本应用提交的一个服务请求（须 api_key）。"""

    def make() -> list[dict[str, Any]]:
        _format(fmt)
        return [service.get_request(session, service.client_of(session, api_key), request_id)]

    return _answer(fmt, make, "service_requests", "request", session)
