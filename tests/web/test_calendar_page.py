"""工作日历 (web.calendar_page): a month as the deadlines count it; an administrator sets and clears a day and
imports a year's arrangement from the page; other roles read it without the forms; the years ahead nobody has
entered are named here and on the overview. In process, SQLite and PostgreSQL, sign-in off (role named)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from hotline.calendar import service as calendar
from hotline.db import session_scope


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def _cell(html: str, day: str) -> str:
    found = re.search(rf'<td data-day="{day}"(.*?)</td>', html, re.S)
    assert found is not None, day
    return found.group(0)


def test_a_month_marks_holidays_and_make_up_days(client: TestClient) -> None:
    page = client.get("/calendar", params={"month": "2021-10", "role": "agent"})
    assert page.status_code == 200
    assert 'data-workday="false"' in _cell(page.text, "2021-10-01") and "放假" in _cell(page.text, "2021-10-01")
    assert 'data-workday="true"' in _cell(page.text, "2021-10-09") and "调休上班" in _cell(page.text, "2021-10-09")
    workdays = re.search(r'data-field="workdays">(\d+)<', page.text)
    assert workdays is not None and workdays.group(1) == "17"  # 21 weekdays, 5 of them off, one Saturday worked
    assert 'action="/calendar/days"' not in page.text and 'action="/calendar/import"' not in page.text
    refused = client.post("/calendar/days", data={"day": "2021-10-12", "kind": "holiday", "role": "agent"})
    assert refused.status_code == 403 and 'data-code="role-not-allowed"' in refused.text
    with session_scope() as s:
        assert calendar.describe(s, date(2021, 10, 12)).override is None


def test_an_administrator_sets_and_clears_a_day(client: TestClient) -> None:
    sent = client.post(
        "/calendar/days",
        data={"day": "2021-10-12", "kind": "holiday", "note": "暴雨停工", "month": "2021-10", "role": "admin"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert parse_qs(urlsplit(sent.headers["location"]).query)["month"] == ["2021-10"]
    page = client.get(sent.headers["location"])
    assert "已设置：2021-10-12" in page.text
    cell = _cell(page.text, "2021-10-12")
    assert 'data-workday="false"' in cell and "人工录入：暴雨停工（管理员）" in cell and 'data-action="clear"' in cell

    cleared = client.post("/calendar/days/clear", data={"day": "2021-10-12", "role": "admin"}, follow_redirects=False)
    page = client.get(cleared.headers["location"])
    assert "已恢复按官方日历：2021-10-12" in page.text and 'data-workday="true"' in _cell(page.text, "2021-10-12")

    wrong = client.post("/calendar/days", data={"day": "2021-10-12", "kind": "", "note": "停工", "role": "admin"})
    assert wrong.status_code == 422 and 'data-code="invalid-day-kind"' in wrong.text and 'value="停工"' in wrong.text


def test_an_administrator_imports_a_years_arrangement_and_the_warning_goes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The years the package knows move with its releases: here it knows none after 2026, and today is late 2026.
    monkeypatch.setattr(calendar, "official_covers", lambda year: year <= 2026)
    monkeypatch.setattr("hotline.web.calendar_page.now", lambda: _instant("2026-12-01T02:00:00+00:00"))
    monkeypatch.setattr("hotline.web.pages.now", lambda: _instant("2026-12-01T02:00:00+00:00"))
    page = client.get("/calendar", params={"month": "2027-01", "role": "admin"})
    assert 'data-year="2027"' in page.text and 'data-field="guessed"' in page.text
    assert 'data-year="2027"' in client.get("/", params={"role": "dispatcher"}).text

    notice = "日期,类型,说明\n2027-01-01,放假,元旦\n2027-01-02至2027-01-03,放假,元旦\n".encode()
    bad = "日期,类型\n2027-01-01,放假\n2027-01-0x,放假\n".encode()
    refused = client.post("/calendar/import", files={"file": ("bad.csv", bad, "text/csv")}, data={"role": "admin"})
    assert (
        refused.status_code == 422 and 'data-code="invalid-date"' in refused.text and 'data-year="2027"' in refused.text
    )

    from hotline.workorders import service as orders

    with session_scope() as s:
        orders.load_units(s)
        orders.create_order(s, type="咨询", content="公积金怎么提取？", phone="13812341234", region="510100",
                            at=_instant("2026-12-30T02:00:00+00:00"))  # fmt: skip  # due 2027-01-04 counting 01-01
        # Dispatched on 12-31: 签收 by 01-01, 退单 by 01-04, counting 01-01 (and due 01-04 too).
        given = orders.create_order(s, type="咨询", content="医保怎么转移？", phone="13812341234", region="510100",
                                    at=_instant("2026-12-30T02:00:00+00:00"))  # fmt: skip
        s.flush()
        orders.act(s, given, "dispatch", role="dispatcher", target_unit="510100",
                   at=_instant("2026-12-31T02:00:00+00:00"))  # fmt: skip
    monkeypatch.setattr("hotline.workorders.service.now", lambda: _instant("2026-12-31T03:00:00+00:00"))
    sent = client.post(
        "/calendar/import",
        files={"file": ("2027.csv", notice, "text/csv")},
        data={"role": "admin"},
        follow_redirects=False,
    )
    page = client.get(sent.headers["location"])
    assert (
        "已导入 3 天（2027-01-01 至 2027-01-03）：放假 3 天，上班 0 天；2 张在办工单的办理期限、1 张待签收工单的签收时限、"
        "1 张在办工单的退单时限随之顺延（见各工单的办理记录）"
    ) in page.text
    assert 'data-field="unentered"' not in page.text
    assert 'data-field="unentered"' not in client.get("/", params={"role": "dispatcher"}).text


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
