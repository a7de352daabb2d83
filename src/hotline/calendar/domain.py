"""Working-day arithmetic. Pure: no database, no clock.

China moves weekends around public holidays: some Saturdays and Sundays are make-up working days
(调休), so "weekdays minus holidays" is wrong. `chinese_calendar` carries the State Council's notices;
overrides recorded by an administrator win over it (for a year the package does not know yet, or a
local decision).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def official_is_workday(day: date) -> bool:
    """The State Council calendar; for years the package does not cover, Monday to Friday.

    Cached: chinese_calendar looks the day up in its tables on every call, and deadlines ask for many days.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


@lru_cache(maxsize=64)
def official_covers(year: int) -> bool:
    """Whether the State Council's holiday arrangement for YEAR is in the package. It is published each
    November for the next year; until a package release carries it, the days of that year are only guessed
    (Monday to Friday) unless an administrator enters the arrangement."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class WorkCalendar:
    overrides: Mapping[date, bool] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        found = self.overrides.get(day)
        if found is not None:
            return found
        return official_is_workday(day)

    def add_workdays(self, start: date, n: int) -> date:
        """The date `n` working days after `start` (start itself not counted); n=0 gives `start`."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        remaining = n
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days have elapsed from start to end."""
        if end <= start:
            return 0
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def next_workday(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day
