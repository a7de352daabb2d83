"""HTTP resources of 工单附件 (`/api/orders/{number}/attachments`): the files of an order, for whoever may read it
(a handling unit only its own orders); added by 话务员, 派单员, 督办审核员 and a handling unit on its own orders, as
multipart (`file`, `role`, `actor`, `unit`). A download carries the type sniffed at upload, never the client's,
with `X-Content-Type-Options: nosniff`; images are shown inline, other files saved (RFC 5987 `filename*`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline import workbooks
from hotline.accounts.api import acting
from hotline.attachments import service
from hotline.deps import SESSION

router = APIRouter(tags=["attachments"])


async def read_upload(file: UploadFile) -> bytes:
    """The uploaded bytes, read no further than one byte past the limit (which is then refused as too large)."""
    return await file.read(service.max_bytes() + 1)


@router.post("/api/orders/{number}/attachments", status_code=201)
async def attach(
    number: str,
    request: Request,
    file: Annotated[UploadFile, File(description="附件：JPEG/PNG/WebP 图片，PDF/DOCX/XLSX 文档，MP3/WAV 录音")],
    role: Annotated[str, Form(description="操作角色（登录后默认账号的第一个角色）")] = "",
    actor: Annotated[str, Form()] = "",
    unit: Annotated[str, Form(description="承办单位代码（承办单位上传时必填）")] = "",
    session: Session = SESSION,
) -> dict[str, Any]:
    """上传附件 (an entry 上传附件 in the order's history). 413 `attachment-too-large`; 422 `attachment-empty`,
    `attachment-type-not-allowed`; 409 `attachment-limit` (20 per order), `attachment-order-closed` (已归档, 已并单),
    `stale-version`; 403 `role-not-allowed`, `unit-not-assigned`; 404 `workorder-not-found`."""
    who = acting(request, role or None, unit or None, actor, default="")
    data = await read_upload(file)
    # The database work in the thread pool, as the sync handlers' is: a 10 MB write must not hold up the event loop.
    return await run_in_threadpool(
        service.attach, session, number, data, file.filename or "", role=who.role, actor=who.actor, unit=who.unit
    )


@router.get("/api/orders/{number}/attachments")
def list_attachments(
    number: str, request: Request, role: str | None = None, unit: str | None = None, session: Session = SESSION
) -> list[dict[str, Any]]:
    """The order's files, oldest first (name, type, size, who, when)."""
    who = acting(request, role, unit, default="dispatcher")
    return service.list_attachments(session, number, role=who.role, unit=who.unit)


@router.get("/api/orders/{number}/attachments/{attachment_id}")
def download(
    number: str,
    attachment_id: int,
    request: Request,
    role: str | None = None,
    unit: str | None = None,
    session: Session = SESSION,
) -> Response:
    """The file's bytes; 404 `attachment-not-found` (also for another order's attachment)."""
    who = acting(request, role, unit, default="dispatcher")
    found = service.download(session, number, attachment_id, role=who.role, unit=who.unit)
    headers = workbooks.download_headers(found.name, found.ascii_name, inline=found.kind.image)
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(found.data, media_type=found.kind.content_type, headers=headers)
