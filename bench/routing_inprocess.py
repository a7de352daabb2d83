"""In-process routing throughput: decisions per second of the pure function, and of `decide()` with its cache.

Usage: .venv/bin/python bench/routing_inprocess.py [--decisions 300000] [--seed 1]

The cases cycle over every catalogue number (plus unknown and emergency numbers), every region and
instants spread over the plan year (hours of day included, so sub-centre hours are exercised), with a
few recorded and postponed milestones in the plan state.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from hotline.calendar.domain import WorkCalendar
from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import PlanState, Record, RecordKind
from hotline.plan.regions import REGIONS
from hotline.routing.domain import CachedCalendar, HoursTable, route

YEAR = 2021


def make_state() -> PlanState:
    stamp = datetime(YEAR, 1, 1, tzinfo=UTC)
    records = [
        Record("12331", "transition", "510100", RecordKind.DONE, date(YEAR, 5, 20), "", "bench", stamp),
        Record("12333", "transfer", "511300", RecordKind.POSTPONE, date(YEAR, 11, 1), "", "bench", stamp),
        Record("12366", "full-time", "510100", RecordKind.DONE, date(YEAR, 7, 1), "", "bench", stamp),
    ]
    return PlanState(YEAR, load_catalogue(), latest={(r.line, r.milestone, r.region): r for r in records})


def make_cases(n: int, seed: int) -> list[tuple[str, str, datetime]]:
    rng = random.Random(seed)
    numbers = [line.number for line in make_state().lines()] + ["12399", "95588"]
    regions = [r.code for r in REGIONS]
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    distinct = [
        (rng.choice(numbers), rng.choice(regions), start + timedelta(minutes=rng.randrange(366 * 24 * 60)))
        for _ in range(min(n, 20_000))
    ]
    return [distinct[i % len(distinct)] for i in range(n)]


def bench_pure(cases: list[tuple[str, str, datetime]], rounds: int = 5) -> list[float]:
    # As decide() does: the snapshot holds the calendar wrapped in a per-day cache.
    state, calendar, hours = make_state(), CachedCalendar(WorkCalendar()), HoursTable()
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for number, region, at in cases:
            route(number, region, at, state, calendar, hours)
        rates.append(len(cases) / (time.perf_counter() - t0))
    return rates


def bench_service(cases: list[tuple[str, str, datetime]]) -> tuple[float, float]:
    """decide(session, ...) in a new unit of work per call (as the CLI and pages do), and decide_request
    (as the HTTP endpoint does), on a migrated SQLite file with a fresh cached snapshot."""
    folder = tempfile.mkdtemp(prefix="hotline-bench-")
    os.environ["HOTLINE_DATA_DIR"] = folder
    os.environ["HOTLINE_DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    from hotline.db import session_scope, upgrade
    from hotline.routing.service import decide, decide_request

    upgrade()
    t0 = time.perf_counter()
    for number, region, at in cases:
        with session_scope() as session:
            decide(session, number, region, at)
    with_session = len(cases) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for number, region, at in cases:
        decide_request(number, region, at)
    return with_session, len(cases) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=300_000)
    parser.add_argument("--service-decisions", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cases = make_cases(args.decisions, args.seed)
    rates = bench_pure(cases)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.decisions} decisions x {len(rates)} rounds")
    print(
        f"pure route(): median {statistics.median(rates):,.0f} decisions/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f})"
    )
    with_session, request = bench_service(cases[: args.service_decisions])
    print(f"decide() in a new session per call (SQLite, cached snapshot): {with_session:,.0f} decisions/s")
    print(f"decide_request() as the HTTP endpoint calls it: {request:,.0f} decisions/s")


if __name__ == "__main__":
    main()
