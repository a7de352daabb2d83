"""What checking who calls costs: the same requests through a real server with sign-in off and on.

Usage: .venv/bin/python bench/accounts_guard.py [--db sqlite|postgresql|both] [-n 2000]

For each database a fresh one at head, with the demo data and two accounts (an agent with a password, a `proxy`
system with an API token), and for each mode a server (uvicorn, one worker, `tests.platform_process.Platform`):

- `GET /api/workorders/limits` (a small read every staff role may make), n requests one after the other on a
  kept-alive connection: sign-in off (no check), then on with a Bearer token (the guard's policy lookup plus one
  token query per request, and a write of its last use at most every 5 minutes);
- `GET /telephony/revision` as the SIP proxy asks it: off, then on from the trusted network without a token (the
  policy lookup and an address check, no database), then on with the proxy's token;
- `POST /api/auth/login`: signing in (scrypt, N=2^14) — what each shift's start costs, not each request.

Each row gives requests/s, p50/p95 latency and the server's CPU per request (PostgreSQL: also its backends').
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from tests.platform_process import Platform

from bench_support import database, percentile
from hotline import db
from proc_cpu import cpu_seconds

PASSWORD = "Bench2026pass"
Row = tuple[str, dict[str, float]]


def backends(url: str) -> list[int]:
    """PostgreSQL backends other than this process's own (the server's, once it has connected)."""
    if not url.startswith("postgresql"):
        return []
    with db.get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND pid <> pg_backend_pid()")).all()  # fmt: skip
    return [int(r[0]) for r in rows]


def prepare(url: str) -> str:
    """Demo data, an agent with a password and the proxy's token; returns the token."""
    from hotline import demo
    from hotline.accounts import service

    os.environ["HOTLINE_DATABASE_URL"] = url
    for _ in demo.load():
        pass
    with db.session_scope(url) as session:
        service.create_account(session, "bench-agent", "压测话务员", ["agent"], password=PASSWORD)
        service.create_account(session, "bench-proxy", "压测代理", ["proxy"])
        return service.issue_token(session, "bench-proxy", label="bench").token


def measure(label: str, platform: Platform, url: str, n: int, send: Callable[[httpx.Client], httpx.Response],
            headers: dict[str, str] | None = None) -> Row:  # fmt: skip
    assert platform.proc is not None
    with httpx.Client(base_url=platform.url, headers=headers or {}, timeout=30) as client:
        for _ in range(min(50, n)):  # warm-up: imports, statement caches, connections
            got = send(client)
            if got.status_code != 200:
                raise RuntimeError(f"{label}: HTTP {got.status_code} {got.text[:200]}")
        server = [platform.proc.pid]
        pg = backends(url)
        cpu0, pg0 = cpu_seconds(server), cpu_seconds(pg)
        latencies: list[float] = []
        started = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            send(client)
            latencies.append(time.perf_counter() - t)
        wall = time.perf_counter() - started
    row = {
        "n": n,
        "per_s": n / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "server_cpu_us": (cpu_seconds(server) - cpu0) / n * 1e6,
    }
    if pg:
        row["pg_cpu_us"] = (cpu_seconds(pg) - pg0) / n * 1e6
    return label, row


def run(kind: str, n: int, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    with database(kind, workdir) as url:
        token = prepare(url)
        env = {"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(workdir / "data")}

        def limits(c: httpx.Client) -> httpx.Response:
            return c.get("/api/workorders/limits")

        def revision(c: httpx.Client) -> httpx.Response:
            return c.get("/telephony/revision")

        def sign_in(c: httpx.Client) -> httpx.Response:
            return c.post("/api/auth/login", json={"login": "bench-agent", "password": PASSWORD})

        bearer = {"authorization": f"Bearer {token}"}
        for mode in ("off", "on"):
            platform = Platform({**env, "HOTLINE_AUTH": mode}, log=workdir / f"server-{mode}.log")
            platform.start()
            try:
                if mode == "off":
                    rows.append(measure("limits, sign-in off", platform, url, n, limits))
                    rows.append(measure("proxy revision, sign-in off", platform, url, n, revision))
                else:
                    agent = httpx.post(f"{platform.url}/api/auth/login",
                                       json={"login": "bench-agent", "password": PASSWORD}).json()["token"]  # fmt: skip
                    rows.append(measure("limits, agent's Bearer token", platform, url, n, limits,
                                        {"authorization": f"Bearer {agent}"}))  # fmt: skip
                    rows.append(measure("proxy revision, trusted network", platform, url, n, revision))
                    rows.append(measure("proxy revision, proxy's token", platform, url, n, revision, bearer))
                    rows.append(measure("sign in (scrypt)", platform, url, max(20, n // 20), sign_in))
            finally:
                platform.stop()
    return rows


def show(kind: str, rows: list[Row]) -> None:
    print(f"\n{kind}")
    print(f"{'':40} {'n':>6} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}   CPU us/req")
    for label, m in rows:
        cpu = f"server {m['server_cpu_us']:.0f}" + (f" + pg {m['pg_cpu_us']:.0f}" if "pg_cpu_us" in m else "")
        print(f"{label:40} {m['n']:6.0f} {m['per_s']:8.0f} {m['p50_ms']:7.2f} {m['p95_ms']:7.2f}   {cpu}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=2000, help="requests per row")
    args = parser.parse_args()
    os.environ.setdefault("HOTLINE_DATA_DIR", tempfile.mkdtemp(prefix="hotline-bench-"))
    print(f"machine: {os.cpu_count()} cores, load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        workdir = Path(tempfile.mkdtemp(prefix=f"hotline-bench-guard-{kind}-"))
        results: Any = run(kind, args.n, workdir)
        show(kind, results)
        shutil.rmtree(workdir, ignore_errors=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average after {load}; {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
