"""Choose the ranking weights of hotline.knowledge.search on the TUNE half of the development queries.

    .venv/bin/python bench/knowledge_tune.py "[{}, {'idf_power': 1.0}]"           # a list of overrides
    .venv/bin/python bench/knowledge_tune.py "[{}]" --heldout                       # final check only

Each override of `SearchConfig` is scored on the tune half (R@1, R@10, MRR@10). The held-out half is only
scored with --heldout, once the weights are chosen (bench/knowledge_eval.py reports it too).
"""

from __future__ import annotations

import ast
import dataclasses
import sys
import time

from hotline.knowledge import search
from knowledge_common import load, metrics


def main() -> None:
    grid = ast.literal_eval(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else [{}]
    data = load()
    which = data.heldout if "--heldout" in sys.argv else data.tune
    if "--no-hmm" in sys.argv:
        search._ANALYZER = search.Analyzer(hmm=False)
    started = time.perf_counter()
    tokens = [search.analyse_doc("", [], r["reply"], "0") for r in data.corpus]
    print(f"analysed {len(tokens)} replies in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    metas = [
        search.DocMeta(i, r["reply_id"], "", r["reply"], (), "published", "", "", (), (), None, None)
        for i, r in enumerate(data.corpus)
    ]
    gold = [data.queries[i]["reply_id"] for i in which]
    for override in grid:
        config = dataclasses.replace(search.DEFAULT_CONFIG, **override)
        index = search.SearchIndex(metas, tokens, config)
        ranked = []
        for i in which:
            q = data.queries[i]
            hits, _, _ = index.search([q["subject"], q["detail"]], top=10)
            ranked.append([metas[h.position].external_id or "" for h in hits])
        print(override, "heldout" if "--heldout" in sys.argv else "tune", metrics(ranked, gold), flush=True)


if __name__ == "__main__":
    main()
