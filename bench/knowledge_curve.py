"""Should the shipped rerank weights be fit on all development queries? Learning curve and cross-fit.

    .venv/bin/python bench/knowledge_curve.py [--seeds 5]

Uses the same first stage, features and pairwise logistic regression as `knowledge_train.py`; the rerank
candidates and features of all 1,408 development queries are computed once (cached in the temp folder).
Prints:

1. **learning curve**: fit on 176 / 352 / 528 / 704 queries drawn from one half of the fixed split, score the
   other half; both directions (tune → held-out, held-out → tune), several seeds, C = 0.1.
2. **paired 704 vs 1,056**: 4-fold partitions of all 1,408 queries; each test quarter (352) is scored by a
   model fit on the other three quarters (1,056) and by one fit on 704 of them, so the gain from more
   training queries is measured on the same test queries.
3. **cross-fit**: fit on one half, score the other, both ways, pooled over all 1,408 queries — the honest
   estimate of the half-fit protocol — at C = 0.1 and at the C chosen by nested CV inside each training half
   only (repeated 2-fold CV, the test half never read).
4. **C for the final fit**: the same CV over all 1,408 queries (what `knowledge_train.py --all` uses).
5. **shipped vs half-fit weights**: on how many queries the two weight vectors put a different candidate
   first (a difference of rankings, not of quality: every query here is training data for the shipped ones).

No query or reply id is used as a feature; ids only label which candidate is the message's own reply.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from hotline.knowledge import search
from knowledge_common import HALF_FIT_WEIGHTS, load
from knowledge_train import C_GRID, Candidates, Groups, candidates_oof, choose_c, fit, ranking_metrics

C_SHIPPED_HALF = 0.1  # the C of the half-fit protocol (chosen earlier by 2-fold CV inside the tune half)


def all_candidates() -> Candidates:
    """Candidates, features and labels of all development queries (first stage without rerank), cached; the
    "learned" feature out of fold (`knowledge_train.candidates_oof`)."""
    data = load()
    config = dataclasses.replace(search.DEFAULT_CONFIG, rerank_weights=None)
    key = hashlib.sha1(repr((config, search.FEATURES, search.ANALYZER_VERSION, "oof5")).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"kb-curve-candidates-{key}.pkl"
    if cache.exists():
        with cache.open("rb") as fh:
            found: Candidates = pickle.load(fh)
            return found
    started = time.process_time()
    found = candidates_oof(data, list(range(len(data.queries))), config)
    print(f"candidates + features for {len(found)} queries: {time.process_time() - started:.0f} s CPU")
    with cache.open("wb") as fh:
        pickle.dump(found, fh)
    return found


def all_groups() -> Groups:
    return [(feats, labels) for _, feats, labels in all_candidates()]


def mean(ms: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([m[k] for m in ms])), 4) for k in ms[0]}


def fmt(m: dict[str, float]) -> str:
    return f"{m['R@1']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    data = load()
    groups = all_groups()
    halves = {"tune": data.tune, "held-out": data.heldout}
    first = [ranking_metrics([groups[i] for i in idx], None) for idx in halves.values()]
    print("first stage only (no rerank), tune / held-out:", first)

    print("\n## 1. learning curve (C = 0.1; mean over seeds of the subsample)\n")
    print("| direction | training queries | R@1 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    curve: dict[int, list[dict[str, float]]] = {}
    for train_name, test_name in (("tune", "held-out"), ("held-out", "tune")):
        train_idx, test = halves[train_name], [groups[i] for i in halves[test_name]]
        for n in (176, 352, 528, 704):
            runs = []
            for seed in range(args.seeds if n < len(train_idx) else 1):
                pick = np.random.default_rng(seed).permutation(len(train_idx))[:n]
                runs.append(ranking_metrics(test, fit([groups[train_idx[j]] for j in pick], C_SHIPPED_HALF, True)))
            curve.setdefault(n, []).append(mean(runs))
            print(f"| {train_name} → {test_name} | {n} | {fmt(mean(runs))} |", flush=True)
    for n, ms in curve.items():
        print(f"| both directions | {n} | {fmt(mean(ms))} |")

    print("\n## 2. paired: the same test quarter scored by models fit on 704 and on 1,056 queries (C = 0.1)\n")
    paired: dict[str, list[dict[str, float]]] = {"704": [], "1056": []}
    deltas = []
    for seed in range(args.seeds):
        perm = np.random.default_rng(100 + seed).permutation(len(groups))
        quarters = np.array_split(perm, 4)
        for k in range(4):
            test = [groups[i] for i in quarters[k]]
            rest = np.concatenate([quarters[j] for j in range(4) if j != k])
            small = np.random.default_rng(200 + seed * 4 + k).permutation(rest)[:704]
            m_small = ranking_metrics(test, fit([groups[i] for i in small], C_SHIPPED_HALF, True))
            m_big = ranking_metrics(test, fit([groups[i] for i in rest], C_SHIPPED_HALF, True))
            paired["704"].append(m_small)
            paired["1056"].append(m_big)
            deltas.append({k2: m_big[k2] - m_small[k2] for k2 in m_big})
    print("| training queries | R@1 | R@10 | MRR@10 |\n|---|---|---|---|")
    for name, ms in paired.items():
        print(f"| {name} | {fmt(mean(ms))} |")
    for key in ("R@1", "MRR@10"):
        d = np.array([x[key] for x in deltas])
        print(
            f"{key} gain 704 → 1,056 over {len(d)} test quarters: mean {d.mean():+.4f}, "
            f"sd {d.std(ddof=1):.4f}, se {d.std(ddof=1) / np.sqrt(len(d)):.4f}, positive in {(d > 0).sum()}, "
            f"negative in {(d < 0).sum()}"
        )

    print("\n## 3. cross-fit over all 1,408 (fit on one half, score the other, pooled)\n")
    print("| C | R@1 | R@10 | MRR@10 | tune → held-out | held-out → tune |\n|---|---|---|---|---|---|")
    for label in ("0.1 (fixed)", "nested CV"):
        pooled: list[dict[str, float]] = []
        parts = []
        for train_name, test_name in (("tune", "held-out"), ("held-out", "tune")):
            train = [groups[i] for i in halves[train_name]]
            test = [groups[i] for i in halves[test_name]]
            c = C_SHIPPED_HALF if label.startswith("0.1") else choose_c(train, verbose=False)[0]
            m = ranking_metrics(test, fit(train, c, True))
            pooled.append(m)
            parts.append(f"C={c}: {m['R@1']:.3f} / {m['MRR@10']:.3f}")
        print(f"| {label} | {fmt(mean(pooled))} | {parts[0]} | {parts[1]} |", flush=True)

    print(f"\n## 4. C for the final fit: repeated 2-fold CV over all {len(groups)} queries (grid {C_GRID})\n")
    best, table = choose_c(groups, verbose=False)
    for c, m in table.items():
        print(f"C={c}: {m}")
    print("chosen:", best)

    shipped = search.DEFAULT_CONFIG.rerank_weights
    if shipped is not None and tuple(shipped) != HALF_FIT_WEIGHTS:
        top = [
            (int(np.argmax(f @ np.asarray(shipped))), int(np.argmax(f @ np.asarray(HALF_FIT_WEIGHTS))))
            for f, _ in groups
            if len(f)
        ]
        differ = sum(a != b for a, b in top)
        print(f"\n## 5. shipped vs half-fit weights: different top-1 on {differ} of {len(top)} queries")


if __name__ == "__main__":
    main()
