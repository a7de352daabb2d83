"""Repeated-demand (并单) matcher: precision and recall on a labelled set built from the shared data.

The set: `replies_queries_dev.csv` holds 1,408 citizens' messages with a subject and a detail. Each message is
split in two halves that tell the SAME demand in different sentences, as a caller retelling it would:
  - the open order  = subject + first half of the detail (sentences up to half the detail's length);
  - the new demand  = the second half of the detail.
Each new demand is matched against its own open order (the positive) and 30 other open orders (negatives):
the 10 most similar other messages by word TF-IDF (same district, same kind of problem: the hard cases) and
20 drawn at random; messages that are near-duplicates of the positive (cosine >= 0.8: the same demand posted
again) are left out of the negatives. Three scenarios:
  - text:   no caller or place known (only text similarity can propose);
  - caller: the positive has the caller's phone, and so do 3 of the hard negatives (a frequent caller with
            other matters);
  - place:  the same, with the place instead of the phone.
All orders were created within the window before the demand. Precision = proposals that are the true order /
all proposals; recall = demands whose true order was proposed. Also sweeps the thresholds.

    .venv/bin/python bench/dispatch_repeats.py [--data-dir ../shared/data] [--limit 1408]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from hotline.dispatch import corpus as corpora
from hotline.dispatch import text as textprep
from hotline.dispatch.domain import Demand, OpenOrder, RepeatRule, Weights, find_repeats
from hotline.dispatch.similarity import SimilarityScorer

AT = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
SENTENCE = re.compile(r"(?<=[。！？!?；;])")


def halves(detail: str) -> tuple[str, str]:
    parts = [p for p in SENTENCE.split(detail) if p.strip()]
    if len(parts) < 2:
        mid = len(detail) // 2
        return detail[:mid], detail[mid:]
    total, acc = len(detail), 0
    for i, p in enumerate(parts):
        acc += len(p)
        if acc >= total / 2:
            cut = max(1, min(i + 1, len(parts) - 1))
            return "".join(parts[:cut]), "".join(parts[cut:])
    return "".join(parts[:-1]), parts[-1]


@cache
def cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(textprep.tokens(text))


def corpus_weights(data_dir: Path) -> Weights:
    """The IDF the service uses (the classifier's), fitted here on the segmented file alone (no model needed)."""
    with (data_dir / corpora.SEGMENTED).open(encoding="utf-8") as f:
        texts = [textprep.segmented(r["text_seg"]) for r in csv.DictReader(f)]
    words = TfidfVectorizer(token_pattern=r"\S+", min_df=2).fit(texts)
    chars = TfidfVectorizer(analyzer="char", preprocessor=lambda t: t.replace(" ", ""), ngram_range=(2, 2), min_df=3)
    chars.fit(texts)
    return Weights(
        {t: float(words.idf_[i]) for t, i in words.vocabulary_.items()},
        {t: float(chars.idf_[i]) for t, i in chars.vocabulary_.items()},
        unknown=float(max(words.idf_.max(), chars.idf_.max())),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=corpora.default_data_dir())
    parser.add_argument("--limit", type=int, default=0, help="use only N messages (0 = all)")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N messages (a held-out part)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with (args.data_dir / "replies_queries_dev.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = rows[args.offset :]
    if args.limit:
        rows = rows[: args.limit]
    rng = random.Random(args.seed)
    orders_text, demands_text = [], []
    for r in rows:
        first, second = halves(r["detail"].strip())
        orders_text.append(r["subject"].strip() + "。" + first)
        demands_text.append(second)
    keep = [i for i, d in enumerate(demands_text) if len(d) >= 10]
    n = len(orders_text)
    tfidf = TfidfVectorizer(token_pattern=r"\S+").fit_transform([textprep.prepare(t) for t in orders_text])
    weights = corpus_weights(args.data_dir)
    sim = (tfidf @ tfidf.T).toarray()
    np.fill_diagonal(sim, -1)
    # Messages near-identical to the positive (word TF-IDF cosine >= 0.8) are the same demand
    # posted again by someone else: they are neither positives nor negatives here.
    sim[sim >= 0.8] = -1
    hard = np.argsort(-sim, axis=1)[:, :10]

    rules = {"default": RepeatRule(), "no stand-out (before)": RepeatRule(stand_out=0)}
    for low, ratio in ((0.1, 1.5), (0.15, 2.0), (0.2, 1.5)):
        rules[f"stand-out {low}/x{ratio}"] = replace(RepeatRule(), stand_out_min=low, stand_out=ratio)
    for t in (0.15, 0.2, 0.25, 0.3):
        rules[f"caller/place>={t}"] = replace(RepeatRule(), same_caller=t, same_place=t)
    for t in (0.3, 0.4, 0.5):
        rules[f"text-alone>={t}"] = replace(RepeatRule(), text_alone=t)

    scorer = SimilarityScorer(cached_tokens, weights)  # as the service scores
    started = time.perf_counter()
    # counts[scenario][rule] = [true proposals, all proposals, demands whose order was found]
    counts: dict[str, dict[str, list[int]]] = {s: {k: [0, 0, 0] for k in rules} for s in ("text", "caller", "place")}
    for i in keep:
        others = [int(j) for j in hard[i]]
        pool = [j for j in range(n) if j != i and j not in others and sim[i, j] >= 0]
        others += rng.sample(pool, 20)
        for scenario in ("text", "caller", "place"):
            phone = "13800001234" if scenario == "caller" else None
            place = "洞井街道某小区" if scenario == "place" else None
            cands = [OpenOrder(str(i), orders_text[i], AT - timedelta(days=3), phone=phone, place=place)] + [
                OpenOrder(
                    str(j),
                    orders_text[j],
                    AT - timedelta(days=1 + k % 20),
                    phone=phone if k < 3 else "13900000000",
                    place=place if k < 3 else "别处",
                )
                for k, j in enumerate(others)
            ]
            demand = Demand(demands_text[i], AT, phone=phone, place=place)
            for name, rule in rules.items():
                found = find_repeats(demand, cands, replace(rule, limit=5), scorer=scorer)
                hit = sum(1 for m in found if m.order.order_id == str(i))
                c = counts[scenario][name]
                c[0] += hit
                c[1] += len(found)
                c[2] += hit
    elapsed = time.perf_counter() - started
    print(f"{len(keep)} demands x 31 open orders x 3 scenarios, {elapsed:.0f} s")
    print(f"{'scenario':8s} {'rule':22s} {'precision':>9s} {'recall':>7s} {'proposals':>9s}")
    for scenario, per_rule in counts.items():
        for name, (true, proposed, found) in per_rule.items():
            precision = true / proposed if proposed else float("nan")
            print(f"{scenario:8s} {name:22s} {precision:9.3f} {found / len(keep):7.3f} {proposed:9d}")


if __name__ == "__main__":
    main()
