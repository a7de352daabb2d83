"""短信通知 test fixtures: a real SMS gateway (an HTTP server on a local port, in a thread) whose answers each test
scripts, and orders taken in and answered at fixed China-time instants."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=CHINA_TZ)  # a Monday, 10:00 China time
PHONE = "13812345678"
ZJJ = "510100-zjj"
DISPATCHER = {"role": "dispatcher", "actor": "李华"}


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: {"id": "gw-1"})
    before: Callable[[], None] | None = None  # run while the request is in hand (another sender, say)
    hold: threading.Event | None = None  # answer only once set: the platform's client gives up first


@dataclass
class Gateway:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)  # one per request, in order; then 200 {"id": "gw-N"}

    def answer(self) -> Answer:
        return self.answers.pop(0) if self.answers else Answer(body={"id": f"gw-{len(self.received)}"})


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server: ThreadingHTTPServer
    found: Gateway

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            found.received.append(json.loads(self.rfile.read(length)))
            found.headers.append(dict(self.headers))
            answer = found.answer()
            if answer.before is not None:
                answer.before()
            if answer.hold is not None:
                answer.hold.wait(10)
            payload = json.dumps(answer.body, ensure_ascii=False).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up waiting
                pass

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    found = Gateway(f"http://127.0.0.1:{server.server_address[1]}/sms/send")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    for answer in found.answers:
        if answer.hold is not None:
            answer.hold.set()
    server.shutdown()
    server.server_close()


def units() -> None:
    with session_scope() as s:
        workorders.load_units(s)
        workorders.add_unit(s, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")


def take(at: datetime = T0, *, direct: bool = False, **more: Any) -> str:
    """An order taken in at AT (China time), answered at once (直接办结, in the same transaction as the 受理 page does)
    when DIRECT; its number."""
    fields: dict[str, Any] = {
        "type": "咨询", "content": "公积金怎么提取？", "phone": PHONE, "region": "510100", "caller_name": "王建国",
    }  # fmt: skip
    with session_scope() as s:
        order = workorders.create_order(s, at=at, actor="张敏", **{**fields, **more})
        s.flush()
        if direct:
            workorders.act(s, order, "direct_resolve", role="agent", actor="张敏", reply="可在线提取。", at=at)
        return order.number


def answer(number: str, at: datetime) -> None:
    """NUMBER dispatched, signed for, 办结 by its unit at AT, and 审核通过 a minute later."""
    with session_scope() as s:
        workorders.act(s, number, "dispatch", target_unit=ZJJ, at=at - timedelta(hours=2), **DISPATCHER)
        workorders.act(s, number, "accept", role="department", unit=ZJJ, at=at - timedelta(hours=1))
        workorders.act(s, number, "resolve", role="department", unit=ZJJ, reply="已答复。", at=at)


def review(number: str, at: datetime) -> None:
    with session_scope() as s:
        workorders.act(s, number, "review_pass", at=at, **DISPATCHER)
