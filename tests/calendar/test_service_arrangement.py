"""A month of the calendar as deadlines count it, the years ahead nobody has entered, and the import of a year's
holiday arrangement as an administrator copies it from the State Council's notice (both databases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hotline.calendar import service
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.tables import Table, read_table

NOTICE_2099 = """放假安排（按通知录入）
日期,类型,说明
2099-01-01,放假,元旦
2099-01-20至2099-01-26,放假,春节
2099-01-18,上班,春节调休
2099-02-07 ~ 2099-02-07,班,春节调休
"""


def _table(tmp_path: Path, text: str, name: str = "notice.csv") -> Table:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_table(path, needed=service.IMPORT_COLUMNS)


def _kinds(days: list[service.Day]) -> dict[int, tuple[str, str]]:
    return {d.day.day: (d.label, d.tag) for d in days}


def test_a_month_shows_holidays_make_up_days_and_local_changes(db_url: str) -> None:
    with session_scope() as s:
        service.set_override(s, date(2021, 10, 12), "holiday", note="暴雨停工", actor="管理员")
    with session_scope() as s:
        days = service.month_days(s, 2021, 10)
    kinds = _kinds(days)
    assert len(days) == 31 and all(d.official_known for d in days)
    assert [n for n, (label, _) in kinds.items() if n <= 7 and label == "休息日"] == list(range(1, 8))
    assert kinds[1] == ("休息日", "放假") and kinds[9] == ("工作日", "调休上班") and kinds[16] == ("休息日", "")
    assert kinds[12] == ("休息日", "放假") and days[11].override is not None and days[11].override.note == "暴雨停工"
    assert days[11].official_is_workday and days[10].override is None


def test_years_ahead_without_an_arrangement_are_named_until_new_years_day_is_entered(db_url: str) -> None:
    with session_scope() as s:
        assert service.unentered_years(s, date(2021, 6, 1)) == []  # the package has 2021
        assert service.unentered_years(s, date(2099, 12, 1)) == [2099, 2100]  # 60 days ahead reach 2100
        assert service.unentered_years(s, date(2099, 6, 1)) == [2099]
        service.set_override(s, date(2100, 3, 1), "holiday", note="本地停工")  # a local change is no arrangement
        assert service.unentered_years(s, date(2099, 12, 1)) == [2099, 2100]
        service.set_override(s, date(2100, 1, 1), "holiday", note="元旦")
        assert service.unentered_years(s, date(2099, 12, 1)) == [2099]


def test_importing_an_arrangement_enters_every_day_and_the_deadlines_follow(db_url: str, tmp_path: Path) -> None:
    with session_scope() as s:
        done = service.import_days(s, _table(tmp_path, NOTICE_2099), actor="管理员")
        assert (done.days, done.holidays, done.workdays) == (10, 8, 2)
        assert (done.first, done.last) == (date(2099, 1, 1), date(2099, 2, 7))
    with session_scope() as s:
        kinds = _kinds(service.month_days(s, 2099, 1))
        cal = service.load_calendar(s)
        assert service.unentered_years(s, date(2099, 1, 5)) == []
    assert kinds[1] == ("休息日", "放假") and kinds[20] == ("休息日", "放假") and kinds[18] == ("工作日", "调休上班")
    # 2099-01-19 (Monday) + 1 working day: the Spring Festival week is off, the next is Monday the 27th.
    assert cal.add_workdays(date(2099, 1, 19), 1) == date(2099, 1, 27)


@pytest.mark.parametrize(
    ("text", "code", "row"),
    [
        ("日期,类型\n2099-01-01,放假\n2099-01-0x,放假\n", "invalid-date", 3),
        ("日期,类型\n2099-01-01,放假\n2099-01-02,周末\n", "invalid-day-kind", 3),
        ("日期,类型\n2099-01-01至2099-01-03,放假\n2099-01-02,上班\n", "conflicting-days", 3),
        ("日期,类型\n2099-01-05至2099-01-01,放假\n", "invalid-date", 2),
        ("日期,说明\n2099-01-01,元旦\n", "missing-column", None),
        ("日期,类型,说明\n,,\n", "empty-file", None),
    ],
)
def test_a_wrong_row_stops_the_import_and_nothing_is_entered(
    db_url: str, tmp_path: Path, text: str, code: str, row: int | None
) -> None:
    with session_scope() as s, pytest.raises(InvalidInput) as told:
        service.import_days(s, _table(tmp_path, text), actor="管理员")
    assert told.value.code == code and told.value.details.get("row") == row
    with session_scope() as s:
        assert all(d.override is None for d in service.month_days(s, 2099, 1))


def test_a_note_longer_than_the_column_is_refused_not_cut(db_url: str) -> None:
    with session_scope() as s, pytest.raises(InvalidInput) as told:
        service.set_override(s, date(2099, 1, 1), "holiday", note="说" * 201)
    assert told.value.code == "invalid-note"
