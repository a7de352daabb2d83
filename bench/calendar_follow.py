"""Benchmark: a change to the working-day calendar over N open orders (`workorders.service.change_calendar`),
SQLite and PostgreSQL.

A fresh database gets the demo's units and N open orders (default 20,000), taken in over the two weeks before
2099-12-31 (a year the package does not know: Monday to Friday), half 咨询 (3 working days) and half 投诉 (15),
dispatched to one unit. Then, each in its own transaction as an administrator would make them:

1. a holiday set on a day most deadlines straddle (every order whose deadline lies after it moves: a history
   entry each);
2. the same day set again (nothing moves: the cost of finding that out);
3. a year's arrangement imported (2100-01-01, a week in late January off, one Saturday worked).

Printed: the orders moved and the wall time of each change, with this process's CPU; then how many had their due
date, their 签收 limit and their 退单 limit moved.

    .venv/bin/python bench/calendar_follow.py --db both -n 20000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import bench_support as support  # noqa: E402
from hotline.calendar import service as calendar  # noqa: E402
from hotline.db import session_factory  # noqa: E402
from hotline.tables import read_table  # noqa: E402
from hotline.timeutil import CHINA_TZ  # noqa: E402
from hotline.workorders import service as orders  # noqa: E402

UNIT = "510100-zjj"
START = datetime(2099, 12, 17, 9, 0, tzinfo=CHINA_TZ)
ARRANGEMENT = "日期,类型,说明\n2100-01-01,放假,元旦\n2100-01-25至2100-01-31,放假,春节\n2100-02-06,上班,春节调休\n"


def _load(url: str, n: int, batch: int = 1000) -> None:
    factory = session_factory(url)
    with factory.begin() as session:
        orders.load_units(session)
        orders.add_unit(session, UNIT, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
    span = timedelta(days=14)
    for first in range(0, n, batch):
        with factory.begin() as session:
            for seq in range(first, min(n, first + batch)):
                at = START + span * seq / n
                order = orders.create_order(
                    session, type="咨询" if seq % 2 else "投诉", content=f"小区噪音扰民（{seq}）",
                    phone=f"138{seq:08d}", region="510100", at=at, actor="话务员",
                )  # fmt: skip
                session.flush()
                orders.act(session, order, "dispatch", role="dispatcher", actor="派单员", target_unit=UNIT, at=at)


def _change(url: str, label: str, change: object) -> None:
    factory = session_factory(url)
    cpu, wall = time.process_time(), time.perf_counter()
    with factory.begin() as session:
        _, moved = orders.change_calendar(session, partial(change, session), actor="管理员")  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    counts = orders.redated_counts(moved)
    print(f"  {label:<44} {len(moved):6d} orders moved in {wall * 1000:8.0f} ms (CPU here {cpu * 1000:.0f} ms); "
          f"due {counts['due']}, 签收 {counts['accept_due']}, 退单 {counts['return_due']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=20_000, help="open orders")
    args = parser.parse_args()
    notice = Path(tempfile.mkdtemp(prefix="hotline-bench-calendar-")) / "arrangement.csv"
    notice.write_text(ARRANGEMENT, encoding="utf-8")

    def run(kind: str) -> None:
        folder = Path(tempfile.mkdtemp(prefix=f"hotline-bench-calendar-{kind}-"))
        with support.database(kind, folder) as url:
            started = time.perf_counter()
            _load(url, args.n)
            support.analyze(url)
            print(f"\n{kind}: {args.n} open orders taken from {START:%Y-%m-%d} over 14 days, "
                  f"created in {time.perf_counter() - started:.0f} s")  # fmt: skip
            holiday = partial(calendar.set_override, day=date(2099, 12, 30), kind="holiday", note="本地停工")
            _change(url, "a holiday on 2099-12-30", holiday)
            _change(url, "the same holiday set again", holiday)
            table = read_table(notice, needed=calendar.IMPORT_COLUMNS)
            _change(url, "the 2100 arrangement imported (9 days)", partial(calendar.import_days, table=table))

    support.each_database(args.db, run)


if __name__ == "__main__":
    main()
