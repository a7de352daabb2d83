"""Benchmark: the two outward interfaces, work-order push (工单推送) and Open311 GeoReport v2, on SQLite and PostgreSQL.

On a temporary SQLite file and on a PostgreSQL database created for the run and dropped after (each with a
stream and subject of its own at HOTLINE_NATS_URL, set through HOTLINE_PUSH_STREAM / HOTLINE_PUSH_SUBJECT and
deleted at the end):

1. Open311 submit through a real server (uvicorn, one worker, `tests.platform_process.Platform`, with
   HOTLINE_OPEN311_KEYS set): after a warm-up, --requests `POST /open311/v2/requests.json` (form-encoded, as
   apps send it) one after the other by one client on a kept-alive connection: requests/s, p50/p95/max, server
   CPU per request (PostgreSQL: also its backends'). Then `GET /open311/v2/requests.json` (the app's list: every
   request it sent in the last 90 days) --list times for the app that sent them and for an app that sent none,
   and `GET /open311/v2/requests/{id}.json`.
2. The push relay: --orders work orders created and dispatched (`create_order` + `act(..., "dispatch",
   flush=False)` + `flush_orders`, --batch a transaction) round-robin to --units department units, then drained
   by `push.stream.relay(idle_exit=...)` (in this process): events/s up to the last message published (the
   idle wait before it exits is not counted), and CPU per event of this process (the relay), of PostgreSQL's
   backends and of the NATS server. Each order has two history rows (受理 and 派单); only 派单 is pushed.
3. The lag: with the relay running in a task of its own (polling every `stream.POLL` s when nothing is new) and a
   JetStream subscriber (ordered push consumer on `<subject>.*`), --lag-samples orders created and dispatched
   one at a time, each in its own transaction, after a random pause of up to --lag-gap s (so the dispatches fall
   anywhere in the relay's poll cycle): time from the commit to the message reaching the subscriber, p50/p95.
4. The Open311 lists again, now that the table holds the push step's orders as well (no app's own).

On PostgreSQL the tables are ANALYZEd before each timed step (outside the timings), standing in for autovacuum
(this machine's server runs with it off); see bench/aggregation_ingest.py.

    nice -n 5 .venv/bin/python bench/interfaces.py [--db both] [--orders 5000] [--units 20] [--requests 300] \
        [--lag-samples 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402
import nats  # noqa: E402
from nats.js.api import DeliverPolicy  # noqa: E402
from sqlalchemy import text  # noqa: E402
from tests.platform_process import Platform  # noqa: E402

import bench_support as support  # noqa: E402
from bench_support import BACKENDS, analyze, database, each_database, percentile  # noqa: E402
from hotline import db  # noqa: E402
from hotline.open311 import service as open311  # noqa: E402
from hotline.plan.regions import PROVINCE, REGIONS  # noqa: E402
from hotline.push import stream  # noqa: E402
from hotline.push.service import Delivery  # noqa: E402
from hotline.workorders import service as workorders  # noqa: E402
from proc_cpu import cpu_seconds  # noqa: E402

NATS_URL = os.environ.get("HOTLINE_NATS_URL") or "nats://127.0.0.1:4222"
KEY, OTHER_KEY = "bench-key-1", "bench-key-2"
KEYS = f"bench={KEY}, other={OTHER_KEY}"
TYPES = ["投诉", "咨询", "求助", "举报", "意见建议"]
CATEGORY = "城乡建设/住房保障与房地产"
Row = tuple[str, dict[str, Any]]


def latency(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": statistics.median(values) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "max_ms": max(values) * 1000,
    }


def nats_server_pids() -> list[int]:
    """The local NATS server's process (its CPU per event); none when it runs elsewhere."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "nats-server":
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


# -- databases --------------------------------------------------------------------------------------------
def other_backends(url: str) -> list[int]:
    """PostgreSQL: the backends of this database that are not this process's (the server's)."""
    if not url.startswith("postgresql"):
        return []
    with support.engine(url).connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars()
        return [int(p) for p in pids if int(p) not in BACKENDS]


def order_count(url: str) -> int:
    with support.engine(url).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM wo_orders")).scalar_one())


# -- 1. Open311 -------------------------------------------------------------------------------------------
def _form(i: int, codes: list[str]) -> dict[str, str]:
    region = REGIONS[1 + i % (len(REGIONS) - 1)]
    return {
        "api_key": KEY,
        "service_code": codes[i % len(codes)],
        "description": f"小区门口的路灯已经坏了一周，晚上出行不便，请尽快维修。（第 {i} 号）",
        "phone": f"138{i:08d}",
        "last_name": "李",
        "first_name": "明",
        "address_string": f"{region.name}某某街道 {i % 97} 号",
        "jurisdiction_id": region.code,
        "attribute[type]": TYPES[i % len(TYPES)],
    }


def submit(client: httpx.Client, forms: list[dict[str, str]], latencies: list[float]) -> list[str]:
    numbers = []
    for form in forms:
        started = time.perf_counter()
        response = client.post("/open311/v2/requests.json", data=form)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise RuntimeError(f"POST requests.json: HTTP {response.status_code} {response.text[:300]}")
        numbers.append(response.json()[0]["service_request_id"])
    return numbers


def open311_submit(platform: Platform, url: str, n: int) -> tuple[list[Row], list[str]]:
    assert platform.proc is not None
    with httpx.Client(base_url=platform.url, timeout=60) as client:
        services = client.get("/open311/v2/services.json").json()
        codes = [s["service_code"] for s in services]
        submit(client, [_form(-1 - i, codes) for i in range(20)], [])  # warm-up (and the taxonomy loaded)
        analyze(url)
        server = [platform.proc.pid, *other_backends(url)]
        latencies: list[float] = []
        cpu0, started = cpu_seconds(server[:1]), time.perf_counter()
        pg0 = cpu_seconds(server[1:])
        numbers = submit(client, [_form(i, codes) for i in range(n)], latencies)
        wall = time.perf_counter() - started
        row = {
            "n": n,
            "wall": wall,
            "per_s": n / wall,
            **latency(latencies),
            "server_cpu_us": (cpu_seconds(server[:1]) - cpu0) / n * 1e6,
        }
        if len(server) > 1:
            row["pg_cpu_us"] = (cpu_seconds(server[1:]) - pg0) / n * 1e6
    return [(f"Open311 POST requests.json, 1 client ({len(services)} services)", row)], numbers


def open311_lists(platform: Platform, url: str, numbers: list[str], times: int) -> list[Row]:
    analyze(url)
    total = order_count(url)
    rows: list[Row] = []
    with httpx.Client(base_url=platform.url, timeout=60) as client:
        for label, path, params, expect in (
            (f"GET requests.json, app with {len(numbers) + 20}", "/open311/v2/requests.json", {"api_key": KEY},
             len(numbers) + 20),
            ("GET requests.json, app with none", "/open311/v2/requests.json", {"api_key": OTHER_KEY}, 0),
            ("GET requests/{id}.json", None, {"api_key": KEY}, 1),
        ):  # fmt: skip
            latencies = []
            for i in range(times + 2):
                started = time.perf_counter()
                target = path or f"/open311/v2/requests/{numbers[i % len(numbers)]}.json"
                response = client.get(target, params=params)
                if i >= 2:  # the first two warm up
                    latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or len(response.json()) != expect:
                    raise RuntimeError(f"{target}: HTTP {response.status_code} {response.text[:300]}")
            wall = sum(latencies)
            rows.append((f"Open311 {label} ({total} orders)", {"n": times, "wall": wall, "per_s": times / wall,
                                                              **latency(latencies)}))  # fmt: skip
    return rows


def list_plan(url: str) -> str:
    """How the database runs the Open311 list's query (`workorders.list_client_orders`, caught as it is sent)."""
    plan = support.plan(
        url,
        lambda session: open311.list_requests(session, open311.App("other", "other")),
        lambda statement: "client_key" in statement and "LIKE" in statement.upper(),
    )
    lines = [row.strip().split("  (")[0] for row in plan]
    return " / ".join(line for line in lines if not re.match(r"[\w ]+: ", line))  # nodes, not their details


# -- 2. push: prepare and drain ---------------------------------------------------------------------------
def units(count: int) -> list[str]:
    """COUNT department units, one per 市（州） in turn (a 住建局, a 城管局 … of each)."""
    cities = [r for r in REGIONS if r is not PROVINCE]
    return [f"{cities[i % len(cities)].code}-bench{i:02d}" for i in range(count)]


def prepare(url: str, n: int, unit_codes: list[str], batch: int) -> dict[str, float]:
    with db.session_scope(url) as session:
        workorders.load_units(session)
        for code in unit_codes:
            city = code.split("-")[0]
            workorders.add_unit(session, code, f"{city} 承办单位 {code}", "department", region_code=city, parent=city)
    started = time.perf_counter()
    for start in range(0, n, batch):
        with db.session_scope(url) as session:
            for i in range(start, min(n, start + batch)):
                unit = unit_codes[i % len(unit_codes)]
                order = workorders.create_order(
                    session,
                    type=TYPES[i % len(TYPES)],
                    content=f"小区楼下餐馆油烟扰民，多次反映未解决，请尽快处理。（第 {i} 号）",
                    phone=f"139{i:08d}",
                    region=unit.split("-")[0],
                    category=CATEGORY,
                    place="某某小区 3 栋",
                )
                workorders.act(session, order, "dispatch", role="dispatcher", target_unit=unit, flush=False)
            workorders.flush_orders(session)
    wall = time.perf_counter() - started
    return {"n": n, "wall": wall, "per_s": n / wall}


async def _stored(name: str) -> int:
    nc = await nats.connect(NATS_URL)
    try:
        return int((await nc.jetstream().stream_info(name)).state.messages)
    finally:
        await nc.close()


def drain(n: int, idle_exit: float) -> Row:
    last, seen = [0.0], [0]

    def delivered(_delivery: Delivery) -> None:
        last[0] = time.perf_counter()
        seen[0] += 1

    nats_pids = nats_server_pids()
    cpu, pg_cpu, nats_cpu = time.process_time(), cpu_seconds(BACKENDS), cpu_seconds(nats_pids)
    started = time.perf_counter()
    published = asyncio.run(stream.relay(idle_exit=idle_exit, on_delivery=delivered))
    total = time.perf_counter() - started
    cpu, pg_cpu = time.process_time() - cpu, cpu_seconds(BACKENDS) - pg_cpu
    nats_cpu = cpu_seconds(nats_pids) - nats_cpu
    wall = last[0] - started
    stored = asyncio.run(_stored(os.environ["HOTLINE_PUSH_STREAM"]))
    row: dict[str, Any] = {
        "n": published,
        "wall": wall,
        "per_s": published / wall,
        "cpu_us": cpu / published * 1e6,
        "relay_total_s": total,
        "stored": stored,
        "history_rows_per_s": 2 * n / wall,
    }
    if BACKENDS:
        row["pg_cpu_us"] = pg_cpu / published * 1e6
    if nats_pids:
        row["nats_cpu_us"] = nats_cpu / published * 1e6
    if published != n or stored != n:
        row["errors"] = f"{published} published, {stored} in the stream, {n} dispatched"
    return "push relay drain (派单)", row


# -- 3. push: lag -----------------------------------------------------------------------------------------
def _dispatch_one(url: str, i: int, unit: str) -> tuple[str, float]:
    with db.session_scope(url) as session:
        order = workorders.create_order(session, type="投诉", content=f"夜间施工噪音扰民，请核查处理。（抽样 {i}）",
                                        phone=f"137{i:08d}", region=unit.split("-")[0], category=CATEGORY)  # fmt: skip
        workorders.act(session, order, "dispatch", role="dispatcher", target_unit=unit)
        number = order.number
    return number, time.perf_counter()


async def _lag(url: str, samples: int, gap: float, unit_codes: list[str]) -> tuple[list[float], list[float]]:
    subject = os.environ["HOTLINE_PUSH_SUBJECT"]
    arrived: dict[str, float] = {}
    waiting: dict[str, asyncio.Future[float]] = {}

    async def received(msg: Any) -> None:
        at = time.perf_counter()
        number = json.loads(msg.data)["order"]["number"]
        arrived[number] = at
        future = waiting.pop(number, None)
        if future is not None and not future.done():
            future.set_result(at)

    nc = await nats.connect(NATS_URL)
    # The relay stops by itself once the samples end (idle_exit longer than any pause between them): cancelling
    # it is not reliable on Python 3.11, see `_stop`.
    relay = asyncio.create_task(stream.relay(idle_exit=2 * gap + 2.0))
    lags, commits = [], []
    try:
        sub = await nc.jetstream().subscribe(f"{subject}.*", cb=received, ordered_consumer=True,
                                             deliver_policy=DeliverPolicy.NEW)  # fmt: skip
        await asyncio.sleep(1.0)  # the relay connected and polling
        rng = random.Random(7)
        started = time.perf_counter()
        for i in range(samples):
            await asyncio.sleep(rng.uniform(0, gap))
            before = time.perf_counter()
            number, committed = await asyncio.to_thread(_dispatch_one, url, i, unit_codes[i % len(unit_codes)])
            commits.append(committed - before)
            if number not in arrived:
                waiting[number] = asyncio.get_running_loop().create_future()
                await asyncio.wait_for(waiting[number], timeout=30)
            lags.append(arrived[number] - committed)
            if relay.done():
                raise RuntimeError(f"the relay stopped early: {relay.exception() or relay.result()}")
        commits.append(time.perf_counter() - started)  # the last: how long the sampling took
        await sub.unsubscribe()
    finally:
        await _stop(relay)
        await nc.close()
    return lags, commits


async def _stop(relay: asyncio.Task[int]) -> None:
    """Wait for the relay to exit by itself (idle_exit); cancel it, again and again, only if it has not. A single
    cancel can be lost: when it lands while `js.publish` waits for its PubAck and the PubAck arrives in the same
    loop iteration, `asyncio.wait_for` (Python 3.11, in nats-py's request) returns the PubAck and drops the
    cancellation, and the relay goes on polling."""
    await asyncio.wait({relay}, timeout=30)
    while not relay.done():
        relay.cancel()
        await asyncio.wait({relay}, timeout=1)
    if not relay.cancelled():
        relay.result()


def lag(url: str, samples: int, gap: float, unit_codes: list[str]) -> Row:
    lags, commits = asyncio.run(_lag(url, samples, gap, unit_codes))
    wall = commits.pop()
    return (
        f"push lag, commit → subscriber (poll {stream.POLL} s)",
        {
            "n": samples,
            "wall": wall,
            **latency(lags),
            "min_ms": min(lags) * 1000,
            "commit_p50_ms": statistics.median(commits) * 1000,
        },
    )


async def _drop_stream(name: str) -> None:
    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(name)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


# -- output -----------------------------------------------------------------------------------------------
def _fmt(value: float | None, pattern: str) -> str:
    return format(value, pattern) if value is not None else "—".rjust(int(pattern.split(".")[0]))


def table(kind: str, rows: list[Row]) -> None:
    print(f"\n{kind}")
    print(f"{'':62} {'n':>6} {'wall s':>7} {'per s':>8} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'CPU us each':>24}")
    for label, m in rows:
        parts = []
        if "cpu_us" in m:
            parts.append(f"relay {m['cpu_us']:.0f}")
        if "server_cpu_us" in m:
            parts.append(f"server {m['server_cpu_us']:.0f}")
        if "pg_cpu_us" in m:
            parts.append(f"pg {m['pg_cpu_us']:.0f}")
        if "nats_cpu_us" in m:
            parts.append(f"nats {m['nats_cpu_us']:.0f}")
        print(
            f"{label:62} {m['n']:6d} {m['wall']:7.2f} {_fmt(m.get('per_s'), '8.0f')} {_fmt(m.get('p50_ms'), '7.1f')} "
            f"{_fmt(m.get('p95_ms'), '7.1f')} {_fmt(m.get('max_ms'), '7.1f')} {' + '.join(parts):>24}"
        )
        if "relay_total_s" in m:
            print(
                f"{'':62} {m['history_rows_per_s']:.0f} history rows read/s; relay ran {m['relay_total_s']:.1f} s "
                f"with the idle wait; {m['stored']} messages in the stream"
            )
        if "commit_p50_ms" in m:
            print(
                f"{'':62} min {m['min_ms']:.1f} ms; the dispatch itself (create + 派单 + commit): p50 "
                f"{m['commit_p50_ms']:.1f} ms"
            )
        if "errors" in m:
            print(f"{'':62} ERRORS: {m['errors']}")


def run(kind: str, args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-ifaces-"))
    token = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    rows: list[Row] = []
    with database(kind, workdir) as url:
        env = {
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_PUSH_STREAM": f"BENCH_PUSH_{token}",
            "HOTLINE_PUSH_SUBJECT": f"bench.push.{token}",
            "HOTLINE_NATS_URL": NATS_URL,
            "HOTLINE_OPEN311_KEYS": KEYS,
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        platform = Platform({**env, "HOTLINE_DATA_DIR": str(workdir / "data")}, log=workdir / "server.log")
        platform.start()
        try:
            numbers: list[str] = []
            if args.requests:
                found, numbers = open311_submit(platform, url, args.requests)
                rows += found
                rows += open311_lists(platform, url, numbers, args.list)
            if args.orders:
                unit_codes = units(args.units)
                prep = prepare(url, args.orders, unit_codes, args.batch)
                rows.append((f"(prepare: create + 派单 to {args.units} units, {args.batch} a transaction)", prep))
                analyze(url)
                rows.append(drain(args.orders, args.idle_exit))
                if args.lag_samples:
                    analyze(url)
                    rows.append(lag(url, args.lag_samples, args.lag_gap, unit_codes))
            if args.requests and args.orders:
                rows += open311_lists(platform, url, numbers, args.list)
            plan = list_plan(url) if args.requests else ""
        finally:
            platform.stop()
            asyncio.run(_drop_stream(env["HOTLINE_PUSH_STREAM"]))
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    table(f"{kind} ({time.perf_counter() - started:.0f} s)", rows)
    if plan:
        print(f"plan of the Open311 list query: {plan}")
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the server's log) when the run failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--orders", type=int, default=5000, help="orders dispatched, then drained (0: skip push)")
    parser.add_argument("--units", type=int, default=20, help="department units the orders go to")
    parser.add_argument("--batch", type=int, default=500, help="orders a transaction while preparing")
    parser.add_argument("--idle-exit", type=float, default=1.0)
    parser.add_argument("--lag-samples", type=int, default=50, help="dispatches timed one by one (0: skip)")
    parser.add_argument("--lag-gap", type=float, default=0.5, help="longest random pause before each, s")
    parser.add_argument("--requests", type=int, default=300, help="Open311 submissions timed (0: skip Open311)")
    parser.add_argument("--list", type=int, default=20, help="times each Open311 GET is timed")
    args = parser.parse_args()
    each_database(args.db, lambda kind: run(kind, args), f"NATS {NATS_URL}")


if __name__ == "__main__":
    main()
