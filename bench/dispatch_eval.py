"""Dispatch classifier benchmark: grouped 5-fold macro-F1 and accuracy, training time, predictions per second.

Runs, on the same folds, the plain baseline (jieba words, TF-IDF, LinearSVC with defaults) and the platform's
model (word 1-2-grams + char 1-3-grams TF-IDF, LinearSVC, sigmoid calibration). Folds keep near-duplicates
(word TF-IDF cosine >= 0.8, which also pairs each raw message with its segmented twin) on the same side.

Scores are given over all rows, over the segmented rows and over the raw rows (the raw rows are scored through
the same `prepare` the `predict` command uses — the form in which hidden messages arrive).
Training time is one full fit of the final model; predictions/s runs raw texts through `prepare` + the model.

    .venv/bin/python bench/dispatch_eval.py [--data-dir ../shared/data] [--folds 5] [--json out.json]
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
from hotline.dispatch import text as textprep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-cv", action="store_true", help="only training time and prediction speed")
    parser.add_argument(
        "--ungrouped",
        action="store_true",
        help="plain stratified folds instead (near-duplicates may straddle folds: for comparison only)",
    )
    args = parser.parse_args()
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
    if args.ungrouped:
        corpus.groups = np.arange(len(corpus))  # every row its own group: plain stratified folds
    for name, baseline in () if args.no_cv else (("baseline TF-IDF+LinearSVC", True), ("platform model", False)):
        cv, _ = models.cross_validate(corpus, params, args.folds, baseline=baseline)
        results[name] = cv
        folds_kind = "plain stratified" if args.ungrouped else "grouped"
        print(f"{name:28s} {args.folds}-fold {folds_kind} CV ({cv['seconds']} s):")
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
    for workers in (1, os.cpu_count() or 1):
        started, cpu = time.perf_counter(), time.process_time()
        probs = models.predict_texts(clf, raw, workers=workers)
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
