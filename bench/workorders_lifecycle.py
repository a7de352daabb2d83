"""Benchmark: full work-order lifecycles per second through the service, against plain SQL inserts of the same rows.

A full lifecycle is 受理 → 派单 → 签收 → 办结 → 审核通过 → 回访 → 归档: one order row ending archived, seven
history rows, one sequence bump. Two ways of driving the service are timed:

- `step`: one transaction per action (as the API and CLI do: 7 commits per lifecycle);
- `batch`: BATCH lifecycles per unit of work (a bulk import or replay), every action still going through
  `service.create_order` / `service.act` with its checks, optimistic version check and history.

The baseline inserts the same rows (final order row, 7 history rows, sequence upsert) with plain SQL through
the DB-API driver, committing once per BATCH lifecycles. ratio = service rate / plain-SQL rate (same batch).
On PostgreSQL the storage per order is measured with pg_total_relation_size and extrapolated to a million.

    .venv/bin/python bench/workorders_lifecycle.py --db both -n 2000 --batch 100
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

import bench_support as support
from bench_support import backend_cpu, scratch_pg
from hotline import db
from hotline.db import session_factory
from hotline.workorders import service

UNIT = "510100-zjj"
T0 = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)


def _steps(at: datetime) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("dispatch", {"role": "dispatcher", "target_unit": UNIT, "at": at}),
        ("accept", {"role": "department", "unit": UNIT, "at": at + timedelta(hours=1)}),
        ("resolve", {"role": "department", "unit": UNIT, "reply": "已处理完毕", "at": at + timedelta(days=1)}),
        ("review_pass", {"role": "supervisor", "at": at + timedelta(days=1, hours=1)}),
        (
            "callback",
            {"role": "agent", "satisfaction": "satisfied", "citizen_resolved": True, "at": at + timedelta(days=2)},
        ),
        ("archive", {"role": "supervisor", "at": at + timedelta(days=2, hours=1)}),
    ]


def _create_kwargs(i: int, region: str) -> dict[str, Any]:
    return {
        "type": "求助",
        "content": f"小区路灯不亮，已经一周了，请尽快维修。编号{i}",
        "phone": f"138{i % 100000000:08d}",
        "region": region,
        "caller_name": "张三",
        "place": "武侯区某小区",
        "category": "城乡建设",
        "at": T0 + timedelta(minutes=i % 600),
    }


CPU: dict[str, float] = {}
PG_CPU: dict[str, float] = {}


def run_service(url: str, n: int, batch: int, mode: str, region: str) -> float:
    """N lifecycles through the service; returns the wall time. CPU[mode] / PG_CPU[mode] get the CPU times.

    - batch: BATCH whole lifecycles per transaction (create + 6 actions on the order object, one flush);
    - staged: each step in its own transaction over BATCH orders, every action loading its order by number and
      flushing (SELECT, UPDATE … WHERE version = ?, history INSERT) as the API does; only the commit is shared;
    - step: one transaction and one commit per action (the API and CLI path as a single user sees it).
    """
    factory = session_factory(url)
    support.engine(url)
    cpu, pg_cpu = time.process_time(), backend_cpu()
    started = time.perf_counter()
    if mode == "step":
        for i in range(n):
            created = _create_kwargs(i, region)
            with factory.begin() as session:
                order = service.create_order(session, **created)
                session.flush()
                number = order.number
            for action, kwargs in _steps(created["at"]):
                with factory.begin() as session:
                    service.act(session, number, action, **kwargs)
    elif mode == "staged":
        for start in range(0, n, batch):
            made: list[tuple[str, datetime]] = []
            with factory.begin() as session:
                for i in range(start, min(n, start + batch)):
                    created = _create_kwargs(i, region)
                    order = service.create_order(session, **created)
                    made.append((order.number, created["at"]))
                service.flush_orders(session)
            for k in range(6):
                with factory.begin() as session:
                    for number, at in made:
                        action, kwargs = _steps(at)[k]
                        service.act(session, number, action, **kwargs)
    else:
        for start in range(0, n, batch):
            with factory.begin() as session:
                for i in range(start, min(n, start + batch)):
                    created = _create_kwargs(i, region)
                    order = service.create_order(session, **created)
                    for action, kwargs in _steps(created["at"]):
                        service.act(session, order, action, flush=False, **kwargs)
                service.flush_orders(session)
    elapsed = time.perf_counter() - started
    CPU[mode] = time.process_time() - cpu
    PG_CPU[mode] = backend_cpu() - pg_cpu
    return elapsed


def run_plain_sql(url: str, n: int, batch: int, region: str, unit_id: int, style: str = "simple") -> float:
    """The same rows with hand-written statements through the driver: no ORM, no checks, no domain.

    Style "simple" (the ratio's baseline, unchanged since the first benchmark): per order the sequence upsert and
    an INSERT … RETURNING id, per batch one executemany of the history rows. Style "bulk" (PostgreSQL) writes
    them the way the service itself now does: per order one round trip taking the number and the id, per batch
    one pipelined executemany of the order rows and one COPY of the history rows. On SQLite both are "simple".
    """
    engine = support.engine(url)
    pg = engine.dialect.name == "postgresql"
    bulk = pg and style == "bulk"
    ph = "%s" if pg else "?"
    order_cols = (
        "number, version, region_code, channel, caller_name, caller_phone, line, call_id, type, category, content, "
        "place, urgency, confidential, state, lead_unit_id, created_at, updated_at, dispatched_at, resolved_at, due, "
        "accept_due, return_due, paused_workdays, extension_days, extension_count, reply, satisfaction, "
        "citizen_resolved, urge_count, supervise_count, return_count, reopen_count, history_count, child_count"
    )
    n_cols = order_cols.count(",") + 1
    insert_order = f"INSERT INTO wo_orders ({order_cols}) VALUES ({', '.join([ph] * n_cols)})" + (
        " RETURNING id" if pg else ""
    )
    insert_history = (
        "INSERT INTO wo_history (order_id, seq, action, actor, role, unit_code, at, reason, from_state, to_state, "
        f"changes) VALUES ({', '.join([ph] * 11)})"
    )
    seq_sql = (
        f"INSERT INTO wo_sequences (region_code, day, last) VALUES ({ph}, {ph}, 1) "
        "ON CONFLICT (region_code, day) DO UPDATE SET last = wo_sequences.last + 1 RETURNING last"
    )
    actions = ["create", "dispatch", "accept", "resolve", "review_pass", "callback", "archive"]
    states = ["", "registered", "dispatched", "handling", "resolved", "to_visit", "visited", "archived"]
    changes = json.dumps({"state": ["a", "b"]})
    take_sql = (
        "WITH s AS (INSERT INTO wo_sequences (region_code, day, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (region_code, day) DO UPDATE SET last = wo_sequences.last + 1 RETURNING last) "
        "SELECT s.last, nextval('wo_orders_id_seq') FROM s"
    )
    insert_order_with_id = f"INSERT INTO wo_orders (id, {order_cols}) VALUES ({', '.join([ph] * (n_cols + 1))})"
    copy_history = (
        "COPY wo_history (order_id, seq, action, actor, role, unit_code, at, reason, from_state, to_state, changes) "
        "FROM STDIN"
    )
    raw = engine.raw_connection()
    cpu, pg_cpu = time.process_time(), backend_cpu()
    started = time.perf_counter()
    try:
        cur = raw.cursor()
        for start in range(0, n, batch):
            history_rows: list[tuple[Any, ...]] = []
            order_rows: list[tuple[Any, ...]] = []
            for i in range(start, min(n, start + batch)):
                kw = _create_kwargs(i, region)
                at = kw["at"] if pg else kw["at"].replace(tzinfo=None)
                cur.execute(take_sql if bulk else seq_sql, ("999999", "20210601"))
                taken = cur.fetchone()
                assert taken is not None
                seq = taken[0]
                row = (
                    f"P{seq:018d}", 7, region, "phone", kw["caller_name"], kw["phone"], "", "", kw["type"],
                    kw["category"], kw["content"], kw["place"], "normal", False, "archived", unit_id, at, at, at,
                    at, "2021-06-10", "2021-06-02", "2021-06-03", 0, 0, 0, "已处理完毕", "satisfied", True,
                    0, 0, 0, 0, 7, 0,
                )  # fmt: skip
                if bulk:
                    order_id = taken[1]
                    order_rows.append((order_id, *row))
                else:
                    cur.execute(insert_order, row)
                    order_id = cur.fetchone()[0] if pg else cur.lastrowid  # type: ignore[index]
                for k, action in enumerate(actions, start=1):
                    history_rows.append(
                        (order_id, k, action, "", "dispatcher", "", at, "", states[k - 1], states[k], changes)
                    )
            if bulk:
                cur.executemany(insert_order_with_id, order_rows)
                with cur.copy(copy_history) as copy:
                    for values in history_rows:
                        copy.write_row(values)
            else:
                cur.executemany(insert_history, history_rows)
            raw.commit()
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
    key = "plain" if style == "simple" else "plain_bulk"
    CPU[key] = time.process_time() - cpu
    PG_CPU[key] = backend_cpu() - pg_cpu
    return elapsed


def _prepare(url: str) -> int:
    db.upgrade(url)
    with session_factory(url).begin() as session:
        service.load_taxonomy(session)
        service.load_units(session)
        unit = service.add_unit(
            session, UNIT, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100"
        )
        return unit.id


def _pg_sizes(url: str) -> dict[str, int]:
    engine = db.get_engine(url)
    with engine.connect() as conn:
        out: dict[str, int] = {}
        for table in ("wo_orders", "wo_history", "wo_sequences"):
            out[table] = int(conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one())
            out[table + "_rows"] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        return out


def _worker(url: str, n: int, batch: int, region: str, barrier: Any, out: Any) -> None:
    os.environ.setdefault("HOTLINE_DATA_DIR", tempfile.mkdtemp(prefix="hotline-bench-"))
    db.get_engine.cache_clear()  # a fresh engine (and pool) in the child process
    run_service(url, 10, batch, "batch", region)  # warm-up
    barrier.wait()
    started = time.monotonic()
    run_service(url, n, batch, "batch", region)
    out.put((started, time.monotonic(), CPU["batch"], PG_CPU["batch"]))


def run_parallel(url: str, n: int, batch: int, workers: int) -> dict[str, float]:
    """WORKERS processes started together, each N/WORKERS batched lifecycles in its own region (own sequence)."""
    regions = ["510500", "510600", "510700", "510800", "510900", "511000", "511100", "511300"][:workers]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, n // workers, batch, r, barrier, out)) for r in regions]
    for p in procs:
        p.start()
    done = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    total = (n // workers) * workers
    wall = max(d[1] for d in done) - min(d[0] for d in done)
    out_: dict[str, float] = {
        "lifecycles_per_s": round(total / wall, 1),
        "client_cpu_ms_per_lifecycle": round(sum(d[2] for d in done) * 1000 / total, 3),
    }
    if url.startswith("postgresql"):
        out_["pg_backend_cpu_ms_per_lifecycle"] = round(sum(d[3] for d in done) * 1000 / total, 3)
    return out_


def _per(seconds: float, n: int) -> float:
    return round(seconds * 1000 / n, 3)


def bench(url: str, n: int, batch: int, step_n: int, workers: int = 1) -> dict[str, Any]:
    support.engine(url)
    unit_id = _prepare(url)
    result: dict[str, Any] = {"db": db.get_engine(url).dialect.name, "n": n, "batch": batch}
    # Warm-up (imports, caches, statement preparation) outside the timings.
    run_service(url, 20, batch, "batch", "510300")
    run_service(url, 20, batch, "staged", "510300")
    # Service and plain SQL alternate in rounds, so a change in the machine's load hits both alike.
    rounds = max(1, n // (batch * 5))
    per_round = n // rounds
    pg = result["db"] == "postgresql"
    t = {"batch": 0.0, "plain": 0.0, "staged": 0.0} | ({"plain_bulk": 0.0} if pg else {})
    cpu = dict.fromkeys(t, 0.0)
    pg_cpu = dict.fromkeys(t, 0.0)
    for _ in range(rounds):
        t["batch"] += run_service(url, per_round, batch, "batch", "510100")
        t["plain"] += run_plain_sql(url, per_round, batch, "510100", unit_id)
        if pg:
            t["plain_bulk"] += run_plain_sql(url, per_round, batch, "510100", unit_id, style="bulk")
        t["staged"] += run_service(url, per_round, batch, "staged", "510300")
        for mode in t:
            cpu[mode] += CPU[mode]
            pg_cpu[mode] += PG_CPU[mode]
    done = per_round * rounds
    result["n"] = done
    modes = [("batch", "service_batch"), ("plain", "plain_sql"), ("staged", "service_staged")]
    if pg:
        modes.append(("plain_bulk", "plain_sql_bulk"))
    for mode, label in modes:
        result[f"{label}_lifecycles_per_s"] = round(done / t[mode], 1)
        # CPU per lifecycle: this Python process, and (PostgreSQL) the server backends serving it. Less
        # sensitive to a shared, loaded machine than the rates.
        result[f"{label}_client_cpu_ms_per_lifecycle"] = _per(cpu[mode], done)
        if pg:
            result[f"{label}_pg_backend_cpu_ms_per_lifecycle"] = _per(pg_cpu[mode], done)
    result["ratio_batch"] = round(result["service_batch_lifecycles_per_s"] / result["plain_sql_lifecycles_per_s"], 3)
    if pg:
        result["ratio_batch_vs_bulk_plain_sql"] = round(
            result["service_batch_lifecycles_per_s"] / result["plain_sql_bulk_lifecycles_per_s"], 3
        )
    elapsed = run_service(url, step_n, batch, "step", "510400")
    result["service_step_lifecycles_per_s"] = round(step_n / elapsed, 1)
    result["service_step_client_cpu_ms_per_lifecycle"] = _per(CPU["step"], step_n)
    if pg:
        result["service_step_pg_backend_cpu_ms_per_lifecycle"] = _per(PG_CPU["step"], step_n)
    result["step_n"] = step_n
    elapsed = run_plain_sql(url, step_n, 1, "510100", unit_id)
    result["plain_sql_commit_each_lifecycle_per_s"] = round(step_n / elapsed, 1)
    if workers > 1:
        for key, value in run_parallel(url, n, batch, workers).items():
            result[f"service_batch_{workers}_processes_{key}"] = value
    return result


def storage(url: str, n: int, batch: int) -> dict[str, Any]:
    """Bytes per order on PostgreSQL: a fresh database holding only N service-made full lifecycles."""
    _prepare(url)
    run_service(url, n, batch, "batch", "510100")
    engine = db.get_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE wo_orders"))
        conn.execute(text("VACUUM ANALYZE wo_history"))
    sizes = _pg_sizes(url)
    total = sizes["wo_orders"] + sizes["wo_history"]
    per_order = total / n
    return {
        "orders": n,
        "wo_orders_bytes": sizes["wo_orders"],
        "wo_history_bytes": sizes["wo_history"],
        "history_rows": sizes["wo_history_rows"],
        "bytes_per_order": round(per_order),
        "gb_per_million_orders": round(per_order * 1_000_000 / 1e9, 2),
        "gb_for_21_million": round(per_order * 21_000_000 / 1e9, 1),
    }


def _with_pg(fn: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    with scratch_pg() as url:
        return fn(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=2000, help="lifecycles in the batched runs")
    parser.add_argument("--step-n", type=int, default=200, help="lifecycles in the one-commit-per-action run")
    parser.add_argument("--batch", type=int, default=100, help="lifecycles per transaction in batched runs")
    parser.add_argument("--workers", type=int, default=1, help="also run the batched service in N processes")
    parser.add_argument("--only-storage", action="store_true", help="PostgreSQL storage measurement only")
    parser.add_argument("--storage-n", type=int, default=10000, help="orders for the PostgreSQL storage measurement")
    args = parser.parse_args()
    os.environ.setdefault("HOTLINE_DATA_DIR", tempfile.mkdtemp(prefix="hotline-bench-"))
    results: list[dict[str, Any]] = []
    if args.only_storage:
        print(json.dumps(_with_pg(lambda url: storage(url, args.storage_n, args.batch)), indent=2))
        return
    if args.db in ("sqlite", "both"):
        path = Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "bench.db"
        results.append(bench(f"sqlite:///{path}", args.n, args.batch, args.step_n, args.workers))
    if args.db in ("postgresql", "both"):
        results.append(_with_pg(lambda url: bench(url, args.n, args.batch, args.step_n, args.workers)))
        if args.storage_n:
            results.append({"storage": _with_pg(lambda url: storage(url, args.storage_n, args.batch))})
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
