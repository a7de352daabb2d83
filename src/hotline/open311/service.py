"""Use cases of Open311: the services, submitting a request as a work order, following one's requests.

Each app is an account holding the `open311` grant, and the standard's `api_key` is one of its API tokens
(`hotline accounts token`), so an app's access is issued, revoked and audited like any system's. An app sees only
the requests it submitted (their work orders carry the client key `open311:<login>:<uuid>`): an app shows its
users their own requests, and nobody can read other people's demands by guessing order numbers. Phone-in orders
never appear here.

Keys named in `HOTLINE_OPEN311_KEYS="name=key,…"`, how apps were known before, are still accepted while apps move
to tokens (deprecated): the name plays the login's part, so an account with that login sees the same requests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.accounts import service as accounts
from hotline.accounts.domain import Grant, LoginRequired
from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.open311.domain import (
    DEFAULT_TYPE,
    MAX_DESCRIPTION,
    Service,
    check_media_url,
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
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class App:
    """The app a request comes from."""

    name: str  # its account's login (or its name in HOTLINE_OPEN311_KEYS): its orders' client key says it
    actor: str  # how the work-order history names it


def _invalid() -> Forbidden:
    return Forbidden("api_key 无效或缺失", code="open311-key-invalid")


def client_of(session: Session, api_key: str | None) -> App:
    """The app an `api_key` belongs to: an API token of an enabled account holding the `open311` grant (or a key
    from HOTLINE_OPEN311_KEYS). Refused `open311-key-invalid` (unknown, revoked, of a disabled account, or none),
    `open311-key-expired`, or `open311-key-not-granted` (another system's or a person's token)."""
    key = (api_key or "").strip()
    if not key:
        raise _invalid()
    legacy = _legacy_app(session, key)
    if legacy is not None:
        return legacy
    try:
        # Not the guard's per-process memory: revoking an app's token or disabling it takes effect at once, and
        # the lookup is one indexed query beside the several each Open311 request makes anyway.
        identity = accounts.identify(session, key)
    except LoginRequired as exc:
        if exc.code == "session-expired":
            raise Forbidden("api_key 已过期，请向 12345 平台管理员申请新的令牌", code="open311-key-expired") from None
        raise _invalid() from None
    if not identity.holds(Grant.OPEN311):
        raise Forbidden(
            f"账号 {identity.login} 不是服务请求应用，其令牌不能用作 api_key",
            code="open311-key-not-granted",
            login=identity.login,
        )
    return App(identity.login, identity.actor)


# -- HOTLINE_OPEN311_KEYS (deprecated) -------------------------------------------------------------------------------
_parsed: tuple[str, list[tuple[str, bytes]]] = ("", [])
_warned: set[str] = set()


def _legacy_keys() -> list[tuple[str, bytes]]:
    """(app name, SHA-256 of its key) for each `name=key` in HOTLINE_OPEN311_KEYS."""
    global _parsed
    raw = get_settings().open311_keys
    if raw != _parsed[0]:
        found = []
        for pair in raw.split(","):
            name, _, key = pair.strip().partition("=")
            if name.strip() and key.strip():
                found.append((name.strip(), hashlib.sha256(key.strip().encode()).digest()))
        _parsed = (raw, found)
    return _parsed[1]


def _legacy_app(session: Session, key: str) -> App | None:
    """The app whose key in HOTLINE_OPEN311_KEYS this is, if any. Compared in constant time: digests of equal
    length, and every key compared, so how long the answer takes says nothing about how much of a key was right.

    A disabled account with the app's name refuses its key too: disabling an app's account always cuts it off."""
    digest = hashlib.sha256(key.encode()).digest()
    name = None
    for candidate, expected in _legacy_keys():
        if hmac.compare_digest(digest, expected) and name is None:
            name = candidate
    if name is None:
        return None
    try:
        account = accounts.get_account(session, name)
    except NotFound:
        account = None
    if account is not None and not account.active:
        raise _invalid()
    if name not in _warned:  # once per process and app: the log says which apps still have to move
        _warned.add(name)
        log.warning(
            "Open311 app %r authenticated with a key from HOTLINE_OPEN311_KEYS, which is deprecated: give it an "
            "account (hotline accounts add %s --name NAME --role open311 --no-password) and a token instead",
            name,
            name,
        )
    return App(name, f"open311:{name}")


def legacy_keys_notice() -> str | None:
    """What `hotline serve` should say at start while HOTLINE_OPEN311_KEYS still names apps."""
    names = [name for name, _ in _legacy_keys()]
    if not names:
        return None
    return (
        f"警告：HOTLINE_OPEN311_KEYS 已弃用（仍有效：{'、'.join(names)}）；请为每个应用新建 open311 账号并签发令牌"
        "（hotline accounts add <应用名> --name <名称> --role open311 --no-password），应用改用令牌后删除该变量"
    )


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


def submit(session: Session, app: App, form: Mapping[str, str], *, at: datetime | None = None) -> dict[str, Any]:
    """POST /requests: the request becomes a work order (受理, channel app) at once; returns its number."""
    service = get_service(session, _need(form, "service_code", "服务代码"))
    description = _need(form, "description", "诉求内容")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description 不能超过 {MAX_DESCRIPTION} 字", code="open311-description-too-long")
    phone = _need(form, "phone", "联系电话：12345 须回访")
    kind = (form.get("attribute[type]") or "").strip() or DEFAULT_TYPE.value
    media_url = check_media_url(form.get("media_url") or "")
    order = workorders.create_order(
        session,
        type=kind,
        content=description,
        phone=phone,
        region=(form.get("jurisdiction_id") or "").strip() or PROVINCE.code,
        at=at,
        client_key=f"open311:{app.name}:{uuid.uuid4().hex}",
        channel="app",
        caller_name=f"{(form.get('last_name') or '').strip()}{(form.get('first_name') or '').strip()}",
        category=service.category,
        place=_place(form),
        actor=app.actor,
        role="agent",
        media_url=media_url,
    )
    session.flush()
    notice = f"已受理，工单编号 {order.number}，办理期限 {order.due.isoformat()}；可凭工单编号和手机号后四位查询进度"
    return {"service_request_id": order.number, "service_notice": notice, "account_id": None}


def _own(session: Session, app: App, number: str) -> Any:
    try:
        order = workorders.get_order(session, number)
    except NotFound:
        order = None
    if order is None or not (order.client_key or "").startswith(f"open311:{app.name}:"):
        # The same answer for "no such order" and "not this app's": numbers cannot be probed.
        raise NotFound(f"没有这个服务请求：{number}", code="open311-request-not-found")
    return order


def _requests(session: Session, orders: list[Any]) -> list[dict[str, Any]]:
    media = workorders.media_urls(session, (o.id for o in orders))
    return [_request(o, media.get(o.id)) for o in orders]


def _request(order: Any, media_url: str | None) -> dict[str, Any]:
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
        "media_url": media_url,  # the app's own link, as sent: the platform never fetches it
    }


def get_request(session: Session, app: App, number: str) -> dict[str, Any]:
    return _requests(session, [_own(session, app, number)])[0]


def list_requests(
    session: Session,
    app: App,
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
        return _requests(session, [_own(session, app, n.strip()) for n in ids.split(",") if n.strip()][:MAX_RESULTS])
    if state not in (None, "", "open", "closed"):
        raise InvalidInput("status 应为 open 或 closed", code="open311-invalid-status")
    until = parse_instant(end) if end else (at or now())
    since = parse_instant(start) if start else until - MAX_SPAN
    if until < since or until - since > MAX_SPAN:
        raise InvalidInput("start_date 须早于 end_date，且相隔不超过 90 天", code="open311-invalid-period")
    if service:
        get_service(session, service)
    rows = workorders.list_client_orders(session, f"open311:{app.name}:", since=since, until=until, limit=MAX_RESULTS)
    found = _requests(session, list(rows))
    return [r for r in found if (not service or r["service_code"] == service) and (not state or r["status"] == state)]
