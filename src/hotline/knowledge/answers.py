"""Learning from answered messages: which articles answer which kind of message.

A 12345 centre answers thousands of messages with its articles; each (message, article that answered it) pair
says something words alone do not: that "孩子上学" messages are answered by articles of the education bureau
that never say "孩子", that "养狗" is answered by "犬只管理". `AnswerModel` learns that association and gives the
search one more rerank feature (`search.FEATURES`: "learned"): the cosine between a message projected into
"answer space" and each candidate article.

- Answer space: a latent semantic space (TruncatedSVD of jieba-word TF-IDF, sublinear tf) fit, without
  labels, on the articles and messages given at learning time.
- Projection: kernel ridge regression (linear kernel, dual form) from a message's TF-IDF to the answer-space
  vector of the article that answered it. Dual form keeps it small and exact: the model stores the training
  messages' TF-IDF rows and one coefficient row per message.
- The reverse projection (feature "reverse"): kernel ridge from an article's TF-IDF to the latent vector of the
  message it answered — "what kind of message does this article answer" —, compared with the message being
  searched. An article that answered a training message gets its leave-one-out prediction (by the model fit
  without that pair): its vector says what its text predicts, not which message it happened to answer, which
  is how every other article's vector is made too and how the rerank weights were fit (out of fold).

Everything at search time is NumPy/SciPy (no scikit-learn call per query). The model is saved with
`numpy.savez` (no pickle), under the data folder; the index rebuilds when it changes. See bench/knowledge.md
for the evaluation (cross-fit on the development pairs) and `hotline kb learn` for how it is built.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

FORMAT = 2
# Articles per block when predicting reverse vectors: a block's kernel is (block, training pairs) dense.
_BLOCK = 4096
# TF-IDF cosine from which an article is the answer it was trained as (its id alone is not enough).
SAME_TEXT = 0.9


@dataclass(frozen=True)
class LearnParams:
    dims: int = 128  # answer-space dimensions (100 and 200 scored the same, bench/knowledge.md)
    alpha: float = 1.0  # ridge penalty
    min_df: int = 2
    seed: int = 0


@dataclass
class AnswerModel:
    vocab: dict[str, int]
    idf: np.ndarray  # (V,) float32
    components: np.ndarray  # (dims, V) float32: the answer space
    train_x: sp.csr_matrix  # (n, V) float32: training messages, TF-IDF, l2-normalised
    coef: np.ndarray  # (n, dims) float32: dual ridge coefficients
    mean: np.ndarray  # (dims,) float32: mean answer vector (the ridge intercept)
    answer_x: sp.csr_matrix  # (n, V) float32: the training answers (articles), TF-IDF, l2-normalised
    reverse_coef: np.ndarray  # (n, dims) float32: dual coefficients of article -> message
    reverse_mean: np.ndarray  # (dims,) float32
    answer_ids: list[str]  # external ids of the answered articles (with answer_x: one row per id when known)
    answer_loo: np.ndarray  # (len(answer_ids), dims) float32: those leave-one-out reverse vectors, unit
    digest: str = ""

    def tfidf(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Sublinear-tf TF-IDF rows of word lists, l2-normalised; unknown words are ignored."""
        # One dictionary look-up per word, then array work: 100,000 articles take seconds, not minutes.
        get = self.vocab.get
        ids = [[t for t in map(get, words) if t is not None] for words in docs]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        cols = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(ids), dtype=np.int32), lengths)
        counts = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(ids), len(self.vocab))
        )  # duplicates summed: term counts
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        return _unit_rows(counts)

    def article_vectors(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """Answer-space vectors of articles (word lists), unit length; (len(docs), dims) float32."""
        return _unit(np.asarray(self.tfidf(docs) @ self.components.T, dtype=np.float32))

    def message_vector(self, words: Sequence[str]) -> np.ndarray:
        """A message projected to where its answer should lie, unit length; (dims,) float32."""
        return self.message_vectors(words)[0]

    def message_vectors(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """A message's `message_vector` and its own answer-space vector (as `article_vectors` makes it, what
        `reverse_vectors` are compared with), from one TF-IDF of it; unit length, (dims,) float32 each."""
        x = self.tfidf([words])
        kernel = np.asarray((x @ self.train_x.T).todense(), dtype=np.float32)  # (1, n)
        own = _unit(np.asarray(x @ self.components.T, dtype=np.float32))
        return _unit(kernel @ self.coef + self.mean)[0], own[0]

    def reverse_vectors(self, docs: Sequence[Sequence[str]], ids: Sequence[str | None]) -> np.ndarray:
        """For each article (word lists, with its external id), the latent vector of the message it would
        answer, unit length; an article that answered training messages gets its leave-one-out vector."""
        x = self.tfidf(docs)
        out = np.empty((len(docs), len(self.reverse_mean)), dtype=np.float32)
        for start in range(0, len(docs), _BLOCK):
            kernel = np.asarray((x[start : start + _BLOCK] @ self.answer_x.T).todense(), dtype=np.float32)
            out[start : start + _BLOCK] = _unit(kernel @ self.reverse_coef + self.reverse_mean)
        row_of = {key: k for k, key in enumerate(self.answer_ids) if key}
        for j, key in enumerate(ids):
            k = row_of.get(key) if key else None
            # The same id on another text (an edited article, another system's numbering) is another article.
            if k is not None and x[j].multiply(self.answer_x[k]).sum() >= SAME_TEXT:
                out[j] = self.answer_loo[k]
        return out


def _unit_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    scaled: sp.csr_matrix = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32) @ m
    return scaled.astype(np.float32).tocsr()


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def learn(
    messages: Sequence[Sequence[str]],
    answers: Sequence[Sequence[str]],
    articles: Sequence[Sequence[str]] = (),
    params: LearnParams = LearnParams(),
    answer_ids: Sequence[str] = (),
) -> AnswerModel:
    """Learn from (message words, words of the article that answered it) pairs.

    ARTICLES (other articles' words) only widen the unlabelled fit of the answer space. ANSWER_IDS (one per
    pair, the answering article's external id) group the reverse model's rows by article and let the search
    give each of those articles its leave-one-out reverse vector (by the model fit without that article).
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(messages) != len(answers) or not messages:
        raise ValueError("learn() needs one answer per message, and at least one pair")
    texts = [" ".join(w) for w in (*answers, *articles, *messages)]
    vectorizer = TfidfVectorizer(
        analyzer=str.split,
        sublinear_tf=True,
        min_df=min(params.min_df, len(texts)),
        dtype=np.float32,
    ).fit(texts)
    vocab = {w: int(i) for w, i in vectorizer.vocabulary_.items()}
    if answer_ids and len(answer_ids) != len(answers):
        raise ValueError("learn() needs one answer id per pair, or none")
    empty_x = sp.csr_matrix((0, len(vocab)), dtype=np.float32)
    model = AnswerModel(
        vocab=vocab,
        idf=vectorizer.idf_.astype(np.float32),
        components=np.zeros((0, len(vocab)), dtype=np.float32),
        train_x=empty_x,
        coef=np.zeros((0, 0), dtype=np.float32),
        mean=np.zeros(0, dtype=np.float32),
        answer_x=empty_x,
        reverse_coef=np.zeros((0, 0), dtype=np.float32),
        reverse_mean=np.zeros(0, dtype=np.float32),
        answer_ids=[],
        answer_loo=np.zeros((0, 0), dtype=np.float32),
    )
    every = model.tfidf([t.split() for t in texts])
    dims = max(1, min(params.dims, every.shape[1] - 1, every.shape[0] - 1))
    svd = TruncatedSVD(dims, random_state=params.seed).fit(every)
    model.components = svd.components_.astype(np.float32)
    target = model.article_vectors(answers)
    x = model.tfidf(messages)
    model.train_x = x
    model.coef, model.mean = _ridge(x, target, params.alpha)
    # The reverse direction: answering article -> the latent vector of the messages it answered. With ids, one
    # row per distinct article (target: the mean of its messages), so that leaving a row out leaves the article
    # out, however many messages it answered.
    message_latent = model.article_vectors(messages)
    keys = [key if key and "\n" not in key else "" for key in answer_ids]  # ids are saved one per line
    known = sorted({key for key in keys if key})
    if known:
        row_of = {key: k for k, key in enumerate(known)}
        first: dict[str, int] = {}
        summed = np.zeros((len(known), message_latent.shape[1]), dtype=np.float64)
        for p, key in enumerate(keys):
            if key:
                first.setdefault(key, p)
                summed[row_of[key]] += message_latent[p]
        answer_x = model.tfidf([answers[first[key]] for key in known])
        target = _unit(summed)
        model.answer_ids = known
        model.answer_loo = _ridge_leave_one_out(answer_x, target, params.alpha)
    else:
        answer_x, target = model.tfidf(answers), message_latent
        model.answer_loo = np.zeros((0, message_latent.shape[1]), dtype=np.float32)
    model.answer_x = answer_x
    model.reverse_coef, model.reverse_mean = _ridge(answer_x, target, params.alpha)
    model.digest = _digest(model)
    return model


def _ridge(x: sp.csr_matrix, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Kernel ridge (linear kernel, dual form) from the rows X to Y, the mean of Y as intercept."""
    mean = y.mean(axis=0)
    gram = np.asarray((x @ x.T).todense(), dtype=np.float64)
    coef = np.linalg.solve(gram + alpha * np.eye(x.shape[0]), y - mean)
    return coef.astype(np.float32), mean.astype(np.float32)


def _ridge_leave_one_out(x: sp.csr_matrix, y: np.ndarray, alpha: float) -> np.ndarray:
    """`_ridge`'s prediction for each row of X by the model fit on all the other rows (closed form: hat matrix
    H = K (K + alpha I)^-1, the other rows' mean target as intercept), unit rows."""
    n = x.shape[0]
    kernel = np.asarray((x @ x.T).todense(), dtype=np.float64)
    hat = kernel @ np.linalg.inv(kernel + alpha * np.eye(n))
    y = np.asarray(y, dtype=np.float64)
    others = (y.sum(axis=0) - y) / max(n - 1, 1)  # each row's intercept
    fitted = hat @ y - hat.sum(axis=1, keepdims=True) * others  # H (y - that intercept), row by row
    own = np.diag(hat)[:, None]
    return _unit(others + (fitted - own * (y - others)) / (1 - own))


def _digest(model: AnswerModel) -> str:
    h = hashlib.sha1()
    for part in (
        model.components,
        model.coef,
        model.mean,
        model.train_x.data,
        model.train_x.indices,
        model.reverse_coef,
        model.reverse_mean,
        model.answer_x.data,
        model.answer_x.indices,
        model.answer_loo,
    ):
        h.update(np.ascontiguousarray(part).tobytes())
    h.update("\n".join(sorted(model.vocab)).encode())
    h.update("\n".join(model.answer_ids).encode())
    return h.hexdigest()[:16]


def save(model: AnswerModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    words = sorted(model.vocab, key=model.vocab.__getitem__)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        format=np.array(FORMAT),
        words=np.array("\n".join(words)),
        idf=model.idf,
        components=model.components,
        x_data=model.train_x.data,
        x_indices=model.train_x.indices,
        x_indptr=model.train_x.indptr,
        coef=model.coef,
        mean=model.mean,
        a_data=model.answer_x.data,
        a_indices=model.answer_x.indices,
        a_indptr=model.answer_x.indptr,
        reverse_coef=model.reverse_coef,
        reverse_mean=model.reverse_mean,
        answer_ids=np.array("\n".join(model.answer_ids)),
        answer_loo=model.answer_loo,
    )
    tmp.replace(path)


def load(path: Path) -> AnswerModel:
    with np.load(path, allow_pickle=False) as z:
        if int(z["format"]) != FORMAT:
            raise ValueError(f"answer model format {int(z['format'])}, expected {FORMAT}")
        words = str(z["words"]).split("\n") if str(z["words"]) else []
        vocab = {w: i for i, w in enumerate(words)}
        coef = z["coef"]
        x = sp.csr_matrix((z["x_data"], z["x_indices"], z["x_indptr"]), shape=(coef.shape[0], len(vocab)))
        reverse_coef = z["reverse_coef"]
        answer_x = sp.csr_matrix(
            (z["a_data"], z["a_indices"], z["a_indptr"]), shape=(reverse_coef.shape[0], len(vocab))
        )
        ids = str(z["answer_ids"])
        model = AnswerModel(
            vocab,
            z["idf"],
            z["components"],
            x,
            coef,
            z["mean"],
            answer_x,
            reverse_coef,
            z["reverse_mean"],
            ids.split("\n") if ids else [],
            z["answer_loo"],
        )
    model.digest = _digest(model)
    return model
