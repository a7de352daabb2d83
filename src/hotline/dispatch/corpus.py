"""Training data: the shared TipDM files (and dispatchers' feedback), in the classifier's input form.

The two shared files hold largely the SAME messages: almost every raw message of `tipdm_messages_labelled.csv`
has a segmented twin in `tipdm_messages_segmented.csv`, and the segmented file itself repeats messages (citizens
post the same complaint again). Cross-validation therefore groups near-duplicates (character-bigram TF-IDF
cosine >= 0.7 on the text without spaces, connected components) so no message is scored by a model that saw
a copy of it. Character bigrams do not depend on word segmentation: 99.3 % of the raw messages land in the
same group as their segmented twin (word TF-IDF would let some twins straddle folds). `twin_groups` is the
looser grouping the benchmark also reports: only each raw message with its segmented twin.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotline.dispatch import text as textprep
from hotline.dispatch.domain import CATEGORIES
from hotline.errors import InvalidInput

LABELLED = "tipdm_messages_labelled.csv"
SEGMENTED = "tipdm_messages_segmented.csv"

# Sources of a training row.
RAW, SEG, FEEDBACK = "raw", "segmented", "feedback"

NEAR_DUPLICATE = 0.7


def default_data_dir() -> Path:
    """`HOTLINE_TRAINING_DATA`, else `<checkout>/../shared/data` (the checkout holds `src/hotline`)."""
    env = os.environ.get("HOTLINE_TRAINING_DATA")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[3]
    return checkout.parent / "shared" / "data"


@dataclass
class Corpus:
    texts: list[str]  # prepared: space-separated tokens
    labels: list[str]
    sources: list[str]
    data_hash: str
    groups: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: Sequence[int]) -> Corpus:
        idx = list(index)
        return Corpus(
            [self.texts[i] for i in idx],
            [self.labels[i] for i in idx],
            [self.sources[i] for i in idx],
            self.data_hash,
            self.groups[idx] if len(self.groups) else self.groups,
        )


def _read(path: Path, column: str) -> list[tuple[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "label" not in reader.fieldnames or column not in reader.fieldnames:
                raise InvalidInput(
                    f"训练数据文件 {path} 缺少列 label 或 {column}", code="training-data-invalid", path=str(path)
                )
            rows = [(r["label"].strip(), r[column] or "") for r in reader]
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"训练数据文件 {path} 不是 UTF-8 编码", code="training-data-invalid") from exc
    unknown = sorted({label for label, _ in rows} - set(CATEGORIES))
    if unknown:
        raise InvalidInput(
            f"训练数据文件 {path} 含有未知的一级分类：{'、'.join(unknown[:5])}", code="training-data-invalid"
        )
    return rows


def load_shared(data_dir: Path) -> Corpus:
    """Both shared files, prepared; raises `training-data-missing` (exit 2 / 422) if a file is absent."""
    paths = [data_dir / LABELLED, data_dir / SEGMENTED]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InvalidInput(
            f"找不到训练数据：{'，'.join(missing)}。请用 --data-dir 或环境变量 HOTLINE_TRAINING_DATA 指定数据目录",
            code="training-data-missing",
            missing=missing,
        )
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    raw = _read(paths[0], "text")
    seg = _read(paths[1], "text_seg")
    texts = [textprep.segmented(t) for _, t in seg] + textprep.prepare_many([t for _, t in raw])
    labels = [label for label, _ in seg] + [label for label, _ in raw]
    sources = [SEG] * len(seg) + [RAW] * len(raw)
    return Corpus(texts, labels, sources, digest.hexdigest())


def with_feedback(corpus: Corpus, feedback: Sequence[tuple[str, str]]) -> Corpus:
    """The corpus plus dispatchers' (raw text, final category) pairs; the hash covers the feedback too."""
    digest = hashlib.sha256(corpus.data_hash.encode())
    for text, label in feedback:
        digest.update(f"{label}\t{text}\n".encode())
    return Corpus(
        corpus.texts + textprep.prepare_many([t for t, _ in feedback]),
        corpus.labels + [label for _, label in feedback],
        corpus.sources + [FEEDBACK] * len(feedback),
        digest.hexdigest(),
    )


def _unspaced(text: str) -> str:
    return text.replace(" ", "")


def near_duplicate_groups(texts: Sequence[str], threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """Group id per text: connected components of the graph 'character-bigram TF-IDF cosine >= threshold'."""
    # Imported here: only training groups rows, and predicting should not pay scikit-learn's import (≈ 1 s).
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), preprocessor=_unspaced).fit_transform(texts)
    sim = (matrix @ matrix.T).tocsr()
    sim.data[sim.data < threshold] = 0
    sim.eliminate_zeros()
    _, groups = connected_components(sim, directed=False)
    return np.asarray(groups, dtype=np.int64)


def grouped(corpus: Corpus) -> Corpus:
    corpus.groups = near_duplicate_groups(corpus.texts)
    return corpus


TWIN = 0.5


def twin_groups(corpus: Corpus, threshold: float = TWIN) -> np.ndarray:
    """Group id per row that joins only each raw message to its segmented twin (the same message twice).

    Reposts inside the segmented file stay apart. Folds over these groups are what a hidden set drawn from the
    same message board looks like: no message is scored by a model that saw it in the other file, but a
    citizen's repost of an earlier message can be in training, as it would be for a new message (bench/dispatch.md).
    A raw message whose closest segmented row (character-bigram cosine) is below `threshold` has no twin.
    """
    sources = np.asarray(corpus.sources)
    seg = np.flatnonzero(sources == SEG)
    raw = np.flatnonzero(sources == RAW)
    groups = np.arange(len(corpus), dtype=np.int64)
    if len(seg) == 0 or len(raw) == 0:
        return groups
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), preprocessor=_unspaced).fit_transform(corpus.texts)
    sim = (vectors[raw] @ vectors[seg].T).tocsr()
    sim.sort_indices()  # ties (a message posted twice) go to the first copy
    for row, i in enumerate(raw):
        start, end = sim.indptr[row], sim.indptr[row + 1]
        if end > start:
            best = start + int(np.argmax(sim.data[start:end]))
            if sim.data[best] >= threshold:
                groups[i] = groups[seg[sim.indices[best]]]
    return groups
