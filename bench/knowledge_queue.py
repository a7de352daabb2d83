"""The knowledge maintenance queue (知识维护, `knowledge.service.maintenance_queue`) at 100,000 articles, as every
supervisor's overview counts it: a backlog of a few dozen articles awaiting review and drafts, a few hundred
expiring in the next 30 days, the rest published. Median of repeated calls, with the status index
(`ix_kb_articles_status_expires`, migration 0019) and after dropping it.

    .venv/bin/python bench/knowledge_queue.py --db both [--articles 100000] [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from bench_support import database


def _status(i: int) -> str:
    return "review" if i % 5000 == 0 else "draft" if i % 3000 == 1 else "published"


def _analyze(kind: str) -> None:
    """PostgreSQL's statistics as autovacuum keeps them. The platform never runs ANALYZE on SQLite, whose planner
    then prefers the index; with ANALYZE's averages (one status in three, no histogram) it scans instead."""
    if kind == "postgresql":
        from hotline.db import session_scope

        with session_scope() as s:
            s.execute(text("ANALYZE kb_articles"))


def run(kind: str, articles: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as work, database(kind, Path(work)) as url:
        os.environ["HOTLINE_DATABASE_URL"] = url
        from hotline.db import session_scope
        from hotline.knowledge import service
        from hotline.knowledge.store import Article
        from hotline.timeutil import china_day, now

        today, stamp = china_day(now()), now()
        with session_scope() as s:
            rows = [
                {
                    "external_id": f"Q{i}", "title": f"知识{i}", "body": "正文" * 200, "category": "",
                    "owner_unit": f"单位{i % 50}", "lines": [], "regions": [], "keywords": [], "effective_from": None,
                    "expires_on": today + timedelta(days=i % 3000) if i % 10 == 0 else None, "status": _status(i),
                    "version": 1, "created_at": stamp, "updated_at": stamp, "updated_by": "bench",
                }
                for i in range(articles)
            ]  # fmt: skip
            s.execute(Article.__table__.insert(), rows)
        _analyze(kind)

        def median_ms() -> tuple[float, service.MaintenanceQueue]:
            times = []
            for _ in range(repeat):
                with session_scope() as s:
                    started = time.perf_counter()
                    queue = service.maintenance_queue(s)
                    times.append(time.perf_counter() - started)
            return statistics.median(times) * 1000, queue

        indexed, queue = median_ms()
        with session_scope() as s:
            s.execute(text("DROP INDEX ix_kb_articles_status_expires"))
        _analyze(kind)
        scanned, _ = median_ms()
        print(
            f"{kind}: {articles} articles (review {len(queue.review)}, drafts {len(queue.drafts)}, expiring "
            f"{len(queue.expiring)}): maintenance_queue median {indexed:.1f} ms with the index, "
            f"{scanned:.1f} ms without; load average {os.getloadavg()[0]:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        run(kind, args.articles, args.repeat)


if __name__ == "__main__":
    main()
