"""Benchmark: exporting N work orders to Excel (工单导出), time and peak memory.

N orders are created (a third dispatched to a unit, every tenth with a co-handling order, every seventh with text
starting with "="), then exported once as a supervisor (masked) with no filter. Printed: the wall and CPU time of
the export, the file's size, and two peaks during the export: the process's resident memory (VmHWM, reset before
the export through /proc/self/clear_refs) and, in a second run, what Python allocated (tracemalloc, which slows it).

    .venv/bin/python bench/workorders_export.py --db sqlite -n 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bench_support as support
from hotline.db import session_factory
from hotline.workorders import export, service

UNIT, CO_UNIT = "510100-zjj", "510100-rsj"
T0 = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)


def _load(url: str, n: int, batch: int = 500) -> None:
    factory = session_factory(url)
    with factory.begin() as session:
        service.load_units(session)
        for code, name in ((UNIT, "成都市住房和城乡建设局"), (CO_UNIT, "成都市人力资源和社会保障局")):
            service.add_unit(session, code, name, "department", region_code="510100", parent="510100")
    for start in range(0, n, batch):
        with factory.begin() as session:
            for i in range(start, min(n, start + batch)):
                at = T0 + timedelta(minutes=i)
                content = f'=HYPERLINK("x","{i}")' if i % 7 == 0 else f"小区路灯不亮，已经一周了，请尽快维修。编号{i}"
                order = service.create_order(
                    session, type="求助", content=content, phone=f"138{i:08d}", region="510100",
                    caller_name="张三", place="武侯区某小区", category="城乡建设", at=at,
                )  # fmt: skip
                if i % 3 == 0:
                    co = [CO_UNIT] if i % 10 == 0 else []
                    service.act(session, order, "dispatch", role="dispatcher", target_unit=UNIT, co_units=co,
                                at=at + timedelta(minutes=5), flush=False)  # fmt: skip
            service.flush_orders(session)


def _peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _export(url: str, path: Path) -> export.Exported:
    with session_factory(url).begin() as session:
        return export.export_orders(
            session, path, role="supervisor", filters=service.OrderFilters(), exporter=export.Exporter("bench", "bench")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()

    def run(kind: str) -> None:
        with support.database(kind, Path(tempfile.mkdtemp())) as url:
            started = time.perf_counter()
            _load(url, args.n)
            print(f"\n{kind}: {args.n} orders created in {time.perf_counter() - started:.1f} s")
            path = Path(tempfile.mkdtemp()) / "orders.xlsx"
            rss_before = _peak_rss_mib()
            _peak_rss_reset()
            base = _peak_rss_mib()
            cpu, started = time.process_time(), time.perf_counter()
            done = _export(url, path)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            peak = _peak_rss_mib()
            print(
                f"  export: {done.count} rows in {wall:.2f} s wall, {cpu:.2f} s CPU ({done.count / wall:,.0f} rows/s)"
            )
            print(f"  file: {path.stat().st_size / 1024 / 1024:.1f} MiB")
            print(f"  resident memory: {base:.0f} MiB before, peak {peak:.0f} MiB during (+{peak - base:.0f} MiB; "
                  f"the process had peaked at {rss_before:.0f} MiB while creating the orders)")  # fmt: skip
            tracemalloc.start()
            _export(url, path)
            _, heap = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"  Python allocations: peak {heap / 1024 / 1024:.1f} MiB (tracemalloc, second run)")

    support.each_database(args.db, run)


if __name__ == "__main__":
    main()
