"""CPU time per call of Kamailio and of the platform, for each way of routing (robust on a shared machine).

For each proxy setup in turn (static route, as shipped with the cache, -A HOTLINE_NO_CACHE), starts the
platform (uvicorn, one worker, SQLite, production settings), Kamailio from the shipped configuration and a
SIPp answering endpoint, warms up, places N calls as fast as they complete (at most 100 in progress, offered
at most --max-rate calls/s), waits for the reports to be stored, and reads from /proc the CPU time (user +
system) spent by all Kamailio processes (SIP workers and timer processes) and by the platform. Wall-clock
rates are printed too, but on a shared machine the CPU time per call is the figure to compare.
Run: .venv/bin/python bench/telephony_cpu.py [--calls 4000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tests.platform_process import Platform  # noqa: E402
from tests.telephony.harness import Kamailio  # noqa: E402

from proc_cpu import cpu_seconds  # noqa: E402
from telephony_proxy import platform_with_one_endpoint, run_sipp  # noqa: E402


def process_tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [pid, *(int(p) for p in out.stdout.split())]


def process_cpu(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds([pid]) for pid in pids}


def reporting_pid(kamailio_pids: list[int], platform_port: int) -> int | None:
    """The Kamailio process that has sent the most bytes to the platform: the timer process posting the
    batches of cached decisions (the SIP workers only ask on a miss; the revision timer sends tiny GETs)."""
    out = subprocess.run(
        ["ss", "-Htnpi", "state", "established", f"( dport = :{platform_port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    best: tuple[int, int | None] = (0, None)
    for pid_text, sent_text in re.findall(r"pid=(\d+),.*?\n.*?bytes_sent:(\d+)", out, re.S):
        pid, sent = int(pid_text), int(sent_text)
        if pid in kamailio_pids and sent > best[0]:
            best = (sent, pid)
    return best[1]


def udp_receive_buffer_errors() -> int:
    return int(Path("/proc/net/snmp").read_text().split("Udp:")[2].split()[4])


def measure(mode: str, calls: int, max_rate: int) -> str:
    workdir = Path(tempfile.mkdtemp(prefix=f"hotline-bench-cpu-{mode}-"))
    env, endpoint = platform_with_one_endpoint(workdir)
    platform = Platform(env, log=workdir / "platform.log")
    proxy = Kamailio(
        workdir / "kamailio",
        platform.url,
        f"sip:queue-fallback@127.0.0.1:{endpoint.port}",
        children=8,
        static_route=mode == "static",
        no_cache=mode == "uncached",
    )
    try:
        endpoint.start(workdir)
        platform.start()
        proxy.start()
        run_sipp(proxy.port, workdir, "warm", 300, 300, 50, False)
        time.sleep(1)
        assert proxy.proc is not None and platform.proc is not None
        kamailio_pids, platform_pids = process_tree(proxy.proc.pid), [platform.proc.pid]
        before = process_cpu(kamailio_pids)
        k0, p0, e0 = cpu_seconds(kamailio_pids), cpu_seconds(platform_pids), udp_receive_buffer_errors()
        ok, wall = run_sipp(proxy.port, workdir, "calls", calls, max_rate, 100, False)
        time.sleep(1.5)  # reports of cached calls are posted within ~0.2 s
        k1, p1, e1 = cpu_seconds(kamailio_pids), cpu_seconds(platform_pids), udp_receive_buffer_errors()
        after = process_cpu(kamailio_pids)
        reporter = reporting_pid(kamailio_pids, platform.port) if mode == "lookup" else None
    finally:
        proxy.stop()
        platform.stop()
        endpoint.stop()
    split = ""
    if reporter is not None:
        timer = after[reporter] - before[reporter]
        split = (
            f"\n          Kamailio split: report timer process {timer / ok * 1e6:4.0f} us, SIP workers and the rest "
            f"{((k1 - k0) - timer) / ok * 1e6:4.0f} us"
        )
    return (
        f"{mode:<8}: {ok}/{calls} calls, {ok / wall:5.0f} calls/s wall; CPU per call: Kamailio "
        f"{(k1 - k0) / ok * 1e6:4.0f} us, platform {(p1 - p0) / ok * 1e6:4.0f} us, together "
        f"{((k1 - k0) + (p1 - p0)) / ok * 1e6:4.0f} us (UDP receive-buffer drops on the machine meanwhile: {e1 - e0}){split}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--max-rate", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--modes", default="static,lookup,uncached", help="which proxies, comma-separated")
    args = parser.parse_args()
    os.environ.pop("HOTLINE_ALLOW_TIME_OVERRIDE", None)
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    for _ in range(args.rounds):
        for mode in args.modes.split(","):
            print(measure(mode, args.calls, args.max_rate), flush=True)
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
