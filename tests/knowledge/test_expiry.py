"""Knowledge articles expire on their own: the background worker `hotline serve` runs (`knowledge.expiry`) sets
published articles past their expiry date to 已过期 at its start and at every China-time hour (so minutes after
midnight), recorded under `system` in their kept versions; a database error is told once and retried, the
worker's state shown with the other workers'. Both databases for the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from hotline.db import session_scope
from hotline.knowledge import expiry, service
from hotline.knowledge.domain import ArticleInput
from hotline.timeutil import CHINA_TZ
from hotline.workers import TITLES, Board, Pace, Worker, platform_workers, read_status, run_all, supervise
from tests.queue_support import run


def test_the_worker_looks_again_at_the_start_of_every_china_hour() -> None:
    assert expiry.next_check(datetime(2026, 11, 29, 15, 2, 30, tzinfo=CHINA_TZ)) == datetime(
        2026, 11, 29, 16, 0, tzinfo=CHINA_TZ
    )
    # 15:30 UTC is 23:30 in China: the next look is China's midnight.
    assert expiry.next_check(datetime(2026, 11, 29, 15, 30, tzinfo=UTC)) == datetime(
        2026, 11, 30, 0, 0, tzinfo=CHINA_TZ
    )
    assert expiry.next_check(datetime(2026, 11, 30, 0, 0, tzinfo=CHINA_TZ)) == datetime(
        2026, 11, 30, 1, 0, tzinfo=CHINA_TZ
    )


def _published(title: str, expires_on: date) -> str:
    with session_scope() as session:
        article = service.create_article(
            session, ArticleInput(title=title, body=f"{title}的办理说明", expires_on=expires_on), actor="editor"
        )
        service.set_status(session, article.id, "review", actor="editor")
        service.set_status(session, article.id, "published", actor="chief")
        assert article.external_id is not None
        return article.external_id


def test_the_worker_expires_what_is_due_at_its_start_and_right_after_midnight(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lapsed = _published("旧补贴标准", date(2026, 11, 28))
    today = _published("年底前申领", date(2026, 11, 29))  # valid all of 11-29
    later = _published("新补贴标准", date(2026, 12, 31))
    moment = [datetime(2026, 11, 29, 23, 30, tzinfo=CHINA_TZ)]
    monkeypatch.setattr(service, "now", lambda: moment[0])
    told: list[str] = []
    waits: list[float] = []
    seen: list[dict[str, str]] = []

    def statuses() -> dict[str, str]:
        with session_scope() as session:
            return {key: service.get_article(session, key).status for key in (lapsed, today, later)}

    async def sleep(seconds: float, stop: asyncio.Event) -> None:
        seen.append(await asyncio.to_thread(statuses))
        waits.append(seconds)
        moment[0] += timedelta(seconds=seconds)
        if len(waits) == 3:
            stop.set()

    run(expiry.run(asyncio.Event(), tell=told.append, sleep=sleep, clock=lambda: moment[0]))

    assert waits == [1800.0, 3600.0, 3600.0]  # to midnight, then every hour
    assert seen[0] == {lapsed: "expired", today: "published", later: "published"}  # at its start
    assert seen[1] == {lapsed: "expired", today: "expired", later: "published"}  # at 00:00 on 11-30
    assert seen[2] == seen[1]
    assert told == [
        f"知识库：1 条知识已过失效日期，已设为已过期（{lapsed}）",
        f"知识库：1 条知识已过失效日期，已设为已过期（{today}）",
    ]  # nothing said of the run that found nothing
    with session_scope() as session:
        version = service.list_versions(session, today)[-1]
        assert (version.status, version.changed_by, version.note) == ("expired", "system", "到期自动失效")
        assert version.changed_at == datetime(2026, 11, 30, 0, 0, tzinfo=CHINA_TZ)
        queue = service.maintenance_queue(session, today=date(2026, 11, 30))
        assert queue.expired == []  # the 知识维护 queue no longer offers them as published


class Told:
    """What the supervisor told the operator, and its back-off pauses (returning at once)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.delays: list[float] = []

    async def back_off(self, seconds: float, stop: asyncio.Event) -> None:
        self.delays.append(seconds)


LOCKED = OperationalError("UPDATE kb_articles …", {}, Exception("database is locked"))


def test_a_database_error_is_told_once_and_the_expiry_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    told = Told()
    calls: list[int] = []

    def flaky() -> list[str]:
        calls.append(1)
        if len(calls) <= 3:
            raise LOCKED
        return ["KB000007"]

    async def scenario() -> Board:
        stop = asyncio.Event()
        worker = Worker(
            "kb_expiry",
            TITLES["kb_expiry"],
            lambda stop: expiry.run(stop, tell=told.lines.append, sleep=_until_stopped, expire=flaky),
            queue=False,
        )
        board = Board([worker], url="nats://q", tell=told.lines.append)
        task = asyncio.create_task(
            supervise(worker, stop, board, probe=_nothing, pace=Pace(settle=0.01), sleep=told.back_off)
        )
        await _until(lambda: board.states["kb_expiry"].state == "running")
        stop.set()
        await task
        return board

    board = run(scenario())
    assert len(calls) == 4 and told.delays == [1.0, 2.0, 4.0]
    outages = [line for line in told.lines if "中断（" in line]
    assert outages == [
        "后台任务：知识过期处理中断（数据库错误：database is locked）；网页照常服务，自动重试，恢复后另行提示"
    ]
    assert board.states["kb_expiry"].reason is None  # working again
    assert not any("Traceback" in line for line in told.lines)  # the database's trouble, not a fault in the code
    assert "知识库：1 条知识已过失效日期，已设为已过期（KB000007）" in told.lines
    assert any(line.startswith("后台任务：知识过期处理已恢复") for line in told.lines)
    assert board.states["kb_expiry"].failures == 3


async def _until(done: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until DONE (a TimeoutError after SECONDS: the test fails rather than hangs)."""

    async def poll() -> None:
        while not done():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), seconds)


async def _until_stopped(_seconds: float, stop: asyncio.Event) -> None:
    await stop.wait()


async def _nothing() -> None:
    return None


async def _unreachable() -> None:
    raise OSError("nats: no servers available")


def test_the_expiry_runs_while_the_queue_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [(w.name, w.queue) for w in platform_workers("nats://q")] == [
        ("feeds", True),
        ("push", True),
        ("kb_expiry", False),
        ("sms", False),
    ]
    ran: list[int] = []

    async def listen(stop: asyncio.Event) -> None:
        await stop.wait()

    async def expire(stop: asyncio.Event) -> None:
        ran.append(1)
        await stop.wait()

    async def scenario() -> dict[str, str]:
        stop = asyncio.Event()
        workers = [
            Worker("feeds", TITLES["feeds"], listen),
            Worker("kb_expiry", TITLES["kb_expiry"], expire, queue=False),
        ]
        board = Board(workers, url="nats://q", tell=lambda _line: None)
        task = asyncio.create_task(run_all(stop, workers, board, _unreachable, Pace(settle=0.01, first_delay=3600)))
        await _until(lambda: board.states["kb_expiry"].state == "running" and board.states["feeds"].state == "waiting")
        stop.set()
        await task
        return {name: s.state for name, s in board.states.items()}

    assert run(scenario()) == {"feeds": "stopped", "kb_expiry": "stopped"}
    assert ran == [1]


def test_its_state_is_shown_with_the_other_workers(tmp_path: Path) -> None:
    status = read_status(tmp_path)  # no workers' process
    expiry_view = status.workers["kb_expiry"]
    assert (expiry_view.state, expiry_view.level) == ("down", "warn")
    assert expiry_view.line.startswith("知识过期处理未运行（未检测到工作进程），已过失效日期的知识暂未自动设为已过期")
