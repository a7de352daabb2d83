"""How long a seat plan takes: every line of the catalogue (and 12345), 24 hours, working and rest days,
planned day by day over one or two plan years for one region and for all 22 regions.

    .venv/bin/python bench/staffing_plan.py [--years 2] [--available 40]

With --available, each region's 12345 centre has that many agents on its roster, so a short queue is also
foreseen (Erlang A) at the agents available.

The forecast is synthetic (the cost depends on the number of lines, hours and days, not on the volumes):
each line gets calls in every hour, busier in office hours, with a 4-minute handling time. A temporary
SQLite database holds the plan as shipped (no milestones recorded).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from datetime import date

from hotline import db
from hotline.plan.domain import Mode
from hotline.plan.regions import REGIONS
from hotline.staffing import service
from hotline.staffing.domain import DayKind, Demand, Forecast, Target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--available", type=int, default=None, help="agents on each 12345 centre's roster")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["HOTLINE_DATA_DIR"] = tmp
    os.environ["HOTLINE_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    db.upgrade()
    with db.session_scope() as session:
        from hotline.plan.service import snapshot

        state = snapshot(session).state
        lines = [ln.number for ln in state.lines() if ln.mode is not Mode.EMERGENCY]
        year = state.year
    demands = [
        Demand(line, hour, (400 if line == "12345" else 30) * (1.0 if 8 <= hour < 18 else 0.2), 240, kind)
        for line in lines
        for hour in range(24)
        for kind in (DayKind.WORKDAY, DayKind.RESTDAY)
    ]
    forecast = Forecast(demands)
    first, last = date(year, 1, 1), date(year + args.years - 1, 12, 31)
    print(
        f"{len(lines)} numbers × 24 hours × 2 kinds of day = {len(demands)} forecast rows; "
        f"{(last - first).days + 1} days; available {args.available}; machine: {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    for regions in (["510100"], [r.code for r in REGIONS]):
        started = time.perf_counter()
        cpu = time.process_time()
        periods = 0
        with db.session_scope() as session:
            for code in regions:
                plan = service.plan_seats(
                    session, forecast, region=code, first=first, last=last, target=Target(), available=args.available
                )
                periods += len(plan.periods)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{len(regions):2d} region(s): {wall:.2f} s wall, {used:.2f} s CPU ({used / len(regions):.3f} s CPU per "
            f"region), {periods} periods in all"
        )
    tracemalloc.start()  # a separate run: tracing slows Python several times over
    with db.session_scope() as session:
        service.plan_seats(
            session, forecast, region="510100", first=first, last=last, target=Target(), available=args.available
        )
    print(f"peak traced memory of one region's plan: {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
