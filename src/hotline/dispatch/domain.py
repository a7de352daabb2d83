"""Pure rules of smart dispatch: categories, ranking and the manual flag, and the repeated-demand matcher.

No database, no web, no files here. The classifier itself lives in `model.py` (scikit-learn); this module only
decides what its probabilities mean for a dispatcher, and which open orders look like the same demand (并单).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

# The seven first-level categories of the shared data, in a fixed order.
CATEGORIES: tuple[str, ...] = (
    "城乡建设",
    "劳动和社会保障",
    "教育文体",
    "商贸旅游",
    "环境保护",
    "卫生计生",
    "交通运输",
)

# Below this calibrated confidence a suggestion is flagged for manual dispatch (人工派单).
DEFAULT_MANUAL_THRESHOLD = 0.6


@dataclass(frozen=True)
class Ranked:
    category: str
    confidence: float


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: float
    top3: tuple[Ranked, ...]
    manual: bool
    threshold: float

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "confidence": self.confidence,
            "top3": [{"category": r.category, "confidence": r.confidence} for r in self.top3],
            "manual": self.manual,
            "threshold": self.threshold,
        }


def check_threshold(threshold: float) -> float:
    if not (0.0 <= threshold <= 1.0) or math.isnan(threshold):
        raise ValueError("threshold must be within [0, 1]")
    return threshold


def suggest(labels: Sequence[str], probabilities: Sequence[float], threshold: float) -> Suggestion:
    """Turn one row of class probabilities into a suggestion: best category, top 3 (best first), manual flag.

    Probabilities are clipped to [0, 1] and renormalised so they sum to 1; ties keep the order of `labels`.
    """
    if len(labels) != len(probabilities) or not labels:
        raise ValueError("labels and probabilities must be non-empty and of the same length")
    check_threshold(threshold)
    clipped = [min(max(float(p), 0.0), 1.0) for p in probabilities]
    total = sum(clipped)
    probs = [p / total for p in clipped] if total > 0 else [1.0 / len(clipped)] * len(clipped)
    order = sorted(range(len(labels)), key=lambda i: (-probs[i], i))
    top = tuple(Ranked(labels[i], round(probs[i], 4)) for i in order[:3])
    best = top[0]
    return Suggestion(best.category, best.confidence, top, best.confidence < threshold, threshold)


# --- repeated demands (并单) -----------------------------------------------------------------------------

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\D+")


# Cached: every open order's number and place are normalised again for each new demand.
@lru_cache(maxsize=65_536)
def normalise_phone(phone: str | None) -> str:
    """Digits only, without a leading +86/0086 country code; empty when nothing usable is left."""
    digits = _DIGITS.sub("", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 7:
            digits = digits[len(prefix) :]
            break
    return digits if len(digits) >= 5 else ""


@lru_cache(maxsize=65_536)
def normalise_place(place: str | None) -> str:
    return _NOISE.sub("", place or "").lower()


def char_ngrams(text: str, n: int = 2) -> Counter[str]:
    """Character n-grams of the text without punctuation or spaces (robust to word segmentation)."""
    clean = _NOISE.sub("", text).lower()
    if len(clean) < n:
        return Counter([clean]) if clean else Counter()
    return Counter(clean[i : i + n] for i in range(len(clean) - n + 1))


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(v * large.get(k, 0) for k, v in small.items())
    if dot == 0:
        return 0.0
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb)


Tokenizer = Callable[[str], Iterable[str]]
# Similarities of one text to each of many, in their order: `text_similarity` computed in bulk.
Scorer = Callable[[str, Sequence[str]], Sequence[float]]


@dataclass(frozen=True)
class Weights:
    """Inverse document frequencies of words and character bigrams (from the classifier's training corpus).

    A term not listed gets `unknown` (rare terms are telling). Without weights every term counts 1.
    """

    words: Mapping[str, float]
    chars: Mapping[str, float]
    unknown: float = 1.0


@dataclass(frozen=True)
class TextFeatures:
    chars: Mapping[str, float]
    words: Mapping[str, float] | None


def _weigh(counts: Counter[str], idf: Mapping[str, float] | None, unknown: float) -> dict[str, float]:
    if idf is None:
        return {k: float(v) for k, v in counts.items()}
    return {k: v * idf.get(k, unknown) for k, v in counts.items()}


def text_features(text: str, tokenize: Tokenizer | None = None, weights: Weights | None = None) -> TextFeatures:
    unknown = weights.unknown if weights else 1.0
    chars = _weigh(char_ngrams(text), weights.chars if weights else None, unknown)
    if tokenize is None:
        return TextFeatures(chars, None)
    words = Counter(t for t in tokenize(text) if t.strip())
    return TextFeatures(chars, _weigh(words, weights.words if weights else None, unknown))


def feature_similarity(a: TextFeatures, b: TextFeatures) -> float:
    chars = cosine(a.chars, b.chars)
    if a.words is None or b.words is None:
        return chars
    return (chars + cosine(a.words, b.words)) / 2


def text_similarity(a: str, b: str, tokenize: Tokenizer | None = None, weights: Weights | None = None) -> float:
    """Similarity in [0, 1] of two demands' texts: the mean of char-bigram cosine and word-token cosine.

    `tokenize` is the word segmenter (jieba in the service); without it only character bigrams are used.
    `weights` (IDF) make common words such as 小区 or 问题 count less than a street's name.
    """
    return feature_similarity(text_features(a, tokenize, weights), text_features(b, tokenize, weights))


@dataclass(frozen=True)
class Demand:
    """What is known of a demand when it is taken: text, caller, place, time."""

    text: str
    at: datetime
    phone: str | None = None
    place: str | None = None
    region_code: str | None = None


@dataclass(frozen=True)
class OpenOrder:
    """An open work order that a new demand might repeat."""

    order_id: str
    text: str
    created_at: datetime
    phone: str | None = None
    place: str | None = None
    region_code: str | None = None


@dataclass(frozen=True)
class RepeatRule:
    """When an open order is proposed for merging (并单) with a new demand.

    - it was created within `window_days` before (or at) the new demand;
    - it shares the caller's phone or the place, or its text is very similar (`text_alone`);
    - and its text similarity reaches `same_caller` (same phone), `same_place` (same place) or `text_alone`;
    - or it stands out: it is the most similar open order in the window, its similarity reaches
      `stand_out_min` and is at least `stand_out` times that of the runner-up (0 when there is none). A retold
      demand often shares few words with its first telling, but more than with anything else open.
      `stand_out=0` turns this off.

    The defaults were chosen on the labelled set of `bench/dispatch_repeats.py` (IDF-weighted similarity):
    precision first, since a wrong 并单 hides a demand.
    """

    window_days: int = 30
    same_caller: float = 0.20
    same_place: float = 0.25
    text_alone: float = 0.40
    stand_out: float = 1.5
    stand_out_min: float = 0.15
    limit: int = 5

    def __post_init__(self) -> None:
        if self.window_days < 0 or self.limit < 1 or self.stand_out < 0:
            raise ValueError("window_days must be >= 0, limit >= 1 and stand_out >= 0")


@dataclass(frozen=True)
class RepeatMatch:
    order: OpenOrder
    score: float
    similarity: float
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "order_id": self.order.order_id,
            "score": round(self.score, 4),
            "similarity": round(self.similarity, 4),
            "reasons": list(self.reasons),
            "created_at": self.order.created_at.isoformat(),
        }


def find_repeats(
    demand: Demand,
    candidates: Iterable[OpenOrder],
    rule: RepeatRule | None = None,
    tokenize: Tokenizer | None = None,
    exclude: str | None = None,
    weights: Weights | None = None,
    scorer: Scorer | None = None,
) -> list[RepeatMatch]:
    """Open orders likely to be the same demand, best first (at most `rule.limit`).

    Only orders created within the window strictly before the demand count (never the demand's own order,
    which may also be named by `exclude`).

    Score = text similarity, plus 0.2 for the same caller and 0.1 for the same place (capped at 1);
    reasons name what matched: `same-phone`, `same-place`, `similar-text`, and `stands-out` for an order
    proposed only because it stands out.

    `scorer` computes the similarities in bulk (the service's cached, vectorised `text_similarity`); without
    it each pair is compared with `text_similarity(…, tokenize, weights)`.
    """
    rule = rule or RepeatRule()
    phone = normalise_phone(demand.phone)
    place = normalise_place(demand.place)
    earliest = demand.at - timedelta(days=rule.window_days)
    in_window = [
        order for order in candidates if order.order_id != exclude and earliest <= order.created_at < demand.at
    ]
    if scorer is not None:
        similarities = list(scorer(demand.text, [order.text for order in in_window]))
    else:
        wanted = text_features(demand.text, tokenize, weights)
        similarities = [feature_similarity(wanted, text_features(o.text, tokenize, weights)) for o in in_window]
    # Tens of thousands of open orders are compared, a handful proposed: only an order whose similarity reaches
    # the lowest threshold, or the one standing out, is looked at further (caller, place, reasons).
    standing_out: OpenOrder | None = None
    if rule.stand_out and similarities:
        # The first of the most similar (as a stable sort, best first, would put it) and the runner-up's value.
        best = max(range(len(similarities)), key=similarities.__getitem__)
        runner_up = heapq.nlargest(2, similarities)[1] if len(similarities) > 1 else 0.0
        top = similarities[best]
        if top >= rule.stand_out_min and top >= rule.stand_out * runner_up:
            standing_out = in_window[best]
    lowest = min(rule.text_alone, rule.same_caller, rule.same_place)
    matches: list[RepeatMatch] = []
    for i, similarity in enumerate(similarities):
        order = in_window[i]
        if similarity < lowest and order is not standing_out:
            continue
        same_phone = bool(phone) and normalise_phone(order.phone) == phone
        same_place = bool(place) and normalise_place(order.place) == place
        needed = rule.text_alone
        if same_phone:
            needed = min(needed, rule.same_caller)
        if same_place:
            needed = min(needed, rule.same_place)
        stands_out = order is standing_out and similarity < needed  # proposed only because it stands out
        if similarity < needed and not stands_out:
            continue
        reasons = [r for r, ok in (("same-phone", same_phone), ("same-place", same_place)) if ok]
        if similarity >= rule.same_caller:
            reasons.append("similar-text")
        if stands_out:
            reasons.append("stands-out")
        score = min(1.0, similarity + (0.2 if same_phone else 0.0) + (0.1 if same_place else 0.0))
        matches.append(RepeatMatch(order, score, similarity, tuple(reasons)))
    matches.sort(key=lambda m: (-m.score, -m.similarity, -m.order.created_at.timestamp(), m.order.order_id))
    return matches[: rule.limit]
