"""The relay: publishes each unit's work-order events to `<subject>.<unit>` (NATS JetStream), then moves the
cursor. The cursor is saved only after JetStream has stored the round's messages, so a crash in between
publishes them again; JetStream drops those copies (same `Nats-Msg-Id`) within `queue.DUPLICATE_WINDOW`, and
each message carries `event_id` for a unit's system to drop any older copy itself. Run one relay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from hotline import queue
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.push import service
from hotline.push.domain import Cursor, advance, subject_token
from hotline.settings import get_settings, without_secrets
from hotline.timeutil import now

POLL = 0.5  # seconds between looks at the history when something came recently …
IDLE_POLL = 2.0  # … growing to this while nothing comes (an empty look costs a couple of milliseconds of CPU)


def _read(cursor: Cursor) -> tuple[list[service.Delivery], list[int]]:
    with session_scope() as session:
        return service.pending(session, cursor)


def _load() -> Cursor:
    with session_scope() as session:
        return service.load_cursor(session)


def _save(cursor: Cursor) -> None:
    with session_scope() as session:
        service.save_cursor(session, cursor)


async def _pause(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep, waking early when STOP is set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def relay(
    *,
    url: str | None = None,
    idle_exit: float | None = None,
    on_delivery: Callable[[service.Delivery], None] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Deliver events until STOP is set (between rounds: a round's messages are published and the cursor saved),
    or, with IDLE_EXIT, once nothing new has come for that many seconds; returns how many were published."""
    settings = get_settings()
    nc, js = await queue.connect(url)
    published = 0
    try:
        await queue.unrefused(nc, queue.ensure_stream(js, settings.push_stream, settings.push_subject))
        cursor = await asyncio.to_thread(_load)
        quiet_since = time.monotonic()
        pause = POLL
        while stop is None or not stop.is_set():
            # The client gives up after its reconnect attempts without raising anything here; an idle relay would
            # learn it only at its next publish, so it looks every round and hands the outage to its supervisor.
            if nc.is_closed:
                raise HotlineError(
                    f"与消息队列 {without_secrets(url or settings.nats_url)} 的连接已断开，重连未成功",
                    code="queue-unreachable",
                )
            deliveries, read = await asyncio.to_thread(_read, cursor)
            for delivery in deliveries:
                subject = f"{settings.push_subject}.{subject_token(delivery.unit)}"
                body = json.dumps(delivery.payload, ensure_ascii=False).encode()
                await queue.unrefused(
                    nc, js.publish(subject, body, headers={"Nats-Msg-Id": delivery.message_id}, timeout=10)
                )
                published += 1
                if on_delivery is not None:
                    on_delivery(delivery)
            moved = advance(cursor, read, now())
            if moved != cursor:
                await asyncio.to_thread(_save, moved)
                cursor = moved
            if read:
                quiet_since, pause = time.monotonic(), POLL
                continue
            if idle_exit is not None and time.monotonic() - quiet_since >= idle_exit:
                break
            await _pause(min(pause, idle_exit) if idle_exit is not None else pause, stop)
            pause = min(pause * 2, IDLE_POLL)
    finally:
        await nc.close()
    return published
