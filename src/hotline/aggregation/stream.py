"""Batches through the message queue (NATS JetStream): sources publish, the platform's listener stores.

A source publishes each batch to `<subject>.<source code>` (`hotline.feeds.12366`); JetStream acknowledges the
publish once the batch is on disk, so a sender knows it was received even while the platform is down. The
listener reads with a durable consumer and acknowledges a batch only after `service.ingest` committed it:
a crash in between redelivers it, and `ingest` keeps the latest version of each record, so a batch stored
twice counts once. A batch that can never be stored (bad JSON, a bad record, an unknown source) is
terminated (never redelivered) and its reason kept in `agg_rejections` with its stream sequence; the message
itself stays in the stream for `queue.RETENTION` to be looked at. A database error leaves the batch to be
redelivered after `RETRY_DELAY`.
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
from hotline.aggregation import service
from hotline.db import session_scope
from hotline.errors import HotlineError, InvalidInput, NotFound
from hotline.settings import get_settings

log = logging.getLogger(__name__)

DURABLE = "hotline-aggregation"
RETRY_DELAY = 5.0
ACK_WAIT = 60.0  # a batch not acknowledged in this time is redelivered (the listener died mid-batch)
FETCH = 20


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


async def publish(source: str, payload: Any, *, url: str | None = None) -> int:
    """Publish one batch for SOURCE; returns its stream sequence once JetStream has stored it."""
    nc, js = await _jetstream(url)
    try:
        ack = await js.publish(f"{get_settings().feeds_subject}.{source}", json.dumps(payload).encode(), timeout=10)
        return int(ack.seq)
    finally:
        await nc.close()


def _store(source: str, data: bytes, seq: int) -> Handled:
    """Runs in a worker thread: the database work of one message, in its own transactions."""
    error: HotlineError
    try:
        payload = json.loads(data)
    except ValueError:  # UnicodeDecodeError included
        error = InvalidInput("消息不是合法的 JSON（应为 UTF-8 编码）", code="feed-invalid")
    else:
        try:
            with session_scope() as session:
                return Handled(source, seq, result=service.ingest(session, source, payload))
        except NotFound as exc:
            return Handled(source, seq, error=exc)  # an unknown source: no feed to keep the reason under
        except HotlineError as exc:
            error = exc
    with session_scope() as session:
        service.reject(session, source, error, transport="queue", stream_seq=seq)
    return Handled(source, seq, error=error)


async def _handle(msg: Any) -> Handled:
    source = msg.subject.rsplit(".", 1)[-1]
    seq = int(msg.metadata.sequence.stream)
    try:
        outcome = await asyncio.to_thread(_store, source, msg.data, seq)
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
