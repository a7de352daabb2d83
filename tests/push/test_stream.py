"""The relay through a real NATS JetStream server: each unit gets its events on its own subject, once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime

import nats
import pytest

from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.push import service, stream
from hotline.push.domain import Cursor
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders
from tests.queue_support import NATS_URL, Proxy, own_stream, run, stopped_by_sigterm

pytestmark = pytest.mark.queue

AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)
ZJJ, TAX = "510100-zjj", "510000-tax"


@pytest.fixture
def subject(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        workorders.add_unit(session, TAX, "国家税务总局四川省税务局（12366分中心）", "subcentre", region_code="510000")
    yield from own_stream(monkeypatch, "HOTLINE_PUSH_STREAM", "HOTLINE_PUSH_SUBJECT")


def dispatched(unit: str, content: str) -> str:
    with session_scope() as session:
        order = workorders.create_order(session, type="咨询", content=content, phone="13812341234", region="510100",
                                        at=AT)  # fmt: skip
        workorders.act(session, order, "dispatch", role="dispatcher", target_unit=unit, at=AT)
        return order.number


def received(subject: str) -> dict[str, list[dict]]:
    """Every message in this test's stream, by subject."""

    async def read() -> dict[str, list[dict]]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        found: dict[str, list[dict]] = {}
        sub = await js.pull_subscribe(f"{subject}.*")
        try:
            while True:
                for msg in await sub.fetch(50, timeout=1):
                    found.setdefault(msg.subject, []).append(json.loads(msg.data))
                    await msg.ack()
        except (nats.errors.TimeoutError, TimeoutError):
            pass
        await nc.close()
        return found

    return run(read())


def test_each_unit_gets_its_orders_on_its_own_subject_once(subject: str) -> None:
    housing = dispatched(ZJJ, "小区电梯长期故障")
    tax = dispatched(TAX, "个税专项附加扣除怎么填")
    assert run(stream.relay(idle_exit=0.5)) == 2
    assert run(stream.relay(idle_exit=0.5)) == 0  # the cursor moved past them
    got = received(subject)
    assert {key: [m["order"]["number"] for m in msgs] for key, msgs in got.items()} == {
        f"{subject}.{ZJJ}": [housing],
        f"{subject}.{TAX}": [tax],
    }
    message = got[f"{subject}.{TAX}"][0]
    assert message["event"] == "dispatch" and message["event_label"] == "派单" and message["unit"] == TAX
    assert message["order"]["content"] == "个税专项附加扣除怎么填"


def test_a_relay_restarted_before_saving_its_cursor_sends_no_copies(subject: str) -> None:
    dispatched(ZJJ, "小区电梯长期故障")
    assert run(stream.relay(idle_exit=0.5)) == 1
    with session_scope() as session:  # as if the relay had died after publishing, before saving the cursor
        service.save_cursor(session, Cursor())
    assert run(stream.relay(idle_exit=0.5)) == 1  # published again …
    assert sum(len(v) for v in received(subject).values()) == 1  # … and dropped by the queue as a duplicate


def test_the_commands_run_the_relay_and_report_progress(subject: str) -> None:
    number = dispatched(TAX, "发票丢失怎么办")
    hotline = [sys.executable, "-m", "hotline", "push"]
    ran = subprocess.run([*hotline, "run", "--idle-exit", "0.5"], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert f"派单 {number} → {TAX}" in ran.stdout and "已推送 1 条事件" in ran.stdout
    status = subprocess.run([*hotline, "status", "--json"], capture_output=True, text=True, check=False)
    assert json.loads(status.stdout)["backlog"] == 0


def test_the_relay_stops_cleanly_on_sigterm(subject: str) -> None:
    number = dispatched(ZJJ, "小区电梯长期故障")
    relay = stopped_by_sigterm(["push", "run"], done=lambda: service_backlog() == 0)
    assert relay.returncode == 0, relay.stderr
    assert f"派单 {number} → {ZJJ}" in relay.stdout and "已推送 1 条事件" in relay.stdout


def service_backlog() -> int:
    with session_scope() as session:
        return int(service.status(session)["backlog"])


def test_an_idle_relay_notices_the_queue_gone_without_waiting_for_an_event(subject: str) -> None:
    """Cut off while nothing is to be sent, the relay stops with `queue-unreachable` once the client has given up
    reconnecting, so that its supervisor shows the outage and retries, rather than looking healthy until the
    next 派单 fails to go out."""
    proxy = Proxy()

    async def cut_off_while_idle() -> None:
        task = asyncio.create_task(stream.relay(url=proxy.url))
        await asyncio.sleep(1.5)  # connected, the stream made, the history read: idle
        assert not task.done()
        proxy.close()
        with pytest.raises(HotlineError) as err:
            await asyncio.wait_for(task, 60)  # the client gives up after about 8 s (3 refused reconnects)
        assert err.value.code == "queue-unreachable" and "连接已断开" in err.value.message

    try:
        run(cut_off_while_idle())
    finally:
        proxy.close()
