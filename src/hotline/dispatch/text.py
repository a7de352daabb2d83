"""Text preparation shared by training and inference: raw text is made to look like the segmented data.

The segmented training file was cut with jieba, stop words removed and "A市" written "市". Raw text given at
prediction time goes through the same steps (`prepare`), so both forms meet the classifier as the same space-
separated tokens. Already segmented text passes through unchanged in effect (its tokens survive re-cutting).
The stop-word list was derived from the shared data (see `bench/dispatch_stopwords.py`).

Cutting is done by `rjieba` (jieba-rs: jieba's algorithm and dictionary, compiled): it cuts every raw message
of the shared data exactly as jieba does (tested) at about a tenth of the CPU, which was most of a
prediction's cost.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import rjieba

STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")

# Masked place names: the city itself was masked as "A市" and appears as "市" in the segmented file.
PLACE_MASKS: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"A市"), "市"),)

# Without jieba's HMM guesser for unknown words: as accurate (grouped-CV macro-F1 on raw messages 0.912
# against 0.913 with the HMM, bench/dispatch.md) and faster.
HMM = False

_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$", re.UNICODE)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(w for w in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines() if w)


def tokens(text: str) -> list[str]:
    """jieba tokens of the text after place masks, without stop words, punctuation or spaces."""
    for pattern, repl in PLACE_MASKS:
        text = pattern.sub(repl, text)
    stop = stopwords()
    return [t for t in rjieba.cut(text, hmm=HMM) if t not in stop and not _PUNCT_OR_SPACE.match(t)]


def prepare(text: str) -> str:
    """The classifier's input form: tokens joined by single spaces."""
    return " ".join(tokens(text))


def segmented(text_seg: str) -> str:
    """An already segmented text (the shared segmented file) in the classifier's input form."""
    return " ".join(text_seg.split())


# Below this many texts the cost of starting worker processes outweighs the gain.
PARALLEL_MIN = 400


def prepare_many(texts: Sequence[str], workers: int | None = None) -> list[str]:
    """`prepare` for a batch; large batches are cut by several processes."""
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(texts) < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        return [prepare(t) for t in texts]
    prepare("")  # the dictionary and the stop words load before forking, so the workers inherit them
    chunk = max(50, len(texts) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(prepare, texts, chunksize=chunk))
