"""Evaluate the knowledge base's search on the public replies data, against plain jieba + BM25 (bm25s).

    .venv/bin/python bench/knowledge_eval.py                 # quality + latency at 2,816 articles
    .venv/bin/python bench/knowledge_eval.py --scale 100000  # also index build and latency at 100,000

The platform side goes through the real path: `replies_corpus.csv` is imported into a fresh SQLite database
with the service (as `hotline kb import` does), the index is built from the database, and each development
message is searched with its subject and detail as two query parts (as `hotline kb search --queries` does).
Figures are reported on the TUNE half of the queries, on the HELD-OUT half, and on all.

The shipped rerank weights (`SearchConfig.rerank_weights`) are fit on ALL development queries, so by
default every platform row is a training-set figure, NOT a held-out one. For the held-out figure run with
`--half-fit`: the platform then searches with the weights fit on the tune half only
(`knowledge_common.HALF_FIT_WEIGHTS`) and an answer model learned from the tune half's pairs only
(`service.learn_answers`, as `hotline kb learn`), and the held-out row is an honest held-out estimate (BM25 settings
were chosen on the tune half; see bench/knowledge.md). `knowledge_curve.py` gives the cross-fit over both halves.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from knowledge_common import DATA, HALF_FIT_WEIGHTS, Dataset, load, metrics


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def baseline(data: Dataset) -> list[list[str]]:
    """Plain jieba (default mode) + BM25 (bm25s defaults) over the reply text; query = subject + detail."""
    import bm25s
    import jieba

    jieba.setLogLevel(60)

    def tok(text: str) -> list[str]:
        return [w for w in jieba.lcut(text) if w.strip() and re.search(r"\w", w)]

    corpus_tokens = [tok(r["reply"]) for r in data.corpus]
    retriever = bm25s.BM25()
    vocab: dict[str, int] = {}
    retriever.index([[vocab.setdefault(w, len(vocab)) for w in doc] for doc in corpus_tokens], show_progress=False)
    ranked: list[list[str]] = []
    for q in data.queries:
        ids = [vocab[w] for w in tok(q["subject"] + q["detail"]) if w in vocab]
        if not ids:
            ranked.append([])
            continue
        docs, _ = retriever.retrieve([ids], k=10, show_progress=False)
        ranked.append([data.corpus[int(d)]["reply_id"] for d in docs[0]])
    return ranked


def report(name: str, ranked: list[list[str]], data: Dataset, fit_on: str = "") -> None:
    """One row per query set; FIT_ON says which queries the rerank weights saw ("tune", "all" or "" for none)."""
    gold = [q["reply_id"] for q in data.queries]
    for label, idx in (("tune", data.tune), ("held-out", data.heldout), ("all", range(len(gold)))):
        m = metrics([ranked[i] for i in idx], [gold[i] for i in idx])
        seen = fit_on == "all" or (fit_on == "tune" and label != "held-out")
        note = ", weights fit on these: not held-out" if seen else ""
        print(f"| {name} | {label} ({len(idx)}{note}) | {m['R@1']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f} |")


def filler(data: Dataset, n: int, seed: int = 7) -> list[dict[str, object]]:
    """Synthetic articles: 3–6 sentences drawn at random from the replies (realistic vocabulary)."""
    sentences = [s for r in data.corpus for s in re.split(r"(?<=[。！？])", r["reply"]) if len(s) > 8]
    rng = random.Random(seed)
    return [
        {"external_id": f"F{i:06d}", "body": "".join(rng.choice(sentences) for _ in range(rng.randint(3, 6)))}
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=0, help="also measure with this many articles (filler)")
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument(
        "--half-fit", action="store_true", help="search with the weights fit on the tune half only (held-out protocol)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kb-eval-"))
    os.environ["HOTLINE_DATA_DIR"] = str(tmp)
    os.environ["HOTLINE_DATABASE_URL"] = f"sqlite:///{tmp / 'kb.db'}"
    from hotline import db
    from hotline.knowledge import service

    db.upgrade()
    if args.half_fit:  # the service reads search.DEFAULT_CONFIG at each index build
        import dataclasses

        from hotline.knowledge import search

        search.DEFAULT_CONFIG = dataclasses.replace(search.DEFAULT_CONFIG, rerank_weights=HALF_FIT_WEIGHTS)
    data = load()
    print(
        f"data: {DATA} — {len(data.corpus)} replies, {len(data.queries)} queries "
        f"({len(data.tune)} tune / {len(data.heldout)} held-out); machine: {os.cpu_count()} cores, shared"
    )

    t0 = time.perf_counter()
    with db.session_scope() as s:
        summary = service.import_file(s, DATA / "replies_corpus.csv", id_column="reply_id", body_column="reply")
    t_import = time.perf_counter() - t0
    # The answer model, learned as `hotline kb learn` does: from the tune half's pairs only with --half-fit
    # (so the held-out row stays held-out), else from all development pairs (as set-up ships it).
    learn_on = data.tune if args.half_fit else range(len(data.queries))
    t0 = time.perf_counter()
    with db.session_scope() as s:
        pairs = service.pairs_from_rows(
            [data.queries[i] for i in learn_on], text_columns=["subject", "detail"], article_column="reply_id"
        )
        learned = service.learn_answers(pairs, articles=service.article_texts(s))
    print(f"{learned.text()}: {time.perf_counter() - t0:.1f} s")
    service._CACHE.clear()
    t0 = time.perf_counter()
    with db.session_scope() as s:
        service.get_index(s)
    t_index = time.perf_counter() - t0
    print(f"import {summary.created} articles: {t_import:.1f} s; index build (analysis + matrices): {t_index:.1f} s")

    ranked: list[list[str]] = []
    latency: list[float] = []
    with db.session_scope() as s:
        for q in data.queries:
            t0 = time.perf_counter()
            hits = service.search_articles(s, [q["subject"], q["detail"]], top=10)
            latency.append((time.perf_counter() - t0) * 1000)
            ranked.append([str(h["article_id"]) for h in hits])
    t0 = time.perf_counter()
    base = baseline(data)
    t_base = time.perf_counter() - t0
    print(f"baseline (jieba + bm25s) indexed and searched in {t_base:.1f} s\n")
    print(
        f"(platform rerank weights: {'tune half only' if args.half_fit else 'shipped, fit on all development queries'})"
    )
    print("| search | queries | R@1 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    report("platform", ranked, data, "tune" if args.half_fit else "all")
    report("jieba + BM25 (bm25s)", base, data)
    print(
        f"\nlatency at {len(data.corpus)} articles (subject+detail queries, incl. highlight and DB check): "
        f"p50 {percentile(latency, 50):.1f} ms, p95 {percentile(latency, 95):.1f} ms"
    )
    short = []
    with db.session_scope() as s:
        for q in data.queries[: args.latency_queries]:
            t0 = time.perf_counter()
            service.search_articles(s, q["subject"], top=10)
            short.append((time.perf_counter() - t0) * 1000)
    print(
        f"latency at {len(data.corpus)} articles (subject only): p50 {percentile(short, 50):.1f} ms, "
        f"p95 {percentile(short, 95):.1f} ms"
    )

    if args.scale > len(data.corpus):
        from sqlalchemy import insert

        from hotline.knowledge.store import Article
        from hotline.timeutil import now

        extra = filler(data, args.scale - len(data.corpus))
        stamp = now()
        t0 = time.perf_counter()
        with db.session_scope() as s:
            for i in range(0, len(extra), 5000):
                s.execute(
                    insert(Article),
                    [
                        {
                            **row,
                            "title": "",
                            "category": "",
                            "owner_unit": "",
                            "lines": [],
                            "regions": [],
                            "keywords": [],
                            "status": "published",
                            "version": 1,
                            "created_at": stamp,
                            "updated_at": stamp,
                            "updated_by": "bench",
                        }
                        for row in extra[i : i + 5000]
                    ],
                )
        print(f"\ninserted {len(extra)} filler articles in {time.perf_counter() - t0:.1f} s (bulk insert)")
        # A full rebuild from scratch: nothing reused from memory or disk.
        service._CACHE.clear()
        for path in (tmp / "knowledge").glob("*.pkl"):
            path.unlink()
        t0 = time.perf_counter()
        with db.session_scope() as s:
            index = service.get_index(s)
        t_full = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (tmp / "knowledge").glob("*.pkl")) / 1e6
        print(f"index build from scratch at {len(index)} articles: {t_full:.1f} s (cache file {size:.0f} MB)")
        service._CACHE.clear()
        t0 = time.perf_counter()
        with db.session_scope() as s:
            service.get_index(s)
        print(f"index load from the cache file (new process start): {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with db.session_scope() as s:
            service.update_article(s, "R2549", {"title": "物业管理"}, actor="bench")
            service.get_index(s)
        print(f"one article edited, index rebuilt (reusing unchanged analysis): {time.perf_counter() - t0:.1f} s")
        for label, make in (
            ("subject+detail", lambda q: [q["subject"], q["detail"]]),
            ("subject only", lambda q: q["subject"]),
        ):
            lat = []
            with db.session_scope() as s:
                for q in data.queries[: args.latency_queries]:
                    t0 = time.perf_counter()
                    service.search_articles(s, make(q), top=10)
                    lat.append((time.perf_counter() - t0) * 1000)
            print(
                f"latency at {len(index)} articles ({label}, {len(lat)} queries): p50 {percentile(lat, 50):.1f} ms, "
                f"p95 {percentile(lat, 95):.1f} ms, mean {statistics.mean(lat):.1f} ms"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
