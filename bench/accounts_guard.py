"""What checking who calls costs: the same requests through a real server with sign-in off and on.

Usage: .venv/bin/python bench/accounts_guard.py [--db sqlite|postgresql|both] [-n 3000] [--rounds 10]

For each database a fresh one at head, with the demo data and two accounts (an agent with a password, a `proxy`
system with an API token), and two servers (uvicorn, one worker each, `tests.platform_process.Platform`), one
with sign-in off and one with it on. The rows take turns in --rounds rounds, so the machine's drift falls on
each alike:

- `GET /api/workorders/limits` (a small read every staff role may make), n requests one after the other on a
  kept-alive connection: sign-in off (no check), and on with the agent's Bearer token (the guard's policy lookup;
  the token is looked up in the database once per REMEMBER_FOR seconds per process);
- `GET /telephony/revision` as the SIP proxy asks it: off; on from the trusted network without a token (the
  policy lookup and an address check, no database); on with the proxy's token;
- `POST /api/auth/login`: signing in (scrypt, N=2^14), what each shift's start costs, not each request.

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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from tests.platform_process import Platform

from bench_support import database, each_database, percentile
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


class Series:
    """One row: requests of one kind to one server, taken in several rounds interleaved with the other rows, so
    that the machine's drift (this 2-core machine's speed varies by tens of percent from minute to minute) falls
    on every row alike."""

    def __init__(self, label: str, platform: Platform, url: str, send: Callable[[httpx.Client], httpx.Response],
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.label, self.platform, self.send = label, platform, send
        self.client = httpx.Client(base_url=platform.url, headers=headers or {}, timeout=30)
        self.latencies: list[float] = []
        self.cpu = self.pg_cpu = 0.0
        for _ in range(50):  # warm-up: imports, statement caches, connections
            got = send(self.client)
            if got.status_code != 200:
                raise RuntimeError(f"{label}: HTTP {got.status_code} {got.text[:200]}")
        self.pg = backends(url)  # both servers' connections, once this one has made its own

    def round(self, n: int) -> None:
        assert self.platform.proc is not None
        server = [self.platform.proc.pid]
        cpu0, pg0 = cpu_seconds(server), cpu_seconds(self.pg)
        for _ in range(n):
            t = time.perf_counter()
            self.send(self.client)
            self.latencies.append(time.perf_counter() - t)
        self.cpu += cpu_seconds(server) - cpu0
        self.pg_cpu += cpu_seconds(self.pg) - pg0

    def row(self) -> Row:
        self.client.close()
        n = len(self.latencies)
        row = {
            "n": n,
            "per_s": n / sum(self.latencies),
            "p50_ms": statistics.median(self.latencies) * 1000,
            "p95_ms": percentile(self.latencies, 0.95) * 1000,
            "server_cpu_us": self.cpu / n * 1e6,
        }
        if self.pg:
            row["pg_cpu_us"] = self.pg_cpu / n * 1e6
        return self.label, row


def run(kind: str, n: int, rounds: int, workdir: Path) -> list[Row]:
    with database(kind, workdir) as url:
        token = prepare(url)
        env = {"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(workdir / "data")}

        def limits(c: httpx.Client) -> httpx.Response:
            return c.get("/api/workorders/limits")

        def revision(c: httpx.Client) -> httpx.Response:
            return c.get("/telephony/revision")

        def sign_in(c: httpx.Client) -> httpx.Response:
            return c.post("/api/auth/login", json={"login": "bench-agent", "password": PASSWORD})

        off = Platform({**env, "HOTLINE_AUTH": "off"}, log=workdir / "server-off.log")
        on = Platform({**env, "HOTLINE_AUTH": "on"}, log=workdir / "server-on.log")
        off.start()
        on.start()
        try:
            agent = httpx.post(f"{on.url}/api/auth/login", json={"login": "bench-agent", "password": PASSWORD})
            series = [
                Series("limits, sign-in off", off, url, limits),
                Series("limits, agent's Bearer token", on, url, limits, {"authorization": f"Bearer {agent.json()['token']}"}),
                Series("proxy revision, sign-in off", off, url, revision),
                Series("proxy revision, trusted network", on, url, revision),
                Series("proxy revision, proxy's token", on, url, revision, {"authorization": f"Bearer {token}"}),
            ]  # fmt: skip
            logins = Series("sign in (scrypt)", on, url, sign_in)
            for _ in range(rounds):
                for one in series:
                    one.round(max(1, n // rounds))
                logins.round(max(1, n // rounds // 20))
            return [one.row() for one in [*series, logins]]
        finally:
            off.stop()
            on.stop()


def show(kind: str, rows: list[Row]) -> None:
    print(f"\n{kind}")
    print(f"{'':40} {'n':>6} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}   CPU us/req")
    for label, m in rows:
        cpu = f"server {m['server_cpu_us']:.0f}" + (f" + pg {m['pg_cpu_us']:.0f}" if "pg_cpu_us" in m else "")
        print(f"{label:40} {m['n']:6.0f} {m['per_s']:8.0f} {m['p50_ms']:7.2f} {m['p95_ms']:7.2f}   {cpu}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=3000, help="requests per row")
    parser.add_argument("--rounds", type=int, default=10, help="rounds the rows take turns in")
    args = parser.parse_args()

    def one(kind: str) -> None:
        workdir = Path(tempfile.mkdtemp(prefix=f"hotline-bench-guard-{kind}-"))
        show(kind, run(kind, args.n, args.rounds, workdir))
        shutil.rmtree(workdir, ignore_errors=True)

    each_database(args.db, one)


if __name__ == "__main__":
    main()
