"""HTTP resources of hotline.knowledge (all under /api/kb)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.accounts.api import signed_actor
from hotline.deps import SESSION
from hotline.errors import InvalidInput
from hotline.knowledge import service
from hotline.knowledge.domain import ArticleInput, split_list
from hotline.knowledge.search import Filters
from hotline.tables import uploaded
from hotline.timeutil import parse_day, parse_instant

router = APIRouter(prefix="/api/kb", tags=["knowledge"])


class ArticleIn(BaseModel):
    title: str = ""
    body: str = ""
    category: str = ""
    owner_unit: str = ""
    lines: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    effective_from: date | None = None
    expires_on: date | None = None
    external_id: str | None = None
    status: str = "draft"
    actor: str = Field(min_length=1, max_length=64)


class ArticlePatch(BaseModel):
    title: str | None = None
    body: str | None = None
    category: str | None = None
    owner_unit: str | None = None
    lines: list[str] | None = None
    regions: list[str] | None = None
    keywords: list[str] | None = None
    effective_from: date | None = None
    expires_on: date | None = None
    actor: str = Field(min_length=1, max_length=64)
    note: str = ""
    version: int | None = Field(None, description="the version read; another one current answers 409 stale-version")


class StatusIn(BaseModel):
    status: str
    actor: str = Field(min_length=1, max_length=64)
    note: str = ""
    version: int | None = Field(None, description="the version read; another one current answers 409 stale-version")


class FlagIn(BaseModel):
    kind: str
    agent: str = Field(min_length=1, max_length=64)
    comment: str = ""


class ReviewIn(BaseModel):
    resolution: str
    actor: str = Field(min_length=1, max_length=64)
    note: str = ""


@router.get("/search")
def search(
    q: str = Query(..., description="搜索内容"),
    top: int = 10,
    line: str | None = None,
    region: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    status: str | None = Query(None, description="默认只搜已发布且当前有效的知识；any 表示全部"),
    valid_on: str | None = None,
    session: Session = SESSION,
) -> dict[str, Any]:
    filters = Filters(
        line=line,
        region=region,
        unit=unit,
        category=category,
        status=status,
        valid_on=parse_day(valid_on) if valid_on else None,
    )
    return {"results": service.search_articles(session, q, top=top, filters=filters)}


@router.post("/articles", status_code=201)
def create(body: ArticleIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    data = ArticleInput(**body.model_dump(exclude={"external_id", "status", "actor"}))
    article = service.create_article(
        session, data, actor=signed_actor(request, body.actor), status=body.status, external_id=body.external_id
    )
    return service.article_dict(article)


@router.get("/articles/{key}")
def read(key: str, session: Session = SESSION) -> dict[str, Any]:
    return service.article_dict(service.get_article(session, key))


@router.patch("/articles/{key}")
def update(key: str, body: ArticlePatch, request: Request, session: Session = SESSION) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"actor", "note", "version"})
    for name in ("lines", "regions", "keywords"):
        if name in changes:
            changes[name] = split_list(changes[name])
    article = service.update_article(
        session, key, changes, actor=signed_actor(request, body.actor), note=body.note, version=body.version
    )
    return service.article_dict(article)


@router.post("/articles/{key}/status")
def change_status(key: str, body: StatusIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    article = service.set_status(
        session, key, body.status, actor=signed_actor(request, body.actor), note=body.note, version=body.version
    )
    return service.article_dict(article)


@router.get("/articles/{key}/versions")
def versions(key: str, session: Session = SESSION) -> dict[str, Any]:
    return {
        "versions": [
            {
                "version": v.version,
                "status": v.status,
                "title": v.title,
                "body": v.body,
                "changed_fields": v.changed_fields,
                "changed_by": v.changed_by,
                "changed_at": v.changed_at.isoformat(),
                "note": v.note,
            }
            for v in service.list_versions(session, key)
        ]
    }


@router.post("/articles/{key}/flags", status_code=201)
def flag(key: str, body: FlagIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    return service.flag_dict(
        service.flag_article(session, key, body.kind, agent=signed_actor(request, body.agent), comment=body.comment)
    )


@router.get("/flags")
def flags(
    unit: str | None = None,
    open_only: bool = True,
    kind: str | None = None,
    article: str | None = Query(None, description="只看这篇知识的（编号或外部编号）"),
    session: Session = SESSION,
) -> dict[str, Any]:
    found = service.list_flags(session, unit=unit, open_only=open_only, kind=kind, article=article)
    return {"flags": [service.flag_dict(f) for f in found]}


@router.get("/queue")
def queue(
    unit: str | None = Query(None, description="只看这个责任单位的"), session: Session = SESSION
) -> dict[str, Any]:
    """知识维护: articles awaiting review, open 纠错 (oldest deadline first, 超期 marked), published articles
    expired or expiring within 30 days, drafts."""
    return service.maintenance_queue(session, unit=unit or None).as_dict()


@router.post("/flags/{flag_id}/review")
def review(flag_id: int, body: ReviewIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    return service.flag_dict(
        service.review_flag(session, flag_id, body.resolution, actor=signed_actor(request, body.actor), note=body.note)
    )


@router.get("/changes")
def changes(
    since: str | None = Query(None, description="ISO 8601 时间；不带时区按北京时间"),
    limit: int = 500,
    session: Session = SESSION,
) -> dict[str, Any]:
    return service.changes_since(session, parse_instant(since) if since else None, limit=limit)


@router.post("/import")
async def import_file(
    request: Request,
    file: UploadFile = File(...),
    id_column: str = Form(...),
    body_column: str = Form(...),
    title_column: str | None = Form(None),
    actor: str = Form("import"),
    session: Session = SESSION,
) -> dict[str, Any]:
    with uploaded(file.filename or "", await file.read()) as path:
        summary = service.import_file(
            session,
            path,
            id_column=id_column,
            body_column=body_column,
            title_column=title_column,
            actor=signed_actor(request, actor),
        )
    return {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged}


@router.get("/export")
def export(fmt: str = Query("csv", alias="format"), status: str | None = None, session: Session = SESSION) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("format 只能是 csv 或 xlsx", code="unsupported-format")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"knowledge.{fmt}"
        service.export_articles(session, path, status=status)
        content = path.read_bytes()
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="knowledge.{fmt}"'}
    )
