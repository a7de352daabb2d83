"""`domain.text_similarity` of one demand against every open order, in bulk, with each order's features kept.

Proposing 并单 compares a new demand with every open order of its city in the window (tens of thousands in a big
city): recomputing each order's character bigrams, words and weights per comparison, in pure Python, cost about
0.4 ms an order. Here each text's features are computed once (by `domain.text_features`, so their definition
stays in one place), normalised, and appended as one row to a sparse matrix per kind (chars, words): the terms'
numbers in a vocabulary of the terms seen, and their weights (CSR: int32 term numbers, float64 weights, int32
row starts). A demand is then scored against all candidates by one sparse matrix-vector product per kind
(scipy; or, for a few rows of many, `bincount` over those rows alone); the result is `domain.text_similarity` up to floating-point rounding, and exactly what scoring each
pair's shared terms in the order the candidate's text has them gives (each row is summed in its stored order,
as the dot product of the two term lists would be).

The rows are kept per group (the service's group is the demand's 市（州）: a demand is only compared with its own
city's orders, so the product runs over that city's rows alone). A group keeps its texts used most recently:
at least `capacity` of them, and one and a half times the most one call of the group compared, so that a call
never evicts texts the next call of the same city needs (an LRU cache scanned by more than it holds misses
every time); the orders closed since are the ones that go. Evicted rows stay in the matrix until a quarter of
its rows are dead, then it is rebuilt without them. Memory per kept text: 12 bytes per distinct term (about
285 character bigrams and 99 words for a 420-character demand: ≈ 4.6 KB) plus the text's entry in the index;
and the vocabulary. The vocabulary only grows; when it passes `max_terms` and twice what the live texts needed,
the scorer starts afresh (a new vocabulary and empty groups), so memory stays bounded on a platform that runs
for months.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from hotline.dispatch.domain import Tokenizer, Weights, text_features

# Texts a group keeps at least (more when one call compares more: see the module's docstring).
DEFAULT_CAPACITY = 2_000
# Distinct character bigrams and words remembered (both kinds) before starting afresh: some tens of megabytes.
DEFAULT_MAX_TERMS = 1_000_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Sparse:
    """A unit-length weighted term vector: the terms' numbers in the vocabulary and their weights."""

    ids: NDArray[np.int32]
    values: NDArray[np.float64]


def _sparse(weighted: Mapping[str, float], vocabulary: dict[str, int]) -> _Sparse:
    """WEIGHTED, normalised, its terms numbered in VOCABULARY (new terms added)."""
    norm = math.sqrt(sum(v * v for v in weighted.values()))
    if norm == 0:
        weighted = {}
    ids = np.fromiter(
        (vocabulary.setdefault(t, len(vocabulary)) for t in weighted), dtype=np.int32, count=len(weighted)
    )
    values = np.fromiter(weighted.values(), dtype=np.float64, count=len(weighted))
    return _Sparse(ids, values / norm if norm else values)


class _Rows:
    """Unit-length vectors appended as the rows of a CSR matrix, in buffers that grow by doubling; a row never
    changes once appended, so a view taken earlier stays valid while rows are added."""

    def __init__(self) -> None:
        self.ids = np.zeros(4096, dtype=np.int32)
        self.values = np.zeros(4096, dtype=np.float64)
        self.starts = np.zeros(64, dtype=np.int32)  # row r is [starts[r], starts[r + 1])
        self.count = 0

    def append(self, vector: _Sparse) -> None:
        begin = int(self.starts[self.count])
        end = begin + len(vector.ids)
        if end > np.iinfo(np.int32).max:
            raise OverflowError("too many terms kept for one group")
        if end > len(self.ids):
            size = max(end, 2 * len(self.ids))
            self.ids = np.resize(self.ids, size)
            self.values = np.resize(self.values, size)
        if self.count + 2 > len(self.starts):
            self.starts = np.resize(self.starts, 2 * len(self.starts))
        self.ids[begin:end] = vector.ids
        self.values[begin:end] = vector.values
        self.count += 1
        self.starts[self.count] = end

    def row(self, r: int) -> _Sparse:
        begin, end = int(self.starts[r]), int(self.starts[r + 1])
        return _Sparse(self.ids[begin:end], self.values[begin:end])

    def view(self, columns: int) -> _View:
        """The rows so far, in a vocabulary of COLUMNS terms (views of the buffers: no copy)."""
        starts = self.starts[: self.count + 1]
        end = int(starts[-1])
        return _View(starts, self.ids[:end], self.values[:end], columns)

    def keep(self, rows: NDArray[np.int64]) -> _Rows:
        """A new matrix of ROWS (ascending) only, in their order."""
        kept = _Rows()
        starts, kept.ids, kept.values = _select(self.starts[: self.count + 1], self.ids, self.values, rows)
        kept.starts = np.resize(starts, len(rows) + 64)
        kept.count = len(rows)
        return kept


_Csr = tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]


@dataclass(frozen=True)
class _View:
    """A CSR matrix of unit-length rows: row starts, term numbers, weights, and the number of terms."""

    starts: NDArray[np.int32]
    ids: NDArray[np.int32]
    values: NDArray[np.float64]
    columns: int


def _select(
    starts: NDArray[np.int32], ids: NDArray[np.int32], values: NDArray[np.float64], rows: NDArray[np.int64]
) -> _Csr:
    """Row starts, term numbers and weights of the ROWS of a CSR matrix, in that order (each row's terms in
    their order)."""
    lengths = (starts[rows + 1] - starts[rows]).astype(np.int64)
    made = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=made[1:])
    positions = np.repeat(starts[rows].astype(np.int64) - made[:-1], lengths) + np.arange(made[-1])
    return made.astype(np.int32), ids[positions], values[positions]


class _Group:
    """The texts one group keeps, each a row of both matrices, and when each was last used."""

    def __init__(self, capacity: int, words: bool) -> None:
        self.capacity = capacity
        self.index: dict[str, int] = {}  # text -> its row
        self.texts: list[str | None] = []  # row -> its text, None once evicted
        self.used = np.zeros(64, dtype=np.int64)  # row -> the call that last used it
        self.alive = np.zeros(64, dtype=bool)  # row -> still kept
        self.chars = _Rows()
        self.words = _Rows() if words else None

    def add(self, text: str, chars: _Sparse, words: _Sparse | None) -> int:
        row = len(self.texts)
        self.chars.append(chars)
        if self.words is not None:
            self.words.append(words or _Sparse(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)))
        self.texts.append(text)
        self.index[text] = row
        if row >= len(self.used):
            self.used = np.resize(self.used, 2 * len(self.used))
            self.alive = np.resize(self.alive, 2 * len(self.alive))
        self.alive[row] = True
        return row

    def evict(self) -> None:
        """Drop the least recently used texts beyond the capacity; rebuild the matrices once a quarter of their
        rows are dead."""
        excess = len(self.index) - self.capacity
        if excess > 0:
            rows = np.flatnonzero(self.alive[: len(self.texts)])
            # Least recently used first, the older row first among those last used by the same call.
            order = self.used[rows] * len(self.texts) + rows
            for r in rows[np.argpartition(order, excess - 1)[:excess]].tolist():
                del self.index[self.texts[r]]
                self.texts[r] = None
                self.alive[r] = False
        dead = len(self.texts) - len(self.index)
        if dead and 4 * dead >= len(self.texts):
            keep = np.flatnonzero(self.alive[: len(self.texts)])
            self.chars = self.chars.keep(keep)
            if self.words is not None:
                self.words = self.words.keep(keep)
            size = max(64, 2 * len(keep))
            self.used = np.resize(self.used[keep], size)
            self.alive = np.zeros(size, dtype=bool)
            self.alive[: len(keep)] = True
            self.texts = [self.texts[r] for r in keep.tolist()]
            self.index = {t: r for r, t in enumerate(self.texts) if t is not None}


@dataclass
class _Space:
    """One vocabulary (per kind) and the groups' rows made in it: vectors of different spaces never meet."""

    chars: dict[str, int] = field(default_factory=dict)
    words: dict[str, int] = field(default_factory=dict)
    groups: dict[Hashable, _Group] = field(default_factory=dict)
    calls: int = 0


def _scores(rows: _View, wanted: _Sparse, selected: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cosine of `wanted` with the SELECTED ROWS (all unit length): each row's products with the demand's
    weights summed in the row's order, as one sparse matrix-vector product."""
    if not len(selected):
        return np.zeros(0, dtype=np.float64)
    dense = np.zeros(rows.columns, dtype=np.float64)
    dense[wanted.ids] = wanted.values
    lengths = rows.starts[selected + 1] - rows.starts[selected]
    if 3 * int(lengths.sum()) < len(rows.ids):
        # A few rows of many (a small city, a short list): those alone, summed per row (in order) by bincount.
        _starts, ids, values = _select(rows.starts, rows.ids, rows.values, selected)
        owner = np.repeat(np.arange(len(selected)), lengths)
        summed = np.bincount(owner, weights=dense[ids] * values, minlength=len(selected))
        return summed.astype(np.float64, copy=False)
    matrix = sp.csr_matrix((rows.values, rows.ids, rows.starts), shape=(len(rows.starts) - 1, rows.columns))
    products: NDArray[np.float64] = matrix @ dense
    return products[selected]


class SimilarityScorer:
    """A `domain.Scorer` for one tokenizer and one set of weights, remembering each group's recent texts.

    `scorer(text, others, group=...)`: the similarity of TEXT to each of OTHERS, keeping their features (and
    TEXT's) in GROUP (any hashable; the service's is the city). Safe to share between threads (the web server's
    workers): the vocabulary and groups are guarded by a lock; a call keeps to the space it started in even if
    another starts afresh meanwhile.
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
        """Texts kept, all groups together."""
        return sum(len(g.index) for g in self._space.groups.values())

    def __contains__(self, text: object) -> bool:
        return any(text in g.index for g in self._space.groups.values())

    def terms(self) -> int:
        """Distinct terms (both kinds) in the current vocabulary."""
        return len(self._space.chars) + len(self._space.words)

    def group_capacity(self, group: Hashable = None) -> int:
        found = self._space.groups.get(group)
        return found.capacity if found is not None else self.capacity

    def _row(self, space: _Space, kept: _Group, text: str) -> int:
        """TEXT's row in KEPT, made if new; the caller holds the lock."""
        found = kept.index.get(text)
        if found is not None:
            return found
        features = text_features(text, self.tokenize, self.weights)
        words = None if features.words is None else _sparse(features.words, space.words)
        return kept.add(text, _sparse(features.chars, space.chars), words)

    def __call__(self, text: str, others: Sequence[str], group: Hashable = None) -> list[float]:
        with self._lock:
            if self.terms() > max(self.max_terms, 2 * self._live_terms):
                self._space, self._live_terms = _Space(), 0
            space = self._space
            kept = space.groups.get(group)
            if kept is None:
                kept = space.groups[group] = _Group(self.capacity, self.tokenize is not None)
            if 3 * len(others) // 2 + 1 > kept.capacity:
                kept.capacity = 3 * len(others) // 2 + 1
                log.info(
                    "repeat matcher: keeping up to %d texts of group %s (a demand compared with %d)",
                    kept.capacity,
                    group,
                    len(others),
                )
            space.calls += 1
            index = kept.index
            rows = [index.get(o, -1) for o in others]
            for i, r in enumerate(rows):
                if r < 0:
                    rows[i] = self._row(space, kept, others[i])
            wanted = self._row(space, kept, text)
            selected = np.array(rows, dtype=np.int64)
            kept.used[selected] = space.calls
            kept.used[wanted] = space.calls
            # Views of the rows so far: later calls only append (or rebuild into new arrays), so these stay as
            # they are once the lock is released.
            chars = (kept.chars.view(len(space.chars)), kept.chars.row(wanted))
            words = None if kept.words is None else (kept.words.view(len(space.words)), kept.words.row(wanted))
            kept.evict()
            if not self._live_terms:
                self._live_terms = self.terms()
        similar = _scores(*chars, selected)
        if words is None:
            return similar.tolist()
        return ((similar + _scores(*words, selected)) / 2).tolist()
