"""Does another RANKER over the platform's 24 rerank features generalise better than the linear one?

    .venv/bin/python bench/knowledge_ranker.py [--splits 20] [--skip-fixed] [--only NAME ...] [--threads 1]

Same candidates, features and protocol as `knowledge_extra.py`: the 50 first-stage candidates of all 1,408
development queries and their 24 features `search.FEATURES` (`knowledge_curve.all_candidates()`: "learned" and
"reverse" out of fold over all queries, as the row "the platform's 24 (…, as ported)" of `knowledge_extra.py`).
Every row is fit on one half and scored on the other, both ways, the printed figure being the mean of the two;
first on the fixed split (tune / held-out), then on N random half splits (seeds 1000, 1001, … as in
`knowledge_extra.py --splits`), each row minus the reference on the same split. The reference is "the
platform's 24": pairwise logistic regression (`knowledge_train.fit`, C = 0.1) on the raw 24.

Rows (names as printed):

- `linear 24, C by CV`: the reference with C chosen inside the training half (3 query folds, grid `C_GRID`, best
  mean MRR@10): a control, so that a row with more columns and a chosen C is compared with a chosen C too;
- `linear 24 + minus max`: per query, each feature minus its maximum over the query's candidates, beside the raw
  columns. For a PAIRWISE linear model this adds no information: the difference of two candidates of the same
  query is the same in both columns, so the row is the reference with those weights penalised half as much
  (a control of that; it matters for the pointwise GBDT below);
- `linear 24 + list rank`: per query and per non-binary feature, 1 / (1 + the number of candidates with a
  larger value) ("the best in this list" is 1, as the platform's own `rank` column does for the first stage);
- `linear 24 + minus max + list rank`;
- `linear 24 + learned, reverse x bm25` / `x bm25, bm25_words, bm25_bigrams`: products of the two supervised
  columns with the first-stage score(s) (relative to the query's best), chosen by reasoning beforehand (does
  the answer model count for more when the lexical match is weak?), not by scanning;
- `GBDT 24` / `GBDT 24 + minus max + list rank`: pointwise sklearn `HistGradientBoostingClassifier` on
  (candidate features, label), rows of the training queries whose own reply is among their candidates;
  learning rate 0.05, L2 1, min 40 rows a leaf, max leaves 7 or 15 and the number of trees (10 … `MAX_TREES`,
  by 10) chosen by 3-fold query-grouped CV inside the training half (best mean MRR@10), then refit on the
  whole training half with that choice; the score is its logit;
- `blend …`: linear (C = 0.1) score + lambda × that GBDT's logit, lambda in `LAMBDAS` chosen on the same
  inner folds' out-of-fold scores of both models (training half only).

`… C by CV` rows repeat the linear rows with C chosen inside the training half (like the control).

Ties (a GBDT gives equal scores to candidates that fall in the same leaves) are broken as the platform breaks
them (`SearchIndex.search` sorts on (-score, the article's position in the index)): the rank of the own reply
counts the candidates scored above it plus those scored equal and ahead of it in the index — no row is
credited for a tie. `ranking_metrics` of `knowledge_train.py` instead counts only the candidates scored strictly
above (ties in the reply's favour); the fixed-split table prints how many queries that would change.

Results of 2026-11-29 (20 random half splits, R@1 / MRR@10 minus the platform's 24; splits up / down on R@1):
`list rank` +0.0068 / +0.0048, 20 / 0 (fixed split 0.704 / 0.753 against 0.696 / 0.749); with `minus max`
+0.0086 / +0.0061, 20 / 0 (the extra part is the halved penalty); the interactions +0.004 / +0.002, 20 / 0, and
nothing on top of `list rank` (+0.0070 / +0.0048); GBDT 24 −0.017 / −0.011, 0 / 20; GBDT with the per-query
columns −0.002 / −0.001; the blends −0.002 / −0.001 (raw) and +0.003 / +0.003, 13 / 5 (per-query columns);
the C chosen inside the training half instead of 0.1: ±0.000.

Since then the platform has `list rank` (`search.LIST_RANKED`, 39 features): this script still starts from
the first 24 columns, so its rows read as they did.

No query or reply id is used as a feature; ids only mark which candidate is the message's own reply.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from scipy.stats import binomtest

from hotline.knowledge import search
from knowledge_common import load
from knowledge_curve import all_candidates
from knowledge_train import fit

C_REF = 0.1
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
LAMBDAS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
LEAVES = (7, 15)
MAX_TREES = 400
STEP = 10
INNER_FOLDS = 3
COL = {name: j for j, name in enumerate(search.FEATURES)}

Scores = dict[int, np.ndarray]  # query -> a score per candidate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, default=0)
    parser.add_argument("--only", action="append", default=[], help="run only the rows whose name contains this")
    parser.add_argument("--skip-fixed", action="store_true", help="only the random splits")
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads of the GBDT (0: sklearn's default)")
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = load()
    cands = all_candidates()
    n_q = len(cands)
    base = len(search.FEATURES) - len(search.LIST_RANKED)  # the 24 before the list ranks were ported
    raw = [feats[:, :base] for _, feats, _ in cands]
    labels = [lab for _, _, lab in cands]
    gold = np.array([int(np.flatnonzero(lab)[0]) if lab.sum() else -1 for lab in labels])
    every = np.vstack(raw)
    binary = np.array([set(np.unique(every[:, j]).tolist()) <= {0.0, 1.0} for j in range(every.shape[1])])
    cont = np.flatnonzero(~binary)
    print(
        f"{n_q} queries, {every.shape[0]} candidates, {every.shape[1]} features "
        f"({binary.sum()} binary: {', '.join(n for n, b in zip(search.FEATURES[:base], binary, strict=True) if b)}); "
        f"own reply among the candidates for {(gold >= 0).sum()}"
    )

    def minus_max(x: np.ndarray) -> np.ndarray:
        return x - x.max(axis=0) if len(x) else x

    def list_rank(x: np.ndarray) -> np.ndarray:
        c = x[:, cont]
        above = (c[None, :, :] > c[:, None, :]).sum(axis=1)  # per candidate and column: how many are larger
        return 1.0 / (1.0 + above)

    def products(cols: tuple[str, ...]) -> Callable[[np.ndarray], np.ndarray]:
        def f(x: np.ndarray) -> np.ndarray:
            return np.column_stack([x[:, COL[a]] * x[:, COL[b]] for a in ("learned", "reverse") for b in cols])

        return f

    views: dict[str, list[np.ndarray]] = {"24": raw}
    for name, extra in (
        ("mm", [minus_max]),
        ("lr", [list_rank]),
        ("mmlr", [minus_max, list_rank]),
        ("x1", [products(("bm25",))]),
        ("x3", [products(("bm25", "bm25_words", "bm25_bigrams"))]),
        ("lrx1", [list_rank, products(("bm25",))]),
    ):
        views[name] = [np.hstack([x, *(f(x) for f in extra)]) for x in raw]

    rows = [np.asarray(cand) for cand, _, _ in cands]

    def rank_of(scores: np.ndarray, i: int) -> int:
        """1-based rank of query I's own reply, ties broken by the position in the index (no credit for a tie)."""
        g = gold[i]
        tied = (scores == scores[g]) & (rows[i] < rows[i][g])
        return int((scores > scores[g]).sum() + tied.sum()) + 1

    def metrics(scores: Scores, idx: np.ndarray) -> dict[str, float]:
        r1 = r10 = mrr = 0.0
        for i in idx.tolist():
            if gold[i] < 0:
                continue
            r = rank_of(scores[i], i)
            r1 += r == 1
            r10 += r <= 10
            mrr += 1 / r if r <= 10 else 0.0
        return {"R@1": r1 / len(idx), "R@10": r10 / len(idx), "MRR@10": mrr / len(idx)}

    def mrr_only(scores: Scores, idx: list[int]) -> float:
        return metrics(scores, np.asarray(idx))["MRR@10"]

    def lin_fit(view: str, idx: list[int], c: float) -> np.ndarray:
        return fit([(views[view][i], labels[i]) for i in idx if gold[i] >= 0], c, True)

    def lin_score(view: str, w: np.ndarray, idx: list[int]) -> Scores:
        return {i: views[view][i] @ w for i in idx}

    def inner_folds(train: np.ndarray) -> list[tuple[list[int], list[int]]]:
        folds = np.array_split(np.random.default_rng(0).permutation(train), INNER_FOLDS)
        return [
            (np.concatenate([f for j, f in enumerate(folds) if j != k]).tolist(), folds[k].tolist())
            for k in range(INNER_FOLDS)
        ]

    def choose_c(view: str, inner: list[tuple[list[int], list[int]]]) -> float:
        table = {}
        for c in C_GRID:
            table[c] = np.mean([mrr_only(lin_score(view, lin_fit(view, a, c), b), b) for a, b in inner])
        return max(C_GRID, key=lambda c: table[c])

    def stack(view: str, idx: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of the queries IDX (with their own reply among the candidates when training), their labels and
        each row's query."""
        x = np.vstack([views[view][i] for i in idx])
        y = np.concatenate([labels[i] for i in idx])
        q = np.concatenate([np.full(len(labels[i]), i) for i in idx])
        return x, y, q

    def split_scores(flat: np.ndarray, idx: list[int]) -> Scores:
        out, at = {}, 0
        for i in idx:
            out[i] = flat[at : at + len(labels[i])]
            at += len(labels[i])
        return out

    def gbdt(leaves: int, trees: int) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=trees,
            max_leaf_nodes=leaves,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=0,
        )

    def gbdt_run(
        view: str,
        train: np.ndarray,
        test: np.ndarray,
        inner: list[tuple[list[int], list[int]]],
        lin_oof: Scores,
        lin_test: Scores,
    ) -> dict[str, tuple[Scores, str]]:
        """The GBDT of VIEW (leaves and trees by inner CV) and its blend with the linear scores (lambda by the
        inner folds' out-of-fold scores): test scores and the choice, per row."""
        stages = list(range(STEP, MAX_TREES + 1, STEP))
        curve = {leaves: np.zeros(len(stages)) for leaves in LEAVES}
        oof: dict[int, dict[int, Scores]] = {leaves: {} for leaves in LEAVES}  # leaves -> stage -> scores
        for a, b in inner:
            x, y, _ = stack(view, [i for i in a if gold[i] >= 0])
            xb, _, _ = stack(view, b)
            for leaves in LEAVES:
                model = gbdt(leaves, MAX_TREES).fit(x, y)
                for s, dec in enumerate(model.staged_decision_function(xb)):
                    if (s + 1) % STEP:
                        continue
                    k = (s + 1) // STEP - 1
                    sc = split_scores(dec, b)
                    curve[leaves][k] += mrr_only(sc, b) / len(inner)
                    oof[leaves].setdefault(k, {}).update(sc)
        leaves, k = max(
            ((lv, k) for lv in LEAVES for k in range(len(stages))), key=lambda t: (curve[t[0]][t[1]], -t[1])
        )
        trees = stages[k]
        x, y, _ = stack(view, [i for i in train.tolist() if gold[i] >= 0])
        model = gbdt(leaves, trees).fit(x, y)
        xt, _, _ = stack(view, test.tolist())
        g_test = split_scores(model.decision_function(xt), test.tolist())
        g_oof = oof[leaves][k]
        every_train = train.tolist()
        lam = max(
            LAMBDAS,
            key=lambda lm: (mrr_only({i: lin_oof[i] + lm * g_oof[i] for i in every_train}, every_train), -lm),
        )
        blend = {i: lin_test[i] + lam * g_test[i] for i in test.tolist()}
        return {
            "gbdt": (g_test, f"{leaves} leaves, {trees} trees"),
            "blend": (blend, f"lambda {lam:g} ({leaves} leaves, {trees} trees)"),
        }

    # name -> (linear view, C mode) or a GBDT view
    linear_rows = {
        "linear 24 (the platform's 24, C 0.1)": ("24", "ref"),
        "linear 24, C by CV": ("24", "cv"),
        "linear 24 + minus max": ("mm", "ref"),
        "linear 24 + list rank": ("lr", "ref"),
        "linear 24 + minus max + list rank": ("mmlr", "ref"),
        "linear 24 + learned, reverse x bm25": ("x1", "ref"),
        "linear 24 + learned, reverse x bm25, bm25_words, bm25_bigrams": ("x3", "ref"),
        "linear 24 + list rank + learned, reverse x bm25": ("lrx1", "ref"),
        "linear 24 + list rank, C by CV": ("lr", "cv"),
        "linear 24 + minus max + list rank, C by CV": ("mmlr", "cv"),
        "linear 24 + learned, reverse x bm25, C by CV": ("x1", "cv"),
        "linear 24 + learned, reverse x bm25, bm25_words, bm25_bigrams, C by CV": ("x3", "cv"),
    }
    gbdt_rows = {
        "GBDT 24": ("24", "gbdt"),
        "blend linear 24 + GBDT 24": ("24", "blend"),
        "GBDT 24 + minus max + list rank": ("mmlr", "gbdt"),
        "blend linear 24 + GBDT 24 + minus max + list rank": ("mmlr", "blend"),
    }
    ref_name = next(iter(linear_rows))
    if args.only:
        linear_rows = {k: v for k, v in linear_rows.items() if k == ref_name or any(s in k for s in args.only)}
        gbdt_rows = {k: v for k, v in gbdt_rows.items() if any(s in k for s in args.only)}
    names = [*linear_rows, *gbdt_rows]

    def direction(train: np.ndarray, test: np.ndarray) -> tuple[dict[str, Scores], dict[str, str], dict[str, float]]:
        """Test scores of every row fit on TRAIN, the choices made inside TRAIN, and seconds per row."""
        inner = inner_folds(train)
        out: dict[str, Scores] = {}
        chosen: dict[str, str] = {}
        secs: dict[str, float] = {}
        for name, (view, mode) in linear_rows.items():
            t0 = time.perf_counter()
            c = C_REF if mode == "ref" else choose_c(view, inner)
            out[name] = lin_score(view, lin_fit(view, train.tolist(), c), test.tolist())
            chosen[name] = f"C {c:g}"
            secs[name] = time.perf_counter() - t0
        if gbdt_rows:
            t0 = time.perf_counter()
            lin_oof: Scores = {}
            for a, b in inner:
                lin_oof.update(lin_score("24", lin_fit("24", a, C_REF), b))
            lin_test = out[ref_name]
            for view in dict.fromkeys(v for v, _ in gbdt_rows.values()):
                t1 = time.perf_counter()
                res = gbdt_run(view, train, test, inner, lin_oof, lin_test)
                for name, (v, mode) in gbdt_rows.items():
                    if v == view:
                        out[name], chosen[name] = res[mode]
                        secs[name] = time.perf_counter() - t1
        return out, chosen, secs

    def both_ways(
        halves: tuple[np.ndarray, np.ndarray],
    ) -> tuple[dict[str, dict[str, float]], dict[str, list[str]], dict[str, Scores], dict[str, float]]:
        per: dict[str, list[dict[str, float]]] = {n: [] for n in names}
        chosen: dict[str, list[str]] = {n: [] for n in names}
        pooled: dict[str, Scores] = {n: {} for n in names}
        secs: dict[str, float] = dict.fromkeys(names, 0.0)
        for train, test in ((halves[0], halves[1]), (halves[1], halves[0])):
            out, ch, s = direction(train, test)
            for n in names:
                per[n].append(metrics(out[n], test))
                chosen[n].append(ch[n])
                pooled[n].update(out[n])
                secs[n] += s[n]
        means = {n: {k: (m[0][k] + m[1][k]) / 2 for k in m[0]} for n, m in per.items()}
        return means, chosen, pooled, secs

    started = time.perf_counter()
    fixed = (np.array(data.tune), np.array(data.heldout))
    means, chosen, pooled, secs = both_ways(fixed) if not args.skip_fixed else ({}, {}, {}, {})
    first = {i: rank_of(pooled[ref_name][i], i) == 1 for i in range(n_q) if gold[i] >= 0} if pooled else {}
    print(
        f"\nfixed split, both ways (mean of tune -> held-out and held-out -> tune); "
        f"{time.perf_counter() - started:.0f} s\n"
    )
    print(
        "| ranker | R@1 | R@10 | MRR@10 | rank 1 gained / lost vs the platform's 24 | chosen inside the training "
        "half (tune / held-out) | ties in the reply's favour | s |\n|---|---|---|---|---|---|---|---|"
    )
    for n in names if pooled else []:
        m = means[n]
        top = {i: rank_of(pooled[n][i], i) == 1 for i in first}
        gained = sum(top[i] and not first[i] for i in first)
        lost = sum(first[i] and not top[i] for i in first)
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        ties = sum(rank_of(pooled[n][i], i) != int((pooled[n][i] > pooled[n][i][gold[i]]).sum()) + 1 for i in first)
        print(
            f"| {n} | {m['R@1']:.4f} | {m['R@10']:.4f} | {m['MRR@10']:.4f} | {gained} / {lost} (p {p:.2f}) | "
            f"{' / '.join(chosen[n])} | {ties} | {secs[n]:.0f} |",
            flush=True,
        )

    if not args.splits:
        return
    print("\nrandom half splits (seeds 1000 +), each row minus the platform's 24 on the same split:\n", flush=True)
    deltas: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    picks: dict[str, list[str]] = {n: [] for n in names}
    for seed in range(args.splits):
        t0 = time.perf_counter()
        perm = np.random.default_rng(1000 + seed).permutation(n_q)
        halves = (np.sort(perm[: n_q // 2]), np.sort(perm[n_q // 2 :]))
        means, chosen, _, _ = both_ways(halves)
        base = means[ref_name]
        for n in names:
            deltas[n].append((means[n]["R@1"] - base["R@1"], means[n]["MRR@10"] - base["MRR@10"]))
            picks[n] += chosen[n]
        load1 = os.getloadavg()[0]
        print(
            f"split {seed}: {time.perf_counter() - t0:.0f} s, load {load1:.1f}; reference R@1 {base['R@1']:.4f} "
            f"MRR@10 {base['MRR@10']:.4f}; "
            + "; ".join(f"{n[:40]} {d[-1][0]:+.4f}/{d[-1][1]:+.4f}" for n, d in deltas.items() if n != ref_name),
            flush=True,
        )
    print(
        f"\n{args.splits} random half splits: mean (sd) of R@1 and MRR@10 minus the platform's 24; splits up / down\n"
    )
    print(
        "| ranker | R@1 mean (sd) | MRR@10 mean (sd) | R@1 up / down | MRR@10 up / down | choices (2 per split) |\n"
        "|---|---|---|---|---|---|"
    )
    for n in names:
        if n == ref_name:
            continue
        r1, mrr = np.array(deltas[n]).T
        counts: dict[str, int] = {}
        for c in picks[n]:
            key = c.split(" (")[0] if c.startswith("lambda") else c
            counts[key] = counts.get(key, 0) + 1
        choice = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:4])
        print(
            f"| {n} | {r1.mean():+.4f} ({r1.std(ddof=1):.4f}) | {mrr.mean():+.4f} ({mrr.std(ddof=1):.4f}) | "
            f"{(r1 > 0).sum()} / {(r1 < 0).sum()} | {(mrr > 0).sum()} / {(mrr < 0).sum()} | {choice} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
