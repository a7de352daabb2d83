"""Dispatch classifier benchmark: 5-fold macro-F1 and accuracy, training time, predictions per second.

Runs, on the same folds, the plain baseline (jieba words, TF-IDF, LinearSVC with defaults) and the platform's
model (word 1-2-grams + char 1-4-grams TF-IDF; calibrated LinearSVC and NB-SVM, probabilities averaged).
Three kinds of folds (`--kind`, repeatable; all three by default):

- `grouped`: near-duplicates (character-bigram cosine >= 0.7, connected components) never straddle folds —
  the strictest: a repost of a training message never counts;
- `twins`: only each raw message and its segmented twin (the same message in the other file) are kept
  together; reposts inside the data may straddle folds, as they would between training and new messages;
- `plain`: stratified folds ignoring both (leaks: a raw message is scored by a model that saw its twin).

Scores are given over all rows, over the segmented rows and over the raw rows (the raw rows are scored through
the same `prepare` the `predict` command uses — the form in which hidden messages arrive).
Training time is one full fit of the final model; predictions/s runs raw texts through `prepare` + the model.

    .venv/bin/python bench/dispatch_eval.py [--kind grouped --kind twins --kind plain] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models
from hotline.dispatch import predictor as predictors
from hotline.dispatch import text as textprep

KINDS = ("grouped", "twins", "plain")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-cv", action="store_true", help="only training time and prediction speed")
    parser.add_argument("--kind", action="append", choices=KINDS, help="kind of folds (repeatable; default all)")
    args = parser.parse_args()
    kinds = args.kind or list(KINDS)
    params = models.Params(seed=args.seed)

    started = time.perf_counter()
    corpus = corpora.grouped(corpora.load_shared(args.data_dir))
    prep_s = time.perf_counter() - started
    print(f"rows {len(corpus)}, near-duplicate groups {len(set(corpus.groups.tolist()))}, prepared in {prep_s:.1f} s")

    results: dict[str, object] = {
        "rows": len(corpus),
        "groups": len(set(corpus.groups.tolist())),
        "params": params.as_dict(),
        "cpu": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }
    groupings = {
        "grouped": corpus.groups,
        "twins": corpora.twin_groups(corpus),
        "plain": np.arange(len(corpus)),  # every row its own group: plain stratified folds
    }
    runs = [] if args.no_cv else [(k, n, b) for k in kinds for n, b in (("baseline", True), ("platform", False))]
    for kind, name, baseline in runs:
        corpus.groups = groupings[kind]
        cv, _ = models.cross_validate(corpus, params, args.folds, baseline=baseline)
        results[f"{kind} {name}"] = cv
        print(f"{name:9s} {args.folds}-fold {kind} CV ({len(set(corpus.groups.tolist()))} groups, {cv['seconds']} s):")
        for key in ("all", corpora.SEG, corpora.RAW):
            s = cv[key]
            print(f"    {key:10s} macro-F1 {s['macro_f1']:.4f}  accuracy {s['accuracy']:.4f}  (n={s['n']})")
        if "calibration" in cv:
            cal = cv["calibration"]
            print(f"    calibration: ECE {cal['ece']:.4f}, mean confidence {cal['mean_confidence']:.4f}")
            for t, m in cal["manual"].items():
                print(
                    f"    manual below {t}: {m['manual_share']:.1%} of messages; accuracy of the rest "
                    f"{m['auto_accuracy']}, of the flagged {m['manual_accuracy']}"
                )

    started = time.perf_counter()
    clf = models.fit(corpus, params)
    train_s = time.perf_counter() - started
    results["train_seconds_full_fit"] = round(train_s, 1)
    print(f"training (full fit, {len(corpus)} rows): {train_s:.1f} s")

    with (args.data_dir / corpora.LABELLED).open(encoding="utf-8") as f:
        raw = [r["text"] for r in csv.DictReader(f)]
    textprep.prepare(raw[0])  # jieba's dictionary loads once per process; not part of the rate
    predictor = clf.compile()  # what `hotline dispatch predict` loads and runs
    for workers in (1, os.cpu_count() or 1):
        started, cpu = time.perf_counter(), time.process_time()
        probs = predictors.predict_texts(predictor, raw, workers=workers)
        pred_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        rate = len(raw) / pred_s
        results[f"predictions_per_second_{workers}_process"] = round(rate)
        line = f"prediction, {workers} process(es): {len(raw)} raw messages in {pred_s:.2f} s = {rate:.0f} per second"
        if workers == 1:
            results["cpu_ms_per_prediction"] = round(cpu_s / len(raw) * 1000, 2)
            line += f" ({cpu_s / len(raw) * 1000:.2f} ms CPU each)"
        print(line, probs.shape)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
