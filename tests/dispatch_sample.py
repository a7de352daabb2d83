"""A small, seeded training set sampled from the shared data: the dispatch tests and the pages' servers train on
it in seconds (enough to check behaviour, not accuracy, which is the benchmark's job)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from hotline.dispatch.domain import CATEGORIES


def sample(path: Path, column: str, per_class: int, seed: int) -> list[dict[str, str]]:
    """PER_CLASS rows of each category from the CSV at PATH (its `label` and COLUMN), picked with SEED."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    random.Random(seed).shuffle(rows)
    picked: list[dict[str, str]] = []
    for label in CATEGORIES:
        picked += [{"label": r["label"], column: r[column]} for r in rows if r["label"] == label][:per_class]
    return picked


def write(path: Path, column: str, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["label", column])
        writer.writeheader()
        writer.writerows(rows)
