"""Shared helpers of the knowledge benchmarks: the data set, the tune/held-out split, the metrics."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("HOTLINE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
if not DATA.exists():  # the checkout may sit elsewhere; the shared data is beside /work/main
    DATA = Path("/work/shared/data")
SPLIT_SEED = 20210601
# The rerank weights fit on the TUNE half only (C = 1.0, chosen by repeated 2-fold CV inside the tune half as
# `knowledge_train.py --all` chooses it over all queries; the "learned" and "reverse" features out of fold inside
# the tune half): the held-out protocol. `knowledge_eval.py --half-fit` searches with these and an answer model
# learned from the tune half's pairs only, so that its held-out row is a held-out figure; the shipped
# `SearchConfig.rerank_weights` are fit on all development queries (`knowledge_train.py --all`).
HALF_FIT_WEIGHTS = (
    2.474,
    2.641,
    0.917,
    1.930,
    -0.282,
    0.575,
    -1.398,
    2.736,
    -0.808,
    -13.334,
    -0.159,
    0.472,
    -0.468,
    -0.538,
    -0.708,
    -2.502,
    1.364,
    -0.357,
    -1.343,
    -2.107,
    2.388,
    0.132,
    -0.154,
    4.723,
    0.483,
    -0.286,
    0.035,
    -0.476,
    1.549,
    1.705,
    2.002,
    -0.159,
    1.008,
    -0.589,
    -0.417,
    -0.120,
    0.662,
    -0.638,
    0.241,
)


@dataclass
class Dataset:
    corpus: list[dict[str, str]]
    queries: list[dict[str, str]]
    tune: list[int]  # indexes into queries used to choose the ranking weights
    heldout: list[int]  # never looked at while choosing weights


def load() -> Dataset:
    with (DATA / "replies_corpus.csv").open(encoding="utf-8") as fh:
        corpus = list(csv.DictReader(fh))
    with (DATA / "replies_queries_dev.csv").open(encoding="utf-8") as fh:
        queries = list(csv.DictReader(fh))
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(queries))
    half = len(queries) // 2
    return Dataset(corpus, queries, sorted(perm[:half].tolist()), sorted(perm[half:].tolist()))


def metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    """R@1, R@10 and MRR@10 of ranked id lists against the gold id of each query."""
    r1 = r10 = mrr = 0.0
    for ids, g in zip(ranked, gold, strict=True):
        top = ids[:10]
        if g in top:
            rank = top.index(g) + 1
            r10 += 1
            mrr += 1 / rank
            r1 += rank == 1
    n = max(len(gold), 1)
    return {"R@1": round(r1 / n, 4), "R@10": round(r10 / n, 4), "MRR@10": round(mrr / n, 4)}
