"""Benchmark: the order list's 关键词 (words) filter among 250,000 orders, a page and its count (共 N 张), before and
after the full-text index (migration 0025, `workorders.search`).

`build` makes the database of `workorders_period_queries.py` (`web_pages.py`'s --recent orders over the last 30
days through the service, then --old closed ones over the --years before, in bulk: 250,000 orders of the shared
data's 2,147 messages, each place 某小区N号楼) with the tree it runs on, and keeps it: a SQLite file in --keep,
or a PostgreSQL database named --pg-name (analysed, as autovacuum keeps a server's). A tree that knows 0025
indexes the bulk orders as the migration would. `upgrade` brings a database built by an older tree to this
tree's head and times 0025 (its backfill) apart from the migrations before it. `measure` prints, with the tree it
runs on (PYTHONPATH=<other tree>/src runs another), each word's plan, the orders matching, and the times of
`service.list_orders` (a supervisor's newest 50, and the first due 50, as the 工单 page shows by default) and of
`service.count_orders`, a session per call.

    git archive HEAD | tar -x -C /tmp/base                      # the tree before
    PYTHONPATH=/tmp/base/src .venv/bin/python bench/workorders_words.py build --db sqlite --keep /tmp/words-bench
    PYTHONPATH=/tmp/base/src .venv/bin/python bench/workorders_words.py measure --db sqlite --keep /tmp/words-bench
    .venv/bin/python bench/workorders_words.py upgrade --db sqlite --keep /tmp/words-bench
    .venv/bin/python bench/workorders_words.py measure --db sqlite --keep /tmp/words-bench
    (the same with --db postgresql --pg-name hotline_bench_words; `drop` removes that database)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

import bench_support as support  # noqa: E402
import workorders_period_queries as period  # noqa: E402
from hotline import db  # noqa: E402
from hotline.workorders import service  # noqa: E402
from hotline.workorders.store import Order  # noqa: E402

# (label, words): every order holds 小区 (its place); 政府 is in 31 % of the messages, 物业 4 %, 充电桩 and 云塘学校
# in one each (≈ 116 orders), 量子计算 in none; 栋 (one character) and 3栋 give the index nothing to look up.
WORDS = (
    ("everywhere", "小区"),
    ("common", "政府"),
    ("medium", "物业"),
    ("rare", "充电桩"),
    ("rare, two words", "云塘 学校"),
    ("absent", "量子计算"),
    ("common AND rare", "政府 充电桩"),
    ("fallback (1 char)", "栋"),
    ("fallback AND rare", "栋 充电桩"),
)


def _url(args: argparse.Namespace) -> str:
    if args.db == "sqlite":
        return f"sqlite:///{args.keep / 'bench.db'}"
    return support.PG_ADMIN.rsplit("/", 1)[0] + f"/{args.pg_name}"


def _admin(sql: str) -> None:
    admin = create_engine(support.PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def build(args: argparse.Namespace) -> None:
    url = _url(args)
    if args.db == "sqlite":
        args.keep.mkdir(parents=True, exist_ok=True)
    else:
        _admin(f'CREATE DATABASE "{args.pg_name}"')
    db.upgrade(url)
    os.environ["HOTLINE_DATABASE_URL"] = url
    started = time.perf_counter()
    period._build(url, args.recent, args.old, args.years)
    print(f"built in {time.perf_counter() - started:.0f} s")
    try:
        from hotline.workorders.store import index_orders  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # a tree before 0025
        return
    with support.engine(url).begin() as conn:
        started = time.perf_counter()
        done = index_orders(conn)  # the bulk orders have no entry; the service's are written again
    print(f"indexed {done} orders in {time.perf_counter() - started:.0f} s")
    support.analyze(url)


def upgrade(args: argparse.Namespace) -> None:
    from alembic.script import ScriptDirectory

    url = _url(args)
    below = ScriptDirectory.from_config(db.alembic_config(url)).get_revision("0025").down_revision
    for revision in (str(below), "0025"):
        started, cpu = time.perf_counter(), time.process_time()
        db.upgrade(url, revision)
        print(f"upgrade to {revision}: {time.perf_counter() - started:.1f} s wall, "
              f"{time.process_time() - cpu:.1f} s CPU of this process")  # fmt: skip
    support.analyze(url)
    engine = support.engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            size = conn.scalar(text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'wo_order_words%'"))
        else:
            size = conn.scalar(text("SELECT pg_total_relation_size('wo_order_words')"))
    print(f"index size: {size / 2**20:.1f} MiB (wo_order_words with its index)")


def measure(args: argparse.Namespace) -> None:
    url = _url(args)
    os.environ["HOTLINE_DATABASE_URL"] = url
    with support.engine(url).connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Order))
    print(f"\n{args.db}: {total} orders")

    def call(work: Callable[[Any], object]) -> Callable[[int], object]:
        def run(_i: int) -> object:
            with db.session_scope(url) as session:
                return work(session)

        return run

    for label, words in WORDS:
        filters = service.OrderFilters(words=words)

        def page(session: Any, order: str, filters: service.OrderFilters = filters) -> object:
            return service.list_orders(session, filters, role="supervisor", order=order)

        def count(session: Any, filters: service.OrderFilters = filters) -> int:
            return service.count_orders(session, filters, role="supervisor")

        with db.session_scope(url) as session:
            matching = count(session)
        print(f"\n  {label} ({words}): {matching} orders", flush=True)
        plan = support.plan(url, lambda s: count(s), lambda statement: "count(" in statement)
        print("    plan of the count: " + " / ".join(line.strip() for line in plan))
        support.measure("page, newest 50", call(lambda s: page(s, "newest")), args.requests, warmup=2)
        support.measure("page, first due 50", call(lambda s: page(s, "due")), args.requests, warmup=2)
        support.measure("count", call(count), args.requests, warmup=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["build", "upgrade", "measure", "drop"])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--keep", type=Path, default=Path("/tmp/words-bench"), help="SQLite: the database's folder")
    parser.add_argument("--pg-name", default="hotline_bench_words", help="PostgreSQL: the database's name")
    parser.add_argument("--recent", type=int, default=50_000, help="orders taken over the last 30 days")
    parser.add_argument("--old", type=int, default=200_000, help="closed orders taken before them")
    parser.add_argument("--years", type=int, default=3, help="the years the old orders span")
    parser.add_argument("--requests", type=int, default=10, help="measured calls per line")
    args = parser.parse_args()
    os.environ.update({"HOTLINE_AUTH": "off", "HOTLINE_QUEUE_WORKERS": "off"})
    if args.step == "drop":
        _admin(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')
        return
    steps = {"build": build, "upgrade": upgrade, "measure": measure}
    note = f"{args.step} {args.db}"
    support.each_database(args.db, lambda _kind: steps[args.step](args), note=note)


if __name__ == "__main__":
    main()
