"""The message queue (NATS JetStream) the platform exchanges data with sub-centres, cities and units through:
connecting, and making sure a stream exists. `aggregation.stream` (data in) and `push.stream` (work-order
events out) build on it; `queue_auth` writes the NATS server's users and permissions for them.

The platform connects as the deployment says: a user and password or a token in HOTLINE_NATS_URL, or a
credentials file (HOTLINE_NATS_CREDS) for accounts managed with JWTs; replies come under its own inbox prefix
(HOTLINE_NATS_INBOX). What the server refuses for lack of permission arrives only through the client's error
callback, while the refused request waits for its timeout: `Connection` keeps the refusal and `unrefused` ends
the wait with it, so the operator reads which subject was refused rather than a bare timeout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from nats.aio.client import Client
from nats.errors import AuthorizationError
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from hotline.errors import HotlineError
from hotline.settings import get_settings, without_secrets

T = TypeVar("T")

RETENTION = 30 * 24 * 3600.0  # seconds a message stays in a stream, read or not
DUPLICATE_WINDOW = 600.0  # seconds in which a message published again with the same Nats-Msg-Id is dropped


class Connection(Client):
    """A NATS connection that remembers the server's last refusal of a publish or a subscription."""

    def __init__(self) -> None:
        super().__init__()
        self.refusal: str | None = None  # as the client hands it on: in lower case, subjects included
        self.refused = asyncio.Event()
        self.login_refused = False

    async def on_error(self, exc: Exception) -> None:
        text = str(exc).lower()
        if "permissions violation" in text:
            self.refusal = str(exc).removeprefix("nats: ")
            self.refused.set()
        elif isinstance(exc, AuthorizationError) or "authorization violation" in text:
            self.login_refused = True  # the client then gives up with "no servers available": said by `connect`
        else:  # as the client's own callback does: the workers silence this logger, the board says the outage once
            logging.getLogger("nats").error("nats: encountered error", exc_info=exc)


async def connect(url: str | None = None) -> tuple[Connection, JetStreamContext]:
    """A connection and its JetStream context, with the credentials the settings give; raises
    `queue-unreachable` (the message shows no password or token)."""
    settings = get_settings()
    target = url or settings.nats_url
    options: dict[str, Any] = {}
    if settings.nats_creds:
        if not os.access(settings.nats_creds, os.R_OK):
            raise HotlineError(
                f"无法读取消息队列凭据文件 {settings.nats_creds}（HOTLINE_NATS_CREDS）", code="queue-unreachable"
            )
        options["user_credentials"] = settings.nats_creds
    nc = Connection()
    try:
        await nc.connect(
            target,
            connect_timeout=5,
            max_reconnect_attempts=3,
            inbox_prefix=settings.nats_inbox,
            error_cb=nc.on_error,
            **options,
        )
    except Exception as exc:  # the client raises several kinds (refused, timeout, no servers, bad credentials)
        refused = nc.login_refused or isinstance(exc, AuthorizationError)
        why = "服务器拒绝登录：用户名、密码、令牌或凭据不对，或未提供" if refused else str(exc)
        message = without_secrets(f"无法连接消息队列 {target}：{why or type(exc).__name__}")
        raise HotlineError(message, code="queue-unreachable") from None
    return nc, nc.jetstream()


async def unrefused(nc: Connection, work: Awaitable[T]) -> T:
    """WORK's result, or `queue-permission-denied` as soon as the server refuses something on NC (a request it
    refused would otherwise wait for its timeout)."""
    task = asyncio.ensure_future(work)
    refused = asyncio.ensure_future(nc.refused.wait())
    try:
        await asyncio.wait({task, refused}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # cancelled: so is the work
        task.cancel()
        raise
    finally:
        refused.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    check(nc)
    return task.result()


def check(nc: Connection) -> None:
    """Raise `queue-permission-denied` if the server has refused something on NC."""
    if nc.refusal is not None:
        raise HotlineError(
            f"消息队列拒绝了本操作（{nc.refusal}）：本端的 NATS 用户无此权限，见 hotline feeds nats-config",
            code="queue-permission-denied",
        )


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
