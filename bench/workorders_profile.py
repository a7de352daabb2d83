"""Profile the batched work-order lifecycle (the benchmark's `batch` mode) in one process with cProfile.

    .venv/bin/python bench/workorders_profile.py --db postgresql -n 1000 --top 40

Prints the client CPU per lifecycle and the functions where it goes (cumulative and own time).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from workorders_lifecycle import _prepare, _with_pg, run_service


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--mode", choices=["batch", "staged", "step"], default="batch")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    os.environ.setdefault("HOTLINE_DATA_DIR", tempfile.mkdtemp(prefix="hotline-bench-"))

    def go(url: str) -> dict[str, float]:
        _prepare(url)
        run_service(url, 50, args.batch, args.mode, "510300")  # warm-up
        cpu = time.process_time()
        run_service(url, args.n, args.batch, args.mode, "510100")
        plain_ms = (time.process_time() - cpu) * 1000 / args.n
        prof = cProfile.Profile(time.process_time)  # CPU time: waits on the database do not count
        prof.enable()
        run_service(url, args.n, args.batch, args.mode, "510400")
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats(args.sort).print_stats(args.top)
        return {"client_cpu_ms_per_lifecycle_unprofiled": round(plain_ms, 3)}

    if args.db == "postgresql":
        print(_with_pg(go))
    else:
        path = Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "bench.db"
        print(go(f"sqlite:///{path}"))


if __name__ == "__main__":
    main()
