"""Benchmark: 热点诉求 (`supervision.service.hotspots`) over a week of N orders and the week before (SQLite and
PostgreSQL).

A fresh database gets the demo's units and N orders (default 10,000) taken in over the 7 China days measured and
--before orders (default N) over the 7 days before, spread evenly, three in four in 成都市 and one in four in 绵阳市.
Each order has a message of the shared labelled set (2,147 of them, 418 characters on average) made unique by its
sequence number (so no two orders share a content: the worst case for the cut, which merged duplicates would
spare), a leaf category of the message's first-level label, and one of 300 places (one order in ten none). The
orders have no stored words yet (`wo_orders.content_words`), as every order of a platform just upgraded.

Then, in process, one after another:

1. `service.hotspots` for the whole province: the first call ever (every order's content cut and its words
   stored); the first call after a restart (the engine's connections closed: nothing of the orders is left in
   this process); --repeat calls more; the median and the CPU of this process and, on PostgreSQL, of its
   backends;
2. the same for 成都市, and `GET /hotspots` and `GET /api/supervision/hotspots` through
   `fastapi.testclient.TestClient(create_app())` (sign-in off);
3. the parts of a call: reading both weeks with their stored words (one query), splitting the words, counting
   (`hotspots.hotspots`); and, for comparison, reading both weeks' contents and cutting them
   (`dispatch.text.tokens`), what the first call does for every order without words.

    .venv/bin/python bench/supervision_hotspots.py --db both
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")  # the test client's own

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

import bench_support as support  # noqa: E402
from hotline.app import create_app  # noqa: E402
from hotline.db import session_factory  # noqa: E402
from hotline.dispatch import corpus as corpora  # noqa: E402
from hotline.dispatch.text import tokens  # noqa: E402
from hotline.supervision import hotspots, service  # noqa: E402
from hotline.timeutil import CHINA_TZ  # noqa: E402
from hotline.workorders import service as orders  # noqa: E402
from hotline.workorders.store import Order  # noqa: E402

UNTIL = date(2021, 6, 7)
SINCE = UNTIL - timedelta(days=6)
DAYS = 7


def _messages() -> list[tuple[str, str]]:
    with (corpora.default_data_dir() / corpora.LABELLED).open(encoding="utf-8") as f:
        return [(row["label"], row["text"].strip()[:3900]) for row in csv.DictReader(f) if row["text"].strip()]


def _load(url: str, n: int, before: int, batch: int = 500) -> None:
    factory = session_factory(url)
    messages = _messages()
    with factory.begin() as session:
        orders.load_units(session)
        leaves: dict[str, list[str]] = {}
        for a, b, c in orders.category_tree(session):
            leaves.setdefault(a, []).append(f"{a}/{b}/{c}")
    week = timedelta(days=DAYS)
    start = datetime.combine(SINCE, clock.min, CHINA_TZ)
    # The week before first, then the week measured; a message is used in turn from a different offset in each.
    plan = [(start - week + week * i / before, i) for i in range(before)]
    plan += [(start + week * i / n, before + i * 7) for i in range(n)]
    for first in range(0, len(plan), batch):
        with factory.begin() as session:
            for seq, (at, k) in enumerate(plan[first : first + batch], start=first):
                label, text = messages[k % len(messages)]
                choices = leaves[label]
                orders.create_order(
                    session, type="投诉", content=f"{text}（{seq}）", phone=f"138{seq:08d}",
                    region="510700" if seq % 4 == 3 else "510100", category=choices[seq % len(choices)],
                    place="" if seq % 10 == 9 else f"某小区{seq % 300}号楼", at=at, actor="话务员",
                )  # fmt: skip


def _timed(call: Callable[[], object]) -> tuple[float, float, float]:
    """Wall and CPU seconds of CALL (this process; PostgreSQL's backends)."""
    pg, cpu, wall = support.backend_cpu(), time.process_time(), time.perf_counter()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu, support.backend_cpu() - pg


def _line(label: str, wall: float, cpu: float, pg: float) -> None:
    pg_part = f", PostgreSQL {pg * 1000:.0f} ms" if support.BACKENDS else ""
    print(f"  {label:<52} {wall * 1000:8.1f} ms (CPU: this process {cpu * 1000:.0f} ms{pg_part})", flush=True)


def _repeated(label: str, call: Callable[[], object], repeat: int) -> None:
    runs = [_timed(call) for _ in range(repeat)]
    walls = [r[0] for r in runs]
    print(f"  {label:<52} median {statistics.median(walls) * 1000:8.1f} ms, p95 "
          f"{support.percentile(walls, 0.95) * 1000:8.1f} ms over {repeat} (CPU per call: this process "
          f"{sum(r[1] for r in runs) / repeat * 1000:.0f} ms"
          + (f", PostgreSQL {sum(r[2] for r in runs) / repeat * 1000:.0f} ms" if support.BACKENDS else "")
          + ")", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=10_000, help="orders taken in over the 7 days measured")
    parser.add_argument("--before", type=int, default=None, help="orders over the 7 days before (default N)")
    parser.add_argument("--repeat", type=int, default=10, help="calls measured once the contents are cut")
    args = parser.parse_args()
    before = args.n if args.before is None else args.before
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-hotspots-"))
    os.environ.update({"HOTLINE_AUTH": "off", "HOTLINE_QUEUE_WORKERS": "off", "HOTLINE_DATA_DIR": str(workdir)})
    tokens("热身")  # the dictionary loads once per process, not in the first call measured

    def run(kind: str) -> None:
        folder = workdir / kind
        folder.mkdir()
        with support.database(kind, folder) as url:
            os.environ["HOTLINE_DATABASE_URL"] = url
            started = time.perf_counter()
            _load(url, args.n, before)
            support.analyze(url)
            print(f"\n{kind}: {args.n} orders over {SINCE} to {UNTIL} and {before} over the 7 days before, "
                  f"created in {time.perf_counter() - started:.1f} s")  # fmt: skip
            factory = session_factory(url)

            # 1. and 2. The whole call: the first ever, the first after a restart, again; a region; page and API.
            def call(region: str | None = None) -> Callable[[], object]:
                def one() -> object:
                    with factory() as session:
                        return service.hotspots(session, SINCE, UNTIL, region=region)

                return one

            _line("service.hotspots, province, first call ever", *_timed(call()))
            support.engine(url).dispose()
            support.BACKENDS.clear()  # the closed connections' backends are gone: count only the new ones
            _line("service.hotspots, province, first after a restart", *_timed(call()))
            _repeated("service.hotspots, province, again", call(), args.repeat)
            _repeated("service.hotspots, 成都市", call("成都市"), args.repeat)
            client = TestClient(create_app())
            period = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
            page = client.get("/hotspots", params=period)
            assert page.status_code == 200 and 'id="keywords"' in page.text, page.text[:300]
            _repeated("GET /hotspots", lambda: client.get("/hotspots", params=period), args.repeat)
            _repeated("GET /api/supervision/hotspots", lambda: client.get("/api/supervision/hotspots",
                      params=period), args.repeat)  # fmt: skip
            client.close()

            # 3. The parts of one call.
            first, last = service.previous_period(SINCE, UNTIL)
            start, _ = service.period_bounds(first, last)
            _, end = service.period_bounds(SINCE, UNTIL)

            def query(text: Any) -> Any:
                return (
                    select(Order.number, Order.category, Order.place, text, Order.created_at)
                    .where(*service._received(start, end, None))
                    .order_by(Order.created_at.desc(), Order.number.desc())
                )

            def read(text: Any, into: list[tuple[str, str, str, str, datetime]]) -> Callable[[], None]:
                def one() -> None:
                    with factory() as session:
                        into.extend(tuple(r) for r in session.execute(query(text)))

                return one

            rows: list[tuple[str, str, str, str, datetime]] = []
            _line(f"read both weeks' stored words ({args.n + before} rows)", *_timed(read(Order.content_words, rows)))
            words: list[list[str]] = []
            _line("split them", *_timed(lambda: words.extend(r[3].split() for r in rows)))
            boundary = datetime.combine(SINCE, clock.min, CHINA_TZ)
            demands = [hotspots.Demand(r[0], r[1], r[2], w) for r, w in zip(rows, words, strict=True)]
            now = [d for d, r in zip(demands, rows, strict=True) if r[4] >= boundary]
            earlier = [d for d, r in zip(demands, rows, strict=True) if r[4] < boundary]
            found: list[hotspots.Hotspots] = []
            _line("count (hotspots.hotspots)", *_timed(lambda: found.append(hotspots.hotspots(now, earlier))))
            contents: list[tuple[str, str, str, str, datetime]] = []
            _line("for comparison: read both weeks' contents", *_timed(read(Order.content, contents)))
            _line("and cut them (dispatch.text.tokens)", *_timed(lambda: [tokens(r[3]) for r in contents]))
            result = found[0]
            print(f"  {result.orders} orders against {result.orders_before}; top keywords: "
                  + "、".join(f"{k.key} {k.count}" for k in result.keywords[:8])
                  + f"; rising: {len(result.rising)}; top place {result.places[0].key} {result.places[0].count}")  # fmt: skip

    support.each_database(args.db, run, note=f"-n {args.n}, --before {before}, --repeat {args.repeat}")


if __name__ == "__main__":
    main()
