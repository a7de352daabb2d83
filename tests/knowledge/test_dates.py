"""Dates named in messages and replies, and the rerank columns made of them (pure)."""

from __future__ import annotations

from datetime import date

import numpy as np

from hotline.knowledge import dates


def _day(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


def test_the_latest_full_date_a_text_names() -> None:
    reply = "……经核实，已于2019年4月10日整改到位。特此回复。2019年5月9日"
    assert dates.latest_date(reply) == _day(2019, 5, 9)
    assert dates.latest_date("您于2019-3-5、2019/3/20 两次反映") == _day(2019, 3, 20)
    assert dates.latest_date("2019年2月30日") == 0  # no such day
    assert dates.latest_date("编号20190510，电话12345") == 0  # digits that are not written as a date


def test_month_and_day_take_the_year_the_message_names() -> None:
    message = "2019年春节后，4月28日起小区一直停水"
    assert dates.latest_date(message) == 0
    assert dates.latest_date(message, month_day=True) == _day(2019, 4, 28)
    assert dates.latest_date("4月28日起小区停水", month_day=True) == 0  # no year named: unknown
    assert dates.yearless_month_day("4月28日起停水，5月3号还没来水") == (5, 3)
    assert dates.yearless_month_day("2019年5月3日停水") is None  # a full date, not a yearless one


def test_gaps_from_the_message_to_each_article() -> None:
    articles = np.array([_day(2019, 5, 9), _day(2019, 4, 1), 0, _day(2020, 8, 1)])
    gaps = dates.gaps(_day(2019, 4, 28), None, articles)
    assert gaps[0] == 11 and gaps[1] == -27 and np.isnan(gaps[2]) and gaps[3] == 461
    assert np.isnan(dates.gaps(0, None, articles)).all()
    # "5月3日" with no year: the latest 5-3 on or before each article's date.
    yearless = dates.gaps(0, (5, 3), np.array([_day(2019, 5, 9), _day(2019, 4, 1)]))
    assert yearless[0] == 6 and yearless[1] == _day(2019, 4, 1) - _day(2018, 5, 3)


def test_gap_columns_mark_one_bin_or_none() -> None:
    cols = dates.gap_columns(np.array([-3.0, 0.0, 60.0, 61.0, 365.0, 366.0, np.nan]))
    assert cols.tolist() == [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 0],
    ]
