"""Learn the rerank weights of hotline.knowledge.search (pairwise logistic regression).

Two modes:

    .venv/bin/python bench/knowledge_train.py             # ESTIMATE: 2-fold CV inside the tune half, fit on it
    .venv/bin/python bench/knowledge_train.py --heldout   #   ... and score the tune-fit weights on the held-out half
    .venv/bin/python bench/knowledge_train.py --half      # HALF_FIT_WEIGHTS: C by repeated 2-fold CV inside the tune
                                                          #   half, then the weights fit on it (knowledge_eval --half-fit)
    .venv/bin/python bench/knowledge_train.py --all       # SHIP: C by repeated 2-fold CV over all 1,408 development
                                                          #   queries, then the weights fit on all of them

The estimate mode is the held-out protocol: weights fit on the tune half only (C = 0.1), scored once on the
held-out half; `knowledge_curve.py` adds the cross-fit (both directions) and the learning curve. The weights
in `SearchConfig.rerank_weights` are the ones printed by `--all` (standard practice: estimate with a held-out
protocol, then refit on all data). With the shipped weights, any figure computed on development queries is
a training-set figure, NOT a held-out one.

For each query the first stage proposes `rerank_depth` candidates; each candidate gets the features in
`search.FEATURES`; the label says whether it is the message's own reply (the ids are used for that label only).
"""

from __future__ import annotations

import dataclasses
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from hotline.knowledge import answers, search
from knowledge_common import Dataset, load


def analysed(data: Dataset) -> list[search.DocTokens]:
    hmm = "" if search.analyzer().hmm else "-nohmm"
    cache = Path(tempfile.gettempdir()) / f"kb-train-tokens-v{search.ANALYZER_VERSION}{hmm}.pkl"
    if cache.exists():
        with cache.open("rb") as fh:
            tokens: list[search.DocTokens] = pickle.load(fh)
            return tokens
    started = time.perf_counter()
    tokens = search.analyse_many([("", [], r["reply"], "0") for r in data.corpus])
    print(f"analysed {len(tokens)} replies in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    with cache.open("wb") as fh:
        pickle.dump(tokens, fh)
    return tokens


Groups = list[tuple[np.ndarray, np.ndarray]]
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


Candidates = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def candidates(index: search.SearchIndex, data: Dataset, which: list[int], depth: int) -> Candidates:
    """(candidate rows, features, labels) per query; the label marks the query's own reply among them."""
    out = []
    for i in which:
        q = data.queries[i]
        cand, feats = index.candidates([q["subject"], q["detail"]], depth)
        labels = np.array([index.meta[j].external_id == q["reply_id"] for j in cand], dtype=int)
        out.append((cand, feats, labels))
    return out


def collect(
    index: search.SearchIndex, data: Dataset, which: list[int], depth: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features, labels) per query."""
    return [(feats, labels) for _, feats, labels in candidates(index, data, which, depth)]


def message_words(data: Dataset) -> list[list[str]]:
    """The analyzer's words of each development message, as `service.learn_answers` reads it."""
    a = search.analyzer()
    return [a.words(f"{q['subject']}。{q['detail']}") for q in data.queries]


def learn_on(data: Dataset, which: Sequence[int], words: list[list[str]]) -> answers.AnswerModel:
    """The answer model learned from the pairs of the queries WHICH only (as `hotline kb learn` would)."""
    tokens = analysed(data)
    row_of = {r["reply_id"]: j for j, r in enumerate(data.corpus)}
    replies = [t.words["body"].split() for t in tokens]
    return answers.learn(
        [words[i] for i in which],
        [replies[row_of[data.queries[i]["reply_id"]]] for i in which],
        replies,
        answer_ids=[data.queries[i]["reply_id"] for i in which],
    )


def index_with(data: Dataset, config: search.SearchConfig, model: answers.AnswerModel | None) -> search.SearchIndex:
    metas = [
        search.DocMeta(i, r["reply_id"], "", r["reply"], (), "published", "", "", (), (), None, None)
        for i, r in enumerate(data.corpus)
    ]
    return search.SearchIndex(metas, analysed(data), config, answers=model)


def candidates_oof(data: Dataset, which: list[int], config: search.SearchConfig, folds: int = 5) -> Candidates:
    """Candidates of WHICH, each query's "learned" feature from an answer model learned on the OTHER folds of
    WHICH: the ranker must not learn to trust a model that has seen the answer (out of fold, seed 0)."""
    words = message_words(data)
    found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    parts = np.array_split(np.random.default_rng(0).permutation(np.asarray(which)), folds)
    for k, part in enumerate(parts):
        rest = np.concatenate([p for j, p in enumerate(parts) if j != k]).tolist()
        index = index_with(data, config, learn_on(data, rest, words))
        found.update(zip(part.tolist(), candidates(index, data, part.tolist(), config.rerank_depth), strict=True))
    return [found[i] for i in which]


def ranking_metrics(groups: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray | None) -> dict[str, float]:
    r1 = r10 = mrr = 0.0
    for feats, labels in groups:
        if labels.sum() == 0:
            continue
        scores = -np.arange(len(labels), dtype=float) if weights is None else feats @ weights
        gold = scores[labels == 1][0]
        rank = int((scores > gold).sum()) + 1
        r1 += rank == 1
        r10 += rank <= 10
        mrr += 1 / rank if rank <= 10 else 0
    n = len(groups)
    return {"R@1": round(r1 / n, 4), "R@10": round(r10 / n, 4), "MRR@10": round(mrr / n, 4)}


def fit(groups: list[tuple[np.ndarray, np.ndarray]], c: float, pairwise: bool = False) -> np.ndarray:
    if pairwise:
        # Differences gold − other candidate (and the reverse, labelled 0): a linear ranking model.
        diffs = [f[lab == 1][0] - f[lab == 0] for f, lab in groups if lab.sum() == 1]
        x = np.vstack([np.vstack(diffs), -np.vstack(diffs)])
        y = np.concatenate([np.ones(len(x) // 2), np.zeros(len(x) // 2)])
        model = LogisticRegression(C=c, max_iter=5000, fit_intercept=False).fit(x, y)
    else:
        x = np.vstack([f for f, _ in groups])
        y = np.concatenate([lab for _, lab in groups])
        model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    weights: np.ndarray = model.coef_[0]
    return weights


def choose_c(groups: Groups, splits: int = 3, verbose: bool = True) -> tuple[float, dict[float, dict[str, float]]]:
    """C of the pairwise model by repeated random 2-fold CV inside GROUPS only (best mean MRR@10, then R@1)."""
    half = len(groups) // 2
    table: dict[float, dict[str, float]] = {}
    for c in C_GRID:
        out = []
        for seed in range(splits):
            perm = np.random.default_rng(seed).permutation(len(groups))
            a, b = [groups[i] for i in perm[:half]], [groups[i] for i in perm[half:]]
            out += [ranking_metrics(b, fit(a, c, True)), ranking_metrics(a, fit(b, c, True))]
        table[c] = {k: round(float(np.mean([x[k] for x in out])), 4) for k in out[0]}
        if verbose:
            print(f"pairwise C={c}: {splits}x2-fold CV: {table[c]}", flush=True)
    best = max(C_GRID, key=lambda c: (table[c]["MRR@10"], table[c]["R@1"]))
    return best, table


def print_weights(weights: np.ndarray) -> None:
    """The weights as the literal of `SearchConfig.rerank_weights` (3 decimals)."""
    print("rerank_weights = (" + ", ".join(f"{float(w):.3f}" for w in weights) + ",)")


PAIRWISE = "--pointwise" not in sys.argv


def main() -> None:
    if "--no-hmm" in sys.argv:
        search._ANALYZER = search.Analyzer(hmm=False)
    data = load()
    config = dataclasses.replace(search.DEFAULT_CONFIG, rerank_weights=None)
    print("features:", ", ".join(search.FEATURES))
    if "--all" in sys.argv:
        every = [(f, lab) for _, f, lab in candidates_oof(data, list(range(len(data.queries))), config)]
        print(f"first stage on all {len(every)} development queries:", ranking_metrics(every, None))
        c, _ = choose_c(every)
        weights = fit(every, c, True)
        print(f"weights fit on all {len(every)} development queries, C={c} (a training-set fit: no held-out figure)")
        print_weights(weights)
        return
    tune = [(f, lab) for _, f, lab in candidates_oof(data, data.tune, config)]
    print("first stage on tune:", ranking_metrics(tune, None))
    if "--half" in sys.argv:  # the held-out protocol's weights, chosen as --all chooses them, on the tune half
        c, _ = choose_c(tune)
        print(f"weights fit on the {len(tune)} tune queries, C={c} (knowledge_common.HALF_FIT_WEIGHTS)")
        print_weights(fit(tune, c, True))
        return
    half = len(tune) // 2
    folds = [(tune[:half], tune[half:]), (tune[half:], tune[:half])]
    for pairwise in (False, True):
        for c in (0.1, 1.0, 10.0):
            cv = [ranking_metrics(test, fit(train, c, pairwise)) for train, test in folds]
            mean = {k: round((cv[0][k] + cv[1][k]) / 2, 4) for k in cv[0]}
            print(f"{'pairwise' if pairwise else 'pointwise'} C={c}: 2-fold CV inside tune: {mean}", flush=True)
    weights = fit(tune, 0.1, PAIRWISE)
    print("weights (C=0.1, all tune):")
    print_weights(weights)
    if "--heldout" in sys.argv:
        index = index_with(data, config, learn_on(data, data.tune, message_words(data)))
        held = collect(index, data, data.heldout, config.rerank_depth)
        print("held-out first stage:", ranking_metrics(held, None))
        print("held-out reranked:", ranking_metrics(held, weights))


if __name__ == "__main__":
    main()
