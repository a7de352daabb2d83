"""Held-out check of the model choice: the settings were chosen by 5-fold CV inside a development part only.

The shared rows are split once (seed 42, `StratifiedGroupKFold`, one fifth held out) over the `twins` groups of
`bench/dispatch_eval.py` (each raw message with its segmented twin). Every setting added in the 2026-11-28
update (character 4-grams, the opening-words view and its weight, the NB-SVM member) was compared by
cross-validation inside the other four fifths; this script fits the baseline, the previous platform model and
the current one on those four fifths and scores them once on the held-out fifth.

    .venv/bin/python bench/dispatch_holdout.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models

PREVIOUS = models.Params(char_ngrams=(1, 3), head_tokens=0, nbsvm_C=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    args = parser.parse_args()
    corpus = corpora.load_shared(args.data_dir)
    groups = corpora.twin_groups(corpus)
    labels = np.asarray(corpus.labels)
    dev, test = next(StratifiedGroupKFold(5, shuffle=True, random_state=42).split(labels, labels, groups))
    print(f"development rows {len(dev)}, held-out rows {len(test)}")
    train = [corpus.texts[i] for i in dev]
    held = [corpus.texts[i] for i in test]
    sources = np.asarray(corpus.sources)[test]
    for name, pipeline in (
        ("baseline TF-IDF+LinearSVC", models.build_baseline(models.Params())),
        ("previous platform model", models.build(PREVIOUS)),
        ("platform model", models.build(models.Params())),
    ):
        started = time.perf_counter()
        pipeline.fit(train, labels[dev])
        predicted = np.asarray(pipeline.predict(held))
        line = f"{name:26s} ({time.perf_counter() - started:5.1f} s)"
        for key, mask in (
            ("all", np.ones(len(test), bool)),
            ("segmented", sources == corpora.SEG),
            ("raw", sources == corpora.RAW),
        ):
            s = models.scores(labels[test][mask].tolist(), predicted[mask].tolist())
            line += f" | {key} macro-F1 {s['macro_f1']:.4f} acc {s['accuracy']:.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
