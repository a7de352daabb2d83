"""Which rerank features help? Cross-fit of candidate features on top of the platform's first 16.

    .venv/bin/python bench/knowledge_extra.py [--lsa-dims 200]

The candidates and rerank features of all 1,408 development queries are computed once (as in
`knowledge_curve.py`, cached in the temp folder). The first rows start from the 16 features the platform had
before "learned", "predates" and "year_gap" (2026-11-28) and add experimental columns; each row is
scored by the cross-fit protocol of `knowledge_curve.py` section 3 (pairwise logistic regression, C = 0.1, fit
on one half of the fixed split, scored on the other, both ways; the printed figure is the mean of the two):

- `tfidf`: cosine of the message and the article in jieba-word TF-IDF space (sublinear tf);
- `lsa`: the same in a TruncatedSVD space fit, without labels, on the replies, the development messages and
  the raw dispatch messages;
- `learned`: a **supervised** query → article projection: kernel ridge regression from the message's TF-IDF
  to the LSA vector of its own reply, trained on the training half only; the feature is the cosine of the
  projected message and the candidate. For the training half's own rows it is computed out of fold (5 folds
  inside that half), so the ranker does not learn to trust a projection that has seen the answer;
- `year`: the latest year a message names (2018年, 2019-3) against the latest year in the article's text
  (official replies end with their date): "the article predates the year the message talks about", and the
  clipped gap in years.

The last row is the platform's own 19 features, its "learned" feature computed out of fold over all 1,408
queries (`knowledge_train.candidates_oof`, the `answers.py` model, as shipped) instead of strictly inside the
training half.

No query or reply id is used as a feature; ids only mark which candidate is the message's own reply.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from hotline.knowledge import search
from knowledge_common import DATA, load
from knowledge_curve import all_candidates
from knowledge_train import fit, ranking_metrics

Feature = Callable[[int, np.ndarray], np.ndarray]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lsa-dims", type=int, default=200)
    args = parser.parse_args()
    data = load()
    cands = all_candidates()
    analyzer = search.analyzer()
    replies = [" ".join(analyzer.words(r["reply"])) for r in data.corpus]
    messages = [" ".join(analyzer.words(q["subject"] + "。" + q["detail"])) for q in data.queries]
    with (DATA / "tipdm_messages_labelled.csv").open(encoding="utf-8") as fh:
        unlabelled = [" ".join(analyzer.words(r["text"])) for r in csv.DictReader(fh)]
    vec = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, min_df=2).fit(replies + messages + unlabelled)
    r_tfidf, q_tfidf = normalize(vec.transform(replies)), normalize(vec.transform(messages))
    svd = TruncatedSVD(args.lsa_dims, random_state=0).fit(vec.transform(replies + messages + unlabelled))
    r_lsa, q_lsa = normalize(svd.transform(r_tfidf)), normalize(svd.transform(q_tfidf))
    row_of = {r["reply_id"]: j for j, r in enumerate(data.corpus)}
    gold = np.array([row_of[q["reply_id"]] for q in data.queries])
    q_year = np.array([search.latest_year(q["subject"] + q["detail"]) for q in data.queries])
    a_year = np.array([search.latest_year(r["reply"]) for r in data.corpus])

    def tfidf(i: int, cand: np.ndarray) -> np.ndarray:
        return np.asarray((r_tfidf[cand] @ q_tfidf[i].T).todense()).ravel()

    def lsa(i: int, cand: np.ndarray) -> np.ndarray:
        return np.asarray(r_lsa[cand] @ q_lsa[i])

    def predates(i: int, cand: np.ndarray) -> np.ndarray:
        return ((q_year[i] > 0) & (a_year[cand] > 0) & (a_year[cand] < q_year[i])).astype(float)

    def year_gap(i: int, cand: np.ndarray) -> np.ndarray:
        known = (q_year[i] > 0) & (a_year[cand] > 0)
        return np.where(known, np.clip(np.abs(a_year[cand] - q_year[i]), 0, 3) / 3, 0.0)

    def project(train: np.ndarray, test: np.ndarray, alpha: float = 1.0) -> np.ndarray:
        """Kernel ridge (dual form, linear kernel) from message TF-IDF to the LSA vector of the message's reply."""
        x = q_tfidf[train]
        y = r_lsa[gold[train]]
        mean = y.mean(axis=0)
        coef = np.linalg.solve((x @ x.T).toarray() + alpha * np.eye(len(train)), y - mean)
        return normalize(sp.csr_matrix(q_tfidf[test] @ x.T).toarray() @ coef + mean)

    def learned(train: np.ndarray, scored: np.ndarray, out_of_fold: bool) -> Feature:
        vectors: dict[int, np.ndarray] = {}
        if out_of_fold:
            folds = np.array_split(np.random.default_rng(0).permutation(scored), 5)
            for k, fold in enumerate(folds):
                rest = np.concatenate([f for j, f in enumerate(folds) if j != k])
                vectors.update(zip(fold.tolist(), project(rest, fold), strict=True))
        else:
            vectors.update(zip(scored.tolist(), project(train, scored), strict=True))
        return lambda i, cand: np.asarray(r_lsa[cand] @ vectors[i])

    halves = (np.array(data.tune), np.array(data.heldout))

    def crossfit(fixed: list[Feature], supervised: bool, platform: bool = False) -> dict[str, float]:
        out = []
        for train, test in ((halves[0], halves[1]), (halves[1], halves[0])):
            def rows(idx: np.ndarray, extra: list[Feature]) -> list[tuple[np.ndarray, np.ndarray]]:
                result = []
                for i in idx.tolist():
                    cand, feats, labels = cands[i]
                    base = feats if platform else feats[:, :16]
                    result.append((np.hstack([base, *(f(i, cand)[:, None] for f in extra)]), labels))
                return result

            train_extra = fixed + ([learned(train, train, True)] if supervised else [])
            test_extra = fixed + ([learned(train, test, False)] if supervised else [])
            weights = fit(rows(train, train_extra), 0.1, True)
            out.append(ranking_metrics(rows(test, test_extra), weights))
        return {k: round((out[0][k] + out[1][k]) / 2, 4) for k in out[0]}

    print("| added features | R@1 | R@10 | MRR@10 |\n|---|---|---|---|")
    variants: list[tuple[str, list[Feature], bool]] = [
        ("none (the platform's first 16)", [], False),
        ("tfidf", [tfidf], False),
        (f"lsa ({args.lsa_dims} dims)", [lsa], False),
        ("learned projection", [], True),
        ("year: predates + gap", [predates, year_gap], False),
        ("learned + year", [predates, year_gap], True),
        ("all", [tfidf, lsa, predates, year_gap], True),
    ]
    for name, fixed, supervised in variants:
        m = crossfit(fixed, supervised)
        print(f"| {name} | {m['R@1']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f} |", flush=True)
    m = crossfit([], False, platform=True)
    print(f"| the platform's 19 (learned out of fold) | {m['R@1']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f} |")


if __name__ == "__main__":
    main()
