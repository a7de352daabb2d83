"""The calendar facts the routing tests rely on, checked against the official data (chinese_calendar)."""

from datetime import date

import chinese_calendar


def test_make_up_saturdays_and_holiday_weekdays_of_2021() -> None:
    for saturday in (date(2021, 2, 20), date(2021, 9, 18)):
        assert saturday.weekday() == 5
        assert chinese_calendar.is_workday(saturday)
    for weekday in (date(2021, 6, 14), date(2021, 1, 1), *(date(2021, 10, d) for d in range(1, 8))):
        if weekday.weekday() < 5:
            assert chinese_calendar.is_holiday(weekday), weekday
    assert date(2021, 6, 14).weekday() == 0
    assert chinese_calendar.is_holiday(date(2021, 6, 12))
