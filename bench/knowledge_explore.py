"""Explore ranking settings on the TUNE half only, and break down why the remaining misses fail.

    .venv/bin/python bench/knowledge_explore.py grid "[{}, {'query_max_terms': 0}, {'k1': 2.0}]" [--splits 3] [--c 1.0]
    .venv/bin/python bench/knowledge_explore.py grid "[{}]" --rm3 0.3        # with RM3-style feedback (not kept)
    .venv/bin/python bench/knowledge_explore.py misses

`grid`: for each override of `SearchConfig`, the first stage proposes `rerank_depth` candidates for every tune
query, and the rerank (pairwise logistic regression, as `knowledge_train.py`) is refit in repeated random
2-fold cross-validation inside the tune half: the printed R@1 / R@10 / MRR@10 are means over the held-back
folds. `misses`: the same CV, then each tune query whose own reply is not ranked first is put in one class
(empty reply, not a candidate, near-duplicate on top, other by rank; top-1 answering the same citizen id).
The held-out half is never read.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re

import numpy as np

from hotline.knowledge import search
from knowledge_common import Dataset, load
from knowledge_train import analysed, collect, fit, ranking_metrics

Groups = list[tuple[np.ndarray, np.ndarray]]


def index_for(data: Dataset, **override: object) -> search.SearchIndex:
    metas = [
        search.DocMeta(i, r["reply_id"], "", r["reply"], (), "published", "", "", (), (), None, None)
        for i, r in enumerate(data.corpus)
    ]
    config = dataclasses.replace(search.DEFAULT_CONFIG, rerank_weights=None, **override)  # type: ignore[arg-type]
    return search.SearchIndex(metas, analysed(data), config)


def cross_validate(groups: Groups, c: float, splits: int) -> dict[str, float]:
    half = len(groups) // 2
    out = []
    for seed in range(splits):
        perm = np.random.default_rng(seed).permutation(len(groups))
        a, b = [groups[i] for i in perm[:half]], [groups[i] for i in perm[half:]]
        out += [ranking_metrics(b, fit(a, c, True)), ranking_metrics(a, fit(b, c, True))]
    return {k: round(float(np.mean([x[k] for x in out])), 4) for k in out[0]}


def with_rm3(alpha: float, docs: int = 5, terms: int = 30) -> None:
    """Patch the first stage with RM3-style feedback: the bigrams of the top DOCS articles, weighted by their
    scores, the TERMS most informative added to the query with weight ALPHA, and the articles scored again."""
    original = search.SearchIndex._query

    def query(self: search.SearchIndex, parts: list[str]) -> search._Query:
        q = original(self, parts)
        if len(self) == 0:
            return q
        s = q.sw + q.sb
        top = np.argsort(-s)[:docs]
        share = s[top] / (float(s[top].sum()) or 1.0)
        acc: dict[int, float] = {}
        for j, w in zip(top, share, strict=True):
            for t in self._doc_gram_ids[self._doc_gram_ptr[j] : self._doc_gram_ptr[j + 1]].tolist():
                acc[t] = acc.get(t, 0.0) + float(w)
        idf = self._bigrams.idf
        best = sorted(acc, key=lambda t: -acc[t] * float(idf[t]) ** 2)[:terms]
        q.sb = q.sb + self._bigrams.score({t: alpha * acc[t] for t in best}, len(self))
        return q

    search.SearchIndex._query = query  # type: ignore[assignment,method-assign]


def grid(data: Dataset, overrides: list[dict[str, object]], splits: int, c: float) -> None:
    for override in overrides:
        index = index_for(data, **override)
        depth = index.config.rerank_depth
        groups = collect(index, data, data.tune, depth)
        found = np.mean([labels.sum() > 0 for _, labels in groups])
        print(
            f"{override}: first stage {ranking_metrics(groups, None)}, own reply among {depth} candidates "
            f"{found:.3f}; rerank {splits}x2-fold CV (C={c}) {cross_validate(groups, c, splits)}",
            flush=True,
        )


def misses(data: Dataset) -> None:
    index = index_for(data)
    rows = [(i, *index.candidates([data.queries[i]["subject"], data.queries[i]["detail"]], 50)) for i in data.tune]
    position = {m.external_id: j for j, m in enumerate(index.meta)}
    labelled = [
        (i, cand, feats, np.array([index.meta[j].external_id == data.queries[i]["reply_id"] for j in cand], dtype=int))
        for i, cand, feats in rows
    ]
    half = len(labelled) // 2
    a, b = labelled[:half], labelled[half:]
    w_a = fit([(f, lab) for _, _, f, lab in a], 1.0, True)
    w_b = fit([(f, lab) for _, _, f, lab in b], 1.0, True)
    user = re.compile(r"[A-Z]{1,2}0{2,}[0-9]+")

    def grams(text: str) -> set[str]:
        t = search._clean(text)
        return {t[k : k + 2] for k in range(len(t) - 1)}

    classes: dict[str, int] = {}
    same_user = 0
    for part, weights in ((a, w_b), (b, w_a)):
        for i, cand, feats, labels in part:
            gold = data.corpus[position[data.queries[i]["reply_id"]]]["reply"]
            scores = feats @ weights if len(cand) else np.zeros(0)
            rank = int((scores > scores[labels == 1][0]).sum()) + 1 if labels.sum() else 0
            if rank == 1:
                kind = "hit"
            elif len(gold) < 80:
                kind = "gold reply under 80 characters"
            elif rank == 0:
                kind = "gold not among the 50 candidates"
            else:
                top = data.corpus[int(cand[np.argmax(scores)])]["reply"]
                ga, ta = grams(gold), grams(top)
                if len(ga & ta) / max(1, len(ga | ta)) > 0.5:
                    kind = "near-duplicate on top (bigram Jaccard > 0.5)"
                else:
                    kind = (
                        "other, gold at rank 2"
                        if rank == 2
                        else ("other, rank 3-10" if rank <= 10 else "other, rank > 10")
                    )
            if rank > 1:
                top = data.corpus[int(cand[np.argmax(scores)])]["reply"]
                ua, ub = user.findall(gold[:60]), user.findall(top[:60])
                same_user += bool(ua and ub and ua[0] == ub[0])
            classes[kind] = classes.get(kind, 0) + 1
    for kind, count in sorted(classes.items(), key=lambda kv: -kv[1]):
        print(f"{kind}: {count} ({count / len(labelled):.1%})")
    print(f"misses whose top-1 answers the same citizen id as the gold: {same_user}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["grid", "misses"])
    parser.add_argument("overrides", nargs="?", default="[{}]")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--rm3", type=float, default=0.0, help="RM3-style feedback weight (0: none)")
    args = parser.parse_args()
    data = load()
    if args.rm3:
        with_rm3(args.rm3)
    if args.what == "grid":
        grid(data, ast.literal_eval(args.overrides), args.splits, args.c)
    else:
        misses(data)


if __name__ == "__main__":
    main()
