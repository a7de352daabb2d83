"""Use cases of Open311: the services, submitting a request as a work order, following one's requests.

Each app is known by an API key (`HOTLINE_OPEN311_KEYS="name=key,…"`) and sees only the requests it submitted
(their work orders carry the client key `open311:<app>:<uuid>`): an app shows its users their own requests,
and nobody can read other people's demands by guessing order numbers. Phone-in orders never appear here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.open311.domain import (
    DEFAULT_TYPE,
    MAX_DESCRIPTION,
    Service,
    service_code,
    services,
    status,
)
from hotline.plan.regions import PROVINCE
from hotline.settings import get_settings
from hotline.timeutil import CHINA_TZ, china, now, parse_instant
from hotline.workorders import service as workorders
from hotline.workorders.domain import STATE_LABELS, State

MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000


def _keys() -> dict[str, str]:
    """key -> app name."""
    found = {}
    for pair in get_settings().open311_keys.split(","):
        name, _, key = pair.strip().partition("=")
        if name and key:
            found[key.strip()] = name.strip()
    return found


def client_of(api_key: str | None) -> str:
    """The app an API key belongs to; raises `open311-key-invalid`."""
    name = _keys().get((api_key or "").strip())
    if name is None:
        raise Forbidden("api_key 无效或缺失", code="open311-key-invalid")
    return name


_services: dict[tuple[str, tuple[int, int]], list[Service]] = {}


def list_services(session: Session) -> list[Service]:
    """Built once per state of the category tree (every POST looks its service up)."""
    key = (str(session.get_bind().engine.url), workorders.category_revision(session))
    found = _services.get(key)
    if found is None:
        found = services(workorders.category_tree(session))
        if key[1][0]:  # the tree was empty: it has just been loaded, so the key is already stale
            _services.clear()
            _services[key] = found
    return found


def get_service(session: Session, code: str) -> Service:
    for service in list_services(session):
        if service.code == code:
            return service
    raise NotFound(f"没有这个服务：{code}", code="open311-service-not-found")


def _need(form: Mapping[str, str], name: str, what: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise InvalidInput(f"缺少 {name}（{what}）", code=f"open311-{name.replace('_', '-')}-required")
    return value


def _place(form: Mapping[str, str]) -> str:
    address = (form.get("address_string") or form.get("address_id") or "").strip()
    if address:
        return address
    lat, long = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    try:
        return f"经纬度 {float(lat):.6f},{float(long):.6f}"
    except ValueError as exc:
        raise InvalidInput("须提供位置：lat 与 long，或 address_string", code="open311-location-required") from exc


def submit(session: Session, client: str, form: Mapping[str, str], *, at: datetime | None = None) -> dict[str, Any]:
    """POST /requests: the request becomes a work order (受理, channel app) at once; returns its number."""
    service = get_service(session, _need(form, "service_code", "服务代码"))
    description = _need(form, "description", "诉求内容")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description 不能超过 {MAX_DESCRIPTION} 字", code="open311-description-too-long")
    phone = _need(form, "phone", "联系电话：12345 须回访")
    kind = (form.get("attribute[type]") or "").strip() or DEFAULT_TYPE.value
    order = workorders.create_order(
        session,
        type=kind,
        content=description,
        phone=phone,
        region=(form.get("jurisdiction_id") or "").strip() or PROVINCE.code,
        at=at,
        client_key=f"open311:{client}:{uuid.uuid4().hex}",
        channel="app",
        caller_name=f"{(form.get('last_name') or '').strip()}{(form.get('first_name') or '').strip()}",
        category=service.category,
        place=_place(form),
        actor=f"open311:{client}",
        role="agent",
    )
    session.flush()
    notice = f"已受理，工单编号 {order.number}，办理期限 {order.due.isoformat()}；可凭工单编号和手机号后四位查询进度"
    return {"service_request_id": order.number, "service_notice": notice, "account_id": None}


def _own(session: Session, client: str, number: str) -> Any:
    try:
        order = workorders.get_order(session, number)
    except NotFound:
        order = None
    if order is None or not (order.client_key or "").startswith(f"open311:{client}:"):
        # The same answer for "no such order" and "not this app's": numbers cannot be probed.
        raise NotFound(f"没有这个服务请求：{number}", code="open311-request-not-found")
    return order


def _request(order: Any) -> dict[str, Any]:
    state = State(order.state)
    if state is State.MERGED:
        notes = "已与相同诉求合并办理"
    elif status(state) == "closed":
        notes = order.reply or "已办结"
    else:
        notes = STATE_LABELS[state]
    group, _, rest = (order.category or "").partition("/")
    name = rest.split("/")[0]
    expected = datetime.combine(order.due, time(23, 59, 59), CHINA_TZ)
    return {
        "service_request_id": order.number,
        "status": status(state),
        "status_notes": notes,
        "service_name": name,
        "service_code": service_code(group, name) if name else None,
        "description": order.content,
        "agency_responsible": order.lead_unit.name if order.lead_unit else None,
        "service_notice": None,
        "requested_datetime": china(order.created_at).isoformat(timespec="seconds"),
        "updated_datetime": china(order.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": expected.isoformat(timespec="seconds"),
        "address": order.place or None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def get_request(session: Session, client: str, number: str) -> dict[str, Any]:
    return _request(_own(session, client, number))


def list_requests(
    session: Session,
    client: str,
    *,
    ids: str | None = None,
    service: str | None = None,
    start: str | None = None,
    end: str | None = None,
    state: str | None = None,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """GET /requests: this app's requests, by ids (then the other filters are ignored, as the standard says) or
    by service, status and a period of at most 90 days (default: the last 90 days), newest first."""
    if ids:
        return [_request(_own(session, client, n.strip())) for n in ids.split(",") if n.strip()][:MAX_RESULTS]
    if state not in (None, "", "open", "closed"):
        raise InvalidInput("status 应为 open 或 closed", code="open311-invalid-status")
    until = parse_instant(end) if end else (at or now())
    since = parse_instant(start) if start else until - MAX_SPAN
    if until < since or until - since > MAX_SPAN:
        raise InvalidInput("start_date 须早于 end_date，且相隔不超过 90 天", code="open311-invalid-period")
    if service:
        get_service(session, service)
    rows = workorders.list_client_orders(session, f"open311:{client}:", since=since, until=until, limit=MAX_RESULTS)
    found = [_request(o) for o in rows]
    return [r for r in found if (not service or r["service_code"] == service) and (not state or r["status"] == state)]
