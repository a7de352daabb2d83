"""Benchmark: records per second a source's batches are kept at (数据汇聚), in process, over HTTP, through the queue.

A batch mixes calls and work orders (one record in four a work order), as a sub-centre's system would send
them: a call when it is answered, a work order when it is dispatched; later versions of the same ids (a call
with its end, an order accepted, resolved and visited) are the updates. On a temporary SQLite file and on a
PostgreSQL database created for the run and dropped after, first --base records (20,000) are kept (warm-up, and
tables that are not empty), then:

1. in process: `service.ingest` in one transaction per batch (as the API does), batches of 100 and of 1000:
   first delivery (all inserted), the same batches again (a redelivery: all unchanged), the later versions
   (all updated); records/s wall and client CPU per record (PostgreSQL: also its backend's CPU). The cost of
   `schema.parse_batch` alone (validation, no database) is the first row; an empty batch (a heartbeat) gives
   the fixed cost of a batch.
2. over HTTP: `POST /api/feeds/{source}` against a real server (uvicorn, one worker, started with
   `tests.platform_process.Platform`), batches of 100 posted one after the other by one client (kept-alive
   connection): batches/s, records/s, p50/p95/max per batch, server CPU per record; then the same number of
   batches shared by --clients clients at once, each a different source (sources send concurrently). Each
   client signs in as its source's feed system (an API token), so the figures include the sign-in check.
3. through the queue (NATS JetStream at HOTLINE_NATS_URL, a stream and subject of its own, deleted at the end):
   batches of 100 published (a few with `stream.publish`, one connection each; the rest over one connection),
   then drained by `stream.listen(idle_exit=...)`; the drain time runs to the last batch stored (the idle wait
   before it exits is not counted). Each batch is signed with the source's feed account's API token, and the
   listener finds whose token signed it (the step turns sign-in on), so the figures include the sign-in check.

On PostgreSQL the tables are ANALYZEd before each pass (outside the timings), standing in for autovacuum on a
platform in service (see `analyze`; this machine's server runs with autovacuum off); --no-analyze leaves them
without statistics. Last, bytes per record of agg_calls and agg_orders with their indexes (SQLite: dbstat;
PostgreSQL: pg_total_relation_size, as left and after VACUUM FULL), scaled to a million records.

    nice -n 5 .venv/bin/python bench/aggregation_ingest.py [--db both] [-n 20000] [--http-batches 200] \
        [--queue-batches 200] [--clients 4] [--no-analyze]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402
import nats  # noqa: E402
from sqlalchemy import text  # noqa: E402
from tests.platform_process import Platform  # noqa: E402

import bench_support as support  # noqa: E402
from bench_support import BACKENDS, database, each_database, percentile  # noqa: E402
from hotline import db  # noqa: E402
from hotline.aggregation import service, stream  # noqa: E402
from hotline.aggregation.schema import parse_batch  # noqa: E402
from hotline.timeutil import CHINA_TZ  # noqa: E402
from proc_cpu import cpu_seconds  # noqa: E402

SOURCE = "12366"
# Sources for concurrent HTTP clients: sub-centres first, then cities.
SOURCES = ["12366", "12360", "12313", "12367", "12305", "510100", "510300", "510400", "510500", "510600"]
T0 = datetime(2021, 11, 1, 9, 0, tzinfo=CHINA_TZ)
ORDER_EVERY = 4  # one record in four is a work order
HEARTBEAT: dict[str, dict[str, float]] = {}  # url -> ms a batch: wall, client CPU, PostgreSQL backend CPU


# -- records ----------------------------------------------------------------------------------------------
def record(prefix: str, i: int, updated: bool) -> dict[str, Any]:
    """Record I of a feed: a call (answered, or abandoned one time in ten) or, one in ORDER_EVERY, a work order;
    UPDATED gives its later version (the call's end; the order accepted, resolved and visited)."""
    at = T0 + timedelta(seconds=7 * i)
    if i % ORDER_EVERY == ORDER_EVERY - 1:
        order: dict[str, Any] = {
            "kind": "workorder",
            "id": f"{prefix}W{i:08d}",
            "created_at": at.isoformat(),
            "due": (at + timedelta(days=7)).date().isoformat(),
            "region": "510100",
            "category": "城乡建设",
            "demand_type": "投诉",
            "dispatched": True,
            "accept_due": (at + timedelta(days=1)).date().isoformat(),
        }
        if updated:
            order["accepted_at"] = (at + timedelta(hours=2)).isoformat()
            order["resolved_at"] = (at + timedelta(days=2)).isoformat()
            order["satisfaction"] = "满意"
            order["citizen_resolved"] = True
        return order
    call: dict[str, Any] = {"kind": "call", "id": f"{prefix}C{i:08d}", "started_at": at.isoformat()}
    if i % 10 != 0:
        call["answered_at"] = (at + timedelta(seconds=5 + i % 20)).isoformat()
    elif not updated:
        call["ended_at"] = (at + timedelta(seconds=40)).isoformat()  # abandoned: sent once, ended
    if updated:
        call["ended_at"] = (at + timedelta(seconds=200)).isoformat()
        if i % 10 == 0:
            call["updated_at"] = (at + timedelta(seconds=300)).isoformat()  # a corrected resend
    return call


def batches(prefix: str, n: int, size: int, updated: bool = False) -> list[dict[str, Any]]:
    return [{"records": [record(prefix, i, updated) for i in range(s, min(n, s + size))]} for s in range(0, n, size)]


# -- 1. in process ----------------------------------------------------------------------------------------
def ingest_all(url: str, payloads: list[dict[str, Any]], expect: str, source: str = SOURCE) -> dict[str, float]:
    """Every payload through service.ingest, one transaction each; checks every record had the EXPECT outcome."""
    support.engine(url)
    n = sum(len(p["records"]) for p in payloads)  # heartbeats: 0 records, 0 "received"
    cpu, pg_cpu, started = time.process_time(), cpu_seconds(BACKENDS), time.perf_counter()
    done = 0
    for payload in payloads:
        with db.session_scope(url) as session:
            done += getattr(service.ingest(session, source, payload), expect)
    wall = time.perf_counter() - started
    assert done == n, f"{expect}: {done} of {n}"
    return {"n": n, "wall": wall, "cpu": time.process_time() - cpu, "pg_cpu": cpu_seconds(BACKENDS) - pg_cpu}


def analyze(url: str) -> None:
    """PostgreSQL: fresh planner statistics, as autovacuum keeps them on a table in service (it re-analyzes a
    table once a tenth of it changed; this machine's server has autovacuum off). The benchmark grows its tables
    by 100,000 rows in a minute. Without statistics PostgreSQL reads what is kept through ix_agg_*_source_started
    (every row of the source, filtered by external_id) instead of the unique (source, external_id) index, and a
    plan made while a table was small (a sequential scan, kept as psycopg prepares the statement and PostgreSQL
    caches a generic plan) goes on being used as it grows. --no-analyze shows that case."""
    support.analyze(url, "agg_calls, agg_orders")


def in_process(url: str, n: int, sizes: list[int], base: int, stats: bool) -> list[tuple[str, dict[str, float]]]:
    pg = url.startswith("postgresql")
    # Warm-up (imports, statement caches) and a base of records already kept, as on a platform in service.
    ingest_all(url, batches("BASE-", base, 1000), "inserted")
    rows: list[tuple[str, dict[str, float]]] = []
    probe = batches("P-", n, 100)
    cpu, started = time.process_time(), time.perf_counter()
    for payload in probe:
        parse_batch(payload)
    rows.append(
        ("parse only, batch 100", {"n": n, "wall": time.perf_counter() - started, "cpu": time.process_time() - cpu})
    )
    beat = ingest_all(url, [{"records": []} for _ in range(200)], "received")  # the fixed cost of a batch
    HEARTBEAT[url] = {key: beat[key] / 200 * 1000 for key in ("wall", "cpu", "pg_cpu")}
    for size in sizes:
        first, again = batches(f"B{size}-", n, size), batches(f"B{size}-", n, size)
        later = batches(f"B{size}-", n, size, updated=True)
        for label, payloads, expect in (
            ("new", first, "inserted"),
            ("redelivered", again, "unchanged"),
            ("updated", later, "updated"),
        ):
            if stats:
                analyze(url)
            rows.append((f"ingest, batch {size}, {label}", ingest_all(url, payloads, expect)))
    for _, m in rows:
        m["records_per_s"] = m["n"] / m["wall"]
        m["cpu_us"] = m["cpu"] / m["n"] * 1e6
        if pg and "pg_cpu" in m:
            m["pg_cpu_us"] = m["pg_cpu"] / m["n"] * 1e6
    return rows


# -- 2. HTTP ----------------------------------------------------------------------------------------------
def feed_tokens(url: str, sources: list[str]) -> dict[str, str]:
    """An API token of a feed account per source, as each source's system signs in (the guard checks it)."""
    from hotline.accounts import service as accounts

    tokens: dict[str, str] = {}
    with db.session_scope(url) as session:
        for code in sources:
            login = f"bench-feed-{code}"
            accounts.create_account(session, login, f"压测 {code}", ["feed"], bound_to=code)
            tokens[code] = accounts.issue_token(session, login, label="bench").token
    return tokens


# Per database (`--db both` runs each with accounts of its own): database URL -> source -> token.
TOKENS: dict[str, dict[str, str]] = {}


def _post_all(base: str, token: str, source: str, payloads: list[dict[str, Any]], latencies: list[float]) -> None:
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        for payload in payloads:
            started = time.perf_counter()
            response = client.post(f"/api/feeds/{source}", content=json.dumps(payload),
                                   headers={"content-type": "application/json"})  # fmt: skip
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{source}: HTTP {response.status_code} {response.text[:300]}")
            body = response.json()
            if body["inserted"] != len(payload["records"]):
                raise RuntimeError(f"{source}: {body}")


def _client(base: str, token: str, source: str, payloads: list[dict[str, Any]], out: list[float],
            errors: list[BaseException]) -> None:  # fmt: skip
    try:
        _post_all(base, token, source, payloads, out)
    except BaseException as exc:  # reported with the results, once every thread has ended
        errors.append(exc)


def http(url: str, workdir: Path, n_batches: int, clients: int) -> list[tuple[str, dict[str, float]]]:
    platform = Platform({"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(workdir / "data")},
                        log=workdir / "server.log")  # fmt: skip
    rows = []
    tokens = TOKENS.setdefault(url, {})
    tokens.update(feed_tokens(url, sorted({SOURCE, *SOURCES[:clients]})))
    platform.start()
    try:
        assert platform.proc is not None
        server = [platform.proc.pid]
        _post_all(platform.url, tokens[SOURCE], SOURCE, batches("HWARM-", 1000, 100), [])
        plans: list[tuple[str, list[tuple[str, list[dict[str, Any]]]]]] = [
            ("HTTP, 1 client, batch 100", [(SOURCE, batches("H1-", n_batches * 100, 100))])
        ]
        if clients > 1:
            each = max(1, n_batches // clients)
            work = [(code, batches(f"H{clients}-", each * 100, 100)) for code in SOURCES[:clients]]
            plans.append((f"HTTP, {clients} clients (sources), batch 100", work))
        for label, work in plans:
            latencies: list[float] = []
            errors: list[BaseException] = []
            cpu0, started = cpu_seconds(server), time.perf_counter()
            threads = [threading.Thread(target=_client, args=(platform.url, tokens[s], s, p, latencies, errors))
                       for s, p in work]  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            n = sum(len(p["records"]) for _, payloads in work for p in payloads)
            row: dict[str, Any] = {
                "n": n,
                "wall": wall,
                "batches_per_s": len(latencies) / wall,
                "records_per_s": n / wall,
                "server_cpu_us": (cpu_seconds(server) - cpu0) / n * 1e6,
                "p50_ms": statistics.median(latencies) * 1000,
                "p95_ms": percentile(latencies, 0.95) * 1000,
                "max_ms": max(latencies) * 1000,
            }
            if errors:
                row["errors"] = f"{len(errors)} client(s) failed, first: {str(errors[0])[:200]}"
            rows.append((label, row))
    finally:
        platform.stop()
    return rows


# -- 3. queue ---------------------------------------------------------------------------------------------
async def _queue(n_batches: int, via_publish: int, idle_exit: float, token: str) -> dict[str, float]:
    settings_subject = os.environ["HOTLINE_FEEDS_SUBJECT"]
    payloads = batches("Q-", n_batches * 100, 100)
    started = time.perf_counter()
    for payload in payloads[:via_publish]:  # creates the stream on the first
        await stream.publish(SOURCE, payload, token=token)
    per_publish = (time.perf_counter() - started) / max(1, via_publish)
    nc = await nats.connect(os.environ.get("HOTLINE_NATS_URL") or "nats://127.0.0.1:4222")
    try:
        js = nc.jetstream()
        started = time.perf_counter()
        subject = f"{settings_subject}.{SOURCE}"
        for payload in payloads[via_publish:]:
            data = json.dumps(payload).encode()
            await js.publish(subject, data, timeout=10, headers=stream.headers(token, subject, data))
        one_connection = time.perf_counter() - started
        last, stored = [0.0], [0]

        def seen(outcome: stream.Handled) -> None:
            last[0] = time.perf_counter()
            if outcome.result is None:
                raise RuntimeError(f"batch {outcome.seq} not stored: {outcome.error}")
            stored[0] += 1

        cpu, started = time.process_time(), time.perf_counter()
        crashes = 0
        while stored[0] < n_batches:
            try:
                await stream.listen(idle_exit=idle_exit, on_outcome=seen)
            except TimeoutError:
                # nats-py 2.16's fetch can raise a bare asyncio.TimeoutError (not nats.errors.TimeoutError, the one
                # listen catches) when its deadline runs out between its two pull requests: the listener stops.
                # The durable consumer keeps its place; start it again, as a supervisor would, and count it.
                crashes += 1
                if crashes > 20:
                    raise
            else:
                break
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
        assert stored[0] == n_batches, (stored[0], n_batches)
        drain = last[0] - started
        n = n_batches * 100
        rest = max(1, n_batches - via_publish)
        return {
            "n": n,
            "wall": drain,
            "publish_ms_new_connection": per_publish * 1000,
            "publish_batches_per_s_one_connection": rest / one_connection,
            "batches_per_s": n_batches / drain,
            "records_per_s": n / drain,
            "cpu_us": cpu / n * 1e6,
            "listener_stopped_by_timeout": crashes,
            "listen_total_s": total,
        }
    finally:
        try:
            await nc.jetstream().delete_stream(os.environ["HOTLINE_FEEDS_STREAM"])
        finally:
            await nc.close()


def queue(url: str, n_batches: int, via_publish: int, idle_exit: float) -> list[tuple[str, dict[str, float]]]:
    tokens = TOKENS.setdefault(url, {})
    if SOURCE not in tokens:  # the HTTP step made it unless skipped
        tokens.update(feed_tokens(url, [SOURCE]))
    suffix = uuid.uuid4().hex[:8]
    variables = ("HOTLINE_DATABASE_URL", "HOTLINE_FEEDS_STREAM", "HOTLINE_FEEDS_SUBJECT", "HOTLINE_AUTH")
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update({"HOTLINE_DATABASE_URL": url, "HOTLINE_FEEDS_STREAM": f"BENCH_FEEDS_{suffix}",
                       "HOTLINE_FEEDS_SUBJECT": f"bench.feeds.{suffix}", "HOTLINE_AUTH": "on"})  # fmt: skip
    try:
        measured = asyncio.run(_queue(n_batches, via_publish, idle_exit, tokens[SOURCE]))
        return [("queue: listen, batch 100", measured)]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- storage ----------------------------------------------------------------------------------------------
def storage(url: str) -> dict[str, dict[str, float]]:
    engine = support.engine(url)
    out: dict[str, dict[str, float]] = {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("agg_calls", "agg_orders"):
            rows = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            if engine.dialect.name == "sqlite":
                size = conn.execute(
                    text(
                        "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                        "(SELECT name FROM sqlite_master WHERE tbl_name = :t)"
                    ),
                    {"t": table},
                ).scalar_one()
                out[table] = {"rows": rows, "bytes": int(size), "bytes_per_row": int(size) / rows}
            else:
                before = int(conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one())
                conn.execute(text(f"VACUUM FULL {table}"))
                after = int(conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one())
                out[table] = {"rows": rows, "bytes": before, "bytes_per_row": before / rows,
                              "bytes_per_row_vacuumed": after / rows}  # fmt: skip
    return out


# -- output -----------------------------------------------------------------------------------------------
def _fmt(value: float | None, pattern: str) -> str:
    return format(value, pattern) if value is not None else "—".rjust(int(pattern.split(".")[0]))


def table(kind: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    print(f"\n{kind}")
    print(
        f"{'':46} {'records':>8} {'wall s':>7} {'rec/s':>8} {'batch/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'max ms':>7} {'CPU us/rec':>20}"
    )
    for label, m in rows:
        batches_per_s = m.get("batches_per_s")
        if batches_per_s is None and "batch" in label:
            size = int(label.split("batch ")[1].split(",")[0])
            batches_per_s = m["records_per_s"] / size
        cpu = f"client {m['cpu_us']:.0f}" if "cpu_us" in m else ""
        if "pg_cpu_us" in m:
            cpu += f" + pg {m['pg_cpu_us']:.0f}"
        if "server_cpu_us" in m:
            cpu = f"server {m['server_cpu_us']:.0f}"
        print(
            f"{label:46} {m['n']:8d} {m['wall']:7.2f} {m['records_per_s']:8.0f} {_fmt(batches_per_s, '8.1f')} "
            f"{_fmt(m.get('p50_ms'), '7.1f')} {_fmt(m.get('p95_ms'), '7.1f')} {_fmt(m.get('max_ms'), '7.1f')} "
            f"{cpu:>20}"
        )
        if "publish_ms_new_connection" in m:
            print(
                f"{'':46} publish: {m['publish_ms_new_connection']:.1f} ms a batch with stream.publish (own "
                f"connection), {m['publish_batches_per_s_one_connection']:.0f} batches/s over one connection; "
                f"listen ran {m['listen_total_s']:.1f} s with the idle wait"
            )
            if m["listener_stopped_by_timeout"]:
                print(
                    f"{'':46} the listener stopped {m['listener_stopped_by_timeout']} time(s) on a bare "
                    "asyncio.TimeoutError from nats-py's fetch and was started again"
                )
        if "errors" in m:
            print(f"{'':46} ERRORS: {m['errors']}")


def run(kind: str, args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-agg-"))
    started = time.perf_counter()
    with database(kind, workdir) as url:
        stats = not args.no_analyze
        rows = in_process(url, args.n, args.sizes, args.base, stats)
        steps: list[Callable[[], list[tuple[str, dict[str, Any]]]]] = []
        if args.http_batches:
            steps.append(lambda: http(url, workdir, args.http_batches, args.clients))
        if args.queue_batches:
            steps.append(lambda: queue(url, args.queue_batches, args.via_publish, args.idle_exit))
        for step in steps:
            if stats:
                analyze(url)
            rows += step()
        sizes = storage(url)
    table(f"{kind} ({time.perf_counter() - started:.0f} s)", rows)
    beat = HEARTBEAT[url]
    print(
        f"an empty batch (heartbeat), in process: {beat['wall']:.2f} ms wall, client CPU {beat['cpu']:.2f} ms"
        + (f" + pg {beat['pg_cpu']:.2f} ms" if kind == "postgresql" else "")
    )
    for name, s in sizes.items():
        extra = ""
        if "bytes_per_row_vacuumed" in s:
            extra = (f"; after VACUUM FULL {s['bytes_per_row_vacuumed']:.0f} B/row = "
                     f"{s['bytes_per_row_vacuumed'] * 1e6 / 1e9:.2f} GB per million")  # fmt: skip
        print(
            f"{name}: {s['rows']:.0f} rows, {s['bytes'] / 1e6:.1f} MB with indexes, {s['bytes_per_row']:.0f} B/row "
            f"= {s['bytes_per_row'] * 1e6 / 1e9:.2f} GB per million{extra}"
        )
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the server's log) when the run failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=20000, help="records per in-process pass")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 1000])
    parser.add_argument("--http-batches", type=int, default=200, help="batches of 100 over HTTP (0: skip)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients in the second HTTP run")
    parser.add_argument("--queue-batches", type=int, default=200, help="batches of 100 through the queue (0: skip)")
    parser.add_argument("--via-publish", type=int, default=10, help="of which sent with stream.publish")
    parser.add_argument("--idle-exit", type=float, default=1.0)
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="PostgreSQL: no ANALYZE before each pass (tables growing faster than autovacuum re-analyzes them)",
    )
    parser.add_argument("--base", type=int, default=20000, help="records kept before the timed passes")
    args = parser.parse_args()
    each_database(args.db, lambda kind: run(kind, args), f"one record in {ORDER_EVERY} a work order")


if __name__ == "__main__":
    main()
