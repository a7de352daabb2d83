"""The saved, predicting form of a model: the same probabilities as the scikit-learn pipeline it came from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hotline.dispatch import corpus as corpora
from hotline.dispatch import model as models
from hotline.dispatch import predictor as predictors
from hotline.dispatch import text as textprep


@pytest.fixture(scope="module")
def fitted(tiny_data: Path) -> models.Classifier:
    return models.fit(corpora.load_shared(tiny_data), models.Params())


def _texts(raw_messages: list[dict[str, str]]) -> list[str]:
    prepared = [textprep.prepare(r["text"]) for r in raw_messages]
    # Edge cases of the cutting: nothing known, white-space runs, Latin letters in two cases, one token.
    return [*prepared, "", "zzzz qqqq", "WiFi  信号   差", "A3区 APP 无法 登录", "垃圾"]


def test_compiled_model_gives_the_pipelines_probabilities(
    fitted: models.Classifier, raw_messages: list[dict[str, str]]
) -> None:
    texts = _texts(raw_messages)
    compiled = fitted.compile()
    assert compiled.labels == fitted.labels
    np.testing.assert_allclose(compiled.probabilities(texts), fitted.probabilities(texts), rtol=0, atol=1e-6)


def test_saved_and_loaded_model_predicts_the_same_without_pickle(
    fitted: models.Classifier, raw_messages: list[dict[str, str]], tmp_path: Path
) -> None:
    texts = _texts(raw_messages)
    fitted.metadata = {"version": "v1", "rows": 3}
    fitted.compile().save(tmp_path / "v1")
    loaded = predictors.load(tmp_path / "v1")
    assert loaded.metadata == {"version": "v1", "rows": 3}
    np.testing.assert_allclose(loaded.probabilities(texts), fitted.probabilities(texts), rtol=0, atol=1e-6)
    with np.load(tmp_path / "v1" / predictors.MODEL_FILE, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_repeat_matcher_weights_come_from_the_words_and_character_bigrams(fitted: models.Classifier) -> None:
    weights = fitted.compile().weights()
    words = dict(fitted.pipeline.named_steps["features"].transformer_list)["words"]
    assert weights.words and all(" " not in w for w in weights.words)
    assert weights.chars and all(len(c) == 2 for c in weights.chars)
    some = next(iter(weights.words))
    assert weights.words[some] == pytest.approx(words.idf_[words.vocabulary_[some]])


def test_another_format_is_refused(fitted: models.Classifier, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    fitted.compile().save(folder)
    with (folder / predictors.MODEL_FILE).open("wb") as f:
        np.savez(f, spec=np.frombuffer(b'{"format": 1}', dtype=np.uint8))
    with pytest.raises(ValueError, match="format"):
        predictors.load(folder)


def test_predicting_does_not_import_scikit_learn() -> None:
    # The point of the predicting form: `hotline dispatch predict` starts without scikit-learn's import cost.
    code = "import sys, hotline.dispatch.service; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
