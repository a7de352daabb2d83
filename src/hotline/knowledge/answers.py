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

FORMAT = 1


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
        x = self.tfidf([words])
        kernel = np.asarray((x @ self.train_x.T).todense(), dtype=np.float32)  # (1, n)
        return _unit(kernel @ self.coef + self.mean)[0]


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
) -> AnswerModel:
    """Learn from (message words, words of the article that answered it) pairs.

    ARTICLES (other articles' words) only widen the unlabelled fit of the answer space.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(messages) != len(answers) or not messages:
        raise ValueError("learn() needs one answer per message, and at least one pair")
    texts = [" ".join(w) for w in (*answers, *articles, *messages)]
    vectorizer = TfidfVectorizer(
        analyzer=str.split, sublinear_tf=True, min_df=min(params.min_df, len(texts)), dtype=np.float32,
    ).fit(texts)
    vocab = {w: int(i) for w, i in vectorizer.vocabulary_.items()}
    model = AnswerModel(
        vocab=vocab,
        idf=vectorizer.idf_.astype(np.float32),
        components=np.zeros((0, len(vocab)), dtype=np.float32),
        train_x=sp.csr_matrix((0, len(vocab)), dtype=np.float32),
        coef=np.zeros((0, 0), dtype=np.float32),
        mean=np.zeros(0, dtype=np.float32),
    )
    every = model.tfidf([t.split() for t in texts])
    dims = max(1, min(params.dims, every.shape[1] - 1, every.shape[0] - 1))
    svd = TruncatedSVD(dims, random_state=params.seed).fit(every)
    model.components = svd.components_.astype(np.float32)
    target = model.article_vectors(answers)
    x = model.tfidf(messages)
    mean = target.mean(axis=0)
    gram = np.asarray((x @ x.T).todense(), dtype=np.float64)
    coef = np.linalg.solve(gram + params.alpha * np.eye(len(messages)), target - mean)
    model.train_x = x
    model.coef = coef.astype(np.float32)
    model.mean = mean.astype(np.float32)
    model.digest = _digest(model)
    return model


def _digest(model: AnswerModel) -> str:
    h = hashlib.sha1()
    for part in (model.components, model.coef, model.mean, model.train_x.data, model.train_x.indices):
        h.update(np.ascontiguousarray(part).tobytes())
    h.update("\n".join(sorted(model.vocab)).encode())
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
        model = AnswerModel(vocab, z["idf"], z["components"], x, coef, z["mean"])
    model.digest = _digest(model)
    return model
