"""Fixtures of the dispatch tests: a small training set sampled from the shared data, and one model per session.

Training on the full shared data takes minutes; the tests train on ~30 messages per category (a few seconds),
which is enough to check behaviour (reproducibility, formats, flags), not accuracy — that is the benchmark's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.dispatch import corpus as corpora
from hotline.dispatch import service
from tests import dispatch_sample

PER_CLASS_SEG = 24
PER_CLASS_RAW = 8


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = corpora.default_data_dir()
    if not (path / corpora.LABELLED).is_file():
        pytest.skip(f"shared training data not found at {path}")
    return path


@pytest.fixture(scope="session")
def tiny_data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small training directory in the shared files' format."""
    folder = tmp_path_factory.mktemp("tiny-data")
    dispatch_sample.write(
        folder / corpora.SEGMENTED,
        "text_seg",
        dispatch_sample.sample(shared_data / corpora.SEGMENTED, "text_seg", PER_CLASS_SEG, 1),
    )
    dispatch_sample.write(
        folder / corpora.LABELLED,
        "text",
        dispatch_sample.sample(shared_data / corpora.LABELLED, "text", PER_CLASS_RAW, 2),
    )
    return folder


@pytest.fixture(scope="session")
def raw_messages(shared_data: Path) -> list[dict[str, str]]:
    """Raw labelled messages the tiny model has (mostly) not seen."""
    return dispatch_sample.sample(shared_data / corpora.LABELLED, "text", 3, 99)


@pytest.fixture(scope="session")
def trained(tiny_data: Path) -> str:
    """Trains one model into the session's HOTLINE_DATA_DIR (set by the root conftest); returns its version."""
    report = service.train_model(data_dir=tiny_data, folds=0)
    assert report.replaced and report.version
    return report.version


@pytest.fixture
def data_dir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty HOTLINE_DATA_DIR for one test (no model in it)."""
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    yield tmp_path / "var"
