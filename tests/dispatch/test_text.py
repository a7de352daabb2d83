from __future__ import annotations

import csv
import re
from pathlib import Path

import jieba

from hotline.dispatch import corpus as corpora
from hotline.dispatch import text as textprep


def test_prepare_masks_the_city_and_drops_stop_words_and_punctuation() -> None:
    out = textprep.prepare("A市A3区的路灯为什么坏了？请尽快处理！").split()
    assert out[0] == "市"
    assert "A3" in out
    for dropped in ("的", "为什么", "？", "！", "了"):
        assert dropped not in out
    assert "路灯" in out


def test_prepare_of_segmented_text_keeps_its_tokens() -> None:
    seg = "市 西湖 建筑 集团 占 道 施工 安全隐患"
    assert textprep.prepare(seg).split() == seg.split()
    assert textprep.segmented("市  西湖\u3000建筑 ") == "市 西湖 建筑"


def test_prepare_many_matches_prepare_in_order() -> None:
    texts = [f"第{i}号：A市某小区{'噪音扰民' if i % 2 else '停车收费'}问题" for i in range(textprep.PARALLEL_MIN + 5)]
    assert textprep.prepare_many(texts, workers=2) == [textprep.prepare(t) for t in texts]


def test_raw_messages_are_cut_as_jieba_cuts_them(shared_data: Path) -> None:
    # The segmented training file was cut by jieba; prediction must cut raw text the same way or the words the
    # model learned would not be found. 300 raw messages of the shared data, jieba's own cut for reference.
    jieba.setLogLevel(60)
    with (shared_data / corpora.LABELLED).open(encoding="utf-8", newline="") as f:
        texts = [row["text"] for _, row in zip(range(300), csv.DictReader(f), strict=False)]
    assert len(texts) == 300
    stop = textprep.stopwords()
    for text in texts:
        masked = text.replace("A市", "市")
        expected = [t for t in jieba.lcut(masked, HMM=False) if t not in stop and re.search(r"[^\W_]", t)]
        assert textprep.tokens(text) == expected
