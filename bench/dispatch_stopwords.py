"""Regenerate src/hotline/dispatch/stopwords.txt from the shared data.

The segmented file was produced with jieba plus a stop-word list that was not published with it. Almost every
raw message of the labelled file also appears, segmented, in the segmented file; pairing each raw message with
its segmented twin (TF-IDF cosine >= 0.9), a jieba token of the raw text that is never kept in any twin and is
dropped at least twice is a stop word. Raw text at prediction time goes through the same filter, so it looks
like the training data.

    .venv/bin/python bench/dispatch_stopwords.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

import jieba
from sklearn.feature_extraction.text import TfidfVectorizer

from hotline.dispatch.text import PLACE_MASKS, STOPWORDS_FILE

jieba.setLogLevel(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    with open(args.data_dir / "tipdm_messages_labelled.csv", encoding="utf-8") as f:
        raw = list(csv.DictReader(f))
    with open(args.data_dir / "tipdm_messages_segmented.csv", encoding="utf-8") as f:
        seg = list(csv.DictReader(f))

    def mask(text: str) -> str:
        for pattern, repl in PLACE_MASKS:
            text = pattern.sub(repl, text)
        return text

    # jieba's default mode (with HMM) here, unlike `prepare`: it reproduces how the segmented file was cut, which
    # is what pairs raw tokens with their twins' tokens; a derivation without HMM cuts unknown words into single
    # characters and mistakes them for stop words.
    raw_tokens = [jieba.lcut(mask(r["text"])) for r in raw]
    seg_texts = [" ".join(r["text_seg"].split()) for r in seg]
    vec = TfidfVectorizer(token_pattern=r"\S+").fit([" ".join(t) for t in raw_tokens] + seg_texts)
    sim = vec.transform([" ".join(t) for t in raw_tokens]) @ vec.transform(seg_texts).T
    kept: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for i, tokens in enumerate(raw_tokens):
        row = sim.getrow(i)
        if row.nnz == 0 or row.data.max() < 0.9:
            continue
        twin = set(seg_texts[int(row.indices[row.data.argmax()])].split())
        for token in tokens:
            if token.strip():
                (kept if token in twin else dropped)[token] += 1
    words = sorted(t for t, n in dropped.items() if n >= 2 and kept[t] == 0)
    STOPWORDS_FILE.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} stop words written to {STOPWORDS_FILE}")


if __name__ == "__main__":
    main()
