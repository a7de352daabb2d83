"""Use cases of 工单附件: attach a file to a work order, list an order's files, hand one out.

Whoever may read an order (`workorders.service.visible_order`: a handling unit only its own orders) lists and
downloads its files; the desk (话务员, 派单员), 督办审核员 and a handling unit on its own orders add them, not once
the order is 已归档 or 已并单 (`domain.check_uploader`). Each upload is one transaction: the bytes (once per
SHA-256), the attachment row, and the order's history entry 上传附件 <name> (`workorders.service.record_note`: no
lifecycle step, so no KPI, 工单推送 or 短信 reads it). The history entry moves the order's version on, so two uploads
racing for the last of the 20 places cannot both pass the count: one is `stale-version`. No deletion in v1.

Files sent with a demand at 受理 (web.intake) are all checked before the order is created (`check_all`) and written
in the order's own transaction (`attach_all`), all or nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hotline.attachments import domain as a
from hotline.attachments.store import Attachment, Blob
from hotline.db import by_id
from hotline.errors import HotlineError, InvalidInput, NotFound
from hotline.settings import get_settings
from hotline.timeutil import china, now
from hotline.workorders import domain as wo
from hotline.workorders import service as orders
from hotline.workorders.store import Order

MAX_ACTOR = 64


def max_bytes() -> int:
    return get_settings().attachment_max_mb * 1024 * 1024


def _actor(actor: str) -> str:
    actor = actor.strip()
    if len(actor) > MAX_ACTOR:
        raise InvalidInput(f"操作人过长（最多 {MAX_ACTOR} 字）", code="field-too-long", field="操作人")
    return actor


def _count(session: Session, order: Order) -> int:
    return session.scalar(select(func.count()).where(Attachment.order_id == order.id)) or 0


def attach(
    session: Session,
    number: str,
    data: bytes,
    name: str,
    *,
    role: str,
    actor: str,
    unit: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Attach DATA (uploaded as NAME) to order NUMBER as ROLE (a handling unit: UNIT); the attachment's view.
    Refused, nothing is written: 413 `attachment-too-large`, 422 `attachment-empty`, `attachment-type-not-allowed`,
    409 `attachment-limit`, `attachment-order-closed`, `stale-version`; 403 `role-not-allowed`, `unit-not-assigned`;
    404 `workorder-not-found`."""
    order = orders.visible_order(session, number, role, unit=unit)
    acting = wo.parse_enum(wo.Role, role, "角色", "invalid-role")
    a.check_uploader(
        acting, wo.State(order.state), unit=unit or "", lead_unit=order.lead_unit.code if order.lead_unit else None
    )
    kind = a.check_file(data, max_bytes=max_bytes())
    a.check_count(_count(session, order))
    return view(_write(session, order, data, name, kind, acting=acting, actor=actor, unit=unit or "", at=at))


def _write(
    session: Session,
    order: Order,
    data: bytes,
    name: str,
    kind: a.Kind,
    *,
    acting: wo.Role,
    actor: str,
    unit: str,
    at: datetime | None,
) -> Attachment:
    """The bytes, the attachment row and the history entry 上传附件 of a file already checked."""
    who = _actor(actor) or wo.ROLE_LABELS[acting]
    digest = hashlib.sha256(data).hexdigest()
    when = at or now()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # Stored once per content: a second upload of the same file (or two at once) finds the bytes there.
    session.execute(
        insert(Blob).values(sha256=digest, size=len(data), data=data).on_conflict_do_nothing(index_elements=["sha256"])
    )
    row = Attachment(
        order_id=order.id,
        name=a.clean_name(name, kind),
        content_type=kind.content_type,
        size=len(data),
        sha256=digest,
        uploaded_at=when,
        actor=who,
        role=acting.value,
        unit_code=unit if acting is wo.Role.DEPARTMENT else "",  # the unit a handling unit acted for
    )
    session.add(row)
    session.flush()
    orders.record_note(
        session,
        order,
        orders.ATTACH,
        role=acting.value,
        actor=row.actor,
        unit=row.unit_code,
        reason=f"上传附件 {row.name}（{kind.label}，{a.size_text(row.size)}）",
        changes={"attachment": [None, row.id]},
        at=when,
    )
    return row


def check_all(files: Sequence[tuple[str, bytes]], *, role: str) -> list[a.Kind]:
    """The kinds of FILES ((name as uploaded, bytes), sent with a demand at 受理), every one checked before the
    order is taken in: ROLE may add files, at most `MAX_PER_ORDER`, each taken (`domain.check_file`). The first
    refused file refuses them all, its name in the message and in `details["file"]`."""
    if not files:
        return []
    acting = wo.parse_enum(wo.Role, role, "角色", "invalid-role")
    a.check_uploader(acting, wo.State.REGISTERED, unit="", lead_unit=None)
    a.check_count(0, len(files))
    kinds = []
    for name, data in files:
        try:
            kinds.append(a.check_file(data, max_bytes=max_bytes()))
        except HotlineError as exc:
            shown = a.shown_name(name)[: a.MAX_NAME] or a.DEFAULT_NAME
            raise type(exc)(f"附件「{shown}」：{exc.message}", code=exc.code, file=shown, **exc.details) from exc
    return kinds


def attach_all(
    session: Session,
    order: Order,
    files: Sequence[tuple[str, bytes]],
    *,
    role: str,
    actor: str,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Attach FILES to ORDER just taken in, in its transaction (the caller commits or rolls back the order with
    them), as ROLE (a desk role: no unit); one history entry 上传附件 each, after 受理, in the order given. All or
    nothing: `check_all`'s refusals, and 409 `attachment-limit` when the order has no room for them all."""
    if not files:  # a demand taken in without files: nothing to check, whoever took it in
        return []
    kinds = check_all(files, role=role)
    acting = wo.Role(role)
    a.check_uploader(acting, wo.State(order.state), unit="", lead_unit=None)
    a.check_count(_count(session, order), len(files))
    return [
        view(_write(session, order, data, name, kind, acting=acting, actor=actor, unit="", at=at))
        for (name, data), kind in zip(files, kinds, strict=True)
    ]


def _family(session: Session, order: Order) -> dict[int, str]:
    """The orders of ORDER's demand, id -> number: the lead order and its co-handling (协办) orders. One demand, one
    set of files: a co-handling unit sees the citizen's photos on the lead order, the centre a co-unit's 回复函."""
    lead_id = order.parent_id or order.id
    rows = session.execute(select(Order.id, Order.number).where((Order.id == lead_id) | (Order.parent_id == lead_id)))
    return {order_id: number for order_id, number in rows}


def view(row: Attachment, order_number: str | None = None) -> dict[str, Any]:
    """An attachment for lists; ORDER_NUMBER: the other order of the demand it was added to (None: this order)."""
    kind = a.BY_TYPE[row.content_type]
    return {
        "id": row.id,
        "order_number": order_number,
        "name": row.name,
        "content_type": row.content_type,
        "type_label": kind.label,
        "image": kind.image,
        "size": row.size,
        "size_label": a.size_text(row.size),
        "sha256": row.sha256,
        "uploaded_at": china(row.uploaded_at).isoformat(timespec="seconds"),
        "actor": row.actor,
        "role": row.role,
        "role_label": wo.ROLE_LABELS[wo.Role(row.role)],
        "unit": row.unit_code or None,
    }


def list_attachments(session: Session, number: str, *, role: str, unit: str | None = None) -> list[dict[str, Any]]:
    """The files of order NUMBER's demand (`_family`), oldest first, for whoever may read the order; a file added
    to another order of the demand names it (`order_number`)."""
    order = orders.visible_order(session, number, role, unit=unit)
    family = _family(session, order)
    rows = session.scalars(select(Attachment).where(Attachment.order_id.in_(family)).order_by(Attachment.id))
    return [view(row, None if row.order_id == order.id else family[row.order_id]) for row in rows]


def media_url(session: Session, number: str, *, role: str, unit: str | None = None) -> str | None:
    """The address of the citizen's photo an Open311 app sent with order NUMBER's demand (`_family`, given at the
    受理 of one of its orders), for whoever may read the order; None when there is none. Shown as an external link
    only: the platform never fetches it (no request to an address a citizen's app chose)."""
    order = orders.visible_order(session, number, role, unit=unit)
    urls = orders.media_urls(session, _family(session, order))
    return urls.get(order.id) or next(iter(urls.values()), None)


@dataclass(frozen=True)
class Download:
    name: str
    ascii_name: str
    kind: a.Kind
    data: bytes


def download(session: Session, number: str, attachment_id: int, *, role: str, unit: str | None = None) -> Download:
    """The bytes of attachment ATTACHMENT_ID of order NUMBER's demand (`_family`); 404 `attachment-not-found` for an
    id that is not one of its files (another demand's included)."""
    order = orders.visible_order(session, number, role, unit=unit)
    row = by_id(session, Attachment, attachment_id)
    if row is None or row.order_id not in _family(session, order):
        raise NotFound(f"工单 {order.number} 没有该附件：{attachment_id}", code="attachment-not-found")
    blob = session.get(Blob, row.sha256)
    assert blob is not None  # a foreign key
    kind = a.BY_TYPE[row.content_type]
    return Download(row.name, a.ascii_name(row.id, kind), kind, blob.data)


def may_upload(role: str, state: str, *, unit: str | None, lead_unit: str | None) -> bool:
    """Whether the order page offers the upload form to ROLE (the service checks again)."""
    try:
        a.check_uploader(wo.Role(role), wo.State(state), unit=unit or "", lead_unit=lead_unit)
    except (HotlineError, ValueError):
        return False
    return True
