"""Which rerank features help? Cross-fit of candidate features on top of the platform's first 16 (or 19).

    .venv/bin/python bench/knowledge_extra.py [--lsa-dims 200] [--only NAME ...] [--splits 20]

`--only` runs only the rows whose name contains NAME (repeatable; the platform's 19 always run). `--splits N`
then scores those rows again on N random half splits (seeds 1000, 1001, …) and prints, per row, the mean and
standard deviation of its R@1 and MRR@10 minus the platform's 19 on the same split, and on how many splits its
R@1 is above / below.

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
  written;
- `learned 64 / 128 / 256` (multi-scale): `learned` in LSA spaces of those dimensions (fit like `lsa`), one
  column each (`learned` alone is the `--lsa-dims` space);
- `diag 128 (xS)`: the element-wise product of the projected message and the candidate's LSA vector in the
  128-dimension space (128 columns, beside the 128-dimension `learned` cosine, or alone on top of the
  platform's 19): a learned diagonal bilinear similarity. The columns are multiplied by S, which is the same
  as fitting their weights with C = 0.1 × S² (the products are ~1/128 of a cosine: at S = 1 the L2 penalty
  keeps them near 0);
- `reverse`: a **supervised** article → message projection: kernel ridge regression (dual, linear kernel,
  alpha 1, the mean target as intercept) from an article's TF-IDF to the LSA vector of the message it
  answered, trained on the training half's pairs; the feature is the cosine of the candidate's predicted
  message vector and the query message's own LSA vector ("what kind of message does this article answer").
  It is computed for every article, also the many that never answered a message. Computed strictly like
  `learned` (out of fold for the training half's own rows), and in one more way: each development message has
  its own reply, so an article predicted in sample from a pair it was trained on carries that pair's message
  — a mark of "this article already answers another message", which is no signal to learn. Every article is
  therefore predicted by a model that did not see it: by default the training pairs are cut in 5 folds
  (`10 folds`, `20 folds`), an article that answered a training message is predicted by the model without its
  fold and every other article by one of the fold models at random; `loo` predicts the other articles by the
  model of all training pairs and each training answer by that model without its own pair (exact
  leave-one-out of kernel ridge, closed form: `reverse_loo`), so that every article's model has n or n − 1
  pairs. `others: full model` (training answers out of fold, the rest by the full model) is slightly
  asymmetric; `in sample: NOT strict` shows what the in-sample prediction does (it hurts here).

The rows "the platform's 19 + …" add columns to the first 19 of `search.FEATURES` (up to "year_gap"), whose
"learned" feature is computed out of fold over all 1,408 queries (`knowledge_train.candidates_oof`, the
`answers.py` model, as shipped) instead of strictly inside the training half; the last row is those 19 alone.
When search.py has the ported date columns ("date_…") and "reverse" (2026-11-28, 24 features), the rows "as
ported" / "the platform's 24" add those platform columns (out of fold over all queries, like "learned"), to
check the port against the bench variants and what a bench feature still adds on top of it. The last column
counts the queries whose own reply a row ranks first and the platform's 19 do not (gained) and the reverse
(lost), with the two-sided sign-test p of that split.

Results of 2026-11-28 (20 random half splits, R@1 / MRR@10 minus the platform's 19): "reverse" +0.007 /
+0.004 (5 folds), +0.009 / +0.005 (`loo`), with date bins + yearless +0.014 / +0.009, all 20 splits up; as
ported (the platform's 24) +0.013 / +0.009; multi-scale `learned` and `diag` stay within +0.002.

No query or reply id is used as a feature; ids only mark which candidate is the message's own reply.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.stats import binomtest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from hotline.knowledge import dates, search
from knowledge_common import DATA, load
from knowledge_curve import all_candidates, fmt
from knowledge_train import fit, ranking_metrics

Feature = Callable[[int, np.ndarray], np.ndarray]  # (query, candidate rows) -> one column (1-D) or several (2-D)
# A supervised feature: trained on the pairs of some queries (1st), a Feature for other queries (2nd).
Model = Callable[[np.ndarray, np.ndarray], Feature]

# The date parsing is the platform's (`hotline.knowledge.dates`, ported from the first version of this script).
latest_date, yearless_month_day, date_gaps = dates.latest_date, dates.yearless_month_day, dates.gaps


def date_features(gaps: np.ndarray, bins: bool = False) -> np.ndarray:
    """Columns of the article date against the message date, from `date_gaps` (one row per article): "the
    article is dated before the message", then log1p(gap days) / log1p(1000) capped at 1 or (BINS) the gap in
    0–60 / 61–365 / > 365 days. All 0 when the gap is unknown."""
    if bins:
        return dates.gap_columns(gaps)
    known = ~np.isnan(gaps)
    gap = np.where(known, gaps, 0.0)
    after = known & (gap >= 0)
    before = (known & (gap < 0)).astype(float)
    return np.column_stack([before, np.minimum(np.log1p(gap * after) / np.log1p(1000), 1.0)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lsa-dims", type=int, default=200)
    parser.add_argument("--only", action="append", default=[], help="run only the rows whose name contains this")
    parser.add_argument("--splits", type=int, default=0, help="also score the rows on this many random half splits")
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
    every = vec.transform(replies + messages + unlabelled)
    spaces: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # LSA dims -> (article vectors, message vectors), unit
    for dims in sorted({args.lsa_dims, 64, 128, 256}):
        svd = TruncatedSVD(dims, random_state=0).fit(every)
        spaces[dims] = normalize(svd.transform(r_tfidf)), normalize(svd.transform(q_tfidf))
    r_lsa, q_lsa = spaces[args.lsa_dims]
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

    def ridge(x: sp.csr_matrix, y: np.ndarray, new: sp.csr_matrix, alpha: float = 1.0) -> np.ndarray:
        """Kernel ridge (dual form, linear kernel, the mean target as intercept) from the rows X to the unit
        vectors Y, applied to the rows NEW; unit rows."""
        mean = y.mean(axis=0)
        coef = np.linalg.solve((x @ x.T).toarray() + alpha * np.eye(x.shape[0]), y - mean)
        return normalize(sp.csr_matrix(new @ x.T).toarray() @ coef + mean)

    def reverse_loo(x: sp.csr_matrix, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
        """`ridge`'s prediction for each row of X by the model fit on all the other rows (the closed form of
        ridge leave-one-out, with the mean of the other rows' targets as intercept); unit rows."""
        n = x.shape[0]
        kernel = (x @ x.T).toarray()
        hat = kernel @ np.linalg.inv(kernel + alpha * np.eye(n))  # fitted = hat @ (y - mean) + mean
        others = (y.sum(axis=0) - y) / (n - 1)  # each row's intercept: the other rows' mean target
        fitted = hat @ y - hat.sum(axis=1, keepdims=True) * others  # hat @ (y - that intercept), row by row
        own = np.diag(hat)[:, None]
        return normalize(others + (fitted - own * (y - others)) / (1 - own))

    def project(train: np.ndarray, test: np.ndarray, dims: int = args.lsa_dims, alpha: float = 1.0) -> np.ndarray:
        """Kernel ridge from message TF-IDF to the LSA vector (DIMS) of the message's reply."""
        return ridge(q_tfidf[train], spaces[dims][0][gold[train]], q_tfidf[test], alpha)

    def learned(dims: int = args.lsa_dims, diag: float = 0.0, cosine: bool = True) -> Model:
        """The cosine of the projected message and the candidate's LSA vector (DIMS); with DIAG, also their
        element-wise product times DIAG (one column per dimension: a learned diagonal bilinear similarity)."""

        def model(train: np.ndarray, scored: np.ndarray) -> Feature:
            vectors = dict(zip(scored.tolist(), project(train, scored, dims), strict=True))
            articles = spaces[dims][0]

            def feature(i: int, cand: np.ndarray) -> np.ndarray:
                cols = [articles[cand] @ vectors[i]] if cosine else []
                if diag:
                    cols.append(articles[cand] * vectors[i] * diag)
                return np.column_stack(cols)

            return feature

        return model

    def reverse(alpha: float = 1.0, folds: int = 5, dims: int = args.lsa_dims, others: str = "folds") -> Model:
        """Article TF-IDF -> the LSA vector of the message it answered (kernel ridge on the training pairs); the
        feature is the cosine of the candidate's predicted message vector and the query's LSA vector. Every
        article is predicted by a model that did not see it: the training pairs are cut in FOLDS, an article
        that answered a training message is predicted by the model without its fold, every other article by
        one of the FOLDS models at random. (Each development message has its own reply: predicting the
        training answers in sample would mark them, and "this article already answers another message" is no
        signal to learn.) OTHERS "full": the other articles by the model of all training pairs instead;
        "in sample": every article by that model (a diagnostic of that signal, not a shippable feature);
        "loo": the other articles by that model, the training answers by exact leave-one-out (`reverse_loo`)."""
        articles, messages_ = spaces[dims]

        def model(train: np.ndarray, scored: np.ndarray) -> Feature:
            rng = np.random.default_rng(1)
            parts = np.array_split(rng.permutation(train), folds)
            rest = np.setdiff1d(np.arange(len(articles)), gold[train])
            predicted = ridge(r_tfidf[gold[train]], messages_[train], r_tfidf, alpha)  # in sample
            if others == "loo":
                predicted[gold[train]] = reverse_loo(r_tfidf[gold[train]], messages_[train], alpha)
            elif others != "in sample":
                splits = np.array_split(rng.permutation(rest), folds)
                for k in range(folds):
                    fit_on = np.concatenate([p for j, p in enumerate(parts) if j != k])
                    rows = np.concatenate([gold[parts[k]], splits[k] if others == "folds" else []]).astype(int)
                    predicted[rows] = ridge(r_tfidf[gold[fit_on]], messages_[fit_on], r_tfidf[rows], alpha)
            return lambda i, cand: predicted[cand] @ messages_[i]

        return model

    def strict(model: Model, train: np.ndarray, scored: np.ndarray, out_of_fold: bool) -> Feature:
        """MODEL's feature for SCORED, trained on TRAIN; OUT_OF_FOLD (SCORED is TRAIN): 5 folds inside it."""
        if not out_of_fold:
            return model(train, scored)
        feature_of: dict[int, Feature] = {}
        folds = np.array_split(np.random.default_rng(0).permutation(scored), 5)
        for k, fold in enumerate(folds):
            rest = np.concatenate([f for j, f in enumerate(folds) if j != k])
            feature_of.update(dict.fromkeys(fold.tolist(), model(rest, fold)))
        return lambda i, cand: feature_of[i](i, cand)

    fixed_halves = (np.array(data.tune), np.array(data.heldout))

    def crossfit(
        fixed: list[Feature],
        supervised: list[Model],
        platform: bool = False,
        halves: tuple[np.ndarray, np.ndarray] = fixed_halves,
    ) -> tuple[dict[str, float], np.ndarray]:
        """Mean metrics of the two directions, and each query's rank of its own reply when scored (0: not among
        the candidates)."""
        out = []
        rank = np.zeros(len(cands), dtype=int)
        for train, test in ((halves[0], halves[1]), (halves[1], halves[0])):

            def rows(idx: np.ndarray, extra: list[Feature]) -> list[tuple[np.ndarray, np.ndarray]]:
                result = []
                for i in idx.tolist():
                    cand, feats, labels = cands[i]
                    base = feats[:, :19] if platform else feats[:, :16]
                    result.append((np.hstack([base, *(f(i, cand).reshape(len(cand), -1) for f in extra)]), labels))
                return result

            train_extra = fixed + [strict(m, train, train, True) for m in supervised]
            test_extra = fixed + [strict(m, train, test, False) for m in supervised]
            weights = fit(rows(train, train_extra), 0.1, True)
            scored = rows(test, test_extra)
            out.append(ranking_metrics(scored, weights))
            for i, (feats, labels) in zip(test.tolist(), scored, strict=True):
                scores = feats @ weights
                rank[i] = int((scores > scores[labels == 1][0]).sum()) + 1 if labels.sum() else 0
        return {k: round((out[0][k] + out[1][k]) / 2, 4) for k in out[0]}, rank

    platform_metrics, platform_rank = crossfit([], [], platform=True)

    def row(name: str, m: dict[str, float], rank: np.ndarray) -> None:
        gained = int(((rank == 1) & (platform_rank != 1)).sum())
        lost = int(((rank != 1) & (platform_rank == 1)).sum())
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        print(f"| {name} | {fmt(m)} | {gained} / {lost} (p {p:.2f}) |", flush=True)

    year = [predates, year_gap]
    bins = date(bins=True)
    yearless = date(bins=True, yearless=True)
    one = [learned()]
    # (name, fixed features, supervised models, on top of the platform's 19 rather than its first 16)
    variants: list[tuple[str, list[Feature], list[Model], bool]] = [
        ("none (the platform's first 16)", [], [], False),
        ("tfidf", [tfidf], [], False),
        (f"lsa ({args.lsa_dims} dims)", [lsa], [], False),
        ("learned projection", [], one, False),
        ("year: predates + gap", year, [], False),
        ("learned + year", year, one, False),
        ("all", [tfidf, lsa, *year], one, False),
        ("date: before + gap", [date()], [], False),
        ("date: before + bins", [bins], [], False),
        ("year + date bins", [*year, bins], [], False),
        ("learned + year + date bins", [*year, bins], one, False),
        ("learned + year + date bins + yearless", [*year, yearless], one, False),
    ]
    variants += [
        (f"the platform's 19 + {name}", [feature], [], True)
        for name, feature in (
            ("date gap", date()),
            ("date bins", bins),
            ("date gap, signature", date(signature=True)),
            ("date bins, signature", date(bins=True, signature=True)),
            ("date gap + yearless", date(yearless=True)),
            ("date bins + yearless", yearless),
        )
    ]
    multi = [learned(64), learned(128), learned(256)]
    variants += [
        ("learned + year + reverse", year, [*one, reverse()], False),
        ("learned + year + reverse (alpha 0.3)", year, [*one, reverse(0.3)], False),
        ("learned + year + reverse (alpha 3)", year, [*one, reverse(3.0)], False),
        ("learned 64 + 128 + 256 + year", year, multi, False),
        ("learned + learned 64 + 256 + year", year, [*one, learned(64), learned(256)], False),
        ("learned 128 + year", year, [learned(128)], False),
        ("the platform's 19 + reverse", [], [reverse()], True),
        ("the platform's 19 + reverse (alpha 0.3)", [], [reverse(0.3)], True),
        ("the platform's 19 + reverse (10 folds)", [], [reverse(folds=10)], True),
        ("the platform's 19 + reverse (128 dims)", [], [reverse(dims=128)], True),
        ("the platform's 19 + reverse (256 dims)", [], [reverse(dims=256)], True),
        ("the platform's 19 + reverse (others: full model)", [], [reverse(others="full")], True),
        ("the platform's 19 + reverse (in sample: NOT strict)", [], [reverse(others="in sample")], True),
        ("the platform's 19 + reverse (20 folds)", [], [reverse(folds=20)], True),
        ("the platform's 19 + reverse (loo)", [], [reverse(others="loo")], True),
        ("the platform's 19 + learned 64 + 128 + 256", [], multi, True),
        ("the platform's 19 + learned 64 + 256", [], [learned(64), learned(256)], True),
    ]
    variants += [
        (f"learned + year + diag 128 (x{s:g}: C {0.1 * s * s:g} on them)", year, [learned(128, diag=s)], False)
        for s in (1.0, 4.0, 16.0)
    ] + [
        (f"the platform's 19 + diag 128 (x{s:g})", [], [learned(128, diag=s, cosine=False)], True)
        for s in (1.0, 4.0, 16.0)
    ]
    # The platform's own columns past its 19 (the dates and "reverse" as ported to search.py), when it has them.
    ported_dates = [c for c, n in enumerate(search.FEATURES) if n.startswith("date_")]
    ported_reverse = [c for c, n in enumerate(search.FEATURES) if n == "reverse"]

    def ported(cols: list[int]) -> Feature:
        return lambda i, cand: cands[i][1][:, cols]

    if ported_dates and ported_reverse:
        variants += [
            ("the platform's 19 + its date columns (as ported)", [ported(ported_dates)], [], True),
            ("the platform's 19 + its reverse (as ported)", [ported(ported_reverse)], [], True),
            (
                "the platform's 24 (19 + its dates + its reverse, as ported)",
                [ported(ported_dates + ported_reverse)],
                [],
                True,
            ),
            (
                "the platform's 24 + reverse (loo)",
                [ported(ported_dates + ported_reverse)],
                [reverse(others="loo")],
                True,
            ),
        ]
        variants += [
            (
                f"the platform's 24 + reverse (loo, {d} dims)",
                [ported(ported_dates + ported_reverse)],
                [reverse(others="loo", dims=d)],
                True,
            )
            for d in (64, 128, 256)
        ]
        variants += [("the platform's 24 + learned", [ported(ported_dates + ported_reverse)], one, True)]
    variants += [
        ("the platform's 19 + date bins + yearless + reverse", [yearless], [reverse()], True),
        ("the platform's 19 + date bins + yearless + reverse (10 folds)", [yearless], [reverse(folds=10)], True),
        ("the platform's 19 + date bins + yearless + reverse (loo)", [yearless], [reverse(others="loo")], True),
        ("the platform's 19 + date bins + yearless + learned 64 + 256", [yearless], [learned(64), learned(256)], True),
        ("learned + year + date bins + yearless + reverse", [*year, yearless], [*one, reverse()], False),
    ]
    if args.only:
        variants = [v for v in variants if any(s in v[0] for s in args.only)]
    for name, fixed, supervised, platform in variants:
        row(name, *crossfit(fixed, supervised, platform))
    row("the platform's 19 (learned out of fold)", platform_metrics, platform_rank)

    if args.splits:
        print(f"\nR@1 / MRR@10 minus the platform's 19 over {args.splits} random half splits (seeds 1000 +):\n")
        print("| added features | R@1 mean (sd) | MRR@10 mean (sd) | splits R@1 up / down |\n|---|---|---|---|")
        deltas: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in variants}
        for seed in range(args.splits):
            perm = np.random.default_rng(1000 + seed).permutation(len(cands))
            halves = (np.sort(perm[: len(perm) // 2]), np.sort(perm[len(perm) // 2 :]))
            base, _ = crossfit([], [], True, halves)
            for name, fixed, supervised, platform in variants:
                m, _ = crossfit(fixed, supervised, platform, halves)
                deltas[name].append((m["R@1"] - base["R@1"], m["MRR@10"] - base["MRR@10"]))
        for name, d in deltas.items():
            r1, mrr = np.array(d).T
            print(
                f"| {name} | {r1.mean():+.4f} ({r1.std(ddof=1):.4f}) | {mrr.mean():+.4f} ({mrr.std(ddof=1):.4f}) | "
                f"{(r1 > 0).sum()} / {(r1 < 0).sum()} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
