"""关键词 search over work orders: the words the full-text index holds for an order, and the terms a word typed in
the order list's 关键词 is looked up by. Pure: no database (the index itself is in `store`).

Segmentation is rjieba's (jieba's algorithm and dictionary, compiled) default tokenizer: the segmenter and
dictionary `dispatch.text.tokens` cuts order texts with, whose words 热点诉求 keeps (`wo_orders.content_words`).
No user dictionary is added to it: that instance is shared with the dispatch classifier, whose features a new
word would change (the knowledge base's domain dictionary lives on a jieba tokenizer of its own). Text is first
normalised (full-width letters and digits as ASCII, lower case: ５Ｇ and 5G are one word).

The index holds, for an order's content and its place (each on its own):
- every dictionary word of two characters or more wherever it stands, as jieba's full mode (全模式, `cut_all`)
  gives them: 锦绣小区 → 锦绣 小区; 人民政府 → 人民 人民政府 民政 政府; 没有人 → 没有 有人. That is search mode's
  words (a shorter word inside a longer one) and also the words a cut splits between two of its words (没有|人 →
  有人), which search mode alone misses: 3 % of the words users type (bench/workorders.md);
- each tail of two characters or more of a run of ASCII letters and digits (a1188 → a1188 1188 188 88).

A typed word is looked up by the same normalisation and the same full mode: each dictionary word of two characters
or more inside it, exactly, and each run of two or more ASCII letters and digits, as the start of an indexed word.
Every one of them is inside any text holding the typed word, where the index has it too (a dictionary word is one
wherever it stands; a run inside a longer run starts one of its tails): the index never misses an order holding
the word. Single characters, punctuation and Chinese that holds no dictionary word of two characters (绣小, 来水)
give no term; a word that gives none at all is left to the substring check alone (`service.OrderFilters`). A
word that is itself a Chinese dictionary word (小区, 人民政府) needs no substring check: the index holds it for an
order exactly when the order's content or place holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

# Han characters (CJK unified ideographs, extension A, compatibility ideographs): what a Chinese word is made of.
HAN_WORD = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
ASCII_RUN = re.compile("[0-9a-z]+")


class Term(NamedTuple):
    """One word of the index a typed word is looked up by: exactly, or (PREFIX) as the start of an indexed word.
    Only Han characters or only ASCII letters and digits: neither FTS5's query syntax nor tsquery's ever needs
    more than quoting it, and both databases' tokenizers keep it one token."""

    text: str
    prefix: bool = False


# Full-width ASCII (Ａ-Ｚ, ０-９, ！…) to ASCII; nothing else is touched, Chinese characters least of all.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalise(text: str) -> str:
    """Full-width letters, digits and signs as ASCII, lower case. Chinese characters are kept as typed (no NFKC): a
    Chinese word the index holds is then, character for character, in the order's text."""
    return text.translate(_HALF_WIDTH).lower()


@lru_cache(maxsize=1)
def _rjieba() -> Any:
    """rjieba, imported when first needed: it loads its dictionary as it is imported (0.1 s)."""
    import rjieba

    return rjieba


def _words(text: str) -> Iterator[Term]:
    """The dictionary words of two characters or more in normalised TEXT, wherever they stand (full mode)."""
    for word in _rjieba().cut_all(text):
        if len(word) >= 2 and HAN_WORD.fullmatch(word):
            yield Term(word)


def index_words(*texts: str) -> str:
    """The words the index holds for an order whose content and place are TEXTS (see the module's doc), distinct,
    in order of first appearance, separated by single spaces."""
    found: dict[str, None] = {}
    for text in texts:
        plain = normalise(text)
        found.update(dict.fromkeys(t.text for t in _words(plain)))
        for run in ASCII_RUN.findall(plain):
            found.update(dict.fromkeys(run[k:] for k in range(len(run) - 1)))
    return " ".join(found)


class Lookup(NamedTuple):
    """How a typed word is looked up: the index's TERMS (all of them must be there; none when the index cannot
    tell), and whether the index alone decides (EXACT: the word is itself a Chinese dictionary word, which the
    index holds for an order exactly when its content or place holds the word, so no substring check is needed)."""

    terms: tuple[Term, ...]
    exact: bool = False


def lookup(word: str) -> Lookup:
    """How WORD is looked up (see the module's doc and `Lookup`)."""
    plain = normalise(word)
    words = tuple(_words(plain))
    if Term(plain) in words:
        return Lookup((Term(plain),), exact=True)  # the words inside it are there whenever it is
    runs = [Term(run, prefix=True) for run in ASCII_RUN.findall(plain) if len(run) >= 2]
    return Lookup(tuple(dict.fromkeys([*words, *runs])))


def terms(word: str) -> tuple[Term, ...]:
    """The index's words WORD is looked up by, all of which an order holding WORD has; () when there are none
    (see the module's doc): the word is then found by the substring check alone."""
    return lookup(word).terms
