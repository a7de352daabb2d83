"""Instants as every API and command reads them: China time without an offset, and a year the store can hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.errors import InvalidInput
from hotline.timeutil import CHINA_TZ, parse_instant


def test_an_instant_without_an_offset_is_china_time() -> None:
    assert parse_instant("2026-06-01T09:30") == datetime(2026, 6, 1, 9, 30, tzinfo=CHINA_TZ)
    assert parse_instant("2026-06-01") == datetime(2026, 6, 1, tzinfo=CHINA_TZ)
    assert parse_instant("2026-06-01T01:30:00Z") == datetime(2026, 6, 1, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-10:00", "1899-12-31", "3000-01-01"])
def test_a_year_the_store_cannot_hold_or_move_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_instant(text)
    assert refused.value.code == "invalid-time"


def test_the_years_taken_can_be_stored_and_moved_by_days() -> None:
    for text in ("1900-01-01T00:00:00", "2999-12-31T23:59:59-10:00"):
        value = parse_instant(text)
        assert (value - timedelta(days=3)).astimezone(UTC) < (value + timedelta(days=3)).astimezone(UTC)
