"""Semi-supervised dispatch classifier: unlabelled messages of the same board, compared on the development part.

The shared data holds 1,408 more messages of the same message board without a category
(`replies_queries_dev.csv`, subject + detail; nothing else of that file is read) and 2,816 official replies
(`replies_corpus.csv`, column reply). Variants (the product's `model.build` otherwise unchanged):

- `current`: the product as it is;
- `V1-vocab-q`: the TF-IDF views (vocabulary, min_df, IDF) fitted on the training rows + the unlabelled messages,
  the classifiers on the labelled training rows only;
- `V1-vocab-qr`: the same with the official replies too;
- `V2-st90-w1`: self-training, one round: fit `current`, pseudo-label the unlabelled messages whose calibrated
  confidence is >= 0.9, refit on the labelled rows + those (weight 1);
- `V2-st90-w05`: the same, pseudo-labelled rows weighted 0.5 (the NB-SVM's naive-Bayes counts and both SVMs
  and calibrations weighted; `model.NBSVM` takes sample weights);
- `V2-topk-w1`: as many pseudo-labels as `V2-st90-w1` selects, but shared out over the predicted classes in
  proportion to the labelled training rows' class shares (the most confident of each class; at most what a
  class has);
- `V2-st90-w1-r2`: a second round: the `V2-st90-w1` model pseudo-labels all unlabelled messages again
  (confidence >= 0.9), refit;
- `V3-vocab+st90-w1`: both: `V1-vocab-q`'s model pseudo-labels (>= 0.9), refit with the same views;
- `V3-vocabqr+st90-w1`: the same from `V1-vocab-qr` (views on training rows + messages + replies); added after
  the first run (seed 0) of the others.

Unlabelled messages are never scored. Pseudo-labelling happens inside each training fold only: the model that
labels them never saw the fold's scored rows, and unlabelled messages that are near-copies of a scored row
(character-bigram TF-IDF cosine >= 0.7, the measure of `corpus.near_duplicate_groups`; 72 of the 1,408 are
near-copies of some labelled row) are left out of that fold's unlabelled pool — the hidden set's messages are
not in the shared files, so the pool must not hold copies of the scored rows either.

Protocol as `bench/dispatch_variants.py` (bench/dispatch.md, "Update 2026-11-28, 20:00"): development part of the
twins split (seed 42), twins-grouped 5-fold CV inside it (seed 0; `--cv-seed`); `--holdout` fits on the whole
development part and scores once on the held-out fifth. Every variant of a fold is fitted in the same worker
(the self-training variants reuse that fold's `current` / `V1-vocab-q` fit as their first round), so the time
printed per variant is the CPU of its own fits: add the first round's for a self-training variant's full cost.

    nice -n 5 .venv/bin/python bench/dispatch_semi.py --json /tmp/dsemi/cv0.json
    nice -n 5 .venv/bin/python bench/dispatch_semi.py --cv-seed 1 --variant current --variant NAME
    nice -n 5 .venv/bin/python bench/dispatch_semi.py --holdout --variant current --variant NAME
    nice -n 5 .venv/bin/python bench/dispatch_semi.py --full-fit NAME   # one full training's time, all rows
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedGroupKFold

from dispatch_variants import _line, _scores
from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models
from hotline.dispatch import text as textprep

QUERIES = "replies_queries_dev.csv"
REPLIES = "replies_corpus.csv"
VARIANTS = [
    "current",
    "V1-vocab-q",
    "V1-vocab-qr",
    "V2-st90-w1",
    "V2-st90-w05",
    "V2-topk-w1",
    "V2-st90-w1-r2",
    "V3-vocab+st90-w1",
    "V3-vocabqr+st90-w1",
]
THRESHOLD = 0.9


class Model:
    """The product's pipeline, its views fitted on the training texts plus any extra (unlabelled) texts."""

    def __init__(
        self,
        texts: list[str],
        labels: np.ndarray,
        vocab_extra: list[str] | None = None,
        weights: np.ndarray | None = None,
        params: models.Params | None = None,
    ) -> None:
        params = params or models.Params()
        pipeline = models.build(params)
        if weights is not None:
            pipeline.set_params(clf__nbsvm__estimator=models.NBSVM(C=params.nbsvm_C, random_state=params.seed))
        self.features = pipeline.named_steps["features"]
        self.clf = pipeline.named_steps["clf"]
        self.features.fit(texts + (vocab_extra or []))
        X = self.features.transform(texts)
        if weights is None:
            self.clf.fit(X, labels)
        else:
            self.clf.fit(X, labels, sample_weight=weights)
        self.classes = np.asarray(self.clf.classes_)

    def proba(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.clf.predict_proba(self.features.transform(texts)))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes[self.proba(texts).argmax(axis=1)]


def _confident(probs: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.flatnonzero(probs.max(axis=1) >= THRESHOLD)
    return keep, classes[probs[keep].argmax(axis=1)]


def _balanced(probs: np.ndarray, classes: np.ndarray, train_labels: np.ndarray, budget: int) -> tuple[Any, Any]:
    """`budget` pseudo-labels shared out in proportion to the training class shares, most confident first."""
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    shares = Counter(train_labels.tolist())
    keep = []
    for k, cls in enumerate(classes):
        want = round(budget * shares[cls] / len(train_labels))
        mine = np.flatnonzero(pred == k)
        keep.extend(mine[np.argsort(-conf[mine])][:want].tolist())
    keep_arr = np.asarray(sorted(keep), dtype=np.int64)
    return keep_arr, classes[pred[keep_arr]]


def _augment(
    texts: list[str], labels: np.ndarray, pool: list[str], keep: np.ndarray, pseudo: np.ndarray
) -> tuple[list[str], np.ndarray]:
    return texts + [pool[i] for i in keep], np.concatenate([labels, pseudo])


def run_variants(
    names: list[str],
    texts: list[str],
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    pool: list[str],
    replies: list[str],
) -> dict[str, Any]:
    """Fit every asked variant on `train` (with the unlabelled `pool`), predict `test`; CPU seconds per fit."""
    tr_texts = [texts[i] for i in train]
    tr_labels = labels[train]
    te_texts = [texts[i] for i in test]
    out: dict[str, Any] = {"test": test, "pred": {}, "cpu": {}, "pseudo": {}}
    fitted: dict[str, Model] = {}

    def fit(name: str, *args: Any, **kwargs: Any) -> Model:
        started = time.process_time()
        m = Model(*args, **kwargs)
        out["cpu"][name] = time.process_time() - started
        fitted[name] = m
        if name in names and te_texts:
            out["pred"][name] = m.predict(te_texts)
        return m

    def need(*wanted: str) -> bool:
        return any(w in names for w in wanted)

    if need("current", "V2-st90-w1", "V2-st90-w05", "V2-topk-w1", "V2-st90-w1-r2"):
        base = fit("current", tr_texts, tr_labels)
        probs = base.proba(pool)
        keep, pseudo = _confident(probs, base.classes)
        out["pseudo"]["round 1"] = {"n": len(keep), "classes": dict(Counter(pseudo.tolist()))}
        if need("V2-st90-w1", "V2-st90-w1-r2"):
            st = fit("V2-st90-w1", *_augment(tr_texts, tr_labels, pool, keep, pseudo))
            if need("V2-st90-w1-r2"):
                keep2, pseudo2 = _confident(st.proba(pool), st.classes)
                out["pseudo"]["round 2"] = {"n": len(keep2), "classes": dict(Counter(pseudo2.tolist()))}
                fit("V2-st90-w1-r2", *_augment(tr_texts, tr_labels, pool, keep2, pseudo2))
        if need("V2-st90-w05"):
            w = np.concatenate([np.ones(len(tr_texts)), np.full(len(keep), 0.5)])
            fit("V2-st90-w05", *_augment(tr_texts, tr_labels, pool, keep, pseudo), weights=w)
        if need("V2-topk-w1"):
            keep_b, pseudo_b = _balanced(probs, base.classes, tr_labels, len(keep))
            out["pseudo"]["balanced"] = {"n": len(keep_b), "classes": dict(Counter(pseudo_b.tolist()))}
            fit("V2-topk-w1", *_augment(tr_texts, tr_labels, pool, keep_b, pseudo_b))
    if need("V1-vocab-q", "V3-vocab+st90-w1"):
        vocab = fit("V1-vocab-q", tr_texts, tr_labels, vocab_extra=pool)
        if need("V3-vocab+st90-w1"):
            keep_v, pseudo_v = _confident(vocab.proba(pool), vocab.classes)
            out["pseudo"]["vocab round 1"] = {"n": len(keep_v), "classes": dict(Counter(pseudo_v.tolist()))}
            aug_texts, aug_labels = _augment(tr_texts, tr_labels, pool, keep_v, pseudo_v)
            # The views' texts are the same (training + whole pool) whatever was pseudo-labelled.
            rest = [pool[i] for i in np.setdiff1d(np.arange(len(pool)), keep_v)]
            fit("V3-vocab+st90-w1", aug_texts, aug_labels, vocab_extra=rest)
    if need("V1-vocab-qr", "V3-vocabqr+st90-w1"):
        vocab_qr = fit("V1-vocab-qr", tr_texts, tr_labels, vocab_extra=pool + replies)
        if need("V3-vocabqr+st90-w1"):
            keep_v, pseudo_v = _confident(vocab_qr.proba(pool), vocab_qr.classes)
            out["pseudo"]["vocab-qr round 1"] = {"n": len(keep_v), "classes": dict(Counter(pseudo_v.tolist()))}
            aug_texts, aug_labels = _augment(tr_texts, tr_labels, pool, keep_v, pseudo_v)
            rest = [pool[i] for i in np.setdiff1d(np.arange(len(pool)), keep_v)]
            fit("V3-vocabqr+st90-w1", aug_texts, aug_labels, vocab_extra=rest + replies)
    out["pred"] = {k: v for k, v in out["pred"].items() if k in names}
    return out


def load_unlabelled(data_dir: Path) -> tuple[list[str], list[str]]:
    """The unlabelled messages (subject + detail, as the labelled raw file joins them) and the replies, prepared."""
    with (data_dir / QUERIES).open(encoding="utf-8-sig", newline="") as f:
        queries = [(r["subject"] or "") + (r["detail"] or "") for r in csv.DictReader(f)]
    with (data_dir / REPLIES).open(encoding="utf-8-sig", newline="") as f:
        replies = [r["reply"] or "" for r in csv.DictReader(f)]
    return textprep.prepare_many(queries), textprep.prepare_many(replies)


def near_copies(pool: list[str], texts: list[str]) -> list[np.ndarray]:
    """For each pool message, the labelled rows it is a near-copy of (char-bigram cosine >= 0.7)."""
    vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), preprocessor=corpora._unspaced).fit(texts + pool)
    sim = (vec.transform(pool) @ vec.transform(texts).T).tocsr()
    sim.data[sim.data < corpora.NEAR_DUPLICATE] = 0
    sim.eliminate_zeros()
    return [sim.indices[sim.indptr[i] : sim.indptr[i + 1]] for i in range(len(pool))]


def pool_for(test: np.ndarray, pool: list[str], copies: list[np.ndarray], rows: int) -> list[str]:
    """The unlabelled messages that are not near-copies of a scored row."""
    scored = np.zeros(rows, bool)
    scored[test] = True
    return [text for text, c in zip(pool, copies, strict=True) if not scored[c].any()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="repeatable; default all")
    parser.add_argument("--holdout", action="store_true", help="fit on the development part, score the held-out")
    parser.add_argument("--full-fit", choices=VARIANTS, help="time one training of this variant on all rows")
    parser.add_argument("--jobs", type=int, default=2, help="folds fitted in parallel")
    parser.add_argument("--cv-seed", type=int, default=0, help="seed of the development folds (0 as in dispatch.md)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = args.variant or VARIANTS

    corpus = corpora.load_shared(args.data_dir)
    texts = corpus.texts
    labels = np.asarray(corpus.labels)
    sources = np.asarray(corpus.sources)
    pool, replies = load_unlabelled(args.data_dir)
    copies = near_copies(pool, texts)
    print(
        f"unlabelled messages {len(pool)} ({sum(len(c) > 0 for c in copies)} near-copies of a labelled row), "
        f"replies {len(replies)}",
        flush=True,
    )
    results: dict[str, Any] = {"cv_seed": args.cv_seed, "holdout": args.holdout}

    if args.full_fit:
        everything = np.arange(len(texts))
        started = time.perf_counter()
        out = run_variants([args.full_fit], texts, labels, everything, everything[:0], pool, replies)
        wall = time.perf_counter() - started
        print(f"full fit {args.full_fit}: wall {wall:.1f} s, CPU per fit {out['cpu']}, pseudo {out['pseudo']}")
        results["full_fit"] = {"variant": args.full_fit, "wall": round(wall, 1), "cpu": out["cpu"]}
    else:
        groups = corpora.twin_groups(corpus)
        dev, held = next(StratifiedGroupKFold(5, shuffle=True, random_state=42).split(labels, labels, groups))
        print(f"development rows {len(dev)}, held-out rows {len(held)}", flush=True)
        if args.holdout:
            splits = [(dev, held)]
        else:
            folds = StratifiedGroupKFold(5, shuffle=True, random_state=args.cv_seed)
            splits = [(dev[tr], dev[te]) for tr, te in folds.split(dev, labels[dev], groups[dev])]
        started = time.perf_counter()
        outs = Parallel(n_jobs=args.jobs)(
            delayed(run_variants)(names, texts, labels, tr, te, pool_for(te, pool, copies, len(texts)), replies)
            for tr, te in splits
        )
        wall = time.perf_counter() - started
        scored = np.concatenate([o["test"] for o in outs])
        where = "held-out" if args.holdout else "dev CV"
        for name in names:
            predicted = np.concatenate([o["pred"][name] for o in outs])
            cpu = [round(o["cpu"][name], 1) for o in outs]
            s = _scores(labels, predicted, scored, sources)
            results[f"{where} {name}"] = {**s, "cpu_per_fit": cpu}
            print(f"{where} " + _line(name, float(np.mean(cpu)), s), flush=True)
        for i, o in enumerate(outs):
            print(
                f"split {i}: pool {len(pool_for(splits[i][1], pool, copies, len(texts)))}, pseudo-labels {o['pseudo']}"
            )
            results[f"split {i} pseudo"] = o["pseudo"]
        results["wall"] = round(wall, 1)
        print(f"wall {wall:.0f} s (CPU per fit printed in brackets, mean of the splits)")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
