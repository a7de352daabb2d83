"""`domain.text_similarity` of one demand against every open order, in bulk, with each order's features kept.

Proposing 并单 compares a new demand with every open order of its city in the window (thousands): recomputing
each order's character bigrams, words and weights per comparison, in pure Python, cost about 0.4 ms an order,
over a second per demand (bench/web_pages.py). Here each text's features are computed once (by
`domain.text_features`, so their definition stays in one place), normalised, and kept as two small arrays per
kind (chars, words): the terms' numbers in a vocabulary of the terms seen, and their weights. A demand is then
scored against all candidates with a few numpy operations; the result is `domain.text_similarity` up to
floating-point rounding.

Memory follows the open orders compared: the cache holds at least twice the texts of the largest call (a
smaller one would evict, at every demand, texts the same demand needs again: an LRU cache scanned by more than it
holds misses every time), about 8 KB per text of 420 characters (tracemalloc on the shared data) plus the
vocabulary. The vocabulary only grows; when it passes `max_terms` and twice what the live texts needed, the scorer
starts afresh (a new vocabulary and cache), so memory stays bounded on a platform that runs for months.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hotline.dispatch.domain import Tokenizer, Weights, text_features

# Texts kept at least (more when one call compares more: see the module's docstring).
DEFAULT_CAPACITY = 20_000
# Distinct character bigrams and words remembered (both kinds) before starting afresh: some tens of megabytes.
DEFAULT_MAX_TERMS = 1_000_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Sparse:
    """A unit-length weighted term vector: the terms' numbers in the vocabulary and their weights."""

    ids: NDArray[np.int32]
    values: NDArray[np.float64]


@dataclass(frozen=True)
class _Vectors:
    chars: _Sparse
    words: _Sparse | None


@dataclass
class _Space:
    """One vocabulary (per kind) and the vectors made in it: vectors of different spaces never meet."""

    chars: dict[str, int] = field(default_factory=dict)
    words: dict[str, int] = field(default_factory=dict)
    cache: OrderedDict[str, _Vectors] = field(default_factory=OrderedDict)

    def sparse(self, weighted: Mapping[str, float], vocabulary: dict[str, int]) -> _Sparse:
        norm = math.sqrt(sum(v * v for v in weighted.values()))
        if norm == 0:
            weighted = {}
        ids = np.fromiter(
            (vocabulary.setdefault(t, len(vocabulary)) for t in weighted), dtype=np.int32, count=len(weighted)
        )
        values = np.fromiter(weighted.values(), dtype=np.float64, count=len(weighted))
        return _Sparse(ids, values / norm if norm else values)


def _cosines(wanted: _Sparse, others: Sequence[_Sparse], size: int) -> NDArray[np.float64]:
    """Cosine of `wanted` with each of `others` (all unit length, numbered below `size`): their sparse dot
    products, done together."""
    if not len(wanted.ids) or not others:
        return np.zeros(len(others), dtype=np.float64)
    dense = np.zeros(size, dtype=np.float64)
    dense[wanted.ids] = wanted.values
    lengths = np.fromiter((len(o.ids) for o in others), dtype=np.int64, count=len(others))
    products = dense[np.concatenate([o.ids for o in others])] * np.concatenate([o.values for o in others])
    owner = np.repeat(np.arange(len(others)), lengths)
    return np.bincount(owner, weights=products, minlength=len(others)).astype(np.float64, copy=False)


class SimilarityScorer:
    """A `domain.Scorer` for one tokenizer and one set of weights, remembering the last `capacity` texts.

    Safe to share between threads (the web server's workers): the vocabulary and cache are guarded by a lock;
    a call keeps to the space it started in even if another starts afresh meanwhile.
    """

    def __init__(
        self,
        tokenize: Tokenizer | None,
        weights: Weights | None,
        capacity: int = DEFAULT_CAPACITY,
        max_terms: int = DEFAULT_MAX_TERMS,
    ) -> None:
        if capacity < 1 or max_terms < 1:
            raise ValueError("capacity and max_terms must be >= 1")
        self.tokenize = tokenize
        self.weights = weights
        self.capacity = capacity
        self.max_terms = max_terms
        self._space = _Space()
        self._live_terms = 0  # the vocabulary the first call in the current space needed
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._space.cache)

    def __contains__(self, text: object) -> bool:
        return text in self._space.cache

    def terms(self) -> int:
        """Distinct terms (both kinds) in the current vocabulary."""
        return len(self._space.chars) + len(self._space.words)

    def _vectors(self, space: _Space, text: str) -> _Vectors:
        """TEXT's vectors in SPACE; the caller holds the lock."""
        found = space.cache.get(text)
        if found is not None:
            space.cache.move_to_end(text)
            return found
        features = text_features(text, self.tokenize, self.weights)
        words = None if features.words is None else space.sparse(features.words, space.words)
        made = _Vectors(space.sparse(features.chars, space.chars), words)
        space.cache[text] = made
        if len(space.cache) > self.capacity:
            space.cache.popitem(last=False)
        return made

    def vectors(self, text: str) -> _Vectors:
        with self._lock:
            return self._vectors(self._space, text)

    def __call__(self, text: str, others: Sequence[str]) -> list[float]:
        with self._lock:
            if len(others) >= self.capacity // 2:
                self.capacity = 2 * (len(others) + 1)
                log.info(
                    "repeat matcher: keeping up to %d texts (a demand compared with %d)", self.capacity, len(others)
                )
            if self.terms() > max(self.max_terms, 2 * self._live_terms):
                self._space, self._live_terms = _Space(), 0
            space = self._space
            wanted = self._vectors(space, text)
            vectors = [self._vectors(space, o) for o in others]
            sizes = len(space.chars), len(space.words)
            if not self._live_terms:
                self._live_terms = self.terms()
        chars = _cosines(wanted.chars, [v.chars for v in vectors], sizes[0])
        if wanted.words is None:
            return [float(c) for c in chars]
        empty = _Sparse(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64))
        words = _cosines(wanted.words, [v.words or empty for v in vectors], sizes[1])
        return [float(s) for s in (chars + words) / 2]
