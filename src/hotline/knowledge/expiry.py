"""The background worker that withdraws expired knowledge articles on its own (`service.expire_due`, what
`hotline kb expire` runs): at its start, then at the start of every China-time hour, so an article whose validity
ended yesterday is 已过期 minutes after midnight and never offered to agents from the 知识维护 queue as still
published. `hotline serve` runs it among its background workers (`hotline.workers`), which restart it when it fails
(a database error: told once, retried after a back-off) and show its state with theirs.

Each run is one indexed query when nothing is due (`ix_kb_articles_status_expires`); what it moves is recorded
under the actor `system` in each article's kept versions, as the command does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from hotline.db import session_scope
from hotline.knowledge import service
from hotline.timeutil import china, now

ACTOR = "system"


def next_check(after: datetime) -> datetime:
    """The start of the China-time hour after AFTER: every hour, midnight included."""
    local = china(after)
    return local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def expire_now() -> list[str]:
    """Withdraw every published article past its expiry date, in one transaction; their external ids."""
    with session_scope() as session:
        return [article.external_id or str(article.id) for article in service.expire_due(session, actor=ACTOR)]


async def run(
    stop: asyncio.Event,
    *,
    tell: Callable[[str], None],
    sleep: Callable[[float, asyncio.Event], Awaitable[None]],
    clock: Callable[[], datetime] = now,
    expire: Callable[[], list[str]] = expire_now,
) -> None:
    """Expire what is due now and at every CLOCK hour until STOP is set; a failure is raised to the supervisor.
    TELL says what was expired (nothing when nothing was); SLEEP waits, waking early when STOP is set."""
    while not stop.is_set():
        expired = await asyncio.to_thread(expire)
        if expired:
            shown = "、".join(expired[:10]) + (" 等" if len(expired) > 10 else "")
            tell(f"知识库：{len(expired)} 条知识已过失效日期，已设为已过期（{shown}）")
        moment = clock()
        await sleep((next_check(moment) - moment).total_seconds(), stop)
