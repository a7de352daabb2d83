"""Search latency of the knowledge base on an existing data folder (e.g. the one knowledge_eval.py made).

    .venv/bin/python bench/knowledge_latency.py DATA_DIR [--queries 300]

DATA_DIR holds `kb.db` (SQLite) and possibly `knowledge/index-*.pkl`. The script times getting the index
(rebuilt if the ranking configuration or the articles changed, reusing the cached word analysis of
unchanged articles), loading it from disk in a fresh state, and searches through the service (signature
check in the database, ranking, rerank and highlighting) with development messages as queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from knowledge_common import load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--edit", action="store_true", help="also time the rebuild after a text edit")
    args = parser.parse_args()
    os.environ["HOTLINE_DATA_DIR"] = str(args.data_dir)
    os.environ["HOTLINE_DATABASE_URL"] = f"sqlite:///{args.data_dir / 'kb.db'}"
    from hotline import db
    from hotline.knowledge import service

    data = load()
    t0 = time.perf_counter()
    with db.session_scope() as s:
        index = service.get_index(s)
    print(
        f"index ready at {len(index)} articles: {time.perf_counter() - t0:.1f} s "
        "(rebuilt from cached analysis if the configuration changed)"
    )
    service._CACHE.clear()
    t0 = time.perf_counter()
    with db.session_scope() as s:
        service.get_index(s)
    print(f"index loaded from disk: {time.perf_counter() - t0:.1f} s")
    queries = data.queries[: args.queries]
    for label, make in (
        ("subject+detail", lambda q: [q["subject"], q["detail"]]),
        ("subject only", lambda q: [q["subject"]]),
    ):
        lat, cpu = [], []
        with db.session_scope() as s:
            for q in queries:
                t0, c0 = time.perf_counter(), time.process_time()
                service.search_articles(s, make(q), top=10)
                lat.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        # CPU time of the process too: on a shared machine it is less disturbed by other jobs than wall time.
        print(
            f"latency at {len(index)} articles ({label}, {len(lat)} queries, with highlighting): "
            f"p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, "
            f"mean {statistics.mean(lat):.1f} ms (CPU time p50 {np.percentile(cpu, 50):.1f} ms, "
            f"p95 {np.percentile(cpu, 95):.1f} ms); load average {os.getloadavg()[0]:.1f}"
        )
    # A withdrawal, then the first search after it (the index is updated in place, not rebuilt).
    gold = data.queries[0]["reply_id"]
    with db.session_scope() as s:
        article = service.get_article(s, gold)
        path = {
            "withdrawn": ["draft", "review", "published"],
            "expired": ["draft", "review", "published"],
            "draft": ["review", "published"],
            "review": ["published"],
            "published": [],
        }[article.status]
        for status in path:  # bring it back to published first (a repeated run withdrew it)
            service.set_status(s, gold, status, actor="bench")
    with db.session_scope() as s:
        before = [h["article_id"] for h in service.search_articles(s, data.queries[0]["subject"])]
        target = "withdrawn"
        service.set_status(s, gold, target, actor="bench")
    t0 = time.perf_counter()
    with db.session_scope() as s:
        after = [h["article_id"] for h in service.search_articles(s, data.queries[0]["subject"])]
    print(
        f"{gold} {target}: first search after it {(time.perf_counter() - t0) * 1000:.0f} ms; "
        f"found before: {gold in before}, found after: {gold in after}"
    )
    if args.edit:
        with db.session_scope() as s:
            service.update_article(s, gold, {"title": f"编辑 {time.time():.0f}"}, actor="bench")
        t0 = time.perf_counter()
        with db.session_scope() as s:
            service.search_articles(s, data.queries[0]["subject"])
        print(f"one article's text edited: first search after it (rebuild) {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
