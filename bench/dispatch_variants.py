"""Variants of the dispatch classifier's training data and tokenisation, compared on the development part only.

Hypothesis: the training rows are mostly the segmented file, cut by the ORIGINAL pipeline (another jieba set-up,
another stop-word list), while hidden messages arrive raw and are cut by `text.prepare` (rjieba + our stop words):
train and test tokenisations differ. Variants (all with the product's `model.build`):

- `current`: the product as it is (segmented rows as cut in the file, raw rows through `prepare`);
- `A-recut`: segmented rows re-cut by our pipeline, `prepare("".join(text_seg.split()))`, so every row, in
  training and test, is tokenised as a hidden message would be;
- `B-both`: each segmented training row twice, as cut in the file and re-cut (both copies in the row's fold,
  since the copies are rows of the same twin group; segmented rows are scored in the re-cut form);
- `C-userdict`: like A, but cut by an rjieba with the segmented file's words (length >= 2, seen >= `--min-count`
  times, not already in the dictionary) added (`Jieba.add_word`);
- `D-nbsvm03`: current data, NB-SVM C 0.3 instead of 0.1;
- `D-balanced`: current data, the SVM member with class_weight="balanced";
- `A+nbsvm03`: A's data with NB-SVM C 0.3.

Protocol (bench/dispatch.md, "Update 2026-11-28"): the rows are split once over the twin groups
(`corpus.twin_groups` on the product's corpus; `StratifiedGroupKFold(5, shuffle, seed 42)`, first split:
development / held-out fifth, as `bench/dispatch_holdout.py`). Candidates are compared by 5-fold
`StratifiedGroupKFold(shuffle, seed 0; --cv-seed)` over the same twin groups inside the development part, the same folds
for every variant (rows are in the same order whatever their form). Raw rows are always scored through
`prepare` (or the variant's own cutter for C): the form in which hidden messages arrive. `--holdout NAME` then
fits `current` and NAME on the whole development part and scores both once on the held-out fifth.

    nice -n 5 .venv/bin/python bench/dispatch_variants.py [--variant current --variant A-recut ...] [--json out.json]
    nice -n 5 .venv/bin/python bench/dispatch_variants.py --holdout A-recut   # once, for the chosen variant
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import rjieba
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedGroupKFold

from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models
from hotline.dispatch import text as textprep


@dataclass
class Forms:
    """Every row's text in the forms the variants need (index = row of the product's corpus)."""

    current: list[str]  # the product's corpus
    recut: list[str]  # segmented rows re-cut by `prepare`; raw rows as in current
    userdict: list[str]  # every row cut by the user-dictionary cutter
    seg_mask: np.ndarray


@dataclass
class Variant:
    name: str
    train: Callable[[Forms, np.ndarray], tuple[list[str], np.ndarray]]  # rows -> texts and row of each text
    test: Callable[[Forms], list[str]]
    params: models.Params = field(default_factory=models.Params)
    svm_class_weight: str | None = None


def _one(form: str) -> Callable[[Forms, np.ndarray], tuple[list[str], np.ndarray]]:
    def train(forms: Forms, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
        texts = getattr(forms, form)
        return [texts[i] for i in rows], rows

    return train


def _both(forms: Forms, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    extra = rows[forms.seg_mask[rows]]
    return [forms.current[i] for i in rows] + [forms.recut[i] for i in extra], np.concatenate([rows, extra])


VARIANTS = {
    v.name: v
    for v in (
        Variant("current", _one("current"), lambda f: f.current),
        Variant("A-recut", _one("recut"), lambda f: f.recut),
        Variant("B-both", _both, lambda f: f.recut),
        Variant("C-userdict", _one("userdict"), lambda f: f.userdict),
        Variant("D-nbsvm03", _one("current"), lambda f: f.current, models.Params(nbsvm_C=0.3)),
        Variant("D-balanced", _one("current"), lambda f: f.current, svm_class_weight="balanced"),
        Variant("A+nbsvm03", _one("recut"), lambda f: f.recut, models.Params(nbsvm_C=0.3)),
    )
}


def _user_cutter(seg_texts: list[str], min_count: int) -> tuple[rjieba.Jieba, int]:
    """An rjieba with the segmented file's frequent words (>= 2 characters) that the dictionary lacks."""
    counts = Counter(t for text in seg_texts for t in text.split())
    cutter = rjieba.Jieba()
    added = 0
    for word, n in counts.items():
        if n >= min_count and len(word) >= 2 and not word.isascii() and not cutter.has_word(word):
            cutter.add_word(word, None, None)
            added += 1
    return cutter, added


def _prepare_with(cutter: rjieba.Jieba, text: str) -> str:
    """`text.prepare` with another cutter (same place masks, stop words and punctuation filter)."""
    for pattern, repl in textprep.PLACE_MASKS:
        text = pattern.sub(repl, text)
    stop = textprep.stopwords()
    return " ".join(
        t for t in cutter.cut(text, hmm=textprep.HMM) if t not in stop and not textprep._PUNCT_OR_SPACE.match(t)
    )


def load_forms(data_dir: Path, min_count: int) -> tuple[corpora.Corpus, Forms]:
    corpus = corpora.load_shared(data_dir)
    seg_raw = [t for _, t in corpora._read(data_dir / corpora.SEGMENTED, "text_seg")]
    raw_raw = [t for _, t in corpora._read(data_dir / corpora.LABELLED, "text")]
    n_seg = len(seg_raw)
    assert len(corpus) == n_seg + len(raw_raw)
    recut = [textprep.prepare("".join(t.split())) for t in seg_raw] + corpus.texts[n_seg:]
    cutter, added = _user_cutter(seg_raw, min_count)
    userdict = [_prepare_with(cutter, "".join(t.split())) for t in seg_raw] + [
        _prepare_with(cutter, t) for t in raw_raw
    ]
    seg_mask = np.asarray(corpus.sources) == corpora.SEG
    changed = sum(a != b for a, b in zip(corpus.texts[:n_seg], recut[:n_seg], strict=True))
    raw_changed = sum(a != b for a, b in zip(corpus.texts[n_seg:], userdict[n_seg:], strict=True))
    print(
        f"segmented rows whose re-cut differs from the file's cut: {changed} of {n_seg}; user dictionary: "
        f"{added} words added (seen >= {min_count} times), raw rows cut differently with it: {raw_changed}",
        flush=True,
    )
    return corpus, Forms(corpus.texts, recut, userdict, seg_mask)


def _pipeline(variant: Variant) -> Any:
    pipeline = models.build(variant.params)
    if variant.svm_class_weight:
        key = "clf__svm__estimator__class_weight" if variant.params.nbsvm_C else "clf__estimator__class_weight"
        pipeline.set_params(**{key: variant.svm_class_weight})
    return pipeline


def _fit_predict(
    variant: Variant, forms: Forms, labels: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    started = time.process_time()
    texts, rows = variant.train(forms, train)
    pipeline = _pipeline(variant)
    pipeline.fit(texts, labels[rows])
    test_texts = variant.test(forms)
    return test, np.asarray(pipeline.predict([test_texts[i] for i in test])), time.process_time() - started


def _scores(labels: np.ndarray, predicted: np.ndarray, rows: np.ndarray, sources: np.ndarray) -> dict[str, Any]:
    out = {}
    for key, mask in (
        ("all", np.ones(len(rows), bool)),
        ("segmented", sources[rows] == corpora.SEG),
        ("raw", sources[rows] == corpora.RAW),
    ):
        out[key] = models.scores(labels[rows][mask].tolist(), predicted[mask].tolist())
    return out


def _line(name: str, seconds: float, s: dict[str, Any]) -> str:
    parts = [f"{k} macro-F1 {s[k]['macro_f1']:.4f} acc {s[k]['accuracy']:.4f}" for k in ("all", "segmented", "raw")]
    return f"{name:12s} ({seconds:6.1f} s) | " + " | ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="repeatable; default all")
    parser.add_argument("--min-count", type=int, default=3, help="user dictionary: times a word must be seen")
    parser.add_argument("--holdout", choices=list(VARIANTS), help="score current and this variant on held-out")
    parser.add_argument("--jobs", type=int, default=2, help="folds fitted in parallel")
    parser.add_argument("--cv-seed", type=int, default=0, help="seed of the development folds (0 as in dispatch.md)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    corpus, forms = load_forms(args.data_dir, args.min_count)
    labels = np.asarray(corpus.labels)
    sources = np.asarray(corpus.sources)
    groups = corpora.twin_groups(corpus)
    dev, held = next(StratifiedGroupKFold(5, shuffle=True, random_state=42).split(labels, labels, groups))
    print(f"development rows {len(dev)}, held-out rows {len(held)}", flush=True)
    results: dict[str, Any] = {
        "development_rows": len(dev),
        "held_out_rows": len(held),
        "min_count": args.min_count,
        "cv_seed": args.cv_seed,
    }

    if args.holdout:
        for name in dict.fromkeys(["current", args.holdout]):
            variant = VARIANTS[name]
            rows, predicted, cpu = _fit_predict(variant, forms, labels, dev, held)
            s = _scores(labels, predicted, rows, sources)
            results[f"held-out {name}"] = s
            print("held-out " + _line(name, cpu, s), flush=True)
    else:
        splits = list(
            StratifiedGroupKFold(5, shuffle=True, random_state=args.cv_seed).split(dev, labels[dev], groups[dev])
        )
        for name in args.variant or list(VARIANTS):
            variant = VARIANTS[name]
            variant = replace(variant, params=replace(variant.params, seed=0))
            started = time.perf_counter()
            predicted = np.empty(len(corpus), dtype=object)
            cpu = 0.0
            for test, fold_pred, fold_cpu in Parallel(n_jobs=args.jobs)(
                delayed(_fit_predict)(variant, forms, labels, dev[tr], dev[te]) for tr, te in splits
            ):
                predicted[test] = fold_pred
                cpu += fold_cpu
            s = _scores(labels, predicted[dev], dev, sources)
            results[f"dev-cv {name}"] = {**s, "seconds": round(time.perf_counter() - started, 1), "cpu": round(cpu)}
            print("dev CV " + _line(name, time.perf_counter() - started, s), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
