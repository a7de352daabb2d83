"""Batches through the message queue (NATS JetStream): sources publish, the platform's listener stores.

A source publishes each batch to `<subject>.<source code>` (`hotline.feeds.12366`); JetStream acknowledges the
publish once the batch is on disk, so a sender knows it was received even while the platform is down. The
listener reads with a durable consumer and acknowledges a batch only after `service.ingest` committed it:
a crash in between redelivers it, and `ingest` keeps the latest version of each record, so a batch stored
twice counts once. A batch that can never be stored (bad JSON, a bad record, an unknown source) is
terminated (never redelivered) and its reason kept in `agg_rejections` with its stream sequence; the message
itself stays in the stream for `queue.RETENTION` to be looked at. A database error leaves the batch to be
redelivered after `RETRY_DELAY`.

With sign-in on (HOTLINE_AUTH), a batch is taken only from its source's own system, as over HTTP: the publisher
puts its feed account's API token in the message header `Authorization: Bearer <token>`, and the listener asks
`accounts.service.identify` who holds it and checks that account against the HTTP feed resource's policy and
`check_source`. A batch without a valid token of its source is refused like a bad one (terminated, the reason
kept), before its content is looked at; since it did not come from the source, it does not count as the source
being heard from.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
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
AUTHORIZATION = "Authorization"  # the message header carrying the publisher's API token, as in HTTP


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


async def _jetstream(url: str | None) -> tuple[Any, JetStreamContext]:
    settings = get_settings()
    nc, js = await queue.connect(url)
    await queue.ensure_stream(js, settings.feeds_stream, settings.feeds_subject)
    return nc, js


def headers(token: str | None) -> dict[str, str] | None:
    """The headers a batch is published with: the feed account's API token, when there is one."""
    return {AUTHORIZATION: f"Bearer {token}"} if token else None


async def publish(source: str, payload: Any, *, url: str | None = None, token: str | None = None) -> int:
    """Publish one batch for SOURCE, with TOKEN (the source's feed account's API token) when the platform asks
    for sign-in; returns its stream sequence once JetStream has stored it."""
    nc, js = await _jetstream(url)
    try:
        subject = f"{get_settings().feeds_subject}.{source}"
        ack = await js.publish(subject, json.dumps(payload).encode(), timeout=10, headers=headers(token))
        return int(ack.seq)
    finally:
        await nc.close()


def _token(header: dict[str, str] | None) -> str | None:
    """The Bearer token of a message's headers (the header's name in any case, as HTTP's)."""
    for name, value in (header or {}).items():
        if name.lower() == "authorization" and value[:7].lower() == "bearer ":
            return value[7:].strip() or None
    return None


def _check_publisher(source: str, token: str | None) -> None:
    """Refuse a batch that does not carry a valid API token of an account that may deliver for SOURCE: the same
    decision as for `POST /api/feeds/{source}` (the guard's role check, then `check_source`)."""
    if token is None:
        raise accounts_domain.LoginRequired(
            f"消息未携带接口令牌（消息头 {AUTHORIZATION}: Bearer <令牌>）", code="login-required"
        )
    try:
        # A session of its own, committed even when the account is then refused, as the HTTP guard's: the
        # token's last use is recorded the same way for both ways in.
        with session_scope() as session:
            identity = accounts.identify(session, token)
    except accounts_domain.LoginRequired as exc:
        why = "已过期" if exc.code == "session-expired" else "无效、已注销或其账号已停用"
        raise accounts_domain.LoginRequired(f"消息所带接口令牌{why}", code=exc.code) from None
    if not POLICY.allows("POST", f"/api/feeds/{source}", identity.grants):
        raise Forbidden(f"账号 {identity.login} 无权报送数据", code="role-not-granted")
    accounts_domain.check_source(identity, source)


def _store(source: str, data: bytes, seq: int, token: str | None) -> Handled:
    """Runs in a worker thread: the database work of one message, in its own transactions."""
    error: HotlineError
    heard = False  # until the batch is known to come from the source's own system (its token, or sign-in off)
    try:
        if get_settings().auth_required:
            _check_publisher(source, token)
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
        outcome = await asyncio.to_thread(_store, source, msg.data, seq, _token(msg.headers))
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
        sub = await js.pull_subscribe(
            f"{settings.feeds_subject}.*",
            durable=DURABLE,
            stream=settings.feeds_stream,
            config=ConsumerConfig(ack_wait=ACK_WAIT),
        )
        last = time.monotonic()
        while stop is None or not stop.is_set():
            try:
                messages = await sub.fetch(FETCH, timeout=1.0)
            except (NatsTimeout, TimeoutError):  # the client raises either, depending on when it gives up
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
