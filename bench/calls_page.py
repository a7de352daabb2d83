"""Benchmark: the 话务记录 page (/calls) on a busy day's calls, in process (SQLite and PostgreSQL).

A fresh database gets the demo data and N calls (default 20,000) routed on one China date, one every few seconds
over the day: seven in ten dialed 12345, the others old numbers of the merge plan (12331, 12315, 12366, 12333,
12358, in turn), from 成都市 and 绵阳市 trunks; each routed by `telephony.service.route_call` as the proxy would,
its decision kept (`record_decisions`, in batches) and its call-centre events reported (`record_event`): offered
and queued, then answered 8 in 10 (ended 3 minutes later), abandoned 1 in 10, and 1 in 10 with no events at all.

Then, through `TestClient(create_app())` with sign-in off, each request --requests times after a few unmeasured:
1. `GET /calls?day=D` as a supervisor (the first page of 50, the count, the day's KPIs, the per-number table);
2. the same filtered by 结果 放弃 (the outcome rule in SQL) and by 拨打号码 12331;
3. `GET /calls/<id>` (one call in full);
and the page's parts called directly: `telephony.service.call_records` and `day_report` (the day's figures and
the per-number table), and `kpi_report` (the /telephony/kpis figures, calls offered in the period) for comparison.

    .venv/bin/python bench/calls_page.py --db both
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")  # the test client's own

from fastapi.testclient import TestClient  # noqa: E402

import bench_support as support  # noqa: E402
from hotline import demo  # noqa: E402
from hotline.app import create_app  # noqa: E402
from hotline.db import session_factory  # noqa: E402
from hotline.supervision.service import period_bounds  # noqa: E402
from hotline.telephony import service as telephony  # noqa: E402
from hotline.telephony.domain import Kpis  # noqa: E402
from hotline.timeutil import parse_day  # noqa: E402

DAY = "2021-09-01"  # a working day of the plan's year, while the old numbers are still being merged
OLD = ("12331", "12315", "12366", "12333", "12358")
TRUNKS = ("cd-telecom", "my-telecom")


def _load(url: str, n: int, batch: int = 1000) -> None:
    for _ in demo.load():
        pass
    factory = session_factory(url)
    start, end = period_bounds(parse_day(DAY), parse_day(DAY))
    step = (end - start) / n
    with factory.begin() as session:
        for pattern, uri in telephony.DEMO_ENDPOINTS.items():
            telephony.set_endpoint(session, pattern, uri)
        telephony.set_trunk(session, "cd-telecom", "成都市")
        telephony.set_trunk(session, "my-telecom", "绵阳市")
    for first in range(0, n, batch):
        with factory.begin() as session:
            routed = []
            for i in range(first, min(n, first + batch)):
                at = start + step * i
                dialed = "12345" if i % 10 < 7 else OLD[(i // 10) % len(OLD)]
                call = telephony.route_call(session, dialed, f"138{i:08d}", TRUNKS[i % 2], f"bench-{i}", None, at)
                routed.append(dataclasses.replace(call, decided_at=at))  # kept as decided at its instant
            telephony.record_decisions(session, routed)
            for i in range(first, min(n, first + batch)):
                if i % 10 == 9:
                    continue  # nothing reported
                at = start + step * i
                call_id = f"bench-{i}"
                telephony.record_event(session, call_id, "offered", at)
                telephony.record_event(session, call_id, "queued", at + timedelta(seconds=1))
                if i % 10 == 8:
                    telephony.record_event(session, call_id, "abandoned", at + timedelta(seconds=40))
                else:
                    telephony.record_event(session, call_id, "answered", at + timedelta(seconds=1 + i % 30), "A007")
                    telephony.record_event(session, call_id, "ended", at + timedelta(seconds=180))


def _figures(k: Kpis) -> str:
    return (
        f"offered {k.offered}, requested {k.requested}, answered {k.answered}, abandoned {k.abandoned}, "
        f"within {k.answered_within}, rates {k.connection_rate!r} {k.within_rate!r}, wait {k.average_wait_seconds!r}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    os.environ.update({"HOTLINE_AUTH": "off", "HOTLINE_QUEUE_WORKERS": "off"})

    def run(kind: str) -> None:
        folder = Path(os.environ["HOTLINE_DATA_DIR"]) / kind
        folder.mkdir(parents=True)
        with support.database(kind, folder) as url:
            os.environ["HOTLINE_DATABASE_URL"] = url
            telephony._config_changed()
            started = time.perf_counter()
            _load(url, args.n)
            support.analyze(url)
            print(f"\n{kind}: {args.n} calls of {DAY} routed and reported in {time.perf_counter() - started:.1f} s")
            client = TestClient(create_app())
            day = {"role": "supervisor", "day": DAY}

            def page(**extra: str) -> object:
                res = client.get("/calls", params={**day, **extra})
                if res.status_code != 200 or 'id="by-line"' not in res.text:
                    raise SystemExit(f"unexpected answer {res.status_code}: {res.text[:300]}")
                return res

            support.measure("GET /calls (first page, KPIs, per number)", lambda _i: page(), args.requests)
            support.measure("GET /calls?outcome=abandoned", lambda _i: page(outcome="abandoned"), args.requests)
            support.measure("GET /calls?dialed=12331", lambda _i: page(dialed="12331"), args.requests)
            support.measure(
                "GET /calls/<id>",
                lambda i: client.get(f"/calls/bench-{abs(i) * 7 % args.n}", params=day),
                args.requests,
            )
            factory = session_factory(url)
            since, until = period_bounds(parse_day(DAY), parse_day(DAY))

            def part(fn: str) -> object:
                with factory() as session:
                    if fn == "call_records":
                        return telephony.call_records(session, since, until, limit=50)
                    if fn == "kpi_report":
                        return telephony.kpi_report(session, since, until)
                    return telephony.day_report(session, since, until)

            for fn in ("call_records", "day_report", "kpi_report"):
                support.measure(f"telephony.service.{fn}", lambda _i, fn=fn: part(fn), args.requests)
            with factory() as session:
                report = telephony.day_report(session, since, until)
                offered = telephony.kpi_report(session, since, until)
            print("  per number: " + ", ".join(f"{line.dialed} {line.calls}" for line in report.lines))
            for name, k in (("day_report", report.kpis), ("kpi_report", offered)):  # the same before and after a change
                print(f"  {name} figures: {_figures(k)}")

    support.each_database(
        args.db, run, f"-n {args.n}, {args.requests} requests per line; {datetime.now(UTC):%H:%M} UTC"
    )


if __name__ == "__main__":
    main()
