"""The message-queue workers `hotline serve` keeps running: restarted with back-off when they or the queue fail,
the operator told once per outage, stopped after finishing what they have in hand; and the platform started as
an operator starts it stores what sources publish (or, with the workers off, leaves it in the queue)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hotline import db, queue, workers
from hotline.aggregation import stream as feeds_stream
from hotline.aggregation.store import FeedCallRow
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.settings import get_settings
from hotline.timeutil import CHINA_TZ, china_day, now
from hotline.workers import (
    ALL_RUNNING,
    STALE_AFTER,
    STATUS_FILE,
    Board,
    Pace,
    Worker,
    WorkersProcess,
    read_status,
    run_all,
    supervise,
)
from tests.platform_process import free_tcp_port
from tests.queue_support import own_stream, run

UNREACHABLE = HotlineError("无法连接消息队列 nats://127.0.0.1:1：refused", code="queue-unreachable")


class Recorder:
    """What the supervisor told the operator, and the back-off pauses it asked for (returning at once)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.told: list[str] = []
        self.delays: list[float] = []
        self.stop_after = stop_after

    async def sleep(self, seconds: float, stop: asyncio.Event) -> None:
        self.delays.append(seconds)
        if self.stop_after is not None and len(self.delays) >= self.stop_after:
            stop.set()

    def outages(self) -> list[str]:
        return [line for line in self.told if "中断（" in line]


async def reachable() -> None:
    return None


def a_worker(run: Callable[[asyncio.Event], object]) -> Worker:
    return Worker("feeds", "分中心数据接收", run)  # type: ignore[arg-type]


def test_a_crashing_worker_is_restarted_with_back_off_and_the_operator_told_once() -> None:
    recorder = Recorder()
    starts: list[int] = []

    async def flaky(stop: asyncio.Event) -> None:
        starts.append(1)
        if len(starts) <= 4:
            raise RuntimeError("database is locked")
        await stop.wait()

    async def scenario() -> Board:
        stop = asyncio.Event()
        worker = a_worker(flaky)
        board = Board([worker], url="nats://q", tell=recorder.told.append)
        pace = Pace(settle=0.01)
        task = asyncio.create_task(supervise(worker, stop, board, probe=reachable, pace=pace, sleep=recorder.sleep))
        while board.states["feeds"].state != "running":
            await asyncio.sleep(0.01)
        stop.set()
        await task
        return board

    board = run(scenario())
    assert len(starts) == 5
    assert recorder.delays == [1.0, 2.0, 4.0, 8.0]
    assert len(recorder.outages()) == 1 and "database is locked" in recorder.outages()[0]
    assert any("Traceback" in line for line in recorder.told)  # a fault in the code comes with where it happened
    assert [line for line in recorder.told if "已恢复" in line] == [recorder.told[-3]]
    assert recorder.told[-2:] == [ALL_RUNNING.format(url="nats://q"), "消息队列：工作进程已停止"]
    assert board.states["feeds"].failures == 4 and board.states["feeds"].state == "stopped"


def test_an_unreachable_queue_is_retried_at_most_every_thirty_seconds_and_told_once(tmp_path: Path) -> None:
    recorder = Recorder(stop_after=8)
    started: list[int] = []

    async def never(stop: asyncio.Event) -> None:
        started.append(1)

    async def unreachable() -> None:
        raise UNREACHABLE

    async def scenario() -> None:
        worker = a_worker(never)
        board = Board([worker], url="nats://q", path=tmp_path / STATUS_FILE, tell=recorder.told.append)
        await supervise(worker, asyncio.Event(), board, probe=unreachable, sleep=recorder.sleep)

    run(scenario())
    assert recorder.delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert started == []
    assert len(recorder.outages()) == 1 and "无法连接消息队列" in recorder.outages()[0]
    assert not any("Traceback" in line for line in recorder.told)
    status = json.loads((tmp_path / STATUS_FILE).read_text(encoding="utf-8"))
    assert status["workers"]["feeds"]["failures"] == 8 and status["workers"]["feeds"]["reason"] == UNREACHABLE.message


def test_a_worker_that_worked_for_a_while_is_restarted_quickly_and_its_new_outage_told() -> None:
    recorder = Recorder(stop_after=4)
    clock = [0.0]
    runs: list[int] = []

    async def worked_then_failed(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) == 3:
            await asyncio.sleep(0.05)  # long enough to be taken as working
            clock[0] += 3600.0
        raise ConnectionResetError("nats: connection closed")

    async def scenario() -> None:
        worker = a_worker(worked_then_failed)
        board = Board([worker], url="nats://q", tell=recorder.told.append)
        pace = Pace(settle=0.01)
        await supervise(worker, asyncio.Event(), board, probe=reachable, pace=pace, sleep=recorder.sleep,
                        clock=lambda: clock[0])  # fmt: skip

    run(scenario())
    assert recorder.delays == [1.0, 2.0, 1.0, 2.0]
    assert len(recorder.outages()) == 2  # one before it worked, one after
    assert any("分中心数据接收已恢复" in line for line in recorder.told)


def test_stopping_lets_the_worker_finish_what_it_has_in_hand() -> None:
    finished: list[str] = []
    told: list[str] = []

    async def careful(stop: asyncio.Event) -> None:
        await stop.wait()
        await asyncio.sleep(0.05)  # acknowledging the batch in hand
        finished.append("acknowledged")

    async def scenario() -> None:
        stop = asyncio.Event()
        worker = a_worker(careful)
        board = Board([worker], url="nats://q", tell=told.append)
        task = asyncio.create_task(supervise(worker, stop, board, probe=reachable, pace=Pace(settle=0.01)))
        while board.states["feeds"].state != "running":
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 10)

    run(scenario())
    assert finished == ["acknowledged"]
    assert told[-1] == "消息队列：工作进程已停止"


@pytest.mark.parametrize("stuck", ["in its back-off", "connecting"])
def test_stopping_does_not_wait_out_a_back_off_or_a_connection_attempt(stuck: str) -> None:
    async def failing(stop: asyncio.Event) -> None:
        raise ConnectionRefusedError("refused")

    async def hanging() -> None:
        await asyncio.Event().wait()

    async def scenario() -> None:
        stop = asyncio.Event()
        worker = a_worker(failing)
        board = Board([worker], url="nats://q", tell=lambda _line: None)
        probe = hanging if stuck == "connecting" else reachable
        task = asyncio.create_task(supervise(worker, stop, board, probe=probe, pace=Pace(first_delay=3600.0)))
        await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 10)  # not an hour

    run(scenario())


def _child(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(body, encoding="utf-8")
    return [sys.executable, str(script)]


def test_a_workers_process_that_died_is_started_again(tmp_path: Path) -> None:
    marker = tmp_path / "started-once"
    command = _child(
        tmp_path,
        f"""
import pathlib, sys, time
marker = pathlib.Path({str(marker)!r})
if not marker.exists():
    marker.touch()
    sys.exit(3)
time.sleep(60)
""",
    )
    told: list[str] = []
    process = WorkersProcess(command, pace=Pace(first_delay=0.01), tell=told.append)
    process.start()
    try:
        first = process.child
        deadline = time.monotonic() + 20
        while process.child is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.child is not first
        second = process.child
    finally:
        process.stop()
    assert second is not None and second.returncode == -signal.SIGTERM
    assert told == ["消息队列：工作进程意外退出（退出码 3），0.01 秒后重启；网页照常服务"]


def test_a_workers_process_that_stopped_cleanly_is_not_started_again(tmp_path: Path) -> None:
    process = WorkersProcess(_child(tmp_path, "pass"), pace=Pace(first_delay=0.01), tell=lambda _line: None)
    process.start()
    first = process.child
    assert first is not None
    first.wait(20)
    time.sleep(0.2)
    assert process.child is first
    process.stop()


def test_a_workers_process_that_does_not_stop_in_time_is_killed(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    command = _child(
        tmp_path,
        f"""
import pathlib, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
pathlib.Path({str(ready)!r}).touch()
time.sleep(60)
""",
    )
    told: list[str] = []
    process = WorkersProcess(command, tell=told.append)
    process.start()
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.stop(timeout=0.5)
    assert process.child is not None and process.child.returncode == -signal.SIGKILL
    assert told == ["消息队列：工作进程未及时退出，已强制结束（未确认的消息会重新投递）"]


# What the web reads of them (the 数据汇聚 page, GET /api/system/queue-workers) -------------------------------------

T0 = datetime(2021, 11, 1, 15, 2, tzinfo=CHINA_TZ)
FEEDS_EFFECT = "各来源经消息队列报送的数据暂未入库"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The time the workers' board stamps (T0 unless a test moves it)."""
    moment = [T0]
    monkeypatch.setattr(workers, "now", lambda: moment[0])
    return moment


def both_workers() -> list[Worker]:
    async def idle(stop: asyncio.Event) -> None:
        await stop.wait()

    return [Worker("feeds", "分中心数据接收", idle), Worker("push", "工单事件推送", idle)]


def a_board(data_dir: Path, told: list[str] | None = None) -> Board:
    return Board(both_workers(), url="nats://feeder:s3cret@10.0.0.5:4222", path=data_dir / STATUS_FILE,
                 tell=(told if told is not None else []).append)  # fmt: skip


def test_running_and_waiting_workers_are_told_with_since_when_and_why(tmp_path: Path, clock: list[datetime]) -> None:
    told: list[str] = []
    board = a_board(tmp_path, told)
    assert {w.state for w in read_status(tmp_path, T0).workers.values()} == {"starting"}
    board.running("feeds")
    clock[0] = T0 + timedelta(minutes=8)
    board.failed("push", HotlineError("无法连接消息队列 nats://feeder:s3cret@10.0.0.5:4222：refused", code="x"))

    status = read_status(tmp_path, T0 + timedelta(minutes=9))
    assert (status.process, status.why, status.pid) == ("running", None, os.getpid())
    assert list(status.workers) == ["feeds", "push"]  # a child running without the expiry is not said to run it
    feeds, push = status.workers["feeds"], status.workers["push"]
    assert (feeds.state, feeds.level, feeds.line) == ("running", "ok", "消息队列接收：正常（自 15:02 起）")
    assert (push.state, push.level, push.failures) == ("waiting", "warn", 1)
    assert push.line.startswith(
        "工单事件推送中断（自 15:10 起：无法连接消息队列 nats://feeder:***@10.0.0.5:4222：refused）"
    )
    assert "s3cret" not in json.dumps(status.to_dict(), ensure_ascii=False)  # the page shows it to dispatchers
    assert status.nats_url == "nats://feeder:***@10.0.0.5:4222"
    assert "s3cret" not in (tmp_path / STATUS_FILE).read_text(encoding="utf-8")  # nor in the data folder …
    board.running("push")
    assert told[-1] == ALL_RUNNING.format(url="nats://feeder:***@10.0.0.5:4222")  # … nor on stderr
    assert not any("s3cret" in line for line in told)
    board.failed("push", HotlineError("无法连接消息队列 nats://feeder:s3cret@10.0.0.5:4222：refused", code="x"))

    board.failed("feeds", UNREACHABLE)
    clock[0] = T0 + timedelta(days=1)
    board.beat()  # still waiting the next day: the date is said
    feeds = read_status(tmp_path, clock[0]).workers["feeds"]
    assert feeds.line == (
        f"消息队列接收中断（自 2021-11-01 15:10 起：{UNREACHABLE.message}），{FEEDS_EFFECT}"
        "（已进入队列的数据在恢复后自动入库）；HTTP 和文件报送不受影响"
    )


def test_a_status_file_not_rewritten_for_three_heartbeats_is_a_child_that_hangs(
    tmp_path: Path, clock: list[datetime]
) -> None:
    a_board(tmp_path).running("feeds")
    assert read_status(tmp_path, T0 + STALE_AFTER).process == "running"
    status = read_status(tmp_path, T0 + STALE_AFTER + timedelta(seconds=1))
    assert (status.process, status.why) == ("down", "stale")
    assert status.workers["feeds"].state == "down" and status.workers["feeds"].level == "warn"
    assert status.workers["feeds"].line.startswith(
        f"消息队列接收未运行（工作进程自 15:02 起未报告状态，可能已停止响应），{FEEDS_EFFECT}"
    )


def test_the_child_rewrites_its_status_while_nothing_changes(tmp_path: Path, clock: list[datetime]) -> None:
    async def scenario() -> dict[str, str]:
        stop = asyncio.Event()
        board = a_board(tmp_path)
        task = asyncio.create_task(run_all(stop, both_workers(), board, reachable, Pace(settle=0.01), heartbeat=0.02))
        while board.states["push"].state != "running":
            await asyncio.sleep(0.01)
        clock[0] = T0 + timedelta(hours=1)  # an hour in which no state changes
        later = clock[0] + STALE_AFTER
        deadline = time.monotonic() + 10
        while read_status(tmp_path, later).process != "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        seen = {name: w.state for name, w in read_status(tmp_path, later).workers.items()}
        stop.set()
        await task
        return seen

    assert run(scenario()) == {"feeds": "running", "push": "running"}


def test_a_status_file_whose_process_has_exited_is_not_believed(tmp_path: Path, clock: list[datetime]) -> None:
    a_board(tmp_path).running("feeds")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = tmp_path / STATUS_FILE
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), "pid": gone.pid}), encoding="utf-8")
    status = read_status(tmp_path, T0 + timedelta(seconds=5))
    assert (status.process, status.why, status.pid) == ("down", "exited", gone.pid)
    assert status.workers["feeds"].line.startswith(
        f"消息队列接收未运行（工作进程已退出，最后报告于 15:02），{FEEDS_EFFECT}"
    )
    assert status.workers["push"].line.startswith("工单事件推送未运行（工作进程已退出")


@pytest.mark.parametrize(
    ("content", "why"), [(None, "missing"), ("{not json", "unreadable"), ('{"pid": 1}', "unreadable")]
)
def test_no_status_file_or_a_broken_one_means_not_running(tmp_path: Path, content: str | None, why: str) -> None:
    if content is not None:
        (tmp_path / STATUS_FILE).write_text(content, encoding="utf-8")
    status = read_status(tmp_path)
    assert (status.process, status.why) == ("down", why)
    assert list(status.workers) == ["feeds", "push", "kb_expiry", "sms"]
    assert all(w.state == "down" and w.level == "warn" and w.since is None for w in status.workers.values())
    if why == "missing":
        assert status.workers["feeds"].line.startswith(f"消息队列接收未运行（未检测到工作进程），{FEEDS_EFFECT}")


def test_workers_turned_off_are_not_said_to_be_down(tmp_path: Path, clock: list[datetime]) -> None:
    status = read_status(tmp_path, T0, enabled=False)
    assert (status.process, status.why) == ("off", "missing")
    feeds = status.workers["feeds"]
    assert (feeds.state, feeds.level) == ("off", "info")
    assert feeds.line == "消息队列接收：未随平台启动（可能在别处单独运行，本页无法查看其状态）"
    # A live child (another `hotline serve` sharing the data folder) is believed whatever this one's setting.
    a_board(tmp_path).running("feeds")
    assert read_status(tmp_path, T0, enabled=False).workers["feeds"].state == "running"


# `hotline serve` as an operator runs it -------------------------------------------------------------------------

CALLS = {"records": [{"kind": "call", "id": "S1", "started_at": "2021-11-01T09:00:00"}]}


@pytest.fixture
def platform_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder and SQLite database of this test's own (the served platform and the test share them)."""
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_AUTH", "off")
    db.upgrade(url)
    return tmp_path


@pytest.fixture
def queues(platform_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Feed and push streams of this test's own on the NATS server (deleted afterwards)."""
    feeds = own_stream(monkeypatch, "HOTLINE_FEEDS_STREAM", "HOTLINE_FEEDS_SUBJECT")
    push = own_stream(monkeypatch, "HOTLINE_PUSH_STREAM", "HOTLINE_PUSH_SUBJECT")
    next(feeds), next(push)

    async def create() -> None:  # both, so both can be deleted whether the workers ran or not
        settings = get_settings()
        nc, js = await queue.connect()
        try:
            await queue.ensure_stream(js, settings.feeds_stream, settings.feeds_subject)
            await queue.ensure_stream(js, settings.push_stream, settings.push_subject)
        finally:
            await nc.close()

    run(create())
    yield
    for stream in (feeds, push):
        next(stream, None)


def workers_processes_of(parent: int) -> list[int]:
    """Processes running `hotline.workers` that PARENT started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):  # not a process, or one that has just ended
            continue
        if ppid == parent and b"hotline.workers" in command:
            found.append(int(entry.name))
    return found


class Served:
    """`hotline serve ARGS` in a process of its own, its stderr kept in a file."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.port = free_tcp_port()
        self.errors = data_dir / "serve.err"
        command = [sys.executable, "-m", "hotline", "serve", "--port", str(self.port), *args]
        with self.errors.open("wb") as err:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        self.status_file = data_dir / STATUS_FILE

    def wait_until(self, done: Callable[[], bool], seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hotline serve exited with {self.proc.returncode}: {self.stderr()}")
            if done():
                return True
            time.sleep(0.2)
        return False

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_states(self) -> dict[str, str]:
        try:
            status = json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {name: w["state"] for name, w in status["workers"].items()}

    def workers_processes(self) -> list[int]:
        return workers_processes_of(self.proc.pid)

    def stderr(self) -> str:
        return self.errors.read_text(encoding="utf-8")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(40)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def stored_calls() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FeedCallRow.external_id)))


def published_until(expires_on: date) -> str:
    """A published knowledge article valid until EXPIRES_ON; its external id."""
    from hotline.knowledge import service as kb
    from hotline.knowledge.domain import ArticleInput

    with session_scope() as session:
        article = kb.create_article(session, ArticleInput(title="旧补贴标准", body="按旧标准申领", expires_on=expires_on),
                                    actor="editor", status="published")  # fmt: skip
        return str(article.external_id)


def article_status(key: str) -> str:
    from hotline.knowledge import service as kb

    with session_scope() as session:
        return kb.get_article(session, key).status


@pytest.fixture
def served(platform_env: Path) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        started.append(Served(platform_env, *args))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.mark.queue
@pytest.mark.slow
def test_serve_runs_the_queue_workers_once_and_stores_what_sources_publish(
    queues: None, served: Callable[..., Served]
) -> None:
    server = served("--workers", "2")
    assert server.wait_until(server.healthy)
    assert server.wait_until(
        lambda: server.worker_states() == dict.fromkeys(("feeds", "push", "kb_expiry", "sms"), "running")
    )
    assert len(server.workers_processes()) == 1  # one listener and one relay, whatever uvicorn's --workers

    run(feeds_stream.publish("12366", CALLS))
    assert server.wait_until(lambda: stored_calls() == ["S1"], 30)

    assert server.stop() == 0
    assert server.workers_processes() == []
    assert server.worker_states() == dict.fromkeys(("feeds", "push", "kb_expiry", "sms"), "stopped")
    assert "消息队列：已连接" in server.stderr() and "消息队列：工作进程已停止" in server.stderr()


@pytest.mark.queue
@pytest.mark.slow
@pytest.mark.parametrize("turned_off", ["HOTLINE_QUEUE_WORKERS=off", "--no-queue-workers"])
def test_serve_with_the_queue_workers_off_leaves_batches_in_the_queue(
    queues: None, served: Callable[..., Served], monkeypatch: pytest.MonkeyPatch, turned_off: str
) -> None:
    if turned_off.startswith("--"):
        server = served(turned_off)
    else:
        monkeypatch.setenv(*turned_off.split("="))
        server = served()
    assert server.wait_until(server.healthy)
    run(feeds_stream.publish("12366", CALLS))
    assert not server.wait_until(lambda: bool(stored_calls()), 5)
    assert server.workers_processes() == [] and server.worker_states() == {}
    # The web says the workers were not started with it (they may run elsewhere), not that they stopped.
    shown = httpx.get(f"http://127.0.0.1:{server.port}/api/system/queue-workers", timeout=5).json()
    assert shown["process"] == "off"
    server.stop()
    assert "消息队列工作进程未启动" in server.stderr()

    tally = run(feeds_stream.listen(idle_exit=1.0))  # the batch waited in the queue
    assert tally.stored == 1 and stored_calls() == ["S1"]


@pytest.mark.slow
def test_serve_keeps_serving_while_the_queue_is_unreachable(
    served: Callable[..., Served], monkeypatch: pytest.MonkeyPatch, platform_env: Path
) -> None:
    monkeypatch.setenv("HOTLINE_NATS_URL", f"nats://127.0.0.1:{free_tcp_port()}")
    lapsed = published_until(china_day(now()) - timedelta(days=1))
    server = served()
    # The knowledge base's expiry needs no queue: it runs, and has withdrawn the article whose validity ended.
    expected = {"feeds": "waiting", "push": "waiting", "kb_expiry": "running", "sms": "running"}
    assert server.wait_until(lambda: server.worker_states() == expected)
    assert server.wait_until(lambda: article_status(lapsed) == "expired", 30)
    assert server.healthy()
    status = read_status(platform_env)
    assert status.process == "running" and status.pid in server.workers_processes()
    assert status.workers["feeds"].line.startswith("消息队列接收中断（自 ")
    assert server.stop() == 0
    assert (read_status(platform_env).process, read_status(platform_env).why) == ("down", "exited")
    errors = server.stderr()
    assert errors.count("分中心数据接收中断（无法连接消息队列") == 1
    assert errors.count("工单事件推送中断（无法连接消息队列") == 1
    assert "nats: encountered error" not in errors  # the client's tracebacks of every attempt are not shown
    assert "消息队列：工作进程已停止" in errors
    assert "知识库：1 条知识已过失效日期，已设为已过期" in errors


def test_create_app_starts_no_workers(platform_env: Path) -> None:
    from fastapi.testclient import TestClient

    from hotline.app import create_app

    with TestClient(create_app()) as client:
        assert client.get("/api/health").status_code == 200
        assert workers_processes_of(os.getpid()) == []
    assert not (platform_env / STATUS_FILE).exists()
