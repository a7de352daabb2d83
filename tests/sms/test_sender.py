"""The background worker `hotline serve` runs (`sms.sender.run`): each round writes the texts of the new history and
posts what is due to the gateway HOTLINE_SMS_GATEWAY_URL names; without one, texts wait as 待发送; a text failed for
good is told to the operator."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from hotline.db import session_scope
from hotline.sms import sender, service
from hotline.sms.store import Message
from hotline.timeutil import now
from tests.queue_support import run
from tests.sms.conftest import Answer, Gateway, take


def _rounds(count: int) -> tuple[asyncio.Event, Any]:
    stop = asyncio.Event()
    done = [0]

    async def sleep(_seconds: float, _stop: asyncio.Event) -> None:
        done[0] += 1
        with session_scope() as s:  # whatever the hour, what was written is due by the next round
            s.execute(update(Message).values(next_try_at=now() - timedelta(minutes=1)))
        if done[0] >= count:
            stop.set()

    return stop, sleep


def _counts() -> dict[str, int]:
    with session_scope() as s:
        return service.state_counts(s)


def test_the_worker_writes_and_sends(db_url: str, gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SMS_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("HOTLINE_SMS_GATEWAY_TOKEN", "secret-token")
    take(now())
    take(now())
    gateway.answers += [Answer(200, {"id": "a"}), Answer(400, {})]
    told: list[str] = []
    stop, sleep = _rounds(2)
    run(sender.run(stop, tell=told.append, sleep=sleep))
    assert _counts() == {"pending": 0, "sent": 1, "failed": 1, "skipped": 0}
    assert gateway.headers[0]["Authorization"] == "Bearer secret-token"
    assert told == ["短信：1 条发送失败，可在短信记录页或 hotline sms retry 重新发送"]


def test_without_a_gateway_texts_wait(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_SMS_GATEWAY_URL", raising=False)
    take(now())
    stop, sleep = _rounds(2)
    run(sender.run(stop, tell=print, sleep=sleep))
    assert _counts() == {"pending": 1, "sent": 0, "failed": 0, "skipped": 0}
