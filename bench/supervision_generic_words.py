"""Regenerate src/hotline/supervision/generic_words.txt (words never shown as 热词) from the shared data.

Ranked by how many orders hold them, the words of citizens' messages are led by those every message uses
whatever it is about: on the 2,147 labelled messages the top 20 are 领导, 一个, 现在, 问题, 部门, 希望, 政府,
相关, 严重, 工作, 情况, 尊敬, 国家, 要求, 您好, 解决, 进行, 已经, 请问, 规定. A word is generic when it is common
and spread evenly over the seven first-level categories of the labelled data: held by at least --min-share of all messages (labelled and segmented), and the
normalised entropy of its share of each category's messages at least --min-entropy (1.0: the same share in
every category; a topical word such as 社保 or 排污 is near 0). The bound 0.9 (794 words) was chosen by reading
the top 20 of the labelled messages: at 0.95 (468 words) 工作, 人员, 生活, 单位, 办理, 处理, 造成 still led it;
at 0.9 a few topical words go too (手机 0.92, 土地 0.90). The words go through the same filter as 热词
(`hotspots.is_keyword`: two characters or more, not a number) after `dispatch.text.tokens` (raw messages; the
segmented ones are already cut and without stop words).

    .venv/bin/python bench/supervision_generic_words.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import math
from collections import Counter
from pathlib import Path

from hotline.dispatch.text import tokens
from hotline.supervision.hotspots import GENERIC_WORDS_FILE, is_keyword


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--min-share", type=float, default=0.01)
    parser.add_argument("--min-entropy", type=float, default=0.9)
    args = parser.parse_args()
    messages: list[tuple[str, set[str]]] = []
    with open(args.data_dir / "tipdm_messages_labelled.csv", encoding="utf-8") as f:
        messages += [(r["label"], set(tokens(r["text"]))) for r in csv.DictReader(f)]
    with open(args.data_dir / "tipdm_messages_segmented.csv", encoding="utf-8") as f:
        messages += [(r["label"], set(r["text_seg"].split())) for r in csv.DictReader(f)]
    per_label = Counter(label for label, _ in messages)
    held: dict[str, Counter[str]] = {}
    for label, words in messages:
        for word in words:
            if is_keyword(word):
                held.setdefault(word, Counter())[label] += 1
    generic = []
    for word, by_label in held.items():
        if sum(by_label.values()) < args.min_share * len(messages):
            continue
        shares = [by_label[label] / n for label, n in per_label.items()]
        total = sum(shares)
        entropy = -sum(s / total * math.log(s / total) for s in shares if s) / math.log(len(per_label))
        if entropy >= args.min_entropy:
            generic.append(word)
    GENERIC_WORDS_FILE.write_text("\n".join(sorted(generic)) + "\n", encoding="utf-8")
    print(f"{len(messages)} messages in {len(per_label)} categories; {len(held)} words; "
          f"{len(generic)} generic words written to {GENERIC_WORDS_FILE}")  # fmt: skip


if __name__ == "__main__":
    main()
