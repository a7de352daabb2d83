"""The platform's background workers, kept running beside the web by `hotline serve`: the message-queue listener
that stores the batches sub-centres and cities publish (`aggregation.stream.listen`), the relay that publishes
units' work-order events (`push.stream.relay`), the knowledge base's expiry (`knowledge.expiry.run`: articles
past their expiry date set to 已过期 at start and every hour) and 短信通知 (`sms.sender.run`: texts written from the
work-order history and posted to the SMS gateway), which need no queue and so run while it is down.

They run in one child process of `hotline serve` (`python -m hotline.workers`), not in a thread of the web
server, because:
- the web must not wait on them: storing a batch parses and checks its records in Python, holding the GIL
  the routing lookups Kamailio waits on for every call would queue behind;
- they must run once (the relay must: `push.stream`), however many processes uvicorn's `--workers` starts,
  and `create_app()` (every test's app) must not start them: only `hotline serve` starts the child;
- a crash of any kind, even one that kills the process, leaves the web serving: the supervisor below
  restarts a failed worker inside the child, `WorkersProcess` restarts a dead child;
- stopping is theirs to finish: the child sets the workers' stop event (the messages in hand are finished),
  where a thread in uvicorn's process would be killed mid-batch by the SIGTERM uvicorn raises again after
  shutting down.

Each worker is restarted with back-off while the queue is unreachable or the worker keeps failing; the operator
reads one Chinese line on stderr when a worker stops working and one when it works again, and the workers'
states in `<data dir>/queue-workers.json`, which the child also rewrites every HEARTBEAT seconds so that the web
(`read_status`: the 数据汇聚 page, `GET /api/system/queue-workers`) can tell a hung or vanished child from one
with nothing new to say.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from hotline.errors import HotlineError
from hotline.settings import without_secrets
from hotline.timeutil import china, now

STATUS_FILE = "queue-workers.json"
STOP_TIMEOUT = 20.0  # seconds the child has to finish the messages in hand once asked to stop
ALL_RUNNING = "消息队列：已连接 {url}，正在接收分中心数据、推送工单事件"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HEARTBEAT = 30.0  # seconds between the child's rewrites of the status file while no state changes
# The child's database work runs in threads, so its event loop beats on time; three missed beats is a child that
# hangs or is gone (its pid reused by another process), not one that is busy, and the web says so within 2 minutes.
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT)
TITLES = {"feeds": "分中心数据接收", "push": "工单事件推送", "kb_expiry": "知识过期处理", "sms": "短信通知"}
Probe = Callable[[], Coroutine[Any, Any, None]]  # fails unless the queue can be reached


@dataclass(frozen=True)
class Pace:
    """How a failed worker is restarted: after FIRST_DELAY seconds, doubling up to MAX_DELAY; a worker is
    taken to be working once it has run SETTLE seconds, and a failure after STABLE seconds of running starts
    the back-off again from FIRST_DELAY."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    settle: float = 2.0
    stable: float = 30.0


@dataclass(frozen=True)
class Worker:
    name: str  # its key in the status file
    title: str  # what the operator reads
    run: Callable[[asyncio.Event], Coroutine[Any, Any, object]]  # runs until the event is set, then returns
    queue: bool = True  # needs the message queue: started once it can be reached, and its outages told as the queue's


@dataclass
class WorkerState:
    title: str
    state: str = "starting"  # starting | running | waiting (for the queue, or after a failure) | stopped
    since: str = ""
    reason: str | None = None
    failures: int = 0


def _stamp() -> str:
    return china(now()).isoformat(timespec="seconds")


def _readable(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def say(message: str) -> None:
    """One line for the operator on stderr, where `hotline serve` writes."""
    print(f"{_readable(_stamp())} {message}", file=sys.stderr, flush=True)


def _expected(exc: BaseException) -> bool:
    """A failure of the queue or the network (reported in a line), not a fault in the code (with its traceback)."""
    from nats.errors import Error as NatsError
    from sqlalchemy.exc import OperationalError  # the database unreachable or busy

    return isinstance(exc, HotlineError | NatsError | OSError | TimeoutError | OperationalError)


def _reason(exc: BaseException) -> str:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, HotlineError):
        return without_secrets(exc.message)
    if isinstance(exc, DBAPIError) and str(exc.orig).strip():  # the driver's words, without the statement
        return without_secrets(f"数据库错误：{str(exc.orig).strip()}")
    return without_secrets(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__


class Board:
    """The workers' states: told to the operator when a worker stops or starts working (once per outage, not
    per retry) and kept in a status file for monitoring."""

    def __init__(
        self, workers: list[Worker], *, url: str, path: Path | None = None, tell: Callable[[str], None] = say
    ) -> None:
        stamp = _stamp()
        self.states = {w.name: WorkerState(w.title, since=stamp) for w in workers}
        # What the operator's lines about each worker start with: a worker without the queue fails on its own.
        self.prefix = {w.name: "消息队列：" if w.queue else "后台任务：" for w in workers}
        # What the board says goes to stderr and a file in the data folder: the URL's password or token stays out.
        self.url, self.path, self.tell = without_secrets(url), path, tell
        self._announced = False  # the line saying every worker runs, once
        self._write()

    def running(self, name: str) -> None:
        state = self.states[name]
        if state.state == "waiting":
            self.tell(f"{self.prefix[name]}{state.title}已恢复（自 {_readable(state.since)} 起中断）")
        state.state, state.since, state.reason = "running", _stamp(), None
        if not self._announced and all(s.state == "running" for s in self.states.values()):
            self._announced = True
            self.tell(ALL_RUNNING.format(url=self.url))
        self._write()

    def failed(self, name: str, exc: BaseException) -> None:
        state = self.states[name]
        state.failures += 1
        state.reason = _reason(exc)
        if state.state != "waiting":
            state.state, state.since = "waiting", _stamp()
            hint = "（不用消息队列可设 HOTLINE_QUEUE_WORKERS=off）" if self.prefix[name] == "消息队列：" else ""
            self.tell(
                f"{self.prefix[name]}{state.title}中断（{state.reason}）；网页照常服务，自动重试，恢复后另行提示{hint}"
            )
            if not _expected(exc):
                self.tell(without_secrets("".join(traceback.format_exception(exc)).rstrip()))
        self._write()

    def stopped(self, name: str) -> None:
        self.states[name].state, self.states[name].since = "stopped", _stamp()
        if all(s.state == "stopped" for s in self.states.values()):
            self.tell("消息队列：工作进程已停止")
        self._write()

    def beat(self) -> None:
        """Say the child is alive though no state changed (a fresh `updated_at`)."""
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        status = {
            "pid": os.getpid(),
            "nats_url": self.url,
            "updated_at": _stamp(),
            "workers": {name: vars(s) for name, s in self.states.items()},
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(status, ensure_ascii=False, indent=2), encoding="utf-8")
            temporary.replace(self.path)  # a reader never sees half a file
        except OSError as exc:  # a read-only data folder must not stop the workers
            self.path = None
            self.tell(f"消息队列：无法写入状态文件（{exc}），状态只在此输出")


async def pause(seconds: float, stop: asyncio.Event) -> None:
    """Sleep, waking early when STOP is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Do WORK unless STOP is set first (then it is cancelled: a connection attempt has nothing in hand)."""
    task, stopped = asyncio.create_task(work), asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()  # its failure, if it failed
    return not stop.is_set()


class _Exited(Exception):
    def __str__(self) -> str:
        return "工作进程未报错而退出"


async def supervise(
    worker: Worker,
    stop: asyncio.Event,
    board: Board,
    *,
    probe: Probe,
    pace: Pace = Pace(),
    sleep: Callable[[float, asyncio.Event], Awaitable[None]] = pause,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run WORKER until STOP is set, restarting it with back-off whenever PROBE (can the queue be reached?) or
    the worker fails. Returns once the worker has finished what it had in hand."""
    delay = pace.first_delay
    while not stop.is_set():
        started = clock()
        try:
            if not await _unless_stopped(probe(), stop):
                break
            task = asyncio.create_task(worker.run(stop))
            done, _ = await asyncio.wait({task}, timeout=pace.settle)
            if not done:
                board.running(worker.name)
            await task
            if stop.is_set():
                break
            raise _Exited()
        except Exception as exc:  # whatever it is, the worker is restarted and the web keeps serving
            board.failed(worker.name, exc)
        if clock() - started >= pace.stable:
            delay = pace.first_delay
        await sleep(delay, stop)
        delay = min(delay * 2, pace.max_delay)
    board.stopped(worker.name)


def platform_workers(url: str) -> list[Worker]:
    from hotline.aggregation import stream as feeds
    from hotline.knowledge import expiry
    from hotline.push import stream as push
    from hotline.sms import sender as sms

    return [
        Worker("feeds", TITLES["feeds"], lambda stop: feeds.listen(url=url, stop=stop)),
        Worker("push", TITLES["push"], lambda stop: push.relay(url=url, stop=stop)),
        Worker("kb_expiry", TITLES["kb_expiry"], lambda stop: expiry.run(stop, tell=say, sleep=pause), queue=False),
        Worker("sms", TITLES["sms"], lambda stop: sms.run(stop, tell=say, sleep=pause), queue=False),
    ]


async def _no_probe() -> None:
    """What a worker without the queue waits for before it starts: nothing."""


async def _reachable(url: str) -> None:
    from hotline import queue

    nc, _ = await queue.connect(url)
    await nc.close()


async def _watch_parent(stop: asyncio.Event, parent: int) -> None:
    """Stop when the `hotline serve` that started this process is gone (killed without a chance to stop us):
    a second platform started afterwards must not find a relay still running."""
    while not stop.is_set():
        if os.getppid() != parent:
            say("消息队列：平台进程已退出，工作进程随之停止")
            stop.set()
            return
        await pause(1.0, stop)


async def _beat(board: Board, stop: asyncio.Event, every: float) -> None:
    while not stop.is_set():
        await pause(every, stop)
        if not stop.is_set():
            board.beat()


async def run_all(
    stop: asyncio.Event, workers: list[Worker], board: Board, probe: Probe, pace: Pace = Pace(),
    heartbeat: float = HEARTBEAT,
) -> None:  # fmt: skip
    watcher = asyncio.create_task(_watch_parent(stop, os.getppid()))
    beater = asyncio.create_task(_beat(board, stop, heartbeat))
    await asyncio.gather(
        *(supervise(w, stop, board, probe=probe if w.queue else _no_probe, pace=pace) for w in workers)
    )
    watcher.cancel()
    beater.cancel()


def main() -> None:
    """The child process: every worker, supervised, until SIGTERM or SIGINT (or `hotline serve` is gone)."""
    import logging

    from hotline import queue
    from hotline.settings import get_settings

    settings = get_settings()
    # The NATS client logs a traceback for every failed connection attempt; the board says an outage once.
    logging.getLogger("nats").setLevel(logging.CRITICAL)
    workers = platform_workers(settings.nats_url)
    board = Board(workers, url=settings.nats_url, path=settings.data_dir / STATUS_FILE)
    queue.run_until_signalled(lambda stop: run_all(stop, workers, board, lambda: _reachable(settings.nats_url)))


class WorkersProcess:
    """The child process running the workers, as `hotline serve` keeps it: restarted with back-off if it dies,
    stopped (SIGTERM, then killed after STOP_TIMEOUT) once the web has stopped."""

    def __init__(self, command: list[str] | None = None, *, pace: Pace = Pace(),
                 tell: Callable[[str], None] = say) -> None:  # fmt: skip
        self.command = command or [sys.executable, "-m", "hotline.workers"]
        self.pace, self.tell = pace, tell
        self.child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="queue-workers", daemon=True)

    def _spawn(self) -> None:
        # A session of its own: Ctrl-C in the terminal reaches `hotline serve` alone, which stops the workers
        # once the web has stopped (and a child that ended cleanly was stopped on purpose, not crashed).
        self.child = subprocess.Popen(self.command, start_new_session=True)
        self._spawned = time.monotonic()

    def start(self) -> None:
        self._spawn()
        self._keeper.start()

    def _keep(self) -> None:
        delay = self.pace.first_delay
        while True:
            assert self.child is not None
            code = self.child.wait()
            if self._stopping.is_set() or code == 0:
                return
            if time.monotonic() - self._spawned >= self.pace.stable:
                delay = self.pace.first_delay
            self.tell(f"消息队列：工作进程意外退出（退出码 {code}），{delay:g} 秒后重启；网页照常服务")
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
            delay = min(delay * 2, self.pace.max_delay)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the workers to finish the messages in hand and wait for them; a second Ctrl-C or SIGTERM, or
        TIMEOUT, kills them (what they had not acknowledged is delivered again)."""
        with self._lock:
            self._stopping.set()
            child = self.child
        if child is None:
            return
        forced: list[int] = []
        restore = {}
        if threading.current_thread() is threading.main_thread():
            restore = {sig: signal.signal(sig, lambda sig, _frame: forced.append(sig)) for sig in _SIGNALS}
        try:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while child.poll() is None and not forced and time.monotonic() < deadline:
                time.sleep(0.05)
            if child.poll() is None:
                child.kill()
                child.wait()
                self.tell("消息队列：工作进程未及时退出，已强制结束（未确认的消息会重新投递）")
        finally:
            for sig, handler in restore.items():
                signal.signal(sig, handler)
        self._keeper.join(timeout=1.0)


# -- what the web tells supervisors and administrators (read_status) -----------------------------------------------

# name -> what the 数据汇聚 page calls the worker, and what its outage means to the page's readers
_SHOWN = {
    "feeds": (
        "消息队列接收",
        "各来源经消息队列报送的数据暂未入库（已进入队列的数据在恢复后自动入库）；HTTP 和文件报送不受影响",
    ),
    "push": ("工单事件推送", "派单、催办、督办等事件暂未推送到承办单位系统，恢复后自动补推"),
    "kb_expiry": (
        "知识过期处理",
        "已过失效日期的知识暂未自动设为已过期（检索已不再返回，知识维护页仍列出；恢复后自动处理，"
        "也可运行 hotline kb expire）",
    ),
    "sms": (
        "短信通知",
        "受理回执、办结告知暂未生成和发送（恢复后自动补发；也可运行 hotline sms relay、hotline sms send）",
    ),
}
_STATES = {"starting", "running", "waiting", "stopped"}


def _redacted(text: str | None) -> str | None:
    """TEXT without the password or token a queue URL may carry (nats://user:secret@host), which the page shows
    to dispatchers: the failure reasons name the URL (a status file written before they were kept out of it)."""
    return None if text is None else without_secrets(text)


def _alive(pid: int) -> bool:
    if pid <= 0:  # 0 and -1 would ask about whole process groups
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:  # it exists, run by another user
        return True
    except (OSError, OverflowError):
        return False
    return True


@dataclass(frozen=True)
class WorkerView:
    name: str
    title: str
    state: str  # starting | running | waiting | stopped, as the live child says; down (no child) | off
    since: str | None  # ISO 8601, China time
    reason: str | None
    failures: int
    level: str  # ok | info | warn
    line: str  # one Chinese sentence for supervisors and administrators


@dataclass(frozen=True)
class QueueStatus:
    process: str  # running | down | off (HOTLINE_QUEUE_WORKERS=off: they may run elsewhere, unseen here)
    why: str | None  # when down: missing | unreadable | exited | stale
    pid: int | None
    nats_url: str | None
    updated_at: str | None  # the child's last word
    checked_at: str
    workers: dict[str, WorkerView]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _load(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The status file, checked (or None and why not)."""
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError):
        return None, "unreadable"
    try:
        ok = (
            isinstance(status["pid"], int)
            and datetime.fromisoformat(status["updated_at"]).tzinfo is not None
            and all(
                w["state"] in _STATES and datetime.fromisoformat(w["since"]).tzinfo is not None
                for w in status["workers"].values()
            )
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        ok = False
    return (status, None) if ok else (None, "unreadable")


def read_status(
    data_dir: Path, at: datetime | None = None, *, enabled: bool = True, alive: Callable[[int], bool] = _alive
) -> QueueStatus:
    """Whether the queue workers run, as the child's status file in DATA_DIR tells at AT (default: now).

    The child is running if the file exists, its pid is alive and it was rewritten within STALE_AFTER (the
    child beats every HEARTBEAT seconds); otherwise the workers are down, or, with ENABLED false
    (HOTLINE_QUEUE_WORKERS=off), not started with the platform: they may run elsewhere, which this cannot see.
    A live child is believed even with ENABLED false (another `hotline serve` sharing the data folder)."""
    at = at or now()
    status, why = _load(data_dir / STATUS_FILE)
    if status is not None:
        if not alive(status["pid"]):
            why = "exited"
        elif at - datetime.fromisoformat(status["updated_at"]) > STALE_AFTER:
            why = "stale"
    process = "running" if why is None else "down" if enabled else "off"
    reported: dict[str, dict[str, Any]] = status["workers"] if status is not None else {}
    last_word = status["updated_at"] if status is not None and why in ("exited", "stale") else None
    views = {}
    # A live child tells which workers it runs (one started before a worker was added runs without it); otherwise
    # every worker the platform has is down or off.
    names = [n for n in TITLES if n in reported or process != "running"]
    for name in [*names, *(n for n in reported if n not in TITLES)]:
        got = reported.get(name, {})
        title = got.get("title") or TITLES.get(name, name)
        if process == "running" and got:
            state, since, reason = got["state"], got["since"], _redacted(got.get("reason"))
            failures = int(got.get("failures") or 0)
        else:
            state, since, reason, failures = process, last_word, None, 0
        level, line = _line(name, title, state, since, reason, why, at)
        views[name] = WorkerView(name, title, state, since, reason, failures, level, line)
    return QueueStatus(
        process=process,
        why=why,
        pid=status["pid"] if status is not None else None,
        nats_url=_redacted(status.get("nats_url")) if status is not None else None,
        updated_at=status["updated_at"] if status is not None else None,
        checked_at=china(at).isoformat(timespec="seconds"),
        workers=views,
    )


def _line(
    name: str, title: str, state: str, since: str | None, reason: str | None, why: str | None, at: datetime
) -> tuple[str, str]:
    """How bad it is (ok | info | warn), and the sentence saying so."""
    label, effect = _SHOWN.get(name, (title, ""))
    effect = f"，{effect}" if effect else ""
    when = _clock(since, at) if since else ""
    if state == "running":
        return "ok", f"{label}：正常（自 {when} 起）"
    if state == "starting":
        return "info", f"{label}：正在启动（自 {when} 起）"
    if state == "waiting":
        return "warn", f"{label}中断（自 {when} 起{'：' + reason if reason else ''}）{effect}"
    if state == "stopped":
        return "warn", f"{label}已停止（自 {when} 起）{effect}"
    if state == "off":
        return "info", f"{label}：未随平台启动（可能在别处单独运行，本页无法查看其状态）"
    cause = {
        "missing": "未检测到工作进程",
        "unreadable": "工作进程状态无法读取",
        "exited": f"工作进程已退出，最后报告于 {when}",
        "stale": f"工作进程自 {when} 起未报告状态，可能已停止响应",
    }[why or "missing"]
    return "warn", f"{label}未运行（{cause}）{effect}"


def _clock(stamp: str, at: datetime) -> str:
    """STAMP in China time: its hour and minute on AT's day, with the date otherwise."""
    moment = china(datetime.fromisoformat(stamp))
    return moment.strftime("%H:%M" if moment.date() == china(at).date() else "%Y-%m-%d %H:%M")


def _exit_cleanly(_sig: int, _frame: FrameType | None) -> Any:
    raise SystemExit(0)


@contextlib.contextmanager
def beside_the_web() -> Iterator[WorkersProcess]:
    """Keep the workers' process running while the body (the web server) runs; stop it afterwards.

    uvicorn's single-process server restores the SIGINT/SIGTERM handlers it found and raises the signal again
    once it has shut down: with the default handler, SIGTERM would kill `hotline serve` before it stopped the
    workers, so the handlers it finds end the body cleanly instead."""
    previous = {sig: signal.signal(sig, _exit_cleanly) for sig in _SIGNALS}
    process = WorkersProcess()
    try:
        process.start()
        yield process
    finally:
        process.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    main()
