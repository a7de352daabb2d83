"""CPU time of other processes on this machine, read from /proc (the benchmarks count the proxy's, the
platform's and PostgreSQL's backends' share, which `time.process_time` of the benchmark cannot see)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by these processes; a process that has ended counts 0."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
