"""Which rerank features help? Cross-fit of candidate features on top of the platform's first 16 (or all 19).

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
  clipped gap in years;
- `date`: the same at the day (`latest_date`): the message's latest full date ("2019年4月10日", "2019-4-10",
  "2019/4/10"; a month-day only, "4月10日" / "4月10号", taken in the latest year the message names, skipped
  when it names none) against the article's latest full date, read from its text only (the platform imports
  an article's id and body, not the reply time; official replies end with their date). When both are known:
  "the article's date is before the message's" and, when not, the gap in days as log1p(gap) / log1p(1000)
  capped at 1 (`gap`) or three bins 0–60 / 61–365 / > 365 days (`bins`); 0 when either is unknown.
  `signature` reads the article's date from its last 40 characters only (the sign-off date), not anywhere in
  the text. `yearless` also dates the messages that name a month-day but no year at all (49): the gap from the
  latest such day on or before the article's date (0–365 days, never "before"). A year and month without a
  day ("2019年3月") is no date here: in messages it is mostly when the trouble began, not when they were
  written.

The rows "the platform's 19 + …" add columns to the platform's own 19 features, whose "learned" feature is
computed out of fold over all 1,408 queries (`knowledge_train.candidates_oof`, the `answers.py` model, as
shipped) instead of strictly inside the training half; the last row is those 19 alone. The last column
counts the queries whose own reply a row ranks first and the platform's 19 do not (gained) and the reverse
(lost), with the two-sided sign-test p of that split.

No query or reply id is used as a feature; ids only mark which candidate is the message's own reply.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.stats import binomtest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from hotline.knowledge import search
from knowledge_common import DATA, load
from knowledge_curve import all_candidates, fmt
from knowledge_train import fit, ranking_metrics

Feature = Callable[[int, np.ndarray], np.ndarray]  # (query, candidate rows) -> one column (1-D) or several (2-D)

# Full dates as written in messages and replies: "2019年4月10日", "2019-4-10", "2019/4/10", "2019.4.10".
_FULL_DATE = re.compile(r"(20[0-2]\d|19[89]\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})(?!\d)")
# A month and day without a year: "4月10日", "4月10号" (not the tail of a full date: no digit or 年 before).
_MONTH_DAY = re.compile(r"(?<![\d年/.-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")


def _day(year: int, month: int, day: int) -> int:
    """The proleptic ordinal of that date, 0 if it is no date (2019-2-30)."""
    try:
        return dt.date(year, month, day).toordinal()
    except ValueError:
        return 0


def latest_date(text: str, month_day: bool = False) -> int:
    """The latest full date TEXT names, as a day ordinal (0 if none). With MONTH_DAY, dates written as month and
    day only count too, in the latest year TEXT names (`search.latest_year`; none when it names no year)."""
    days = [_day(int(y), int(m), int(d)) for y, m, d in _FULL_DATE.findall(text)]
    year = search.latest_year(text) if month_day else 0
    if year:
        days += [_day(year, int(m), int(d)) for m, d in _MONTH_DAY.findall(text)]
    return max(days, default=0)


def yearless_month_day(text: str) -> tuple[int, int] | None:
    """The latest (month, day) TEXT names as month and day only ("4月10日") when it names no year at all."""
    if search.latest_year(text):
        return None
    found = [(int(m), int(d)) for m, d in _MONTH_DAY.findall(text) if _day(2000, int(m), int(d))]  # a leap year
    return max(found, default=None)


def date_gaps(query_day: int, month_day: tuple[int, int] | None, article_days: np.ndarray) -> np.ndarray:
    """Days from the message's date to each article's date (ordinals, 0 = unknown); NaN when either is unknown.
    With no QUERY_DAY but a yearless MONTH_DAY, the gap to the latest such day on or before the article's date
    (so in [0, 366)): the message is taken to be from the year before its answer at most."""
    gaps = np.full(len(article_days), np.nan)
    known = article_days > 0
    if query_day:
        gaps[known] = article_days[known] - query_day
    elif month_day is not None:
        month, day = month_day
        for k in np.flatnonzero(known):
            year = dt.date.fromordinal(int(article_days[k])).year
            start = _day(year, month, day) or _day(year, 2, 28)  # 2-29 in a common year
            if start > article_days[k]:
                start = _day(year - 1, month, day) or _day(year - 1, 2, 28)
            gaps[k] = article_days[k] - start
    return gaps


def date_features(gaps: np.ndarray, bins: bool = False) -> np.ndarray:
    """Columns of the article date against the message date, from `date_gaps` (one row per article): "the
    article is dated before the message", then log1p(gap days) / log1p(1000) capped at 1 or (BINS) the gap in
    0–60 / 61–365 / > 365 days. All 0 when the gap is unknown."""
    known = ~np.isnan(gaps)
    gap = np.where(known, gaps, 0.0)
    after = known & (gap >= 0)
    before = (known & (gap < 0)).astype(float)
    if bins:
        return np.column_stack([before, after & (gap <= 60), after & (gap > 60) & (gap <= 365), after & (gap > 365)])
    return np.column_stack([before, np.minimum(np.log1p(gap * after) / np.log1p(1000), 1.0)])


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
    q_day = np.array([latest_date(q["subject"] + "。" + q["detail"], month_day=True) for q in data.queries])
    q_month_day = [yearless_month_day(q["subject"] + "。" + q["detail"]) for q in data.queries]
    a_day = np.array([latest_date(r["reply"]) for r in data.corpus])
    a_signed = np.array([latest_date(r["reply"][-40:]) for r in data.corpus])
    print(
        f"dates: {(q_day > 0).sum()} of {len(q_day)} messages (and {sum(x is not None for x in q_month_day)} "
        f"with a month-day but no year), {(a_day > 0).sum()} of {len(a_day)} articles "
        f"({(a_signed > 0).sum()} in their last 40 characters)\n"
    )

    def tfidf(i: int, cand: np.ndarray) -> np.ndarray:
        return np.asarray((r_tfidf[cand] @ q_tfidf[i].T).todense()).ravel()

    def lsa(i: int, cand: np.ndarray) -> np.ndarray:
        return np.asarray(r_lsa[cand] @ q_lsa[i])

    def predates(i: int, cand: np.ndarray) -> np.ndarray:
        return ((q_year[i] > 0) & (a_year[cand] > 0) & (a_year[cand] < q_year[i])).astype(float)

    def year_gap(i: int, cand: np.ndarray) -> np.ndarray:
        known = (q_year[i] > 0) & (a_year[cand] > 0)
        return np.where(known, np.clip(np.abs(a_year[cand] - q_year[i]), 0, 3) / 3, 0.0)

    def date(bins: bool = False, signature: bool = False, yearless: bool = False) -> Feature:
        article = a_signed if signature else a_day
        return lambda i, cand: date_features(
            date_gaps(q_day[i], q_month_day[i] if yearless else None, article[cand]), bins
        )

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

    def crossfit(fixed: list[Feature], supervised: bool, platform: bool = False) -> tuple[dict[str, float], np.ndarray]:
        """Mean metrics of the two directions, and each query's rank of its own reply when scored (0: not among
        the candidates)."""
        out = []
        rank = np.zeros(len(cands), dtype=int)
        for train, test in ((halves[0], halves[1]), (halves[1], halves[0])):
            def rows(idx: np.ndarray, extra: list[Feature]) -> list[tuple[np.ndarray, np.ndarray]]:
                result = []
                for i in idx.tolist():
                    cand, feats, labels = cands[i]
                    base = feats if platform else feats[:, :16]
                    result.append((np.hstack([base, *(f(i, cand).reshape(len(cand), -1) for f in extra)]), labels))
                return result

            train_extra = fixed + ([learned(train, train, True)] if supervised else [])
            test_extra = fixed + ([learned(train, test, False)] if supervised else [])
            weights = fit(rows(train, train_extra), 0.1, True)
            scored = rows(test, test_extra)
            out.append(ranking_metrics(scored, weights))
            for i, (feats, labels) in zip(test.tolist(), scored, strict=True):
                scores = feats @ weights
                rank[i] = int((scores > scores[labels == 1][0]).sum()) + 1 if labels.sum() else 0
        return {k: round((out[0][k] + out[1][k]) / 2, 4) for k in out[0]}, rank

    platform_metrics, platform_rank = crossfit([], False, platform=True)

    def row(name: str, m: dict[str, float], rank: np.ndarray) -> None:
        gained = int(((rank == 1) & (platform_rank != 1)).sum())
        lost = int(((rank != 1) & (platform_rank == 1)).sum())
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        print(f"| {name} | {fmt(m)} | {gained} / {lost} (p {p:.2f}) |", flush=True)

    print("| added features | R@1 | R@10 | MRR@10 | rank 1 gained / lost vs the platform's 19 |\n|---|---|---|---|---|")
    variants: list[tuple[str, list[Feature], bool]] = [
        ("none (the platform's first 16)", [], False),
        ("tfidf", [tfidf], False),
        (f"lsa ({args.lsa_dims} dims)", [lsa], False),
        ("learned projection", [], True),
        ("year: predates + gap", [predates, year_gap], False),
        ("learned + year", [predates, year_gap], True),
        ("all", [tfidf, lsa, predates, year_gap], True),
        ("date: before + gap", [date()], False),
        ("date: before + bins", [date(bins=True)], False),
        ("year + date bins", [predates, year_gap, date(bins=True)], False),
        ("learned + year + date bins", [predates, year_gap, date(bins=True)], True),
        ("learned + year + date bins + yearless", [predates, year_gap, date(bins=True, yearless=True)], True),
    ]
    for name, fixed, supervised in variants:
        row(name, *crossfit(fixed, supervised))
    for name, feature in (
        ("date gap", date()),
        ("date bins", date(bins=True)),
        ("date gap, signature", date(signature=True)),
        ("date bins, signature", date(bins=True, signature=True)),
        ("date gap + yearless", date(yearless=True)),
        ("date bins + yearless", date(bins=True, yearless=True)),
    ):
        row(f"the platform's 19 + {name}", *crossfit([feature], False, platform=True))
    row("the platform's 19 (learned out of fold)", platform_metrics, platform_rank)


if __name__ == "__main__":
    main()
