"""What several benchmarks share: a scratch database (a SQLite file or a PostgreSQL database dropped at the end),
the CPU of the PostgreSQL backends serving this process, and percentiles of latencies."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from hotline import db
from proc_cpu import cpu_seconds

PG_ADMIN = os.environ.get("HOTLINE_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# PostgreSQL backend processes serving this process's connections: their CPU is PostgreSQL's share of the work
# (read from /proc: the server runs on this machine). Other server processes (WAL writer, checkpointer) and
# the kernel's work for fsync are not counted.
BACKENDS: set[int] = set()


def _remember_backend(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    BACKENDS.add(int(cur.fetchone()[0]))
    cur.close()
    dbapi_conn.rollback()  # out of the transaction the query opened (AUTOCOMMIT can be set on it)


def engine(url: str) -> Engine:
    """The platform's engine for URL, noting the backend pid of each new PostgreSQL connection."""
    found = db.get_engine(url)
    if found.dialect.name == "postgresql" and not event.contains(found, "connect", _remember_backend):
        event.listen(found, "connect", _remember_backend)
    return found


def backend_cpu() -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backends of this process's connections."""
    return cpu_seconds(BACKENDS)


@contextmanager
def scratch_pg() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped at the end."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh database at head: a SQLite file in WORKDIR, or a PostgreSQL database dropped at the end."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        db.upgrade(url)
        yield url
        db.get_engine(url).dispose()
        return
    with scratch_pg() as url:
        db.upgrade(url)
        db.get_engine(url).dispose()  # later connections are new ones: their backends' pids are noted
        engine(url)
        yield url


def analyze(url: str, tables: str = "") -> None:
    """PostgreSQL: fresh planner statistics for TABLES (default all), as autovacuum keeps them on a server in
    service (this machine's has autovacuum off)."""
    if url.startswith("postgresql"):
        with engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"ANALYZE {tables}".strip()))


def plan(url: str, call: Callable[[Any], object], wanted: Callable[[str], bool]) -> list[str]:
    """How the database runs the first statement CALL(session) sends that WANTED accepts, caught as it is sent
    (with its parameters): SQLite's EXPLAIN QUERY PLAN or PostgreSQL's EXPLAIN, a line per row."""
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if wanted(statement):
            caught.append((statement, parameters))

    found = engine(url)
    event.listen(found, "before_cursor_execute", catch)
    try:
        with db.session_scope(url) as session:
            call(session)
    finally:
        event.remove(found, "before_cursor_execute", catch)
    statement, parameters = caught[0]
    sqlite = found.dialect.name == "sqlite"
    with found.connect() as conn:
        rows = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
        return [str(row[-1] if sqlite else row[0]) for row in rows]


def percentile(values: list[float], q: float) -> float:
    """The value at quantile Q (0..1) of VALUES, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def each_database(which: str, run: Callable[[str], None], note: str = "") -> None:
    """A benchmark's frame: files in a temporary folder of its own, no injected clock, the machine's load before
    and after, and RUN once per database WHICH names ("sqlite", "postgresql" or "both")."""
    os.environ.setdefault("HOTLINE_DATA_DIR", tempfile.mkdtemp(prefix="hotline-bench-"))
    os.environ.pop("HOTLINE_ALLOW_TIME_OVERRIDE", None)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average before {load}" + (f"; {note}" if note else ""), flush=True)
    started = time.perf_counter()
    for kind in ("sqlite", "postgresql") if which == "both" else (which,):
        run(kind)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nload average after {load}; {time.perf_counter() - started:.0f} s in all")


def measure(label: str, call: Callable[[int], object], requests: int, warmup: int = 5) -> None:
    """Send CALL(i) REQUESTS times one after another after WARMUP unmeasured ones; print the median and p95 wall
    time, the rate, and the CPU per call of this process and (PostgreSQL) of its backends."""
    for i in range(warmup):
        call(-1 - i)
    walls: list[float] = []
    pg_before, cpu_before, started = backend_cpu(), time.process_time(), time.perf_counter()
    for i in range(requests):
        t = time.perf_counter()
        call(i)
        walls.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    cpu, pg = time.process_time() - cpu_before, backend_cpu() - pg_before
    pg_part = f", PostgreSQL {pg / requests * 1000:.2f} ms" if BACKENDS else ""
    print(
        f"  {label:<44} median {statistics.median(walls) * 1000:7.2f} ms, p95 {percentile(walls, 0.95) * 1000:7.2f} ms, "
        f"{requests / total:6.1f}/s; CPU per request: this process {cpu / requests * 1000:.2f} ms{pg_part}",
        flush=True,
    )
