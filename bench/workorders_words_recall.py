"""Benchmark: does the 关键词 index find every order the substring check (LIKE '%word%') finds? On the shared data.

Orders are the shared data's raw messages (tipdm_messages_labelled.csv, and replies_queries_dev.csv's subject and
detail), created through `service.create_order` (so indexed as the platform indexes them), each with a place:
the first place name in its text (…小区, …路, …村, …学校, …), or none. Words are those users would type, drawn
from other text or from the messages themselves (--seed):

- reply words: jieba words of 2–6 Chinese characters of the official replies (replies_corpus.csv), sampled;
- categories: the names in the category tree (tipdm_label_taxonomy.csv);
- places: place names as above, sampled;
- ASCII: runs of letters and digits as written (5G, A3区, 4S店, 110), sampled;
- house numbers: 12号, 3栋, 2单元, 5号楼, sampled;
- two words: two jieba words of one message (2–6 characters; both required);
- single characters: 水 电 路 房 车 钱 楼 噪;
- substrings: 2–4 characters cut anywhere from a message (mostly not words: a stress test, not what users type).

For each word that LIKE finds at all: the orders LIKE finds (the platform before 0025), those the list finds now
(`service.count_orders`, a supervisor's), the orders the index proposes before the substring check, and whether
the word was left to the substring check alone (no term). Printed per set: words, LIKE pairs (word, order),
found, missed, agreement, index candidates per LIKE pair. The same counts for the index as jieba's search mode
alone would make it (computed in memory, for comparison) close the output.

    .venv/bin/python bench/workorders_words_recall.py --db both
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import rjieba  # noqa: E402
from sqlalchemy import ColumnElement, func, or_, select  # noqa: E402

import bench_support as support  # noqa: E402
from hotline import db  # noqa: E402
from hotline.dispatch import corpus as corpora  # noqa: E402
from hotline.workorders import search, service  # noqa: E402
from hotline.workorders.store import Order, words_match  # noqa: E402

PLACE = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{2,8}?(?:小区|花园|广场|大道|路|街|村|镇|社区|公园|学校|医院|市场|大厦)")
HAN = re.compile(r"[\u4e00-\u9fa5]+")


def _rows(name: str) -> list[dict[str, str]]:
    with (corpora.default_data_dir() / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def orders() -> list[tuple[str, str]]:
    texts = [r["text"] for r in _rows("tipdm_messages_labelled.csv")]
    texts += [f"{r['subject']}{r['detail']}" for r in _rows("replies_queries_dev.csv")]
    out = []
    for text in (t.strip()[: service.MAX_CONTENT] for t in texts):
        if text:
            found = PLACE.search(text)
            out.append((text, found.group(0) if found else ""))
    return out


def word_sets(texts: list[str], seed: int, n: int) -> dict[str, list[str]]:
    rnd = random.Random(seed)

    def sample(items: Iterable[str], k: int) -> list[str]:
        pool = sorted(set(items))
        return rnd.sample(pool, min(k, len(pool)))

    replies = [r["reply"] for r in _rows("replies_corpus.csv")]
    reply_words = sorted(
        {w for r in replies for w in rjieba.cut(r, hmm=False) if 2 <= len(w) <= 6 and HAN.fullmatch(w)}
    )

    def pair(text: str) -> str:
        words = sorted({w for w in rjieba.cut(text, hmm=False) if 2 <= len(w) <= 6 and HAN.fullmatch(w)})
        return " ".join(rnd.sample(words, 2)) if len(words) >= 2 else text[:2]

    substrings: list[str] = []
    while len(substrings) < n:
        text = rnd.choice(texts)
        k = rnd.randint(2, 4)
        i = rnd.randrange(max(1, len(text) - k))
        if HAN.fullmatch(text[i : i + k]):
            substrings.append(text[i : i + k])
    return {
        "reply words": sample(reply_words, n),
        "categories": sample((v.strip() for r in _rows("tipdm_label_taxonomy.csv") for v in r.values() if v), n),
        "places": sample((m.group(0) for t in texts for m in PLACE.finditer(t)), n // 2),
        "ASCII": sample((m.group(0) for t in texts for m in re.finditer(r"[A-Za-z0-9]+[\u4e00-\u9fa5]?", t)), n // 2),
        "house numbers": sample((m.group(0) for t in texts for m in re.finditer(r"\d+(?:号楼|号|栋|单元)", t)), n // 4),
        "two words": [pair(rnd.choice(texts)) for _ in range(n // 2)],
        "single characters": list("水电路房车钱楼噪"),
        "substrings (stress)": substrings,
    }


def _like(words: str) -> list[ColumnElement[bool]]:
    return [
        or_(Order.content.contains(w, autoescape=True), Order.place.contains(w, autoescape=True)) for w in words.split()
    ]


def measure(url: str, sets: dict[str, list[str]]) -> None:
    dialect = support.engine(url).dialect.name
    for name, words in sets.items():
        used = pairs = found = candidates = alone = 0
        missed: Counter[str] = Counter()
        with db.session_scope(url) as session:
            for w in words:
                like = session.scalar(select(func.count()).select_from(Order).where(*_like(w)))
                if not like:
                    continue
                now = service.count_orders(session, service.OrderFilters(words=w), role="supervisor")
                terms = tuple(dict.fromkeys(t for x in w.split() for t in search.lookup(x).terms))
                if terms:
                    candidates += session.scalar(select(func.count()).where(words_match(dialect, terms))) or 0
                else:
                    alone += 1
                used, pairs, found = used + 1, pairs + like, found + now
                if now < like:
                    missed[w] = like - now
        print(f"  {name:<22} {used:>4} words ({alone:>3} substring check alone), LIKE pairs {pairs:>6}, found {found:>6}, "
              f"missed {pairs - found:>4}: agreement {found / max(1, pairs):.4f}; index candidates per LIKE pair "
              f"{candidates / max(1, pairs):.2f}" + (f"; most missed {missed.most_common(5)}" if missed else ""),
              flush=True)  # fmt: skip


def search_mode_alone(docs: list[tuple[str, str]], sets: dict[str, list[str]]) -> None:
    """The same counts for an index of jieba's search-mode words only, a word looked up by its cut's words."""

    def cut(text: str, mode: str) -> set[str]:
        pieces = getattr(rjieba, mode)(search.normalise(text), hmm=False)
        return {p for p in pieces if len(p) >= 2 and re.fullmatch(r"\w+", p)}

    index: dict[str, set[int]] = {}
    for i, (content, place) in enumerate(docs):
        for word in cut(content, "cut_for_search") | cut(place, "cut_for_search"):
            index.setdefault(word, set()).add(i)
    low = [(c.lower(), p.lower()) for c, p in docs]
    for name, words in sets.items():
        pairs = found = 0
        for w in words:
            like = [i for i, (c, p) in enumerate(low) if all(x in c or x in p for x in w.lower().split())]
            if not like:
                continue
            terms = set().union(*(cut(x, "cut") for x in w.split()))
            hits = set.intersection(*(index.get(t, set()) for t in terms)) if terms else set(like)
            pairs, found = pairs + len(like), found + sum(1 for i in like if i in hits)
        print(f"  {name:<22} LIKE pairs {pairs:>6}, found {found:>6}: agreement {found / max(1, pairs):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("-n", type=int, default=1500, help="words sampled per set (fewer for some)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docs = orders()
    sets = word_sets([c for c, _ in docs], args.seed, args.n)

    def run(kind: str) -> None:
        with support.database(kind, Path(tempfile.mkdtemp())) as url:
            with db.session_scope(url) as session:
                service.load_units(session)
            started = time.perf_counter()
            with db.session_scope(url) as session:
                for content, place in docs:
                    service.create_order(session, type="求助", content=content, place=place, phone="13812341234",
                                         region="510100")  # fmt: skip
            print(f"\n{kind}: {len(docs)} orders created and indexed in {time.perf_counter() - started:.1f} s")
            measure(url, sets)

    support.each_database(args.db, run, note=f"-n {args.n} --seed {args.seed}")
    print("\nin memory, an index of jieba's search-mode words alone:")
    search_mode_alone(docs, sets)


if __name__ == "__main__":
    main()
