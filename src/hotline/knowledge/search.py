"""Chinese full-text search over knowledge articles: jieba words plus character bigrams, field-weighted BM25.

The index is plain in-memory data (NumPy arrays and SciPy sparse matrices); it knows nothing of the database.
`service.py` builds it from the store, persists it under `settings.data_dir` and rebuilds it when articles
change (see `docs/knowledge.md`).

Scoring, in two stages:
1. **BM25 over two analyzers**: jieba words (search mode, with the domain dictionary) and overlapping
   character bigrams of the normalised text. Bigrams make any phrase findable wherever it sits in a longer
   sentence (jieba alone may keep a run of characters as one token the query does not produce). Each field
   (title, keywords, body) has its own length normalisation and weight; the query is a list of weighted
   parts (e.g. a message's subject and its long detail, weighted differently). A whole message has hundreds
   of distinct terms: only the `query_max_terms` most informative of each analyzer are scored (the common
   ones add little to BM25 and most of its cost); the rerank still sees the whole text.
2. **Learned rerank** of the best candidates: a linear model over `FEATURES` (first-stage scores, the
   longest run of each query part found verbatim in the article — official replies restate the citizen's
   complaint —, bigram coverage, places named, quoted complaints, length).

BM25 settings were chosen on the tune half of the development queries (`bench/knowledge_tune.py`). The rerank
weights were evaluated with a half-fit protocol (fit on one half, scored on the other) and are shipped fit on
all development queries (`bench/knowledge_train.py --all`); see bench/knowledge.md.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources

import numpy as np
import scipy.sparse as sp

from hotline.knowledge import dates
from hotline.knowledge.answers import AnswerModel
from hotline.knowledge.dates import latest_year

# Bump when tokenisation changes: persisted token lists made by another version are thrown away.
ANALYZER_VERSION = 4

FIELDS = ("title", "keywords", "body")
_KEEP = re.compile(r"[0-9a-z\u3400-\u9fff]")
_DROP = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_STOP_TEXT = (
    "的 了 是 在 和 与 及 或 我 你 您 他 她 它 我们 你们 他们 有 也 就 都 对 为 将 把 被 这 那 这个 那个 "
    "上 下 中 一 不 等 请 吗 呢 吧 啊 之 其 而 并 于 以 及其 已 所 该 此 又 还 但 从 向 到 给 让 着 过 个 "
    "您好 你好 谢谢 感谢"
)
_STOP = frozenset(_STOP_TEXT.split(" "))


# Place mentions: masked codes as in the public data ("A3区", "K9县") and the names of Sichuan's cities.
_PLACE_CODE = re.compile(r"(?<![0-9a-z])[a-z][0-9]{0,2}(?:市|区|县)")


def places(text: str) -> frozenset[str]:
    low = normalise(text)
    found = set(_PLACE_CODE.findall(low))
    for name in _region_names():
        if name in low:
            found.add(name)
    return frozenset(found)


_REGION_NAMES: tuple[str, ...] | None = None


def _region_names() -> tuple[str, ...]:
    global _REGION_NAMES
    if _REGION_NAMES is None:
        try:
            from hotline.plan.regions import REGIONS

            _REGION_NAMES = tuple(r.name for r in REGIONS[1:])
        except ImportError:  # pragma: no cover
            _REGION_NAMES = ()
    return _REGION_NAMES


@functools.lru_cache(maxsize=1024)
def _region_key(text: str) -> str:
    """A region as its code when the catalogue knows it (articles may name a region by code or by name); cached,
    as a filtered search asks it for every article's regions and the names in use are few."""
    from hotline.errors import NotFound
    from hotline.plan.regions import find_region

    try:
        return find_region(text).code
    except NotFound:
        return text.strip()


def _regions_serving(region: str) -> frozenset[str]:
    """The region keys whose articles serve callers in REGION: its own, and the province's, whose policies hold
    in every 市（州） (an agent in 成都市 must find the provincial 社保 rules too); never another city's."""
    from hotline.plan.regions import PROVINCE

    return frozenset({_region_key(region), PROVINCE.code})


def normalise(text: str) -> str:
    """Full-width to half-width, lower case (NFKC keeps Chinese characters as they are)."""
    return unicodedata.normalize("NFKC", text).lower()


def _clean(text: str) -> str:
    return _DROP.sub("", normalise(text))


class Analyzer:
    """jieba with the platform's domain dictionary (hotline names, units, policy terms, places)."""

    def __init__(self, extra_words: Iterable[str] = (), *, hmm: bool = True) -> None:
        import jieba

        self.hmm = hmm
        jieba.setLogLevel(60)
        self._tokenizer = jieba.Tokenizer()
        self._lock = threading.Lock()
        for word in [*domain_words(), *extra_words]:
            self._tokenizer.add_word(word, freq=2000)

    def words(self, text: str) -> list[str]:
        with self._lock:  # jieba's lazy initialisation is not thread-safe
            pieces = self._tokenizer.lcut_for_search(normalise(text), HMM=self.hmm)
        return [w for w in (p.strip() for p in pieces) if w and w not in _STOP and _KEEP.match(w[0])]

    @staticmethod
    def bigrams(text: str) -> list[str]:
        s = _clean(text)
        return [s[i : i + 2] for i in range(len(s) - 1)]


def domain_words() -> list[str]:
    """The bundled domain dictionary plus the names of Sichuan's regions."""
    raw = resources.files("hotline.knowledge").joinpath("dictionary.txt").read_text(encoding="utf-8")
    words = [line.split()[0] for line in raw.splitlines() if line.strip() and not line.startswith("#")]
    try:
        from hotline.plan.regions import REGIONS

        for region in REGIONS:
            words.append(region.name)
    except ImportError:  # pragma: no cover - the plan package is part of the platform
        pass
    return words


_ANALYZER: Analyzer | None = None
_ANALYZER_LOCK = threading.Lock()


def analyzer() -> Analyzer:
    global _ANALYZER
    with _ANALYZER_LOCK:
        if _ANALYZER is None:
            _ANALYZER = Analyzer()
        return _ANALYZER


# Rerank features of a candidate (each roughly within [0, 1]).
FEATURES: tuple[str, ...] = (
    "bm25",  # first-stage score / best candidate's
    "bm25_words",  # jieba-word part / best
    "bm25_bigrams",  # bigram part / best
    "phrase",  # longest run of the first query part found verbatim in the article, capped at 20, / 20
    "phrase_long",  # that run is 8 characters or more (a restated subject)
    "place_match",  # a place the query names is named in the article
    "place_mismatch",  # the article names places, none of them the query's
    "cover_first",  # share of the first part's bigrams (IDF-weighted) found in the article
    "cover_rest",  # same for the other parts
    "length",  # log(1 + article length) / 8
    "rank",  # 1 / (1 + first-stage rank)
    "phrase_rest",  # longest run of the other parts found verbatim, capped at 30, / 30
    "tri_first",  # share of the first part's character trigrams found in the article
    "tri_rest",  # same for the other parts
    "quoted",  # the article quotes a complaint (反映“……”) of 6+ characters
    "quote_match",  # best share of such a quote found verbatim in the first query part
    "learned",  # cosine of the message projected by the answer model and the article (0 without a model)
    "predates",  # the article's latest date is in an earlier year than the latest year the query names
    "year_gap",  # |that article year - that query year|, capped at 3, / 3 (0 when either names no year)
    # The article's latest full date against the query's (`dates.py`; all 0 when either has none):
    "date_before",  # the article is dated before the query's date
    "date_0_60",  # 0-60 days after it (where an answer usually is)
    "date_61_365",  # 61-365 days after
    "date_later",  # more than a year after
    "reverse",  # cosine of the message and the kind of message the article answers (answer model; 0 without)
)
# Where each candidate stands in its own list on the graded features above: 1 / (1 + the number of candidates
# with a larger value), 1 for the best of the list. A linear ranker sees values, not standings: "the best
# phrase match among these 50" is news to it, and helped on every one of 20 random splits (bench/knowledge.md).
LIST_RANKED = (
    "bm25", "bm25_words", "bm25_bigrams", "phrase", "cover_first", "cover_rest", "length", "rank", "phrase_rest",
    "tri_first", "tri_rest", "quote_match", "learned", "year_gap", "reverse",
)  # fmt: skip
FEATURES = FEATURES + tuple(f"list_{name}" for name in LIST_RANKED)
_LIST_COLUMNS = np.array([FEATURES.index(name) for name in LIST_RANKED])

_HAN = re.compile(r"[\u3400-\u9fff]")
_QUOTE = re.compile(r"[“\"「『]([^”\"」』]{6,80})[”\"」』]")


@dataclass(frozen=True)
class SearchConfig:
    """Weights of the ranking function (tuned by cross-validation, see bench/knowledge.md)."""

    k1: float = 1.5
    b: float = 1.0
    # IDF raised to this power: above 1 favours rare shared terms (names of places, estates, roads).
    idf_power: float = 2.0
    # Query-side term frequency: weight = 1 + query_tf * log(count in the query part).
    query_tf: float = 0.0
    field_weights: tuple[tuple[str, float], ...] = (("title", 2.0), ("keywords", 1.5), ("body", 1.0))
    word_weight: float = 1.0
    bigram_weight: float = 1.0
    # Weight of each query part after the first one (the first part weighs `first_part_weight`).
    first_part_weight: float = 0.8
    rest_part_weight: float = 1.0
    rerank_depth: int = 50
    # Long queries (a whole citizen message): the first stage scores at most this many terms per analyzer,
    # the most informative ones (query weight × IDF^idf_power); common terms add little to BM25 and most of
    # its cost. The rerank still sees the whole text. 0: every term.
    query_max_terms: int = 100
    # Linear weights of the rerank features (see `FEATURES`); pairwise logistic regression fit on ALL 1,408
    # development queries, C = 1.0 chosen by repeated 2-fold cross-validation (R@1 0.707, MRR@10 0.757 there),
    # the "learned" and "reverse" features of each query computed by an answer model that had not seen it
    # (`bench/knowledge_train.py --all`). Quality is estimated with the
    # half-fit protocol (fit on one half, scored on the other; bench/knowledge.md): a figure computed on the
    # development queries with these weights is a training-set figure, not a held-out one. None: keep the
    # first-stage order.
    rerank_weights: tuple[float, ...] | None = (
        1.338,
        1.111,
        1.583,
        1.683,
        0.607,
        0.650,
        -1.683,
        2.183,
        -0.229,
        -12.596,
        0.102,
        -0.571,
        -1.905,
        -0.609,
        -0.582,
        -1.245,
        3.011,
        -0.901,
        -1.371,
        -1.150,
        2.015,
        0.303,
        0.529,
        3.673,
        0.325,
        0.622,
        -0.195,
        -0.224,
        1.726,
        1.694,
        1.924,
        0.102,
        0.688,
        -0.793,
        -0.130,
        -1.096,
        0.765,
        -0.043,
        0.882,
    )
    # Used when the data folder has no answer model (`hotline kb learn` not run): the weights shipped before the
    # "learned", year, date, "reverse" and list-rank features existed (16 features, held-out R@1 0.676 / MRR@10
    # 0.731), those at 0. The weights above lean on the answer model and rank worse than these without it.
    rerank_weights_without_answers: tuple[float, ...] | None = (
        2.556,
        2.402,
        1.445,
        2.774,
        0.504,
        0.376,
        -1.904,
        5.334,
        2.146,
        -7.394,
        0.501,
        2.205,
        -3.291,
        0.841,
        -0.579,
        -2.873,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        *(0.0,) * len(LIST_RANKED),
    )


DEFAULT_CONFIG = SearchConfig()


@dataclass
class DocTokens:
    """The jieba words of one article version (the costly part of indexing), kept between index builds.

    `key` identifies the version; words are stored space-joined per field to keep memory small. Bigrams
    are cheap and are derived from the text at each build.
    """

    key: str
    words: dict[str, str]
    places: frozenset[str] = frozenset()


def analyse_doc(title: str, keywords: Sequence[str], body: str, key: str = "") -> DocTokens:
    a = analyzer()
    texts = {"title": title, "keywords": " ".join(keywords), "body": body}
    return DocTokens(
        key=key,
        words={f: " ".join(a.words(t)) for f, t in texts.items()},
        places=places(title + "。" + body),
    )


def analyse_many(items: Sequence[tuple[str, Sequence[str], str, str]]) -> list[DocTokens]:
    """Analyse (title, keywords, body, key) items; large batches are spread over the machine's cores."""
    workers = min(4, os.cpu_count() or 1)
    if len(items) < 2000 or workers < 2:
        return [analyse_doc(*item) for item in items]
    from concurrent.futures import ProcessPoolExecutor

    size = max(500, len(items) // (workers * 8))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_analyse_chunk, chunks)
        return [tokens for chunk in results for tokens in chunk]


def _analyse_chunk(items: list[tuple[str, Sequence[str], str, str]]) -> list[DocTokens]:
    return [analyse_doc(*item) for item in items]


@dataclass
class DocMeta:
    article_id: int
    external_id: str | None
    title: str
    body: str
    keywords: tuple[str, ...]
    status: str
    owner_unit: str
    category: str
    lines: tuple[str, ...]
    regions: tuple[str, ...]
    effective_from: date | None
    expires_on: date | None


@dataclass
class Filters:
    line: str | None = None
    region: str | None = None
    unit: str | None = None
    category: str | None = None
    # None means "published only"; "any" means every status.
    status: str | None = None
    # Valid on this day (effective ≤ day ≤ expiry). None: no date filter.
    valid_on: date | None = None


@dataclass
class Hit:
    position: int
    score: float
    phrase: int


class _Matrix:
    """BM25 weights of one analyzer, all fields summed with their weights: shape (vocabulary, documents)."""

    def __init__(self, n: int, tokens_of: Callable[[int, str], list[str]], config: SearchConfig) -> None:
        self.vocab: dict[str, int] = {}
        total: sp.csr_matrix | None = None
        body_df: np.ndarray = np.zeros(0, dtype=np.float32)
        for name, weight in config.field_weights:
            # Compact typed buffers: at 100,000 articles there are tens of millions of postings.
            rows = array("q")
            cols = array("q")
            vals = array("f")
            lengths = np.zeros(n, dtype=np.float32)
            for j in range(n):
                tokens = tokens_of(j, name)
                lengths[j] = len(tokens)
                counts = Counter(tokens)
                rows.extend(self.vocab.setdefault(term, len(self.vocab)) for term in counts)
                cols.extend(itertools.repeat(j, len(counts)))
                vals.extend(counts.values())
            if not vals:
                continue
            r = np.frombuffer(rows, dtype=np.int64)
            c = np.frombuffer(cols, dtype=np.int64)
            tf = np.frombuffer(vals, dtype=np.float32)
            del rows, cols, vals
            avg = float(lengths[lengths > 0].mean()) if (lengths > 0).any() else 1.0
            df = np.bincount(r, minlength=len(self.vocab)).astype(np.float32)
            if name == "body":
                body_df = df
            idf = (np.log1p((n - df + 0.5) / (df + 0.5)) ** config.idf_power).astype(np.float32)
            denom = tf + config.k1 * (1 - config.b + config.b * lengths[c] / avg)
            w = (weight * tf * (config.k1 + 1) / denom * idf[r]).astype(np.float32)
            part = sp.csr_matrix((w, (r, c)), shape=(len(self.vocab), n), dtype=np.float32)
            if total is None:
                total = part
            else:
                total.resize((len(self.vocab), n))
                total = total + part
        if total is None:
            total = sp.csr_matrix((len(self.vocab), n), dtype=np.float32)
        total.resize((len(self.vocab), n))
        self.matrix: sp.csr_matrix = total.tocsr()
        df_all = np.zeros(len(self.vocab), dtype=np.float32)
        df_all[: len(body_df)] = body_df
        # Plain BM25 IDF over article bodies (for the coverage features).
        self.idf: np.ndarray = np.log1p((n - df_all + 0.5) / (df_all + 0.5)).astype(np.float32)

    def prune(self, terms: dict[str, float], config: SearchConfig) -> dict[int, float]:
        """Known query terms as {row: weight}, at most `config.query_max_terms` of them, most informative first."""
        vocab = self.vocab
        rows = {vocab[t]: w for t, w in terms.items() if t in vocab}
        limit = config.query_max_terms
        if limit and len(rows) > limit:
            ids = np.fromiter(rows, dtype=np.int64, count=len(rows))
            weights = np.fromiter(rows.values(), dtype=np.float64, count=len(rows))
            impact = weights * self.idf[ids].astype(np.float64) ** config.idf_power
            keep = np.argsort(-impact, kind="stable")[:limit]
            rows = dict(zip(ids[keep].tolist(), weights[keep].tolist(), strict=True))
        return rows

    def term_idf(self, term: str) -> float:
        j = self.vocab.get(term)
        return float(self.idf[j]) if j is not None else 0.0

    def score(self, rows: dict[int, float], n: int) -> np.ndarray:
        """BM25 of every document for weighted query terms {row: weight}: their posting rows summed in one pass
        (all postings gathered with one index array, no loop over the terms)."""
        if not rows:
            return np.zeros(n, dtype=np.float64)
        m = self.matrix
        ids = np.fromiter(rows, dtype=np.int64, count=len(rows))
        weights = np.fromiter(rows.values(), dtype=np.float64, count=len(rows))
        starts = m.indptr[ids]
        lengths = m.indptr[ids + 1] - starts
        ends = np.cumsum(lengths)
        # Position of every posting: its row's start plus its offset within the row.
        where = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
        result: np.ndarray = np.bincount(
            m.indices[where], weights=m.data[where] * np.repeat(weights, lengths), minlength=n
        )
        return result


@dataclass
class _Query:
    word_terms: dict[str, float] = field(default_factory=dict)
    bigram_terms: dict[str, float] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    sw: np.ndarray = field(default_factory=lambda: np.zeros(0))  # word BM25 of every article
    sb: np.ndarray = field(default_factory=lambda: np.zeros(0))  # bigram BM25 of every article


@dataclass
class SearchIndex:
    """Everything a search needs, built from articles' analysed forms; picklable."""

    meta: list[DocMeta]
    tokens: list[DocTokens]
    config: SearchConfig = field(default_factory=SearchConfig)
    signature: str = ""
    # The newest `updated_at` among the articles it was built from (set by the service).
    built_upto: datetime | None = None
    # Learned from answered messages (`answers.py`); None: the "learned" feature is 0 for every article and
    # the search ranks with `rerank_weights_without_answers`.
    answers: AnswerModel | None = None

    def __post_init__(self) -> None:
        n = len(self.meta)
        a = analyzer()

        def words_of(j: int, name: str) -> list[str]:
            text = self.tokens[j].words.get(name, "")
            return text.split(" ") if text else []

        def bigrams_of(j: int, name: str) -> list[str]:
            m = self.meta[j]
            return a.bigrams(m.title if name == "title" else m.body if name == "body" else " ".join(m.keywords))

        self._words = _Matrix(n, words_of, self.config)
        self._bigrams = _Matrix(n, bigrams_of, self.config)
        self._clean = [_clean(m.title + "。" + m.body) for m in self.meta]
        csc = self._bigrams.matrix.tocsc()
        csc.sort_indices()
        # Each article's bigram ids, sorted (for the rerank features).
        self._doc_gram_ptr: np.ndarray = csc.indptr
        self._doc_gram_ids: np.ndarray = csc.indices.astype(np.int32)
        del csc
        self._quotes = [
            [q for q in (_clean(x) for x in _QUOTE.findall(m.body)) if len(q) >= 6 and _HAN.search(q)]
            for m in self.meta
        ]
        self._status = np.array([m.status for m in self.meta], dtype=object)
        self._published = np.array([m.status == "published" for m in self.meta], dtype=bool)
        lo, hi = date.min.toordinal(), date.max.toordinal()
        self._eff = np.array(
            [m.effective_from.toordinal() if m.effective_from else lo for m in self.meta], dtype=np.int64
        )
        self._exp = np.array([m.expires_on.toordinal() if m.expires_on else hi for m in self.meta], dtype=np.int64)
        self._year = np.array([latest_year(m.title + "。" + m.body) for m in self.meta], dtype=np.int64)
        self._day = np.array([dates.latest_date(m.title + "。" + m.body) for m in self.meta], dtype=np.int64)
        self._answer_vecs: np.ndarray | None = None
        self._reverse_vecs: np.ndarray | None = None
        if self.answers is not None:
            docs = [words_of(j, "title") + words_of(j, "keywords") + words_of(j, "body") for j in range(n)]
            self._answer_vecs = self.answers.article_vectors(docs)
            self._reverse_vecs = self.answers.reverse_vectors(docs, [m.external_id for m in self.meta])
        self._n = n

    def __len__(self) -> int:
        return self._n

    def positions(self) -> dict[int, int]:
        return {m.article_id: j for j, m in enumerate(self.meta)}

    def replace_meta(self, j: int, meta: DocMeta, key: str) -> None:
        """New status, validity or filter fields for the article at J whose text is unchanged."""
        self.meta[j] = meta
        self.tokens[j].key = key
        self._status[j] = meta.status
        self._published[j] = meta.status == "published"
        self._eff[j] = meta.effective_from.toordinal() if meta.effective_from else date.min.toordinal()
        self._exp[j] = meta.expires_on.toordinal() if meta.expires_on else date.max.toordinal()

    def _mask(self, filters: Filters) -> np.ndarray:
        if filters.status in (None, "published"):
            mask = self._published.copy()
        elif filters.status == "any":
            mask = np.ones(self._n, dtype=bool)
        else:
            mask = self._status == filters.status
        if filters.valid_on is not None:
            day = filters.valid_on.toordinal()
            mask &= (self._eff <= day) & (self._exp >= day)
        if filters.line or filters.region or filters.unit or filters.category:
            regions = _regions_serving(filters.region) if filters.region else frozenset()
            for j in np.flatnonzero(mask):
                m = self.meta[j]
                if (
                    (filters.line and m.lines and filters.line not in m.lines)
                    or (filters.region and m.regions and regions.isdisjoint(_region_key(r) for r in m.regions))
                    or (filters.unit and m.owner_unit != filters.unit)
                    or (filters.category and m.category != filters.category)
                ):
                    mask[j] = False
        return mask

    def search(
        self, parts: Sequence[str], filters: Filters | None = None, top: int = 10
    ) -> tuple[list[Hit], dict[str, float], list[str]]:
        """Rank the articles for a query made of PARTS; returns hits, query bigram weights and words."""
        filters = filters or Filters()
        cfg = self.config
        query = self._query(parts)
        if self._n == 0 or (not query.word_terms and not query.bigram_terms):
            return [], query.bigram_terms, query.words
        scores = query.sw + query.sb
        mask = self._mask(filters)
        scores = np.where(mask & (scores > 0), scores, -1.0)
        weights = cfg.rerank_weights if self.answers is not None else cfg.rerank_weights_without_answers
        depth = max(top, cfg.rerank_depth) if weights is not None else top
        depth = min(depth, int((scores > 0).sum()))
        if depth <= 0:
            return [], query.bigram_terms, query.words
        cand = np.argpartition(-scores, depth - 1)[:depth]
        cand = cand[np.lexsort((cand, -scores[cand]))]  # first-stage order
        if weights is None:
            hits = [Hit(int(j), float(scores[j]), 0) for j in cand]
        else:
            feats = self.features(parts, cand, scores, query)
            final = feats @ np.asarray(weights, dtype=np.float64)
            hits = [Hit(int(j), float(f), round(x[3] * 20)) for j, f, x in zip(cand, final, feats, strict=True)]
            hits.sort(key=lambda h: (-h.score, h.position))
        return hits[:top], query.bigram_terms, query.words

    def _query(self, parts: Sequence[str]) -> _Query:
        """Weighted query terms of each analyzer (the first of several parts has its own weight) and the
        first-stage scores of every article."""
        cfg = self.config
        a = analyzer()
        q = _Query()
        for i, part in enumerate(parts):
            weight = cfg.first_part_weight if (i == 0 and len(parts) > 1) else cfg.rest_part_weight
            words = a.words(part)
            q.words.extend(words)
            for t, c in Counter(words).items():
                qw = weight * cfg.word_weight * (1.0 + cfg.query_tf * float(np.log(c)))
                q.word_terms[t] = q.word_terms.get(t, 0.0) + qw
            for t, c in Counter(a.bigrams(part)).items():
                qw = weight * cfg.bigram_weight * (1.0 + cfg.query_tf * float(np.log(c)))
                q.bigram_terms[t] = q.bigram_terms.get(t, 0.0) + qw
        n = self._n
        if n == 0:
            return q
        q.sw = self._words.score(self._words.prune(q.word_terms, cfg), n)
        q.sb = self._bigrams.score(self._bigrams.prune(q.bigram_terms, cfg), n)
        return q

    def candidates(self, parts: Sequence[str], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """First-stage candidates (published, any date) and their rerank features: for training."""
        query = self._query(parts)
        if self._n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, len(FEATURES)))
        scores = np.where(self._published & (query.sw + query.sb > 0), query.sw + query.sb, -1.0)
        depth = min(depth, int((scores > 0).sum()))
        if depth <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, len(FEATURES)))
        cand = np.argpartition(-scores, depth - 1)[:depth]
        cand = cand[np.lexsort((cand, -scores[cand]))]
        return cand, self.features(parts, cand, scores, query)

    def features(self, parts: Sequence[str], cand: np.ndarray, scores: np.ndarray, query: _Query) -> np.ndarray:
        """Rerank features of the candidates (see FEATURES), computed for all candidates at once."""
        sw, sb = query.sw, query.sb
        first = _clean(parts[0]) if parts else ""
        rest = _clean("".join(parts[1:]))
        f_seq = self._gram_ids(first)
        r_seq = self._gram_ids(rest)
        known = np.unique(np.concatenate([f_seq[f_seq >= 0], r_seq[r_seq >= 0]]))
        # presence[u, k]: query bigram `known[u]` occurs in candidate k.
        presence = np.zeros((len(known) + 1, len(cand)), dtype=bool)  # last row: unknown bigrams
        if len(known):
            ptr, ids = self._doc_gram_ptr, self._doc_gram_ids
            for k, j in enumerate(cand):
                doc_ids = ids[ptr[j] : ptr[j + 1]]  # sorted
                if len(doc_ids):
                    pos = np.minimum(np.searchsorted(doc_ids, known), len(doc_ids) - 1)
                    presence[:-1, k] = doc_ids[pos] == known
        row_of = {int(t): i for i, t in enumerate(known)}
        f_rows = np.array([row_of.get(int(t), len(known)) for t in f_seq], dtype=np.int64)
        r_rows = np.array([row_of.get(int(t), len(known)) for t in r_seq], dtype=np.int64)
        f_in = presence[f_rows]  # (positions of the first part, candidates)
        r_in = presence[r_rows]
        idf = self._bigrams.idf
        top_idf = float(idf.max()) if len(idf) else 1.0
        known_idf = idf[known] if len(known) else np.zeros(0, dtype=np.float32)

        def coverage(seq: np.ndarray, text: str) -> np.ndarray:
            rows = np.unique([row_of[int(t)] for t in seq if t >= 0]).astype(np.int64)
            total = float(known_idf[rows].sum()) + top_idf * _unknown(text, seq) or 1.0
            found: np.ndarray = known_idf[rows] @ presence[rows] / total if len(rows) else np.zeros(len(cand))
            return found

        def tri(x: np.ndarray) -> np.ndarray:
            return (x[:-1] & x[1:]).mean(axis=0) if len(x) > 1 else np.zeros(len(cand))

        f_run = _verified_runs(first, f_in, [self._clean[j] for j in cand])
        r_run = _verified_runs(rest, r_in, [self._clean[j] for j in cand])
        first_grams = {first[i : i + 2] for i in range(len(first) - 1)}
        query_places = places(" ".join(parts))
        best = float(scores[cand].max()) or 1.0
        best_w = float(sw[cand].max()) or 1.0
        best_b = float(sb[cand].max()) or 1.0
        out = np.zeros((len(cand), len(FEATURES)), dtype=np.float64)
        out[:, 0] = scores[cand] / best
        out[:, 1] = sw[cand] / best_w
        out[:, 2] = sb[cand] / best_b
        out[:, 3] = np.minimum(f_run, 20) / 20
        out[:, 4] = f_run >= 8
        out[:, 7] = coverage(f_seq, first)
        out[:, 8] = coverage(r_seq, rest)
        out[:, 9] = np.log1p([len(self._clean[j]) for j in cand]) / 8
        out[:, 10] = 1.0 / (1 + np.arange(len(cand)))
        out[:, 11] = np.minimum(r_run, 30) / 30
        out[:, 12] = tri(f_in)
        out[:, 13] = tri(r_in)
        if self.answers is not None and self._answer_vecs is not None and self._reverse_vecs is not None:
            projected, own = self.answers.message_vectors(query.words)
            out[:, 16] = self._answer_vecs[cand] @ projected
            out[:, 23] = self._reverse_vecs[cand] @ own
        whole = " ".join(parts)
        query_year = latest_year(whole)
        if query_year:
            years = self._year[cand]
            known = years > 0
            out[:, 17] = known & (years < query_year)
            out[:, 18] = np.where(known, np.minimum(np.abs(years - query_year), 3) / 3, 0.0)
        query_day, month_day = dates.latest_date(whole, month_day=True), dates.yearless_month_day(whole)
        if query_day or month_day:
            out[:, 19:23] = dates.gap_columns(dates.gaps(query_day, month_day, self._day[cand]))
        for k, j in enumerate(cand):
            doc_places = self.tokens[j].places
            out[k, 5] = 1.0 if query_places & doc_places else 0.0
            out[k, 6] = 1.0 if (query_places and doc_places and not query_places & doc_places) else 0.0
            quotes = self._quotes[j]
            if quotes:
                out[k, 14] = 1.0
                out[k, 15] = max(_longest_run_in(q, first_grams, first) / len(q) for q in quotes)
        out[:, -len(LIST_RANKED) :] = list_ranks(out[:, _LIST_COLUMNS])
        return out

    def _gram_ids(self, text: str) -> np.ndarray:
        vocab = self._bigrams.vocab
        grams = [text[i : i + 2] for i in range(len(text) - 1)]
        ids = {g: vocab.get(g, -1) for g in set(grams)}  # each distinct bigram looked up once
        return np.fromiter((ids[g] for g in grams), dtype=np.int32, count=len(grams))


def list_ranks(values: np.ndarray) -> np.ndarray:
    """Per row (candidate) and column: 1 / (1 + how many rows of the list have a larger value)."""
    larger = (values[None, :, :] > values[:, None, :]).sum(axis=1)
    ranks: np.ndarray = 1.0 / (1.0 + larger)
    return ranks


def _unknown(text: str, seq: np.ndarray) -> int:
    """How many distinct bigrams of TEXT the index has never seen."""
    return len({text[i : i + 2] for i in np.flatnonzero(seq < 0)})


def _verified_runs(query: str, present: np.ndarray, docs: list[str]) -> np.ndarray:
    """Per candidate: the longest part of QUERY found verbatim in its text.

    PRESENT (bigram positions × candidates) says which query bigrams occur in each text; the longest run of
    present bigrams bounds the answer, which is then checked against the text itself.
    """
    n_pos, n_cand = present.shape
    result = np.zeros(n_cand, dtype=np.int64)
    if n_pos == 0:
        return result
    # Length of the run of present bigrams ending at each position, all candidates at once.
    count = np.cumsum(present, axis=0)
    reset = np.maximum.accumulate(np.where(present, 0, count), axis=0)
    run = count - reset
    best = run.max(axis=0)
    best_end = run.argmax(axis=0)
    for k in np.flatnonzero(best):
        start = int(best_end[k] - best[k] + 1)
        result[k] = _longest_substring_in(query[start : int(best_end[k]) + 2], docs[k])
    return result


def _longest_substring_in(run: str, doc: str) -> int:
    """Length of the longest substring of RUN that occurs in DOC (binary search on the length)."""
    if run in doc:
        return len(run)
    lo, hi = 1, len(run) - 1  # every bigram of RUN is in DOC, so 2 is reachable
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if any(run[i : i + mid] in doc for i in range(len(run) - mid + 1)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _longest_run_in(query: str, doc_grams: set[str], doc: str) -> int:
    """Length of the longest part of QUERY found verbatim in DOC (exact, using bigram runs to prune)."""
    best = 0
    i = 0
    n = len(query)
    while i < n - 1:
        if query[i : i + 2] not in doc_grams:
            i += 1
            continue
        k = i + 1
        while k < n - 1 and query[k : k + 2] in doc_grams:
            k += 1
        run = query[i : k + 1]  # every bigram of RUN occurs in DOC; the run itself may not
        if len(run) > best:
            best = max(best, _longest_substring_in(run, doc))
        i = k
    return best


def highlight(
    text: str, query_bigrams: Collection[str], *, width: int = 120, mark: tuple[str, str] = ("<mark>", "</mark>")
) -> str:
    """A snippet of TEXT around its densest match, query bigrams joined into marked runs."""
    if not text:
        return ""
    low = normalise(text)
    if len(low) != len(text):  # NFKC changed the length (rare ligatures): mark on the original only
        low = text.lower()
    # A dict or set (e.g. the query's bigram weights) is used as it is: no copy per highlighted article.
    grams = query_bigrams if isinstance(query_bigrams, (dict, set, frozenset)) else set(query_bigrams)
    # Every position where a query bigram starts (one pass over the text, however long the query).
    starts = np.fromiter((low[i : i + 2] in grams for i in range(len(low) - 1)), dtype=bool, count=max(0, len(low) - 1))
    covered = np.zeros(len(text), dtype=bool)
    covered[:-1] |= starts
    covered[1:] |= starts
    if not covered.any():
        return text[:width] + ("…" if len(text) > width else "")
    # The window of WIDTH characters with the most marked characters.
    csum = np.concatenate([[0], np.cumsum(covered)])
    if len(text) <= width:
        begin = 0
    else:
        sums = csum[width:] - csum[:-width]
        begin = int(np.argmax(sums))
    end = min(len(text), begin + width)
    out: list[str] = ["…"] if begin > 0 else []
    i = begin
    while i < end:
        if covered[i]:
            j = i
            while j < end and covered[j]:
                j += 1
            out.append(mark[0] + text[i:j] + mark[1])
            i = j
        else:
            j = i
            while j < end and not covered[j]:
                j += 1
            out.append(text[i:j])
            i = j
    if end < len(text):
        out.append("…")
    return "".join(out)
