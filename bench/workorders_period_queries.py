"""Benchmark: the queries that read the demands of a period, or the latest, among years of closed orders.

A database gets `workorders_open_listing.py`'s data (`web_pages.py`'s --recent orders over the last 30 days through
the service, then --old closed ones over the --years before, in bulk), one order in ten given a call id. Then,
without statistics (SQLite is never analysed by the platform) and, with --analyze, with them, it prints each
query's plan and times, a session per call:

- `supervision.latest_order_day` (the KPI and hot-topics pages, when their period is empty), for all regions and
  for 成都市;
- `supervision.report` of the last 7 days (考核指标), and its period query alone (`_period_orders`);
- `supervision.hotspots` of the last 7 days (热点诉求; every order's words stored by an unmeasured first call);
- `workorders.service.numbers_by_call` for 50 calls (the 话务记录 page's 关联工单).

--keep DIR keeps the SQLite database in DIR and reuses it on the next run (building 250,000 orders takes minutes),
so the same data can be read by two trees (PYTHONPATH=<other tree>/src runs another version of the platform).

    .venv/bin/python bench/workorders_period_queries.py --db sqlite --keep /tmp/period-bench
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from sqlalchemy import String, cast, func, literal, select, text, update  # noqa: E402

import bench_support as support  # noqa: E402
import web_pages  # noqa: E402
import workorders_open_listing as listing  # noqa: E402
from hotline import db  # noqa: E402
from hotline.supervision import service as supervision_service  # noqa: E402
from hotline.timeutil import china_day, now  # noqa: E402
from hotline.workorders import service  # noqa: E402
from hotline.workorders.store import Order  # noqa: E402


def _build(url: str, recent: int, old: int, years: int) -> None:
    texts = web_pages._texts()
    web_pages._load(url, recent, texts)
    with db.session_scope(url) as session:
        first = session.scalar(select(func.min(Order.created_at)))
    assert first is not None
    listing._add_old(url, old, years, first, texts)
    with support.engine(url).begin() as conn:
        conn.execute(
            update(Order).where(Order.id % 10 == 0).values(call_id=literal("call-").concat(cast(Order.id, String)))
        )


def _plan(url: str, label: str, call: Callable[[Any], object], wanted: Callable[[str], bool]) -> None:
    lines = support.plan(url, call, wanted)
    print(f"    plan, {label}: " + " / ".join(line.strip() for line in lines))


def _phase(url: str, title: str, requests: int) -> None:
    print(f"\n  {title}", flush=True)
    today = china_day(now())
    since = today - timedelta(days=6)
    with db.session_scope(url) as session:
        calls = list(
            session.scalars(
                select(Order.call_id).where(Order.call_id.like("call-%")).order_by(Order.created_at.desc()).limit(50)
            )
        )
        supervision_service.hotspots(session, since, today)  # stores the words of the orders not cut yet
    start, end = supervision_service.period_bounds(since, today)

    def timed(label: str, work: Callable[[Any], object]) -> None:
        def call(_i: int) -> object:
            with db.session_scope(url) as session:
                return work(session)

        support.measure(label, call, requests)

    is_orders = lambda statement: "FROM wo_orders" in statement  # noqa: E731
    _plan(url, "latest_order_day", lambda s: supervision_service.latest_order_day(s), is_orders)
    _plan(url, "latest_order_day 成都市", lambda s: supervision_service.latest_order_day(s, region="510100"), is_orders)
    _plan(url, "period demands", lambda s: supervision_service._period_orders(s, start, end, None), is_orders)
    _plan(url, "hotspots", lambda s: supervision_service.hotspots(s, since, today), is_orders)
    _plan(url, "numbers_by_call", lambda s: service.numbers_by_call(s, calls), is_orders)
    timed("latest_order_day", lambda s: supervision_service.latest_order_day(s))
    timed("latest_order_day 成都市", lambda s: supervision_service.latest_order_day(s, region="510100"))
    timed("period demands, 7 days (_period_orders)", lambda s: supervision_service._period_orders(s, start, end, None))
    timed("report, 7 days", lambda s: supervision_service.report(s, since, today))
    timed("hotspots, 7 days", lambda s: supervision_service.hotspots(s, since, today))
    timed("numbers_by_call, 50 calls", lambda s: service.numbers_by_call(s, calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--recent", type=int, default=50_000, help="orders taken over the last 30 days")
    parser.add_argument("--old", type=int, default=200_000, help="closed orders taken before them")
    parser.add_argument("--years", type=int, default=3, help="the years the old orders span")
    parser.add_argument("--requests", type=int, default=20, help="measured calls per line")
    parser.add_argument("--analyze", action="store_true", help="also measure with planner statistics")
    parser.add_argument("--keep", type=Path, help="SQLite only: keep the database in this folder and reuse it")
    args = parser.parse_args()
    os.environ.update({"HOTLINE_AUTH": "off", "HOTLINE_QUEUE_WORKERS": "off"})

    def run(kind: str) -> None:
        kept = args.keep if kind == "sqlite" and args.keep else None
        if kept is not None and (kept / "bench.db").exists():
            url = f"sqlite:///{kept / 'bench.db'}"  # as built: the tree reading it may know fewer migrations
            os.environ["HOTLINE_DATABASE_URL"] = url
            print(f"\n{kind}: reusing {kept / 'bench.db'}")
            measure(url)
            return
        folder = kept or Path(os.environ["HOTLINE_DATA_DIR"]) / kind
        folder.mkdir(parents=True, exist_ok=True)
        with support.database(kind, folder) as url:
            os.environ["HOTLINE_DATABASE_URL"] = url
            _build(url, args.recent, args.old, args.years)
            measure(url)

    def measure(url: str) -> None:
        with support.engine(url).connect() as conn:
            total = conn.scalar(select(func.count()).select_from(Order))
            analysed = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            if url.startswith("sqlite") and conn.scalar(text(analysed)):
                conn.execute(text("DELETE FROM sqlite_stat1"))
                conn.commit()
        support.engine(url).dispose()
        db.get_engine(url).dispose()
        print(f"  {total} orders")
        _phase(url, "no statistics", args.requests)
        if args.analyze:
            listing._analyze(url)
            _phase(url, "with statistics", args.requests)

    note = f"--recent {args.recent} --old {args.old} --years {args.years}, {args.requests} calls per line"
    support.each_database(args.db, run, note=note)


if __name__ == "__main__":
    main()
