"""Dispatch classifier: nearest training neighbours (reposts) and taxonomy keywords, on the development part.

Two ideas not tried before (issue #6), compared with `current` (the product's `model.build`) on the same folds:

1. Near-duplicate neighbours. 12.0 % of the segmented rows have a near-copy elsewhere at character-bigram TF-IDF
   cosine >= 0.7, 9.9 % at >= 0.9 (the measure of `corpus.near_duplicate_groups`; bench/dispatch.md, 18:45
   update); messages of the same board include reposts.
   For every scored row, its most similar TRAINING rows of the fold are found with that measure (the TF-IDF
   fitted on the fold's training rows, texts without spaces, cosine = dot product of the L2-normalised rows).
   All of this is applied on top of `current`'s out-of-fold probabilities (saved; `--load` recomputes without
   refitting):
   - `nn-override t`: if the nearest training row's cosine >= t, predict its label (t = 0.8, 0.85, 0.9, 0.95);
   - `nn-blend t a`: where the nearest cosine >= t, p = (1 - a) * model + a * onehot(nearest label);
   - `knn-blend k a`: every row, p = (1 - a) * model + a * q, q = similarity-weighted label shares of the
     k nearest training rows (k = 5, 10);
   - `knn-blend k a xfit`: the same with a chosen per outer fold on the OTHER outer folds' rows (not nested:
     their models saw the scored fold; printed for comparison, it is not the bar's variant).
   The rows an override touches are counted, with the model's and the neighbour's accuracy on them.

2. `taxonomy`: `tipdm_label_taxonomy.csv` (一级, 二级, 三级 names). Terms: the 二级 and 三级 names and their jieba
   words of >= 2 characters, kept when they belong to exactly one first-level category (any of the 15) and are
   not 其他; a message's feature for each of the 7 classes (and one for the other first-level categories) is
   log(1 + number of that class's terms found in the text without spaces), appended to the product's
   FeatureUnion as one more view (read by both members), weight W (`taxonomy@W`; `--taxonomy-weight`,
   repeatable, default 0.5; 0.15 and 0.05 were added after 0.5 lost). Needs its own fits; with `--load`, only
   the fits missing from the file are made (and `--save` writes them all back).

Protocol as `bench/dispatch_decision.py` / `bench/dispatch_variants.py` (bench/dispatch.md, "Update 2026-11-28,
20:00"): development part of the twins split (seed 42), twins-grouped 5-fold CV inside it (seed 0; `--cv-seed`),
raw rows scored in the form hidden messages arrive (through `prepare`). `--holdout` fits on the whole development
part and scores once on the held-out fifth (current, the neighbour variants named by `--holdout-variant`, and
taxonomy if asked), neighbours searched among the development rows.

    nice -n 5 .venv/bin/python bench/dispatch_neighbours.py --jobs 1 --save /tmp/dnb/cv0.npz --json /tmp/dnb/cv0.json
    nice -n 5 .venv/bin/python bench/dispatch_neighbours.py --jobs 1 --cv-seed 1 --save /tmp/dnb/cv1.npz
    .venv/bin/python bench/dispatch_neighbours.py --load /tmp/dnb/cv0.npz   # overrides only, no refitting
    nice -n 5 .venv/bin/python bench/dispatch_neighbours.py --jobs 1 --load /tmp/dnb/cv0.npz --save /tmp/dnb/cv0.npz \
        --taxonomy-weight 0.5 --taxonomy-weight 0.15 --taxonomy-weight 0.05   # fits only the new weights
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import rjieba
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import FunctionTransformer

from dispatch_decision import macro_f1
from dispatch_variants import _line, _scores
from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models

TAXONOMY = "tipdm_label_taxonomy.csv"
THRESHOLDS = (0.8, 0.85, 0.9, 0.95)
BLEND_T = (0.8, 0.9)
BLEND_A = (0.2, 0.3)
KNN_K = (5, 10)
KNN_A = (0.1, 0.2, 0.3, 0.5)
TOPK = max(KNN_K)


# ---------------------------------------------------------------- taxonomy keywords


def taxonomy_terms(path: Path, classes: list[str]) -> tuple[dict[str, int], list[str]]:
    """Term -> column (index into `classes`, or len(classes) for the other first-level categories)."""
    owner: dict[str, set[str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            first = row["一级分类"].strip()
            for name in (row["二级分类"].strip(), row["三级分类"].strip()):
                if not name:
                    continue
                words = {name} | {w for w in rjieba.cut(name, hmm=False) if len(w) >= 2}
                for w in words:
                    owner.setdefault(w, set()).add(first)
    terms: dict[str, int] = {}
    for w, firsts in owner.items():
        if len(firsts) != 1 or "其他" in w or len(w) < 2:
            continue
        (first,) = firsts
        terms[w] = classes.index(first) if first in classes else len(classes)
    return terms, [*classes, "other"]


class TaxonomyCounts:
    """Picklable callable: prepared texts -> sparse log(1 + count of each column's terms found)."""

    def __init__(self, terms: dict[str, int], n_columns: int) -> None:
        self.terms = sorted(terms.items())
        self.n_columns = n_columns

    def __call__(self, texts: Any) -> sp.csr_matrix:
        out = np.zeros((len(texts), self.n_columns))
        for i, text in enumerate(texts):
            joined = text.replace(" ", "")
            for term, col in self.terms:
                if term in joined:
                    out[i, col] += 1.0
        return sp.csr_matrix(np.log1p(out))


def _pipeline(variant: str, taxonomy: TaxonomyCounts | None) -> Any:
    """`current`, or `taxonomy@W`: the product's features plus the taxonomy view with weight W."""
    pipeline = models.build(models.Params(seed=0))
    if variant.startswith("taxonomy@"):
        assert taxonomy is not None
        weight = float(variant.split("@")[1])
        features = pipeline.named_steps["features"]
        features.transformer_list.append(("taxonomy", FunctionTransformer(taxonomy, accept_sparse=True)))
        features.transformer_weights = {**(features.transformer_weights or {}), "taxonomy": weight}
    return pipeline


def fit_proba(
    variant: str,
    texts: list[str],
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    taxonomy: TaxonomyCounts | None,
) -> dict[str, Any]:
    started = time.process_time()
    pipeline = _pipeline(variant, taxonomy)
    pipeline.fit([texts[i] for i in train], labels[train])
    assert list(pipeline.classes_) == sorted(set(labels.tolist()))
    probs = np.asarray(pipeline.predict_proba([texts[i] for i in test]))
    return {"probs": probs, "cpu": time.process_time() - started}


# ---------------------------------------------------------------- neighbours


def neighbours(texts: list[str], train: np.ndarray, test: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each test row, the k most similar training rows (index into `train`) and their cosines, best first."""
    vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), preprocessor=corpora._unspaced)
    tr = vec.fit_transform([texts[i] for i in train])
    te = vec.transform([texts[i] for i in test])
    sim = np.asarray((te @ tr.T).todense())
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(sim, idx, axis=1)


def knn_shares(nn_y: np.ndarray, nn_s: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    q = np.zeros((len(nn_y), n_classes))
    for j in range(k):
        q[np.arange(len(nn_y)), nn_y[:, j]] += nn_s[:, j]
    total = q.sum(axis=1, keepdims=True)
    return np.divide(q, total, out=np.full_like(q, 1.0 / n_classes), where=total > 0)


def variant_predictions(p: np.ndarray, nn_y: np.ndarray, nn_s: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """Predicted class index of every rule, from the model's probabilities and the neighbours."""
    out: dict[str, np.ndarray] = {"current": p.argmax(axis=1)}
    onehot = np.eye(n_classes)[nn_y[:, 0]]
    for t in THRESHOLDS:
        pred = p.argmax(axis=1).copy()
        hit = nn_s[:, 0] >= t
        pred[hit] = nn_y[hit, 0]
        out[f"nn-override {t}"] = pred
    for t in BLEND_T:
        hit = (nn_s[:, 0] >= t)[:, None]
        for a in BLEND_A:
            out[f"nn-blend {t} a={a}"] = np.where(hit, (1 - a) * p + a * onehot, p).argmax(axis=1)
    for k in KNN_K:
        q = knn_shares(nn_y, nn_s, k, n_classes)
        for a in KNN_A:
            out[f"knn-blend k={k} a={a}"] = ((1 - a) * p + a * q).argmax(axis=1)
    return out


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--cv-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-taxonomy", action="store_true", help="fit current only")
    parser.add_argument("--taxonomy-weight", type=float, action="append", help="repeatable; default 0.5")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--load", type=Path)
    parser.add_argument("--holdout", action="store_true", help="fit on the development part, score the held-out")
    parser.add_argument("--holdout-variant", action="append", default=[], help="neighbour rule(s) to score there")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    corpus = corpora.load_shared(args.data_dir)
    texts = corpus.texts
    labels = np.asarray(corpus.labels)
    sources = np.asarray(corpus.sources)
    classes = np.asarray(sorted(set(labels.tolist())))
    k_cls = len(classes)
    y_all = np.searchsorted(classes, labels)
    groups = corpora.twin_groups(corpus)
    dev, held = next(StratifiedGroupKFold(5, shuffle=True, random_state=42).split(labels, labels, groups))
    terms, columns = taxonomy_terms(args.data_dir / TAXONOMY, classes.tolist())
    taxonomy = TaxonomyCounts(terms, len(columns))
    per_col = np.bincount(list(terms.values()), minlength=len(columns))
    print(
        f"development rows {len(dev)}, held-out rows {len(held)}; taxonomy terms per column "
        f"{dict(zip(columns, per_col.tolist(), strict=True))}; load {os.getloadavg()}",
        flush=True,
    )
    tax_hits = taxonomy([texts[i] for i in dev])
    print(f"dev rows with >= 1 taxonomy term: {(tax_hits.sum(axis=1) > 0).mean():.3f}", flush=True)
    names = ["current"] + ([] if args.no_taxonomy else [f"taxonomy@{w}" for w in args.taxonomy_weight or [0.5]])
    report: dict[str, Any] = {"cv_seed": args.cv_seed, "holdout": args.holdout}

    if args.holdout:
        splits = [(dev, held)]
    else:
        folds = StratifiedGroupKFold(5, shuffle=True, random_state=args.cv_seed)
        splits = [(dev[tr], dev[te]) for tr, te in folds.split(dev, labels[dev], groups[dev])]
    tasks = [(f"fold{i}/{name}", name, tr, te) for i, (tr, te) in enumerate(splits) for name in names]

    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    if args.load:  # reuse saved fits; only the missing ones are fitted (and saved with the others by --save)
        stored = np.load(args.load, allow_pickle=True)["results"].item()
        for key in [k for k in stored if k.endswith("/taxonomy")]:  # first run: the view had weight 0.5
            stored[f"{key}@0.5"] = stored.pop(key)
        results.update(stored)
        for key, _, _, te in tasks:
            if key in results:
                assert np.array_equal(results[key]["test"], te), key
    missing = [task for task in tasks if task[0] not in results]
    if missing:
        print(f"{len(missing)} fits, {args.jobs} at a time", flush=True)
        outs = Parallel(n_jobs=args.jobs)(
            delayed(fit_proba)(name, texts, labels, tr, te, taxonomy) for _, name, tr, te in missing
        )
        for (key, _, _, te), out in zip(missing, outs, strict=True):
            results[key] = {**out, "test": te}
        if args.save:
            args.save.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(args.save, results=np.asarray(results, dtype=object))
    wall = time.perf_counter() - started

    where = "held-out" if args.holdout else "dev CV"

    def show(label: str, rows: np.ndarray, pred_idx: np.ndarray, cpu: float = 0.0) -> dict[str, Any]:
        s = _scores(labels, classes[pred_idx], rows, sources)
        report[label] = s
        print(f"{where} " + _line(label, cpu, s), flush=True)
        return s

    # Neighbours of every scored row among its fold's training rows.
    nn_y_f, nn_s_f = [], []
    for tr, te in splits:
        idx, sim = neighbours(texts, tr, te, TOPK)
        nn_y_f.append(y_all[tr][idx])
        nn_s_f.append(sim)
    rows = np.concatenate([te for _, te in splits])
    nn_y, nn_s = np.vstack(nn_y_f), np.vstack(nn_s_f)
    y = y_all[rows]
    raw = sources[rows] == corpora.RAW

    for name in names:
        probs = np.vstack([results[f"fold{i}/{name}"]["probs"] for i in range(len(splits))])
        cpu = float(np.mean([results[f"fold{i}/{name}"]["cpu"] for i in range(len(splits))]))
        show(name, rows, probs.argmax(axis=1), cpu)

    p = np.vstack([results[f"fold{i}/current"]["probs"] for i in range(len(splits))])
    preds = variant_predictions(p, nn_y, nn_s, k_cls)
    base = _scores(labels, classes[preds["current"]], rows, sources)
    table = []
    for label, pred in preds.items():
        if label == "current" or (args.holdout and args.holdout_variant and label not in args.holdout_variant):
            continue
        s = show(label, rows, pred)
        d_all = s["all"]["macro_f1"] - base["all"]["macro_f1"]
        d_raw = s["raw"]["macro_f1"] - base["raw"]["macro_f1"]
        table.append((label, s, d_all, d_raw))

    # xfit: a of the kNN blend chosen on the other folds' rows (not nested).
    if not args.holdout:
        bounds = np.cumsum([0] + [len(te) for _, te in splits])
        for k in KNN_K:
            q = knn_shares(nn_y, nn_s, k, k_cls)
            pred = np.empty(len(rows), dtype=np.int64)
            chosen = []
            for i in range(len(splits)):
                mine = np.zeros(len(rows), bool)
                mine[bounds[i] : bounds[i + 1]] = True
                grid = (0.0, *KNN_A)
                f1s = [macro_f1(y[~mine], ((1 - a) * p[~mine] + a * q[~mine]).argmax(axis=1), k_cls) for a in grid]
                a = grid[int(np.argmax(f1s))]
                chosen.append(a)
                pred[mine] = ((1 - a) * p[mine] + a * q[mine]).argmax(axis=1)
            s = show(f"knn-blend k={k} xfit", rows, pred)
            table.append(
                (
                    f"knn-blend k={k} a xfit {chosen}",
                    s,
                    s["all"]["macro_f1"] - base["all"]["macro_f1"],
                    s["raw"]["macro_f1"] - base["raw"]["macro_f1"],
                )
            )

    print("\nrows touched by the overrides (nearest training row's cosine >= t):")
    touched = []
    for t in THRESHOLDS:
        hit = nn_s[:, 0] >= t
        m_acc = float((preds["current"][hit] == y[hit]).mean()) if hit.any() else float("nan")
        n_acc = float((nn_y[hit, 0] == y[hit]).mean()) if hit.any() else float("nan")
        disagree = hit & (preds["current"] != nn_y[:, 0])
        d_m = float((preds["current"][disagree] == y[disagree]).mean()) if disagree.any() else float("nan")
        d_n = float((nn_y[disagree, 0] == y[disagree]).mean()) if disagree.any() else float("nan")
        line = {
            "t": t,
            "rows": int(hit.sum()),
            "share": round(float(hit.mean()), 4),
            "raw_rows": int((hit & raw).sum()),
            "model_acc": round(m_acc, 4),
            "neighbour_acc": round(n_acc, 4),
            "disagree": int(disagree.sum()),
            "model_acc_disagree": round(d_m, 4),
            "neighbour_acc_disagree": round(d_n, 4),
        }
        touched.append(line)
        print(
            f"  t {t}: {line['rows']} rows ({line['share']:.1%}; raw {line['raw_rows']}), model acc "
            f"{m_acc:.4f}, neighbour acc {n_acc:.4f}; they disagree on {line['disagree']}: model right "
            f"{d_m:.3f}, neighbour right {d_n:.3f}"
        )
    report["touched"] = touched

    print("\n| variant | all macro-F1 / acc | segmented | raw macro-F1 / acc | Δ all / Δ raw |")
    print("|---|---:|---:|---:|---:|")
    all_rows = [("current", base, 0.0, 0.0)]
    for name in names[1:]:
        s = report[name]
        all_rows.append(
            (
                f"taxonomy view, weight {name.split('@')[1]}",
                s,
                s["all"]["macro_f1"] - base["all"]["macro_f1"],
                s["raw"]["macro_f1"] - base["raw"]["macro_f1"],
            )
        )
    for label, s, d_all, d_raw in all_rows + table:
        delta = "—" if label == "current" else f"{d_all:+.4f} / {d_raw:+.4f}"
        print(
            f"| {label} | {s['all']['macro_f1']:.4f} / {s['all']['accuracy']:.4f} | {s['segmented']['macro_f1']:.4f} "
            f"| {s['raw']['macro_f1']:.4f} / {s['raw']['accuracy']:.4f} | {delta} |"
        )
    cpu_all = [results[key]["cpu"] for key, _, _, _ in tasks]
    print(
        f"\nwall {wall:.0f} s; CPU per fit mean {np.mean(cpu_all):.1f} s (sum {np.sum(cpu_all):.0f}); "
        f"load at end {os.getloadavg()}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
