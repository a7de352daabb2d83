"""HTTP routing latency under a fixed request rate, from a second process (loopback only).

Usage: .venv/bin/python bench/routing_http.py [--rate 1000] [--seconds 10] [--connections 32]
       [--url http://127.0.0.1:PORT]   (default: start `hotline serve` on a free port with a fresh SQLite
                                        database and the demo data, and stop it at the end)

A small asyncio client keeps `--connections` keep-alive HTTP/1.1 connections and sends GET /api/route
at fixed instants (rate × seconds requests in total, cycling over every number, region and a spread of
instants). Latency is measured from each request's scheduled instant to its complete response, so a
server (or client) falling behind shows up in the figures instead of silently lowering the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

try:
    import uvloop
except ImportError:  # the client then runs on asyncio's own loop
    uvloop = None  # type: ignore[assignment]

NUMBERS = [
    "12345", "12331", "12396", "96119", "12333", "12315", "12393", "12366", "12360", "12305",
    "110", "12399", "96128",
]  # fmt: skip
REGIONS = ["510000", "510100", "510700", "511300", "513400", "成都市", "德阳市"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    folder = tempfile.mkdtemp(prefix="hotline-bench-http-")
    env = dict(os.environ, HOTLINE_DATA_DIR=folder, HOTLINE_DATABASE_URL=f"sqlite:///{folder}/bench.db")
    hotline = [sys.executable, "-m", "hotline"]
    subprocess.run([*hotline, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*hotline, "demo", "load"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(
        [*hotline, "serve", "--no-queue-workers", "--host", "127.0.0.1", "--port", str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=1) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("hotline serve did not start within 60 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paths(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime(2021, 1, 1)
    out = []
    for _ in range(min(n, 5000)):
        at = start + timedelta(minutes=rng.randrange(366 * 24 * 60))
        query = urllib.parse.urlencode(
            {"dialed": rng.choice(NUMBERS), "region": rng.choice(REGIONS), "at": at.isoformat(timespec="minutes")}
        )
        out.append(f"/api/route?{query}".encode())
    return [out[i % len(out)] for i in range(n)]


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def run_load(url: str, rate: int, seconds: float, connections: int, seed: int) -> dict[str, float]:
    parsed = urllib.parse.urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    total = int(rate * seconds)
    todo = paths(total, seed)
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []  # from the scheduled instant
    service: list[float] = []  # from the moment the request was written
    errors = 0
    clock = time.perf_counter  # uvloop's loop.time() has only millisecond resolution

    async def one(path: bytes, scheduled: float) -> None:
        nonlocal errors
        reader, writer = await pool.get()
        try:
            sent = clock()
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
            status = await read_response(reader)
            if status != 200:
                errors += 1
            done = clock()
            latencies.append(done - scheduled)
            service.append(done - sent)
        finally:
            pool.put_nowait((reader, writer))

    # Warm-up (not measured): every distinct decision path once.
    for path in todo[: min(200, total)]:
        await one(path, clock())
    latencies.clear()
    service.clear()
    tasks = []
    t0 = clock() + 0.05
    for i, path in enumerate(todo):
        scheduled = t0 + i / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(path, scheduled)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 30)
    elapsed = clock() - t0
    while not pool.empty():
        _, writer = pool.get_nowait()
        writer.close()
    latencies.sort()
    service.sort()
    return {
        "service_p50_ms": 1000 * statistics.median(service),
        "service_p99_ms": 1000 * service[int(0.99 * (len(service) - 1))],
        "requests": len(latencies),
        "errors": errors,
        "achieved_rate": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="requests per second (fixed schedule)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the measured load (max 120)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--url", default=None, help="an already running server on loopback")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 0 < args.seconds <= 120 or not 0 < args.rate <= 10_000:
        raise SystemExit("--seconds must be in (0, 120] and --rate in (0, 10000]")
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server()
    elif urllib.parse.urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("loopback only")
    cpu_before = cpu_seconds(proc.pid) if proc is not None else 0.0
    try:
        load = run_load(url, args.rate, args.seconds, args.connections, args.seed)
        result = uvloop.run(load) if uvloop is not None else asyncio.run(load)
        cpu_used = cpu_seconds(proc.pid) - cpu_before if proc is not None else None
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"target {args.rate} req/s for {args.seconds:g} s over {args.connections} connections to {url}")
    print(
        f"requests {result['requests']:.0f}, errors {result['errors']:.0f}, achieved {result['achieved_rate']:.0f} req/s, "
        f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, max {result['max_ms']:.2f} ms "
        "(from each request's scheduled instant)"
    )
    print(
        f"from sending: p50 {result['service_p50_ms']:.2f} ms, p99 {result['service_p99_ms']:.2f} ms "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end)"
    )
    if cpu_used is not None:
        per_request = 1e6 * cpu_used / (result["requests"] + min(200, args.rate * args.seconds))
        print(f"server CPU: {per_request:.0f} µs per request (warm-up included)")


if __name__ == "__main__":
    main()
