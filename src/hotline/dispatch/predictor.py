"""The trained category classifier in the form that predicts: NumPy arrays, no scikit-learn, no pickle.

Training (`hotline.dispatch.model`) fits a scikit-learn pipeline; what prediction needs of it is small: each
feature view's vocabulary and IDF, and each linear model's weights and sigmoid calibration. Those are saved
as one `.npz` file and applied here with the same arithmetic as scikit-learn, so a `predict` run does not pay for
importing scikit-learn (about a second, most of it `scipy.stats`) and loading a model never unpickles
anything. `tests/dispatch/test_predictor.py` checks that the probabilities equal the pipeline's.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hotline.dispatch import text as textprep
from hotline.dispatch.domain import Weights

MODEL_FILE = "model.npz"
METADATA_FILE = "metadata.json"
FORMAT = 2

# scikit-learn's CountVectorizer: runs of two or more white-space characters become one space before char n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")
_TOKEN = re.compile(r"\S+")


def join_tokens(text: str) -> str:
    return text.replace(" ", "")


def head(text: str, tokens: int) -> str:
    return " ".join(text.split()[:tokens])


def head_joined(text: str, tokens: int) -> str:
    return "".join(text.split()[:tokens])


@dataclass(frozen=True)
class ViewSpec:
    """One TF-IDF view of the prepared text (tokens joined by spaces): what is read, and how it is cut."""

    name: str
    analyzer: str  # "word": tokens and their n-grams; "char": character n-grams
    ngram_range: tuple[int, int]
    min_df: int = 1
    # "join": the text without spaces; "head": the first `head_tokens` tokens; "head_joined": those, joined.
    preprocess: str | None = None
    head_tokens: int = 0
    weight: float = 1.0

    def preprocessor(self) -> Callable[[str], str] | None:
        """The preprocessor given to scikit-learn's vectorizer (None: its default, lower-casing)."""
        if self.preprocess == "join":
            return join_tokens
        if self.preprocess == "head":
            return partial(head, tokens=self.head_tokens)
        if self.preprocess == "head_joined":
            return partial(head_joined, tokens=self.head_tokens)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "min_df": self.min_df,
            "preprocess": self.preprocess,
            "head_tokens": self.head_tokens,
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ViewSpec:
        lo, hi = data["ngram_range"]
        return cls(
            data["name"],
            data["analyzer"],
            (int(lo), int(hi)),
            int(data["min_df"]),
            data["preprocess"],
            int(data["head_tokens"]),
            float(data["weight"]),
        )


def _word_grams(tokens: list[str], lo: int, hi: int) -> list[str]:
    grams = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _char_grams(text: str, lo: int, hi: int) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text)
    grams = list(text) if lo == 1 else []
    for n in range(max(lo, 2), min(hi, len(text)) + 1):
        grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


@dataclass
class View:
    spec: ViewSpec
    vocabulary: dict[str, int]
    idf: np.ndarray

    def __post_init__(self) -> None:
        self._prep = self.spec.preprocessor() or str.lower  # made once, not per text

    def grams(self, text: str) -> list[str]:
        text = self._prep(text)
        lo, hi = self.spec.ngram_range
        if self.spec.analyzer == "char":
            return _char_grams(text, lo, hi)
        return _word_grams(_TOKEN.findall(text), lo, hi)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sublinear TF × IDF, each row scaled to unit length, times the view's weight."""
        indptr, indices, values = [0], [], []
        vocabulary = self.vocabulary
        for text in texts:
            counts: dict[int, int] = {}
            for gram in self.grams(text):
                j = vocabulary.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            row = (np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1.0) * self.idf[cols]
            norm = float(np.sqrt(row @ row))
            if norm > 0:
                row /= norm
            indices.append(cols)
            values.append(row * self.spec.weight)
            indptr.append(indptr[-1] + len(cols))
        return sp.csr_matrix(
            (
                np.concatenate(values) if values else np.empty(0),
                np.concatenate(indices) if indices else np.empty(0, dtype=np.int64),
                np.asarray(indptr),
            ),
            shape=(len(texts), len(self.idf)),
        )


@dataclass
class Member:
    """A one-vs-rest linear model with a sigmoid calibration of each class's margin."""

    name: str
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    a: np.ndarray  # (classes,): P(class) before normalising = 1 / (1 + exp(a * margin + b))
    b: np.ndarray

    def probabilities(self, X: sp.csr_matrix) -> np.ndarray:
        margins = np.asarray(X @ self.coef.T, dtype=np.float64) + self.intercept
        proba = 1.0 / (1.0 + np.exp(self.a * margins + self.b))
        total = proba.sum(axis=1, keepdims=True)
        # As scikit-learn: the classes' calibrated scores are normalised; if all are zero, every class is equal.
        return np.divide(proba, total, out=np.full_like(proba, 1.0 / proba.shape[1]), where=total != 0)


@dataclass
class Predictor:
    """The model in use: raw → prepared text → class probabilities (columns in `labels` order)."""

    labels: list[str]
    views: list[View]
    members: list[Member]
    metadata: dict[str, Any] = field(default_factory=dict)
    _weights: Weights | None = field(default=None, repr=False, compare=False)

    def features(self, prepared: Sequence[str]) -> sp.csr_matrix:
        return sp.hstack([view.transform(prepared) for view in self.views], format="csr")

    def probabilities(self, prepared: Sequence[str]) -> np.ndarray:
        """The mean of the members' calibrated probabilities, for texts already `prepare`d."""
        X = self.features(list(prepared))
        return np.mean([member.probabilities(X) for member in self.members], axis=0)

    def weights(self) -> Weights:
        """IDF of words and character bigrams learnt by the classifier (for the repeat matcher)."""
        if self._weights is None:
            by_name = {view.spec.name: view for view in self.views}
            words, chars = by_name["words"], by_name["chars"]
            word_idf = {t: float(words.idf[i]) for t, i in words.vocabulary.items() if " " not in t}
            char_idf = {t: float(chars.idf[i]) for t, i in chars.vocabulary.items() if len(t) == 2}
            self._weights = Weights(word_idf, char_idf, unknown=float(max(words.idf.max(), chars.idf.max())))
        return self._weights

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for k, view in enumerate(self.views):
            tokens = sorted(view.vocabulary, key=view.vocabulary.__getitem__)
            if any("\n" in t for t in tokens):
                raise ValueError(f"view {view.spec.name} has a feature containing a line break")
            arrays[f"view{k}_tokens"] = np.frombuffer("\n".join(tokens).encode("utf-8"), dtype=np.uint8)
            arrays[f"view{k}_idf"] = view.idf
        for k, member in enumerate(self.members):
            arrays[f"member{k}_coef"] = member.coef.astype(np.float32)
            arrays[f"member{k}_intercept"] = member.intercept
            arrays[f"member{k}_a"] = member.a
            arrays[f"member{k}_b"] = member.b
        spec = {
            "format": FORMAT,
            "labels": self.labels,
            "views": [view.spec.as_dict() for view in self.views],
            "members": [member.name for member in self.members],
        }
        arrays["spec"] = np.frombuffer(json.dumps(spec, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        with (folder / MODEL_FILE).open("wb") as f:
            np.savez(f, **arrays)
        (folder / METADATA_FILE).write_text(
            json.dumps(self.metadata, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
        )


def load(folder: Path) -> Predictor:
    """The model saved in FOLDER; ValueError if it is not a model of this format."""
    with np.load(folder / MODEL_FILE, allow_pickle=False) as npz:
        spec = json.loads(npz["spec"].tobytes().decode("utf-8"))
        if spec.get("format") != FORMAT:
            raise ValueError(f"unsupported dispatch model format in {folder}")
        views = []
        for k, data in enumerate(spec["views"]):
            blob = npz[f"view{k}_tokens"].tobytes().decode("utf-8")
            tokens = blob.split("\n") if blob else []
            views.append(
                View(ViewSpec.from_dict(data), dict(zip(tokens, range(len(tokens)), strict=True)), npz[f"view{k}_idf"])
            )
        members = [
            Member(name, npz[f"member{k}_coef"], npz[f"member{k}_intercept"], npz[f"member{k}_a"], npz[f"member{k}_b"])
            for k, name in enumerate(spec["members"])
        ]
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    return Predictor(list(spec["labels"]), views, members, metadata)


_worker_predictor: Predictor | None = None


def _predict_chunk(texts: list[str]) -> np.ndarray:
    assert _worker_predictor is not None
    return _worker_predictor.probabilities([textprep.prepare(t) for t in texts])


def predict_texts(predictor: Predictor, texts: Sequence[str], workers: int | None = None) -> np.ndarray:
    """Class probabilities (columns in `predictor.labels` order) for raw texts, in order.

    Cutting and the vocabularies' lookups are Python work, so a large batch is split into chunks that forked
    worker processes cut and classify (the model is shared with them by fork, not copied through pickles).
    """
    global _worker_predictor
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    texts = list(texts)
    if workers <= 1 or len(texts) < textprep.PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        return predictor.probabilities([textprep.prepare(t) for t in texts])
    textprep.prepare("")  # the dictionary and the stop words load before forking
    size = max(50, -(-len(texts) // (workers * 4)))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    _worker_predictor = predictor
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return np.vstack(list(pool.map(_predict_chunk, chunks)))
    finally:
        _worker_predictor = None
