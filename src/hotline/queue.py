"""The message queue (NATS JetStream) the platform exchanges data with sub-centres, cities and units through:
connecting, and making sure a stream exists. `aggregation.stream` (data in) and `push.stream` (work-order
events out) build on it."""

from __future__ import annotations

from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from hotline.errors import HotlineError
from hotline.settings import get_settings

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
