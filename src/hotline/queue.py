"""The message queue (NATS JetStream) the platform exchanges data with sub-centres, cities and units through:
connecting, and making sure a stream exists. `aggregation.stream` (data in) and `push.stream` (work-order
events out) build on it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import nats
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from hotline.errors import HotlineError
from hotline.settings import get_settings

T = TypeVar("T")

RETENTION = 30 * 24 * 3600.0  # seconds a message stays in a stream, read or not
DUPLICATE_WINDOW = 600.0  # seconds in which a message published again with the same Nats-Msg-Id is dropped


async def connect(url: str | None = None) -> tuple[Any, JetStreamContext]:
    """A connection and its JetStream context; raises `queue-unreachable`."""
    target = url or get_settings().nats_url
    try:
        nc = await nats.connect(target, connect_timeout=5, max_reconnect_attempts=3)
    except Exception as exc:  # the client raises several kinds (refused, timeout, no servers)
        raise HotlineError(f"无法连接消息队列 {target}：{exc}", code="queue-unreachable") from exc
    return nc, nc.jetstream()


async def ensure_stream(js: JetStreamContext, name: str, subject: str) -> None:
    """Create stream NAME for `<subject>.*` unless it exists (an existing stream's settings are left alone)."""
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(name=name, subjects=[f"{subject}.*"], max_age=RETENTION, duplicate_window=DUPLICATE_WINDOW)
        )


def run_until_signalled(make: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> T:
    """Run a long-lived worker (`hotline feeds listen`, `hotline push run`) given an event that SIGINT and
    SIGTERM set: it finishes the batch in hand and returns, rather than being cancelled mid-way (the NATS
    client can swallow a cancellation that arrives while it waits for an acknowledgement)."""

    async def main() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await make(stop)

    return asyncio.run(main())
