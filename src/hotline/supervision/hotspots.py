"""热点诉求: what citizens called about most in a period, what rose against the period before, and where.
Pure: the orders of both periods in (as `Demand` records), counts out; no database, no web.

- Categories: every first-level category (and its second levels) with its count now and before and the change
  (环比, a ratio; None when there was nothing before). An order not categorised yet counts under "" (未分类); one
  categorised at the first level only counts in that level, not in any second level.
- Rising (上升明显): a count that rose by at least RISE_MIN orders AND by at least RISE_RATIO of the count before
  (`rises`), so that 1 → 3 (+200 %) does not shout and neither does 400 → 405.
- Keywords (热词): each word of the contents by how many orders of the period hold it (document frequency: a
  caller repeating a word counts once), ignoring single characters, numbers, the stop words `dispatch.text.tokens`
  already drops and the words any message holds whatever its topic (`generic_words`, derived from the shared
  data by bench/supervision_generic_words.py); top KEYWORDS.
- Places (热点地点): the orders' `place`, trimmed and without whitespace, top PLACES.

Equal counts are ranked by the fewer before (the larger rise), then by name (category path, word, place), so the
same orders always give the same lists. Example orders are the first EXAMPLES holding the item in the order
given (the service gives the newest first).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

# The rising rule: at least +50 % and at least +5 orders (both).
RISE_RATIO = 0.5
RISE_MIN = 5
KEYWORDS = 20
PLACES = 10
EXAMPLES = 3
UNCATEGORISED = "未分类"
RULES: Mapping[str, object] = MappingProxyType(
    {"rise_ratio": RISE_RATIO, "rise_min": RISE_MIN, "keywords": KEYWORDS, "places": PLACES, "examples": EXAMPLES}
)

GENERIC_WORDS_FILE = Path(__file__).with_name("generic_words.txt")
# A token of digits and the signs written between them (3.5, 10:30, 2021-06, 50%): a number, not a topic.
_NUMBER = re.compile(r"[\d.,:%/\-+．，：％]+")
_SPACE = re.compile(r"\s+")


class Demand(NamedTuple):
    """One order taken in, as hot-topic counting reads it (a named tuple: a period may hold tens of thousands)."""

    number: str
    category: str  # the full path, 一级/二级/三级, or "" while not categorised
    place: str
    tokens: Sequence[str]  # the content's words, as `dispatch.text.tokens` gives them (or `countable_words`)

    @property
    def level1(self) -> str:
        """The first-level category ("" if not categorised)."""
        return self.category.split("/", 1)[0]

    @property
    def level2(self) -> str | None:
        """The path of the second-level category (一级/二级), or None for an order without one."""
        parts = self.category.split("/", 2)
        return "/".join(parts[:2]) if len(parts) >= 2 and parts[1] else None


@dataclass(frozen=True)
class Heat:
    """One category, keyword or place: how many orders of the period hold it now and in the period before."""

    key: str  # the category path, the word or the place
    count: int
    before: int
    examples: tuple[str, ...] = ()  # order numbers (keywords and places)
    children: tuple[Heat, ...] = ()  # a first-level category's second levels
    level: int = 0  # 1 or 2 for a category, 0 otherwise

    @property
    def change(self) -> float | None:
        """环比: (now − before) / before; None when there was nothing before."""
        return change(self.count, self.before)

    @property
    def rising(self) -> bool:
        return rises(self.count, self.before)

    @property
    def name(self) -> str:
        """What people read: a category's last level (未分类 for none), else the key itself."""
        if self.level:
            return self.key.rsplit("/", 1)[-1] or UNCATEGORISED
        return self.key

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "count": self.count, "before": self.before,
                                  "change": self.change, "rising": self.rising}  # fmt: skip
        if self.level:
            out = {"category": self.key, "level": self.level, **out}
            if self.level == 1:
                out["children"] = [c.to_dict() for c in self.children]
        else:
            out["examples"] = list(self.examples)
        return out


@dataclass(frozen=True)
class Hotspots:
    orders: int  # orders of the period
    orders_before: int  # orders of the period before
    categories: list[Heat]  # first levels, most orders first, each with its second levels
    rising: list[Heat]  # categories of either level that rose (`rises`), the largest rise first
    keywords: list[Heat]
    places: list[Heat]

    def to_dict(self) -> dict[str, object]:
        return {
            "orders": self.orders,
            "orders_before": self.orders_before,
            "orders_change": change(self.orders, self.orders_before),
            "rules": dict(RULES),
            "categories": [c.to_dict() for c in self.categories],
            "rising": [c.to_dict() for c in self.rising],
            "keywords": [k.to_dict() for k in self.keywords],
            "places": [p.to_dict() for p in self.places],
        }


def change(now: int, before: int) -> float | None:
    """环比 as a ratio: +0.35 for 20 → 27; None when BEFORE is 0 (新出现, or nothing at all)."""
    return (now - before) / before if before else None


def change_label(now: int, before: int) -> str:
    """环比 as people read it: +35%, −10% (a minus sign), 0%, 新出现 (nothing before), — (nothing either time)."""
    ratio = change(now, before)
    if ratio is None:
        return "新出现" if now else "—"
    percent = int(abs(ratio) * 100 + 0.5)  # half up: +12.5 % is +13%
    return "0%" if percent == 0 else f"+{percent}%" if ratio > 0 else f"−{percent}%"


def rises(now: int, before: int) -> bool:
    """上升明显: NOW is at least RISE_MIN more than BEFORE and at least RISE_RATIO more (from nothing, RISE_MIN
    orders are enough)."""
    gain = now - before
    return gain >= RISE_MIN and gain >= RISE_RATIO * before


@lru_cache(maxsize=1)
def generic_words() -> frozenset[str]:
    """Words of any message whatever its topic (领导, 希望, 问题…): never 热词."""
    return frozenset(w for w in GENERIC_WORDS_FILE.read_text(encoding="utf-8").split() if w)


def is_keyword(token: str, ignored: Collection[str] = frozenset()) -> bool:
    """Whether TOKEN may be a 热词: two characters or more, not a number, not in IGNORED."""
    return len(token) >= 2 and not _NUMBER.fullmatch(token) and token not in ignored


def countable_words(tokens: Iterable[str]) -> str:
    """What an order keeps of its content's words (`wo_orders.content_words`): the distinct TOKENS that may be
    keywords whatever the generic words (`is_keyword` without IGNORED), in order, joined by single spaces (a
    token never holds whitespace: `dispatch.text.tokens` drops it), read back with `str.split`. Single
    characters and numbers are left out here (a rule of counting, not of data, and a quarter of the distinct
    tokens); the generic words only when counting, as their list may be derived again from other data."""
    return " ".join(t for t in dict.fromkeys(tokens) if is_keyword(t))


def normalise_place(place: str) -> str:
    """A place as counted: trimmed, whitespace removed (“ 春熙路 步行街 ” and “春熙路步行街” are one place)."""
    return _SPACE.sub("", place)


def hotspots(
    now: Sequence[Demand],
    before: Sequence[Demand],
    *,
    ignored: Collection[str] | None = None,
    keywords: int = KEYWORDS,
    places: int = PLACES,
) -> Hotspots:
    """The hot topics of the orders NOW against those BEFORE (the period of the same length just before).
    IGNORED: words never counted as keywords (default `generic_words`)."""
    skip = generic_words() if ignored is None else ignored
    return Hotspots(
        orders=len(now),
        orders_before=len(before),
        categories=_categories(now, before),
        rising=_rising(now, before),
        keywords=_top(now, before, _words, lambda word: is_keyword(word, skip), keywords),
        places=_top(now, before, _place, bool, places),
    )


def _count(items: Iterable[str | None]) -> Counter[str]:
    return Counter(item for item in items if item is not None)


def _categories(now: Sequence[Demand], before: Sequence[Demand]) -> list[Heat]:
    first_now, first_before = _count(d.level1 for d in now), _count(d.level1 for d in before)
    second_now, second_before = _count(d.level2 for d in now), _count(d.level2 for d in before)
    children: dict[str, list[Heat]] = {}
    for path in second_now.keys() | second_before.keys():
        children.setdefault(path.split("/", 1)[0], []).append(
            Heat(path, second_now[path], second_before[path], level=2)
        )
    firsts = [
        Heat(key, first_now[key], first_before[key], children=tuple(_ranked(children.get(key, []))), level=1)
        for key in first_now.keys() | first_before.keys()
    ]
    return _ranked(firsts)


def _ranked(items: Iterable[Heat]) -> list[Heat]:
    """Most orders first; then the fewer before (the larger rise); then by key."""
    return sorted(items, key=lambda h: (-h.count, h.before, h.key))


def _rising(now: Sequence[Demand], before: Sequence[Demand]) -> list[Heat]:
    found = []
    for level in (lambda d: d.level1, lambda d: d.level2):
        counts_now, counts_before = _count(map(level, now)), _count(map(level, before))
        for key, count in counts_now.items():
            if rises(count, counts_before[key]):
                found.append(Heat(key, count, counts_before[key], level=1 if "/" not in key else 2))
    return sorted(found, key=lambda h: (h.before - h.count, -h.count, h.level, h.key))


def _words(demand: Demand) -> set[str]:
    return set(demand.tokens)


def _place(demand: Demand) -> set[str]:
    place = normalise_place(demand.place)
    return {place} if place else set()


def _top(
    now: Sequence[Demand],
    before: Sequence[Demand],
    keys: Callable[[Demand], set[str]],
    kept: Callable[[str], bool],
    top: int,
) -> list[Heat]:
    """The TOP keys KEPT by how many orders of NOW hold them (KEYS: an order's), with how many orders held them
    BEFORE and the first EXAMPLES orders of NOW holding them."""
    counts = Counter(chain.from_iterable(map(keys, now)))
    previous = Counter(chain.from_iterable(map(keys, before)))
    candidates = ((key, count) for key, count in counts.items() if kept(key))
    ranked = heapq.nsmallest(top, candidates, key=lambda kv: (-kv[1], previous[kv[0]], kv[0]))
    examples: dict[str, list[str]] = {key: [] for key, _ in ranked}
    waiting = set(examples)
    for demand in now:
        if not waiting:
            break
        for key in waiting.intersection(keys(demand)):
            examples[key].append(demand.number)
            if len(examples[key]) == EXAMPLES:
                waiting.discard(key)
    return [Heat(key, count, previous[key], tuple(examples[key])) for key, count in ranked]
