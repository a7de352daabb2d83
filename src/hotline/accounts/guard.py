"""The HTTP guard: every request is checked against `policy.RULES` before it reaches a handler.

An ASGI middleware rather than a FastAPI dependency, because the hottest routes (`/api/route`, the SIP proxy's
`/telephony/route`) are plain Starlette routes that skip dependencies, and they must be guarded too. It finds the
request's credentials (an `Authorization: Bearer` token, the token as an HTTP Basic password, or the
`hotline_session` cookie), asks the accounts service who holds them, and leaves the `Identity` in
`request.state.identity` for handlers (`accounts.api.acting`). Public routes and the proxy calling from a trusted
network never touch the database.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import time
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.accounts import domain as d
from hotline.accounts.policy import POLICY, Policy, Rule
from hotline.accounts.service import token_digest
from hotline.errors import Forbidden, HotlineError, NotFound
from hotline.settings import get_settings

COOKIE = "hotline_session"
# The SIP proxy's own identity when it calls from a trusted network without a token.
TRUSTED_PROXY = d.Identity(login="proxy", name="SIP 代理（受信网络）", grants=(d.Grant.PROXY,))
_API_PREFIXES = ("/api/", "/telephony/", "/open311/")
_UNGUARDED = ("/static/", "/docs", "/redoc", "/openapi.json")
_SAFE = {"GET", "HEAD", "OPTIONS"}


class MethodNotAllowed(HotlineError):
    code = "method-not-allowed"
    http_status = 405


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def credentials(scope: Scope) -> tuple[str | None, bool]:
    """The token a request carries and whether it came in the session cookie."""
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None, False
    if auth and auth[:6].lower() == "basic ":
        # The token as the password of HTTP Basic: what Kamailio's http_client sends for
        # `--router http://<login>:<token>@host:port`; the login part is not needed to find the token.
        try:
            _, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        return password or None, False
    cookie = _header(scope, b"cookie")
    if cookie:
        for part in cookie.split(";"):
            key, _, value = part.strip().partition("=")
            if key == COOKIE and value:
                return value, True
    return None, False


def _is_page(path: str) -> bool:
    return not path.startswith(_API_PREFIXES)


def _cross_site(scope: Scope) -> bool:
    """A browser's form or script posting from another site with our cookie (CSRF). SameSite=Lax already stops
    most; this refuses the rest when the browser says where the request came from."""
    origin = _header(scope, b"origin") or _header(scope, b"referer")
    if not origin or origin == "null":
        return origin == "null"
    host = _header(scope, b"host") or ""
    return urlsplit(origin).netloc != host


class Guard:
    def __init__(self, app: ASGIApp, policy: Policy | None = None) -> None:
        self.app = app
        self.policy = policy or POLICY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        if not settings.auth_required:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(_UNGUARDED):
            await self.app(scope, receive, send)
            return
        try:
            identity = await self._check(scope, path, settings.proxy_networks)
        except HotlineError as exc:
            await self._refuse(scope, receive, send, exc)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, path: str, proxy_networks: str) -> d.Identity | None:
        method: str = scope["method"]
        rule = self.policy.find(method, path)
        if rule is None:
            if self.policy.knows_path(path):
                raise MethodNotAllowed("不支持该请求方法", code="method-not-allowed")
            raise NotFound("没有这个页面或接口", code="not-found")
        token, from_cookie = credentials(scope)
        if token is None:
            if rule.public:
                return None
            if d.Grant.PROXY in rule.grants and _trusted(scope, proxy_networks):
                return TRUSTED_PROXY
            raise d.LoginRequired("请先登录", code="login-required")
        if from_cookie and method not in _SAFE and _cross_site(scope):
            raise Forbidden("拒绝跨站提交", code="cross-site-request")
        try:
            identity = await _identify(token)
        except d.LoginRequired:
            if rule.public:
                return None
            raise
        scope.setdefault("state", {})["identity"] = identity  # the refusal page names who is signed in
        _allow(rule, identity)
        return identity

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: HotlineError) -> None:
        from starlette.responses import HTMLResponse, RedirectResponse, Response

        status = exc.http_status
        response: Response
        if _is_page(scope["path"]) and status == 401:
            # Also for a form posted after the session ended: back to it once signed in (what was typed is lost).
            query = scope.get("query_string", b"").decode("latin-1") if scope["method"] in _SAFE else ""
            target = scope["path"] + (f"?{query}" if query else "")
            why = "&reason=expired" if exc.code == "session-expired" else ""  # the sign-in page says why
            response = RedirectResponse(f"/login?next={quote(target, safe='')}{why}", status_code=303)
        elif _is_page(scope["path"]):
            response = HTMLResponse(_refusal_page(scope, exc), status_code=status)
        else:
            response = Response(
                json.dumps(exc.to_dict(), ensure_ascii=False), status_code=status, media_type="application/json"
            )
            if status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)


def _allow(rule: Rule, identity: d.Identity) -> None:
    if rule.public or any(g in rule.grants for g in identity.grants):
        return
    raise Forbidden(f"账号 {identity.login} 无权使用此功能", code="role-not-granted")


# Who holds a token, remembered for a few seconds per process: the lookup costs more server CPU than a small
# request itself (bench/accounts.md), and the SIP proxy's token is asked about on every uncached call. The price
# is that disabling an account or revoking its tokens from another process (the CLI, another worker) takes
# effect here within REMEMBER_FOR; signing out through this process forgets the token at once.
REMEMBER_FOR = 10.0
_REMEMBERED_MAX = 10_000
_remembered: dict[str, tuple[float, d.Identity]] = {}  # by the token's digest, as it is stored: no raw tokens kept
_clock = time.monotonic  # tests move it on


def forget(token: str) -> None:
    _remembered.pop(token_digest(token), None)


def forget_account(login: str) -> None:
    """Forget every token this process remembers for LOGIN (its sessions or tokens have just been ended)."""
    for key, (_, identity) in list(_remembered.items()):
        if identity.login == login:
            _remembered.pop(key, None)


async def _identify(token: str) -> d.Identity:
    key, moment = token_digest(token), _clock()
    known = _remembered.get(key)
    if known is not None and known[0] > moment:
        return known[1]  # answered on the event loop: handing work to a thread costs as much as a small request
    identity = await run_in_threadpool(_look_up, token)
    if len(_remembered) >= _REMEMBERED_MAX:
        _remembered.clear()
    _remembered[key] = (moment + REMEMBER_FOR, identity)
    return identity


def _look_up(token: str) -> d.Identity:
    from hotline.accounts import service
    from hotline.db import session_scope

    with session_scope() as session:
        return service.identify(session, token)


_trusted_hosts: dict[tuple[str, str], bool] = {}


def _trusted(scope: Scope, networks: str) -> bool:
    client = scope.get("client")
    if not client or not networks:
        return False
    key = (networks, str(client[0]))
    known = _trusted_hosts.get(key)
    if known is None:  # the proxy calls from a handful of addresses: parse each once
        if len(_trusted_hosts) >= 4096:
            _trusted_hosts.clear()
        known = _trusted_hosts[key] = _in_networks(key[1], networks)
    return known


def _in_networks(host: str, networks: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
        return any(address in ipaddress.ip_network(n.strip(), strict=False) for n in networks.split(",") if n.strip())
    except ValueError:
        return False


def _refusal_page(scope: Scope, exc: HotlineError) -> str:
    from starlette.requests import Request

    from hotline.web.pages import page_html

    title = {403: "无权访问", 405: "不支持该请求方法"}.get(exc.http_status, "页面不存在")
    return page_html(Request(scope), "refused.html", title, error=exc)
