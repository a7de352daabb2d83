"""Dispatch classifier: decision rule, class weights and label cleaning, compared on the development part.

Three cheap changes that leave the features and the model family alone (issue #6; the product's `model.build`):

- `offsets`: per-class additive offsets on the model's log-probabilities (the mean of the two calibrated
  members' probabilities), chosen to maximise macro-F1, instead of the plain argmax. NESTED: for each outer
  fold, an inner twins-grouped CV (`--inner-folds`, same seed) inside the outer TRAINING rows gives out-of-fold
  probabilities of those rows; the offsets are fitted on them (coordinate ascent over a grid, see
  `fit_offsets`) and applied to the outer model's probabilities of the outer test fold, which took no part in
  choosing them. Also printed, for comparison only: offsets fitted on the inner out-of-fold rows of the raw
  form only (`offsets-raw`), offsets fitted on the OTHER outer folds' out-of-fold probabilities (`offsets-xfit`,
  not nested: those probabilities come from models that saw the scored fold), and offsets fitted on the scored
  rows themselves (`offsets-oracle`, an optimistic upper bound of what any offsets could give);
- `balanced`: class_weight="balanced" for both members: the SVM's `LinearSVC(class_weight="balanced")` and the
  NB-SVM with the same per-class weights as sample weights (`BalancedNBSVM`: naive-Bayes counts and each
  one-vs-rest SVM weighted; the sigmoid calibration itself unweighted, as for the SVM's class_weight);
- `clean-drop` / `clean-major`: label cleaning inside the outer training fold only: training rows are grouped
  as `corpus.near_duplicate_groups` does (character-bigram TF-IDF cosine, connected components) at cosine
  >= `--clean-threshold` (0.9); in a group whose rows carry different labels, `clean-drop` drops every row,
  `clean-major` relabels the rows to the group's most frequent label (groups with a tie for most frequent are
  dropped). The scored rows keep their labels.

Protocol as `bench/dispatch_variants.py` (bench/dispatch.md, "Update 2026-11-28, 20:00"): development part of the
twins split (seed 42), twins-grouped 5-fold CV inside it (seed 0; `--cv-seed`), raw rows scored in the form
hidden messages arrive (through `prepare`). The held-out fifth is not touched. Every fit is one task; tasks
run `--jobs` at a time; each fit's CPU time is recorded in its worker. Probabilities are saved (`--save`) so the
offsets can be refitted without refitting models (`--load`).

    nice -n 5 .venv/bin/python bench/dispatch_decision.py --save /tmp/ddec/cv0.npz --json /tmp/ddec/cv0.json
    nice -n 5 .venv/bin/python bench/dispatch_decision.py --cv-seed 1 --save /tmp/ddec/cv1.npz --json /tmp/ddec/cv1.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedGroupKFold

from dispatch_variants import _line, _scores
from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models

VARIANTS = ["current", "balanced", "clean-drop", "clean-major"]
GRID = np.round(np.arange(-3.0, 3.0001, 0.05), 2)


class BalancedNBSVM(models.NBSVM):
    """`model.NBSVM` whose rows are weighted n / (k * n_class) when no sample weights are given."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BalancedNBSVM:
        if sample_weight is None:
            y_arr = np.asarray(y)
            classes, inverse, counts = np.unique(y_arr, return_inverse=True, return_counts=True)
            sample_weight = (len(y_arr) / (len(classes) * counts))[inverse]
        super().fit(X, y, sample_weight=sample_weight)
        return self


def _pipeline(variant: str, params: models.Params) -> Any:
    pipeline = models.build(params)
    if variant == "balanced":
        pipeline.set_params(
            clf__svm__estimator__class_weight="balanced",
            clf__nbsvm__estimator=BalancedNBSVM(C=params.nbsvm_C, random_state=params.seed),
        )
    return pipeline


def clean(texts: list[str], labels: np.ndarray, how: str, threshold: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """Rows kept (index into `texts`) and their labels after cleaning; and what was done."""
    groups = corpora.near_duplicate_groups(texts, threshold)
    keep = np.ones(len(texts), bool)
    new = labels.copy()
    stats = Counter()
    sizes = Counter(groups.tolist())
    stats["max_group"] = max(sizes.values())
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        if len(rows) < 2:
            continue
        counts = Counter(labels[rows].tolist()).most_common()
        if len(counts) == 1:
            continue
        stats["conflict_groups"] += 1
        stats["conflict_rows"] += len(rows)
        tie = len(counts) > 1 and counts[0][1] == counts[1][1]
        if how == "clean-drop" or tie:
            keep[rows] = False
            stats["dropped"] += len(rows)
        else:
            minority = rows[labels[rows] != counts[0][0]]
            new[minority] = counts[0][0]
            stats["relabelled"] += len(minority)
    idx = np.flatnonzero(keep)
    return idx, new[idx], dict(stats)


def fit_proba(
    variant: str, texts: list[str], labels: np.ndarray, train: np.ndarray, test: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Fit `variant` on `train`, return the probabilities of `test` (columns: sorted labels) and the CPU time."""
    started = time.process_time()
    tr_texts = [texts[i] for i in train]
    tr_labels = labels[train]
    info: dict[str, Any] = {}
    if variant.startswith("clean-"):
        kept, tr_labels, info = clean(tr_texts, tr_labels, variant, threshold)
        tr_texts = [tr_texts[i] for i in kept]
    pipeline = _pipeline(variant, models.Params(seed=0))
    pipeline.fit(tr_texts, tr_labels)
    assert list(pipeline.classes_) == sorted(set(labels.tolist()))
    probs = np.asarray(pipeline.predict_proba([texts[i] for i in test]))
    return {"probs": probs, "cpu": time.process_time() - started, "clean": info}


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 over k classes from integer labels (as sklearn's f1_score average="macro" with all classes present)."""
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(float)
    denom = cm.sum(axis=0) + cm.sum(axis=1)
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1.mean())


def fit_offsets(logp: np.ndarray, y: np.ndarray, passes: int = 10) -> np.ndarray:
    """Per-class offsets b (b[0] = 0) maximising the macro-F1 of argmax(logp + b); coordinate ascent on GRID.

    Each coordinate moves to the grid value reaching the best score that lies closest to the median of all such
    values (the middle of the best plateau rather than its edge); stops after a pass without a strict gain.
    """
    k = logp.shape[1]
    b = np.zeros(k)
    best = macro_f1(y, logp.argmax(axis=1), k)
    for _ in range(passes):
        gained = False
        for c in range(1, k):
            trial = b.copy()
            scores = np.empty(len(GRID))
            for n, v in enumerate(GRID):
                trial[c] = v
                scores[n] = macro_f1(y, (logp + trial).argmax(axis=1), k)
            top = scores.max()
            if top < best - 1e-12:  # b[c] is on the grid, so this cannot happen; keep b as it is
                continue
            winners = GRID[scores >= top - 1e-12]
            b[c] = float(winners[np.argmin(np.abs(winners - np.median(winners)))])
            gained = gained or top > best + 1e-12
            best = top
        if not gained:
            break
    return b


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, 1e-12, None))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="repeatable; default all")
    parser.add_argument("--inner-folds", type=int, default=5, help="inner CV for the offsets; 0 skips them")
    parser.add_argument("--clean-threshold", type=float, default=0.9)
    parser.add_argument("--jobs", type=int, default=2, help="fits run in parallel")
    parser.add_argument("--cv-seed", type=int, default=0, help="seed of the development folds (0 as in dispatch.md)")
    parser.add_argument("--save", type=Path, help="save every fit's probabilities (npz)")
    parser.add_argument("--load", type=Path, help="reuse saved probabilities instead of fitting")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = args.variant or VARIANTS
    if args.inner_folds and "current" not in names:
        names = ["current", *names]

    corpus = corpora.load_shared(args.data_dir)
    texts = corpus.texts
    labels = np.asarray(corpus.labels)
    sources = np.asarray(corpus.sources)
    classes = np.asarray(sorted(set(labels.tolist())))
    y_all = np.searchsorted(classes, labels)
    k = len(classes)
    groups = corpora.twin_groups(corpus)
    dev, held = next(StratifiedGroupKFold(5, shuffle=True, random_state=42).split(labels, labels, groups))
    folds = StratifiedGroupKFold(5, shuffle=True, random_state=args.cv_seed)
    outer = [(dev[tr], dev[te]) for tr, te in folds.split(dev, labels[dev], groups[dev])]
    print(f"development rows {len(dev)}, held-out rows {len(held)} (not used); load {os.getloadavg()}", flush=True)

    tasks: list[tuple[str, str, np.ndarray, np.ndarray]] = []  # (key, variant, train, test)
    for i, (tr, te) in enumerate(outer):
        for name in names:
            tasks.append((f"outer{i}/{name}", name, tr, te))
    if args.inner_folds:
        inner_cv = StratifiedGroupKFold(args.inner_folds, shuffle=True, random_state=args.cv_seed)
        for i, (tr, _) in enumerate(outer):
            for j, (itr, ite) in enumerate(inner_cv.split(tr, labels[tr], groups[tr])):
                tasks.append((f"inner{i}.{j}/current", "current", tr[itr], tr[ite]))

    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    if args.load:
        saved = np.load(args.load, allow_pickle=True)
        stored = saved["results"].item()
        for key, _, _, test in tasks:
            assert np.array_equal(stored[key]["test"], test), key
            results[key] = stored[key]
    else:
        print(f"{len(tasks)} fits, {args.jobs} at a time", flush=True)
        outs = Parallel(n_jobs=args.jobs)(
            delayed(fit_proba)(variant, texts, labels, tr, te, args.clean_threshold) for _, variant, tr, te in tasks
        )
        for (key, _, _, te), out in zip(tasks, outs, strict=True):
            results[key] = {**out, "test": te}
        if args.save:
            args.save.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(args.save, results=np.asarray(results, dtype=object))
    wall = time.perf_counter() - started
    report: dict[str, Any] = {
        "cv_seed": args.cv_seed,
        "inner_folds": args.inner_folds,
        "fits": len(tasks),
        "wall": round(wall, 1),
        "cpu_sum_of_fits": round(sum(r["cpu"] for r in results.values())),
        "load_end": os.getloadavg(),
    }

    def outer_probs(name: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        rows = np.concatenate([results[f"outer{i}/{name}"]["test"] for i in range(len(outer))])
        probs = [results[f"outer{i}/{name}"]["probs"] for i in range(len(outer))]
        return rows, np.vstack(probs), probs

    def show(label: str, rows: np.ndarray, pred_idx: np.ndarray, cpu: float | None = None) -> None:
        s = _scores(labels, classes[pred_idx], rows, sources)
        report[label] = s
        print("dev CV " + _line(label, cpu if cpu is not None else 0.0, s), flush=True)

    for name in names:
        rows, probs, _ = outer_probs(name)
        cpu = float(np.mean([results[f"outer{i}/{name}"]["cpu"] for i in range(len(outer))]))
        show(name, rows, probs.argmax(axis=1), cpu)
        if name.startswith("clean-"):
            report[f"{name} cleaning"] = [results[f"outer{i}/{name}"]["clean"] for i in range(len(outer))]
            print(f"  {name} per fold: {report[f'{name} cleaning']}")

    if args.inner_folds:
        rows_o, _, per_fold = outer_probs("current")
        fits = {"offsets": [], "offsets-raw": [], "offsets-xfit": [], "offsets-oracle": []}
        preds = {key: [] for key in fits}
        inner_diag = []
        for i, (tr, te) in enumerate(outer):
            inner_keys = [key for key in results if key.startswith(f"inner{i}.")]
            irows = np.concatenate([results[key]["test"] for key in inner_keys])
            iprobs = np.vstack([results[key]["probs"] for key in inner_keys])
            assert np.array_equal(np.sort(irows), np.sort(tr))
            ilog, iy = _log(iprobs), y_all[irows]
            b = fit_offsets(ilog, iy)
            raw_mask = sources[irows] == corpora.RAW
            b_raw = fit_offsets(ilog[raw_mask], iy[raw_mask])
            others = [j for j in range(len(outer)) if j != i]
            xlog = _log(np.vstack([per_fold[j] for j in others]))
            b_x = fit_offsets(xlog, np.concatenate([y_all[outer[j][1]] for j in others]))
            tlog = _log(per_fold[i])
            b_o = fit_offsets(tlog, y_all[te])
            inner_diag.append(
                {
                    "inner_argmax": round(macro_f1(iy, ilog.argmax(axis=1), k), 4),
                    "inner_offsets": round(macro_f1(iy, (ilog + b).argmax(axis=1), k), 4),
                    "offsets": dict(zip(classes.tolist(), b.round(2).tolist(), strict=True)),
                    "offsets_raw": dict(zip(classes.tolist(), b_raw.round(2).tolist(), strict=True)),
                }
            )
            for key, off in (("offsets", b), ("offsets-raw", b_raw), ("offsets-xfit", b_x), ("offsets-oracle", b_o)):
                fits[key].append(off)
                preds[key].append((tlog + off).argmax(axis=1))
        for key in fits:
            show(f"current+{key}", rows_o, np.concatenate(preds[key]))
        inner_rows = np.concatenate([results[key]["test"] for key in results if key.startswith("inner0.")])
        print(f"inner CV rows per outer fold ~{len(inner_rows)}; per fold (inner OOF macro-F1 argmax -> offsets):")
        for i, d in enumerate(inner_diag):
            print(f"  outer {i}: {d['inner_argmax']:.4f} -> {d['inner_offsets']:.4f}; offsets {d['offsets']}")
            print(f"           raw-only offsets {d['offsets_raw']}")
        report["inner"] = inner_diag
        report["offsets_all_folds"] = {key: [o.round(2).tolist() for o in v] for key, v in fits.items()}
    cpu_all = [r["cpu"] for r in results.values()]
    print(
        f"wall {wall:.0f} s for {len(tasks)} fits; CPU per fit mean {np.mean(cpu_all):.1f} s "
        f"(min {np.min(cpu_all):.1f}, max {np.max(cpu_all):.1f}), sum {np.sum(cpu_all):.0f} s; "
        f"load at end {os.getloadavg()}"
    )
    report["cpu_per_fit"] = {key: round(r["cpu"], 1) for key, r in results.items()}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
