"""Benchmark: the 并单 suggestion's listing of open lead orders among years of closed ones (SQLite and PostgreSQL).

A fresh database gets `web_pages.py`'s data (the demo's units and catalogue, --recent orders taken over the last
30 days through the service, about two in five of them still open, three in four in 成都市) and then --old
orders taken over the --years before that window, written in bulk: 19 in 20 归档, 1 in 20 已并单 (a centre keeps
years of them). The dispatch helper, on every demand, lists the open lead orders of the demand's city taken in
the 30 days before it (`workorders.service.list_open_order_keys`).

Four phases on the same data, the order of a migration's life:

1. as migrated (index `ix_wo_orders_parent_state_region_created`), no statistics (SQLite is never analysed);
2. the indexes as before it (`ix_wo_orders_parent_id` on parent_id alone), no statistics;
3. the same, with statistics (SQLite ANALYZE; PostgreSQL VACUUM ANALYZE of wo_orders, as autovacuum keeps it);
4. as migrated, with statistics.

Each phase prints the plan of the listing for 成都市 and for no region (the 受理 form asks before a region is
chosen), and --requests times, after a few unmeasured calls: `list_open_order_keys` for 成都市 and for no
region, `list_open_orders` (whole rows) for 成都市, a session each call; and --page-requests times the 待派单
order page with the dispatch suggestion (`GET /orders/N?role=dispatcher`, a small model trained on a sample of
the shared data, as `web_pages.py` does). Median, p95 and CPU per call as `bench_support.measure` prints them.
Then the size of each index.

    .venv/bin/python bench/workorders_open_listing.py --db both
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

import bench_support as support  # noqa: E402
import web_pages  # noqa: E402
from hotline import db  # noqa: E402
from hotline.app import create_app  # noqa: E402
from hotline.timeutil import china_day  # noqa: E402
from hotline.workorders import service  # noqa: E402
from hotline.workorders.store import Order  # noqa: E402

NEW = "ix_wo_orders_parent_state_region_created"
OLD = "ix_wo_orders_parent_id"
CITY = "510100"


def _add_old(url: str, n: int, years: int, before: datetime, texts: list[str], batch: int = 5000) -> None:
    """N closed orders taken over YEARS years ending a day before BEFORE, written in bulk."""
    end = before - timedelta(days=1)
    span = timedelta(days=365 * years)
    seqs: Counter[tuple[str, str]] = Counter()
    rows: list[dict[str, Any]] = []
    engine = support.engine(url)
    for i in range(n):
        at = end - span * i / n
        region = "510700" if i % 4 == 3 else CITY
        day = china_day(at)
        seqs[region, f"{day:%Y%m%d}"] += 1
        number = service.order_number(region, day, seqs[region, f"{day:%Y%m%d}"])
        rows.append(
            dict(
                number=number, version=1, payload_hash=hashlib.sha256(number.encode()).hexdigest(),
                region_code=region, channel="phone", caller_name="张三", caller_phone=f"136{i:08d}", type="求助",
                content=web_pages._content(texts, i), place=f"某小区{i % 300}号楼", urgency="normal",
                state="merged" if i % 20 == 0 else "archived", created_at=at, updated_at=at + timedelta(hours=1),
                dispatched_at=at + timedelta(minutes=5), resolved_at=at + timedelta(minutes=20), due=day,
                reply="已处理完毕", satisfaction="satisfied", citizen_resolved=True,
            )
        )  # fmt: skip
        if len(rows) == batch or i == n - 1:
            with engine.begin() as conn:
                conn.execute(insert(Order), rows)
            rows = []


def _use(url: str, new: bool) -> None:
    """The listing's index as migrated (NEW) or the one it replaced; a new pool, so SQLite rereads its schema."""
    engine = support.engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {OLD if new else NEW}"))
        if new:
            next(i for i in Order.__table__.indexes if i.name == NEW).create(conn, checkfirst=True)
        else:
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {OLD} ON wo_orders (parent_id)"))
    engine.dispose()


def _analyze(url: str) -> None:
    engine = support.engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE wo_orders"))
    engine.dispose()


def _statistics(url: str) -> str:
    engine = support.engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            kept = conn.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
            rows = conn.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'wo_orders'")) if kept else 0
            return f"sqlite_stat1 rows for wo_orders: {rows}"
        count = conn.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = 'wo_orders'"))
        return f"pg_stats columns of wo_orders: {count}"


def _sizes(url: str) -> str:
    engine = support.engine(url)
    names = [NEW, OLD, "ix_wo_orders_created_at", "wo_orders"]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = text("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :name")
        else:
            query = text("SELECT coalesce(pg_relation_size(to_regclass(:name)), 0)")
        return ", ".join(f"{name} {(conn.scalar(query, {'name': name}) or 0) / 2**20:.1f} MiB" for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--recent", type=int, default=50_000, help="orders taken over the last 30 days")
    parser.add_argument("--old", type=int, default=200_000, help="closed orders taken before them")
    parser.add_argument("--years", type=int, default=3, help="the years the old orders span")
    parser.add_argument("--requests", type=int, default=30, help="measured listings per line")
    parser.add_argument("--page-requests", type=int, default=20, help="measured order pages per phase")
    args = parser.parse_args()
    texts, workdir, with_model, without_model = web_pages.prepare("hotline-bench-open-")

    def run(kind: str) -> None:
        folder = workdir / kind
        folder.mkdir()
        with support.database(kind, folder) as url:
            os.environ.update({"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(without_model)})
            started = time.perf_counter()
            web_pages._load(url, args.recent, texts)
            loaded = time.perf_counter() - started
            with db.session_scope(url) as session:
                first = session.scalar(select(func.min(Order.created_at)))
            assert first is not None
            _add_old(url, args.old, args.years, first, texts)
            engine = support.engine(url)
            with engine.connect() as conn:
                total = conn.scalar(select(func.count()).select_from(Order))
            chosen = web_pages._choose(url)
            with db.session_scope(url) as session:
                since = service.get_order(session, chosen.to_dispatch).created_at - timedelta(days=30)
                listed = len(service.list_open_order_keys(session, since=since, region_code=CITY))
                province = len(service.list_open_order_keys(session, since=since))
            print(f"\n{kind}: {args.recent} orders through the service in {loaded:.0f} s, then {args.old} closed ones "
                  f"over {args.years} years before them: {total} in all; order page {chosen.to_dispatch}; listed "
                  f"for 成都市 {listed}, for no region {province}", flush=True)  # fmt: skip
            os.environ["HOTLINE_DATA_DIR"] = str(with_model)
            client = TestClient(create_app(), follow_redirects=False)
            page = f"/orders/{chosen.to_dispatch}"

            def listing(region: str | None, whole: bool = False) -> Callable[[int], object]:
                def call(_i: int) -> object:
                    with db.session_scope(url) as session:
                        if whole:
                            return service.list_open_orders(session, since=since, region_code=region)
                        return service.list_open_order_keys(session, since=since, region_code=region)

                return call

            def phase(title: str) -> None:
                print(f"\n  {kind}, {title} ({_statistics(url)})", flush=True)
                for region, label in ((CITY, "成都市"), (None, "no region")):
                    lines = support.plan(
                        url,
                        lambda session, region=region: service.list_open_order_keys(  # type: ignore[misc]
                            session, since=since, region_code=region
                        ),
                        lambda statement: "payload_hash" in statement and "wo_orders" in statement,
                    )
                    print(f"    plan, {label}: " + " / ".join(line.strip() for line in lines))
                support.measure("list_open_order_keys 成都市", listing(CITY), args.requests)
                support.measure("list_open_order_keys, no region", listing(None), args.requests)
                support.measure("list_open_orders 成都市 (whole rows)", listing(CITY, whole=True), args.requests)
                support.measure("GET /orders/N dispatcher, with model", lambda _i: web_pages._ok(
                    client.get(page, params={"role": "dispatcher"}), has='id="dispatch-hint"'), args.page_requests)  # fmt: skip

            phase(f"as migrated ({NEW}), no statistics")
            _use(url, new=False)
            phase(f"before the migration ({OLD}), no statistics")
            _analyze(url)
            phase(f"before the migration ({OLD}), with statistics")
            _use(url, new=True)
            _analyze(url)
            phase(f"as migrated ({NEW}), with statistics")
            _use(url, new=False)
            print(f"  sizes before the migration: {_sizes(url)}")
            _use(url, new=True)
            print(f"  sizes as migrated: {_sizes(url)}")
            client.close()

    note = f"--recent {args.recent} --old {args.old} --years {args.years}, {args.requests} listings per line"
    support.each_database(args.db, run, note=note)


if __name__ == "__main__":
    main()
