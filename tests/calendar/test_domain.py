from datetime import date

import pytest

from hotline.calendar.domain import WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2021, 2, 7), True),  # Sunday, make-up working day before Spring Festival 2021
        (date(2021, 2, 11), False),  # 除夕 2021, Thursday
        (date(2021, 10, 1), False),  # National Day, Friday
        (date(2021, 10, 9), True),  # Saturday, make-up working day after National Day 2021
        (date(2021, 6, 5), False),  # ordinary Saturday
        (date(2021, 6, 7), True),  # ordinary Monday
    ],
)
def test_official_calendar_knows_holidays_and_make_up_days(day: date, expected: bool) -> None:
    assert CAL.is_workday(day) is expected


def test_add_workdays_crosses_national_day_with_make_up_saturday() -> None:
    # 2021-09-30 (Thu) + 3 working days: 10-01..10-07 holiday, 10-08 (Fri) and 10-09 (Sat, make-up) work.
    assert CAL.add_workdays(date(2021, 9, 30), 1) == date(2021, 10, 8)
    assert CAL.add_workdays(date(2021, 9, 30), 2) == date(2021, 10, 9)
    assert CAL.add_workdays(date(2021, 9, 30), 3) == date(2021, 10, 11)


def test_override_wins_over_official_calendar() -> None:
    cal = WorkCalendar({date(2021, 6, 7): False, date(2021, 6, 5): True})
    assert not cal.is_workday(date(2021, 6, 7))
    assert cal.is_workday(date(2021, 6, 5))
    assert cal.add_workdays(date(2021, 6, 4), 1) == date(2021, 6, 5)


def test_workdays_between_is_inverse_of_add_workdays() -> None:
    start = date(2021, 2, 1)
    for n in range(0, 40):
        assert CAL.workdays_between(start, CAL.add_workdays(start, n)) == n


def test_negative_workdays_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2021, 1, 4), -1)


def test_the_package_knows_past_years_and_not_far_ones_which_count_monday_to_friday() -> None:
    from hotline.calendar.domain import official_covers

    assert official_covers(2021) and not official_covers(2099)
    assert CAL.is_workday(date(2099, 1, 1))  # a Thursday: a guess until someone enters that year's arrangement
    assert not CAL.is_workday(date(2099, 1, 3))
