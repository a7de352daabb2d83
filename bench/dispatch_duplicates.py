"""How many shared messages are exact or near copies of others, and do the raw and segmented files overlap?

Similarity: character-bigram TF-IDF cosine on the prepared text without spaces (segmentation-independent, the
measure of `corpus.near_duplicate_groups`). Prints the figures of bench/dispatch.md, section 1.

    .venv/bin/python bench/dispatch_duplicates.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from hotline.dispatch import corpus as corpora


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    args = parser.parse_args()
    corpus = corpora.load_shared(args.data_dir)
    texts = [t.replace(" ", "") for t in corpus.texts]
    sources, labels = np.asarray(corpus.sources), np.asarray(corpus.labels)
    seg, raw = np.flatnonzero(sources == corpora.SEG), np.flatnonzero(sources == corpora.RAW)
    vectors = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit_transform(texts)

    def nearest(rows: np.ndarray, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sim = (vectors[rows] @ vectors[among].T).toarray()
        if rows is among:
            np.fill_diagonal(sim, 0.0)
        return among[sim.argmax(axis=1)], sim.max(axis=1)

    twin, twin_sim = nearest(raw, seg)
    print(f"raw rows {len(raw)}, segmented rows {len(seg)}")
    print(
        "raw -> closest segmented row, cosine quantiles 1/5/10/50 %:",
        np.round(np.quantile(twin_sim, [0.01, 0.05, 0.1, 0.5]), 3),
    )
    for t in (0.5, 0.7, 0.9):
        print(f"    raw rows with a segmented twin at >= {t}: {(twin_sim >= t).mean():.1%}")
    paired = twin_sim >= 0.7
    agree = labels[raw][paired] == labels[twin][paired]
    print(f"    twins with the same label: {agree.sum()} of {paired.sum()}")
    for name, rows in (("segmented", seg), ("raw", raw)):
        exact = Counter(texts[i] for i in rows)
        copies = sum(v for v in exact.values() if v > 1)
        print(
            f"{name}: {copies} rows are exact copies ({sum(1 for v in exact.values() if v > 1)} texts posted 2+ times)"
        )
        other, sim = nearest(rows, rows)
        for t in (0.7, 0.9):
            near = sim >= t
            differ = int((labels[rows][near] != labels[other][near]).sum())
            print(
                f"    rows with another {name} row at >= {t}: {near.sum()} ({near.mean():.1%}), {differ} labelled differently"
            )


if __name__ == "__main__":
    main()
