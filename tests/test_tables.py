"""Cells as departments write them (hotline.tables): the dates of knowledge and calendar imports."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.tables import parse_date, whole_number


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024.3.1", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("2024 年 3 月 1 日", date(2024, 3, 1)),
        ("2024-03-01 08:30:00", date(2024, 3, 1)),
        ("20240301", date(2024, 3, 1)),
        ("45352", date(2024, 3, 1)),  # an Excel date cell formatted as a number
    ],
)
def test_dates_as_departments_write_them(written: str, expected: date) -> None:
    assert parse_date(written) == expected


@pytest.mark.parametrize("written", ["2024-02-30", "下个月", "2024-13-01", "12345", "2024年3月"])
def test_what_is_not_a_date_is_refused(written: str) -> None:
    with pytest.raises(ValueError):
        parse_date(written)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("12", 12), (" 7 ", 7), ("０３", 3), ("0", 0), ("", None), ("-1", None), ("2.5", None), ("²", None), ("①", None),
     ("12a", None)],
)  # fmt: skip
def test_a_whole_number_as_typed(typed: str, expected: int | None) -> None:
    """² and ① are digits to `str.isdigit` but not numbers to `int`: refused, not a crash."""
    assert whole_number(typed) == expected
