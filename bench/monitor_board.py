"""Benchmark: 实时监控's board (`supervision.monitor.live_board`, `GET /api/monitor`, `/monitor`) on a busy day, in
process (SQLite and PostgreSQL).

A fresh database gets the demo data, N calls (default 20,000) routed today (China day) from 00:00 to a minute ago,
as `calls_page.py` makes them (seven in ten to 12345, the rest to five old numbers; 成都市 and 绵阳市 trunks; answered
8 in 10, abandoned 1 in 10, 1 in 10 without events), WAITING more queued in the last minutes with nothing after,
and ORDERS work orders (default 10,000) taken in over the last 60 days, left as taken (待派单; the older ones past due).
The answered calls go to AGENTS agents (default 150) in turn, each reporting its states (座席状态): signed in (空闲)
at 00:00, 通话中 when it answers, 话后整理 when the call ends, 空闲 20 s later, and a 示忙 (小休) of 5 minutes every
tenth call: about 3.2 state changes per answered call.

Then, each --requests times after a few unmeasured: `live_board` at now and its parts (the day's calls counted in the
database, the callers waiting, the work orders' figures, the agents' block), `GET /api/monitor`, `GET /monitor`, and for comparison
`telephony.service.day_report` over the same calls (话务记录's figures, one row per call to Python). The stream
sends `live_board`'s JSON every few seconds: its cost per event is the API's.

    .venv/bin/python bench/monitor_board.py --db both
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")  # the test client's own

from fastapi.testclient import TestClient  # noqa: E402

import bench_support as support  # noqa: E402
from hotline import demo  # noqa: E402
from hotline.app import create_app  # noqa: E402
from hotline.db import session_factory  # noqa: E402
from hotline.supervision import monitor  # noqa: E402
from hotline.telephony import agent_states  # noqa: E402
from hotline.telephony import service as telephony  # noqa: E402
from hotline.telephony.store import AgentStateChange  # noqa: E402
from hotline.timeutil import now  # noqa: E402
from hotline.workorders import service as orders  # noqa: E402

OLD = ("12331", "12315", "12366", "12333", "12358")
TRUNKS = ("cd-telecom", "my-telecom")


def _calls(url: str, n: int, waiting: int, agents: int, batch: int = 1000) -> None:
    factory = session_factory(url)
    start = monitor.day_start(now())
    step = (now() - timedelta(minutes=1) - start) / (n + waiting)
    with factory.begin() as session:
        for pattern, uri in telephony.DEMO_ENDPOINTS.items():
            telephony.set_endpoint(session, pattern, uri)
        telephony.set_trunk(session, "cd-telecom", "成都市")
        telephony.set_trunk(session, "my-telecom", "绵阳市")
    changes = [_change(f"A{k:03d}", start, "ready") for k in range(agents)]
    for first in range(0, n + waiting, batch):
        with factory.begin() as session:
            routed, numbers = [], range(first, min(n + waiting, first + batch))
            for i in numbers:
                at = start + step * i
                dialed = "12345" if i % 10 < 7 else OLD[(i // 10) % len(OLD)]
                call = telephony.route_call(session, dialed, f"138{i:08d}", TRUNKS[i % 2], f"bench-{i}", None, at)
                routed.append(dataclasses.replace(call, decided_at=at))
            telephony.record_decisions(session, routed)
            for i in numbers:
                at, call_id = start + step * i, f"bench-{i}"
                if i >= n:  # the last WAITING: queued, nothing since
                    telephony.record_event(session, call_id, "offered", at)
                    telephony.record_event(session, call_id, "queued", at + timedelta(seconds=1))
                    continue
                if i % 10 == 9:
                    continue  # nothing reported
                telephony.record_event(session, call_id, "offered", at)
                telephony.record_event(session, call_id, "queued", at + timedelta(seconds=1))
                if i % 10 == 8:
                    telephony.record_event(session, call_id, "abandoned", at + timedelta(seconds=40))
                else:
                    agent, answered = f"A{i % agents:03d}", at + timedelta(seconds=1 + i % 30)
                    telephony.record_event(session, call_id, "answered", answered, agent)
                    telephony.record_event(session, call_id, "ended", at + timedelta(seconds=180))
                    changes += _states(agent, answered, at + timedelta(seconds=180), breather=i % 10 == 0)
            session.add_all(changes)
            changes = []


def _change(agent: str, at: datetime, state: str, reason: str = "") -> AgentStateChange:
    return AgentStateChange(agent=agent, state=state, reason=reason, at=at, received_at=at)


def _states(agent: str, answered: datetime, ended: datetime, breather: bool) -> list[AgentStateChange]:
    """An answered call's state changes: 通话中, 话后整理, 空闲 (after a 示忙 of 5 minutes when BREATHER)."""
    after = [_change(agent, ended + timedelta(seconds=20), "not_ready", "小休")] if breather else []
    back = ended + timedelta(seconds=20 + (300 if breather else 0))
    return [_change(agent, answered, "busy"), _change(agent, ended, "wrap_up"), *after, _change(agent, back, "ready")]


def _orders(url: str, n: int, batch: int = 500) -> None:
    factory = session_factory(url)
    first_day = now() - timedelta(days=60)
    step = (now() - timedelta(minutes=1) - first_day) / max(n, 1)
    for first in range(0, n, batch):
        with factory.begin() as session:
            for i in range(first, min(n, first + batch)):
                orders.create_order(
                    session, type="求助", content=f"路灯不亮 {i}", phone=f"139{i:08d}",
                    region=("510100", "510700")[i % 2], at=first_day + step * i,
                )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--waiting", type=int, default=40)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    os.environ.update({"HOTLINE_AUTH": "off", "HOTLINE_QUEUE_WORKERS": "off"})

    def run(kind: str) -> None:
        folder = Path(os.environ["HOTLINE_DATA_DIR"]) / kind
        folder.mkdir(parents=True)
        with support.database(kind, folder) as url:
            os.environ["HOTLINE_DATABASE_URL"] = url
            telephony._config_changed()
            started = time.perf_counter()
            for _ in demo.load():
                pass
            _calls(url, args.n, args.waiting, args.agents)
            _orders(url, args.orders)
            support.analyze(url)
            print(
                f"\n{kind}: {args.n} calls today, {args.waiting} waiting, {args.orders} orders over 60 days, "
                f"loaded in {time.perf_counter() - started:.1f} s"
            )
            factory = session_factory(url)
            client = TestClient(create_app())

            def part(fn: str) -> object:
                at = now()
                with factory() as session:
                    if fn == "live_board":
                        return monitor.live_board(session, at)
                    if fn == "live_board (成都市)":
                        return monitor.live_board(session, at, region="510100")
                    if fn == "_calls_today":
                        return monitor._calls_today(session, at, None, 15)
                    if fn == "_waiting":
                        return monitor._waiting(session, at, None)
                    if fn == "order_figures":
                        return monitor.order_figures(session, at, None)
                    if fn == "agents_block":
                        return agent_states.agents_block(session, at)
                    return telephony.day_report(session, monitor.day_start(at), at)

            parts = ("live_board", "live_board (成都市)", "_calls_today", "_waiting", "order_figures", "agents_block")
            for fn in (*parts, "day_report"):
                support.measure(f"{fn}", lambda _i, fn=fn: part(fn), args.requests)

            def get(path: str) -> object:
                res = client.get(path)
                if res.status_code != 200:
                    raise SystemExit(f"unexpected answer {res.status_code}: {res.text[:300]}")
                return res

            support.measure("GET /api/monitor", lambda _i: get("/api/monitor"), args.requests)
            support.measure("GET /monitor", lambda _i: get("/monitor"), args.requests)
            board = client.get("/api/monitor").json()
            today = board["today"]
            print(
                f"  board: waiting {board['waiting']} (longest {board['longest_wait_seconds']:.0f} s), routed "
                f"{board['routed']}, offered {today['offered']}, answered {today['answered']}, abandoned "
                f"{today['abandoned']}, within {today['answered_within']}, recent offered {board['recent']['offered']}; "
                f"orders {board['orders']}; {len(board['regions'])} regions, {len(board['lines'])} lines"
            )
            counts = {k: v for k, v in board["agents"]["counts"].items() if k != "not_ready_reasons"}
            with factory() as session:
                changes = session.query(AgentStateChange).count()
            print(f"  agents: {changes} state changes, {len(board['agents']['rows'])} rows, now {counts}")

    support.each_database(
        args.db, run, f"-n {args.n}, --orders {args.orders}, {args.requests} requests; {datetime.now(UTC):%H:%M} UTC"
    )


if __name__ == "__main__":
    main()
