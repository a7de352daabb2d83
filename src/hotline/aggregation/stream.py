"""Batches through the message queue (NATS JetStream): sources publish, the platform's listener stores.

A source publishes each batch to `<subject>.<source code>` (`hotline.feeds.12366`); JetStream acknowledges the
publish once the batch is on disk, so a sender knows it was received even while the platform is down. The
listener reads with a durable consumer and acknowledges a batch only after `service.ingest` committed it:
a crash in between redelivers it, and `ingest` keeps the latest version of each record, so a batch stored
twice counts once. A batch that can never be stored (bad JSON, a bad record, an unknown source) is
terminated (never redelivered) and its reason kept in `agg_rejections` with its stream sequence; the message
itself stays in the stream for `queue.RETENTION` to be looked at. A database error leaves the batch to be
redelivered after `RETRY_DELAY`.

With sign-in on (HOTLINE_AUTH), a batch is taken only from its source's own system, as over HTTP, but the stream
keeps every message for 30 days and whoever reads it must not find a credential there: the publisher signs each
message (HMAC-SHA256, `signature`) with the SHA-256 of its feed account's API token (what the platform keeps of
it) and sends the signature and the time it signed (`headers`), never the token. The listener asks
`accounts.service.identify_signer` whose token signed it and checks that account against the HTTP feed
resource's policy and `check_source`. A batch without a valid signature of its source is refused like a bad one
(terminated, the reason kept), before its content is looked at; since it did not come from the source, it does
not count as the source being heard from. The signed string holds the subject, so a signature does not move to
another source, and the time, which must be within `MAX_SKEW` of when JetStream stored the message, so a copy
published again later is refused (within the window it changes nothing: `ingest` keeps the latest version).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from hotline import queue
from hotline.accounts import domain as accounts_domain
from hotline.accounts import service as accounts
from hotline.accounts.policy import POLICY
from hotline.aggregation import service
from hotline.db import session_scope
from hotline.errors import Forbidden, HotlineError, InvalidInput, NotFound
from hotline.settings import get_settings

log = logging.getLogger(__name__)

DURABLE = "hotline-aggregation"
RETRY_DELAY = 5.0
ACK_WAIT = 60.0  # a batch not acknowledged in this time is redelivered (the listener died mid-batch)
FETCH = 20
SIGNATURE = "Hotline-Signature"  # message header: `v1=<hex HMAC-SHA256>`
TIMESTAMP = "Hotline-Timestamp"  # message header: when the publisher signed, in seconds since 1970 (UTC)
SCHEME = "v1"
# Senders' clocks may be off by this much (seconds); a signature older than this when the message was stored is
# a copy published again. The stream's time is the server's, so a listener that was down does not matter.
MAX_SKEW = 300


@dataclass
class Handled:
    """What the listener did with one message (printed by `hotline feeds listen`)."""

    source: str
    seq: int
    result: service.IngestResult | None = None
    error: HotlineError | None = None
    retry: bool = False  # the store failed; the queue redelivers it


@dataclass
class Tally:
    stored: int = 0
    rejected: int = 0
    retried: int = 0


async def _jetstream(url: str | None) -> tuple[queue.Connection, JetStreamContext]:
    settings = get_settings()
    nc, js = await queue.connect(url)
    try:
        await queue.unrefused(nc, queue.ensure_stream(js, settings.feeds_stream, settings.feeds_subject))
    except BaseException:
        await nc.close()
        raise
    return nc, js


def signed_string(timestamp: str, subject: str, body: bytes) -> bytes:
    """What a publisher signs: the scheme, the time it signs, the full subject and the SHA-256 of the body, one to a
    line. The body enters by its digest, so that the listener's trial of a source's few keys costs little whatever
    the batch's size."""
    return "\n".join((SCHEME, timestamp, subject, hashlib.sha256(body).hexdigest())).encode()


def signature(key: str, signed: bytes) -> str:
    """The hex HMAC-SHA256 of a `signed_string`, keyed with the token's SHA-256 in hex (`accounts.token_digest`)."""
    return hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()


def headers(token: str | None, subject: str, body: bytes, *, at: float | None = None) -> dict[str, str] | None:
    """The headers a batch is published with: its signature with the feed account's API token, when there is one
    (the token itself is not among them)."""
    if not token:
        return None
    timestamp = str(int(time.time() if at is None else at))
    signed = signature(accounts.token_digest(token), signed_string(timestamp, subject, body))
    return {TIMESTAMP: timestamp, SIGNATURE: f"{SCHEME}={signed}"}


async def publish(source: str, payload: Any, *, url: str | None = None, token: str | None = None) -> int:
    """Publish one batch for SOURCE, signed with TOKEN (the source's feed account's API token) when the platform
    asks for sign-in; returns its stream sequence once JetStream has stored it."""
    nc, js = await _jetstream(url)
    try:
        subject = f"{get_settings().feeds_subject}.{source}"
        body = json.dumps(payload).encode()
        # A source's NATS user may publish to its own subject only: another's is refused at once, not timed out.
        ack = await queue.unrefused(nc, js.publish(subject, body, timeout=10, headers=headers(token, subject, body)))
        return int(ack.seq)
    finally:
        await nc.close()


def _header(found: Mapping[str, str] | None, name: str) -> str | None:
    """A message header by name in any case, as HTTP's."""
    return next((v for k, v in (found or {}).items() if k.lower() == name.lower()), None)


def _check_publisher(
    source: str, subject: str, body: bytes, found: Mapping[str, str] | None, stored_at: datetime
) -> None:
    """Refuse a batch not signed with a valid API token of an account that may deliver for SOURCE: the same
    decision as for `POST /api/feeds/{source}` (the guard's role check, then `check_source`)."""

    def refuse(why: str, code: str = "login-required") -> accounts_domain.LoginRequired:
        return accounts_domain.LoginRequired(why, code=code)

    if _header(found, "Authorization") is not None:
        # The token itself now sits in the stream for 30 days: taking the batch would let the leak go unnoticed.
        raise refuse("消息头不得携带接口令牌（Authorization）：请改为签名发送（Hotline-Signature），并尽快更换该令牌")
    given, timestamp = _header(found, SIGNATURE), _header(found, TIMESTAMP)
    if given is None or timestamp is None:
        raise refuse(f"消息未签名（消息头 {SIGNATURE}: {SCHEME}=<签名>、{TIMESTAMP}: <签名时间>）")
    scheme, _, hex_digest = given.strip().partition("=")
    timestamp = timestamp.strip()
    if scheme != SCHEME or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise refuse(f"消息签名格式不对（应为 {SIGNATURE}: {SCHEME}=<十六进制签名>，{TIMESTAMP} 为整数秒）")
    skew = int(timestamp) - stored_at.timestamp()
    if abs(skew) > MAX_SKEW:
        raise refuse(
            f"消息签名时间与入队时间相差 {abs(skew):.0f} 秒，超过 {MAX_SKEW} 秒（重复发布的旧消息，或发送方时钟不准）"
        )
    signed, expected = signed_string(timestamp, subject, body), hex_digest.strip().lower().encode()

    def signed_with(key: str) -> bool:
        return hmac.compare_digest(signature(key, signed).encode(), expected)

    try:
        # A session of its own, committed even when the account is then refused, as the HTTP guard's: the
        # token's last use is recorded the same way for both ways in.
        with session_scope() as session:
            identity = accounts.identify_signer(session, source, signed_with)
    except accounts_domain.LoginRequired as exc:
        if exc.code == "session-expired":
            raise refuse("消息签名所用接口令牌已过期", exc.code) from None
        raise refuse(
            "消息签名无效：不是有效接口令牌所签（令牌有误、已注销或其账号已停用，或消息签名后被改动）"
        ) from None
    if not POLICY.allows("POST", f"/api/feeds/{source}", identity.grants):
        raise Forbidden(f"账号 {identity.login} 无权报送数据", code="role-not-granted")
    accounts_domain.check_source(identity, source)


def _store(
    source: str, subject: str, data: bytes, seq: int, found: Mapping[str, str] | None, stored_at: datetime
) -> Handled:
    """Runs in a worker thread: the database work of one message, in its own transactions."""
    error: HotlineError
    heard = False  # until the batch is known to come from the source's own system (its signature, or sign-in off)
    try:
        if get_settings().auth_required:
            _check_publisher(source, subject, data, found, stored_at)
        heard = True
        try:
            payload = json.loads(data)
        except ValueError:  # UnicodeDecodeError included
            raise InvalidInput("消息不是合法的 JSON（应为 UTF-8 编码）", code="feed-invalid") from None
        with session_scope() as session:
            return Handled(source, seq, result=service.ingest(session, source, payload))
    except HotlineError as exc:
        error = exc
    try:
        with session_scope() as session:
            service.reject(session, source, error, transport="queue", stream_seq=seq, heard=heard)
    except NotFound:
        pass  # an unknown source: no feed to keep the reason under
    return Handled(source, seq, error=error)


async def _handle(msg: Any) -> Handled:
    source = msg.subject.rsplit(".", 1)[-1]
    seq = int(msg.metadata.sequence.stream)
    try:
        stored_at = msg.metadata.timestamp  # when JetStream stored it, the same on every redelivery
        outcome = await asyncio.to_thread(_store, source, msg.subject, msg.data, seq, msg.headers, stored_at)
    except Exception:  # the database is down or busy: leave the batch in the queue
        log.exception("batch %s of %s not stored; redelivered in %ss", seq, source, RETRY_DELAY)
        await msg.nak(delay=RETRY_DELAY)
        return Handled(source, seq, retry=True)
    if outcome.error is not None:
        await msg.term()
    else:
        await msg.ack()
    return outcome


async def listen(
    *,
    url: str | None = None,
    idle_exit: float | None = None,
    on_outcome: Callable[[Handled], None] | None = None,
    stop: asyncio.Event | None = None,
) -> Tally:
    """Store every batch the sources publish until STOP is set (the messages in hand are finished first), or,
    with IDLE_EXIT, once nothing has arrived for that many seconds (tests, draining the queue from a script)."""
    settings = get_settings()
    nc, js = await _jetstream(url)
    tally = Tally()
    try:
        sub = await queue.unrefused(
            nc,
            js.pull_subscribe(
                f"{settings.feeds_subject}.*",
                durable=DURABLE,
                stream=settings.feeds_stream,
                config=ConsumerConfig(ack_wait=ACK_WAIT),
            ),
        )
        last = time.monotonic()
        while stop is None or not stop.is_set():
            try:
                messages = await sub.fetch(FETCH, timeout=1.0)
            except (NatsTimeout, TimeoutError):  # the client raises either, depending on when it gives up
                queue.check(nc)  # a refused fetch or acknowledgement only ever times out
                if idle_exit is not None and time.monotonic() - last >= idle_exit:
                    break
                continue
            last = time.monotonic()
            for msg in messages:
                outcome = await _handle(msg)
                if outcome.retry:
                    tally.retried += 1
                elif outcome.error is not None:
                    tally.rejected += 1
                else:
                    tally.stored += 1
                if on_outcome is not None:
                    on_outcome(outcome)
    finally:
        await nc.close()
    return tally
