"""Dates named in messages and articles, for the rerank: an official reply ends with its date, and follows the
message it answers by days or weeks (bench/knowledge.md: 71 % of the replies to dated messages come 0–60 days
after the message's latest date, against 4 % of the other candidates)."""

from __future__ import annotations

import re
from datetime import date

import numpy as np

# Years as written in messages and replies: "2018年", "2019-3-5", "2019/5/10", "2019.5".
_YEAR = re.compile(r"(20[0-2][0-9]|19[89][0-9])\s*(?:年|[-/.])")
# Full dates: "2019年4月10日", "2019-4-10", "2019/4/10", "2019.4.10".
_FULL_DATE = re.compile(r"(20[0-2]\d|19[89]\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})(?!\d)")
# A month and day without a year: "4月10日", "4月10号" (not the tail of a full date: no digit or 年 before).
_MONTH_DAY = re.compile(r"(?<![\d年/.-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
# Gaps in days from the message's date to the article's: the article is older; then these bins, and later.
GAP_BINS = (60, 365)


def latest_year(text: str) -> int:
    """The latest year TEXT names (official replies end with their date), 0 if none."""
    return max((int(y) for y in _YEAR.findall(text)), default=0)


def _day(year: int, month: int, day: int) -> int:
    """The proleptic ordinal of that date, 0 if it is no date (2019-2-30)."""
    try:
        return date(year, month, day).toordinal()
    except ValueError:
        return 0


def latest_date(text: str, month_day: bool = False) -> int:
    """The latest full date TEXT names, as a day ordinal (0 if none). With MONTH_DAY, dates written as month and
    day only count too, in the latest year TEXT names (none when it names no year)."""
    days = [_day(int(y), int(m), int(d)) for y, m, d in _FULL_DATE.findall(text)]
    year = latest_year(text) if month_day else 0
    if year:
        days += [_day(year, int(m), int(d)) for m, d in _MONTH_DAY.findall(text)]
    return max(days, default=0)


def yearless_month_day(text: str) -> tuple[int, int] | None:
    """The latest (month, day) TEXT names as month and day only ("4月10日") when it names no year at all."""
    if latest_year(text):
        return None
    found = [(int(m), int(d)) for m, d in _MONTH_DAY.findall(text) if _day(2000, int(m), int(d))]  # a leap year
    return max(found, default=None)


def gaps(query_day: int, month_day: tuple[int, int] | None, article_days: np.ndarray) -> np.ndarray:
    """Days from the message's date to each article's date (ordinals, 0 = unknown); NaN when either is unknown.

    With no QUERY_DAY but a yearless MONTH_DAY, the gap to the latest such day on or before the article's date
    (so in [0, 366)): a message is taken to be answered within the year.
    """
    out = np.full(len(article_days), np.nan)
    known = article_days > 0
    if query_day:
        out[known] = article_days[known] - query_day
    elif month_day is not None:
        month, day = month_day
        for k in np.flatnonzero(known):
            year = date.fromordinal(int(article_days[k])).year
            start = _day(year, month, day) or _day(year, 2, 28)  # 2-29 in a common year
            if start > article_days[k]:
                start = _day(year - 1, month, day) or _day(year - 1, 2, 28)
            out[k] = article_days[k] - start
    return out


def gap_columns(day_gaps: np.ndarray) -> np.ndarray:
    """Four 0/1 columns per article from `gaps`: dated before the message; 0–60, 61–365, over 365 days after
    it. All 0 when the gap is unknown."""
    known = ~np.isnan(day_gaps)
    gap = np.where(known, day_gaps, 0.0)
    after = known & (gap >= 0)
    short, year = GAP_BINS
    return np.column_stack(
        [known & (gap < 0), after & (gap <= short), after & (gap > short) & (gap <= year), after & (gap > year)]
    ).astype(np.float64)
