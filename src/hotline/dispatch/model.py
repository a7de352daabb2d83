"""The category classifier: word and character TF-IDF, two linear models, sigmoid calibration (scikit-learn).

Word uni/bi-grams carry the meaning; character 1-4-grams of the same text make the model robust to where jieba
happened to cut (the segmented training file and jieba today do not always agree). Two linear models read the
same features — plus the opening words (the subject) read a second time as their own, lighter-weighted view: a
linear SVM, and an NB-SVM (one-vs-rest SVMs on features scaled by naive-Bayes log-count
ratios). Each one's margins are calibrated with `CalibratedClassifierCV`, and the two calibrated probabilities
are averaged, so `confidence` is a probability.
Also here: grouped cross-validation, and saving a fitted model in its predicting form
(`hotline.dispatch.predictor`, which loads and predicts without scikit-learn).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from hotline.dispatch.corpus import Corpus
from hotline.dispatch.predictor import Member, Predictor, View, ViewSpec


@dataclass(frozen=True)
class Params:
    seed: int = 0
    C: float = 0.5
    nbsvm_C: float = 0.1  # 0 leaves the NB-SVM out (one calibrated SVM alone)
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 4)
    min_df: int = 2
    char_min_df: int = 3
    # The opening words (the message's subject, in the shared data: "subject + detail" with no separator) are
    # read a second time as their own features, with this weight; 0 tokens leaves that view out.
    head_tokens: int = 12
    head_weight: float = 0.5
    calibration: str = "sigmoid"
    calibration_folds: int = 3

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Params:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("word_ngrams", "char_ngrams"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


class NBSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs on features scaled by naive-Bayes log-count ratios (Wang & Manning, 2012).

    For each class, every feature is multiplied by log(P(feature present | class) / P(feature present | other)),
    smoothed by `alpha`; the SVM then weighs evidence that naive Bayes already found telling. The ratio is folded
    into the weights after fitting, so predicting is one sparse product.
    """

    def __init__(self, C: float = 0.1, alpha: float = 1.0, random_state: int = 0) -> None:
        self.C = C
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NBSVM:
        """SAMPLE_WEIGHT (optional) weighs each row in the naive-Bayes counts and in the SVMs."""
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        X = sp.csr_matrix(X)
        w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        present = X.copy()
        present.data[:] = 1.0
        coefs, intercepts = [], []
        for cls in self.classes_:
            mine = y == cls
            p = np.asarray(present[mine].T @ w[mine]).ravel() + self.alpha
            q = np.asarray(present[~mine].T @ w[~mine]).ravel() + self.alpha
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C, random_state=self.random_state)
            svm.fit(X.multiply(ratio).tocsr(), mine, sample_weight=sample_weight)
            coefs.append(svm.coef_.ravel() * ratio)
            intercepts.append(float(svm.intercept_[0]))
        self.coef_ = np.vstack(coefs).astype(np.float32)
        self.intercept_ = np.asarray(intercepts)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.decision_function(X).argmax(axis=1)])


def _calibrated(estimator: Any, params: Params) -> CalibratedClassifierCV:
    folds = StratifiedKFold(params.calibration_folds, shuffle=True, random_state=params.seed)
    # ensemble=False: one model fitted on all rows, calibrated on out-of-fold margins (smaller, and it sees all data).
    return CalibratedClassifierCV(estimator, method=params.calibration, cv=folds, ensemble=False)


def views(params: Params) -> list[ViewSpec]:
    """The TF-IDF views the classifier reads (the predictor applies the same specs)."""
    found = [
        ViewSpec("words", "word", params.word_ngrams, min_df=params.min_df),
        ViewSpec("chars", "char", params.char_ngrams, min_df=params.char_min_df, preprocess="join"),
    ]
    if params.head_tokens:
        found += [
            ViewSpec(
                "head_words",
                "word",
                params.word_ngrams,
                preprocess="head",
                head_tokens=params.head_tokens,
                weight=params.head_weight,
            ),
            ViewSpec(
                "head_chars",
                "char",
                (1, 3),
                min_df=2,
                preprocess="head_joined",
                head_tokens=params.head_tokens,
                weight=params.head_weight,
            ),
        ]
    return found


def _vectorizer(spec: ViewSpec) -> TfidfVectorizer:
    if spec.analyzer == "char":
        return TfidfVectorizer(
            analyzer="char",
            preprocessor=spec.preprocessor(),
            ngram_range=spec.ngram_range,
            sublinear_tf=True,
            min_df=spec.min_df,
        )
    return TfidfVectorizer(
        token_pattern=r"\S+",
        preprocessor=spec.preprocessor(),
        ngram_range=spec.ngram_range,
        sublinear_tf=True,
        min_df=spec.min_df,
    )


def build(params: Params) -> Pipeline:
    specs = views(params)
    weighted = {spec.name: spec.weight for spec in specs if spec.weight != 1.0}
    features = FeatureUnion([(spec.name, _vectorizer(spec)) for spec in specs], transformer_weights=weighted or None)
    svm = _calibrated(LinearSVC(C=params.C, random_state=params.seed), params)
    if not params.nbsvm_C:
        return Pipeline([("features", features), ("clf", svm)])
    nbsvm = _calibrated(NBSVM(C=params.nbsvm_C, random_state=params.seed), params)
    # The mean of the two calibrated probabilities.
    clf = VotingClassifier([("svm", svm), ("nbsvm", nbsvm)], voting="soft")
    return Pipeline([("features", features), ("clf", clf)])


def build_baseline(params: Params) -> Pipeline:
    """The plain baseline of the benchmark: word TF-IDF (jieba tokens) and a LinearSVC, defaults otherwise."""
    return Pipeline([("features", TfidfVectorizer(token_pattern=r"\S+")), ("clf", LinearSVC(random_state=params.seed))])


@dataclass
class Classifier:
    """A fitted pipeline (training and cross-validation); `compile` gives the form that is saved and predicts."""

    pipeline: Pipeline
    params: Params
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def probabilities(self, prepared: Sequence[str]) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(list(prepared)))

    def compile(self) -> Predictor:
        """The arrays prediction needs: each view's vocabulary and IDF, each member's weights and calibration."""
        fitted = dict(self.pipeline.named_steps["features"].transformer_list)
        views_ = [
            View(spec, {str(t): int(i) for t, i in fitted[spec.name].vocabulary_.items()}, fitted[spec.name].idf_)
            for spec in views(self.params)
        ]
        clf = self.pipeline.named_steps["clf"]
        calibrated = list(clf.named_estimators_.items()) if isinstance(clf, VotingClassifier) else [("svm", clf)]
        labels = self.labels
        members = []
        for name, model in calibrated:
            (inner,) = model.calibrated_classifiers_  # ensemble=False: one model, one calibrator per class
            estimator = inner.estimator
            # Inside the vote, classes are the label encoder's 0..k-1, i.e. the positions in `labels`.
            classes = [labels[c] if isinstance(c, (int, np.integer)) else str(c) for c in estimator.classes_]
            if classes != labels or len(labels) < 3:
                raise ValueError("a dispatch model needs three or more categories, in the pipeline's order")
            members.append(
                Member(
                    name,
                    np.asarray(estimator.coef_, dtype=np.float32),
                    np.asarray(estimator.intercept_, dtype=np.float64).ravel(),
                    np.array([c.a_ for c in inner.calibrators], dtype=np.float64),
                    np.array([c.b_ for c in inner.calibrators], dtype=np.float64),
                )
            )
        return Predictor(labels, views_, members, dict(self.metadata))


def fit(corpus: Corpus, params: Params) -> Classifier:
    pipeline = build(params)
    pipeline.fit(corpus.texts, corpus.labels)
    return Classifier(pipeline, params)


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    return {
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "n": len(truth),
    }


def cross_validate(
    corpus: Corpus, params: Params, folds: int = 5, baseline: bool = False, n_jobs: int | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Grouped k-fold (near-duplicates never straddle folds); scores overall and per source of the row.

    Folds run in parallel (one process per core by default). Returns the scores and the out-of-fold prediction
    of every row.
    """
    if len(corpus.groups) != len(corpus):
        raise ValueError("corpus has no near-duplicate groups; call corpus.grouped() first")
    labels = np.asarray(corpus.labels)
    predicted = np.empty(len(corpus), dtype=object)
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=params.seed)
    started = time.perf_counter()
    splits = list(splitter.split(np.zeros(len(corpus)), labels, corpus.groups))

    confidence = np.full(len(corpus), np.nan)

    def run(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        pipeline = build_baseline(params) if baseline else build(params)
        pipeline.fit([corpus.texts[i] for i in train], labels[train])
        texts = [corpus.texts[i] for i in test]
        if baseline:
            return test, pipeline.predict(texts), None
        probs = pipeline.predict_proba(texts)
        return test, pipeline.classes_[probs.argmax(axis=1)], probs.max(axis=1)

    jobs = n_jobs if n_jobs is not None else min(folds, os.cpu_count() or 1)
    for test, fold_pred, fold_conf in Parallel(n_jobs=jobs)(delayed(run)(tr, te) for tr, te in splits):
        predicted[test] = fold_pred
        if fold_conf is not None:
            confidence[test] = fold_conf
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {"folds": folds, "grouped_by": "corpus.groups", "seconds": round(elapsed, 1)}
    result["all"] = scores(labels.tolist(), predicted.tolist())
    if not baseline:
        result["calibration"] = calibration_report(labels == predicted, confidence)
    sources = np.asarray(corpus.sources)
    shared = sources != "feedback"
    if not shared.all():
        result["shared"] = scores(labels[shared].tolist(), predicted[shared].tolist())
    for source in sorted(set(corpus.sources)):
        mask = sources == source
        result[source] = scores(labels[mask].tolist(), predicted[mask].tolist())
    return result, [str(p) for p in predicted]


def calibration_report(correct: np.ndarray, confidence: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top-class confidence, and what the manual flag would do at 0.5-0.8."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    manual: dict[str, Any] = {}
    for threshold in (0.5, 0.6, 0.7, 0.8):
        auto = confidence >= threshold
        manual[str(threshold)] = {
            "manual_share": round(float(1 - auto.mean()), 4),
            "auto_accuracy": round(float(correct[auto].mean()), 4) if auto.any() else None,
            "manual_accuracy": round(float(correct[~auto].mean()), 4) if (~auto).any() else None,
        }
    return {"ece": round(float(ece), 4), "mean_confidence": round(float(confidence.mean()), 4), "manual": manual}
