"""变更记录 on the 派单设置 and 工作日历 pages (web.change_records): what administrators changed there, newest first
with time (China time), 操作人, 类型 and 摘要, 50 at a time with 更早 going back, filtered by 类型 on 派单设置 and
only the calendar's on 工作日历; shown to supervisors and administrators, not to other roles. In process, SQLite
and PostgreSQL; sign-in off (the role named) and on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.changelog.store import SettingChange
from hotline.db import session_scope
from hotline.timeutil import china
from hotline.workorders import service
from tests.changelog.chengdu import CGJ, ZJJ, two_bureaus
from tests.conftest import bearer

PAGE, CALENDAR = "/settings/dispatch", "/calendar"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    two_bureaus()
    yield TestClient(create_app())


def _section(html: str) -> str:
    found = re.search(r'<section class="card" id="changes">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


def _rows(html: str) -> list[tuple[str, str, str, str]]:
    """The section's rows: (time, 操作人, 类型, 摘要)."""
    cells = r'<td data-field="at">([^<]*)</td><td data-field="actor">([^<]*)</td>\s*<td data-field="kind">([^<]*)</td><td data-field="summary">([^<]*)</td>'
    return re.findall(cells, _section(html))


def _link(html: str, action: str) -> str:
    found = re.search(rf'<a href="([^"]*)" data-action="{action}">', _section(html))
    return found.group(1).replace("&amp;", "&") if found else ""


def test_what_an_administrator_changed_on_the_page_is_listed_newest_first(client: TestClient) -> None:
    entry = {"category": "城乡建设", "region_code": "成都市", "line": "", "role": "admin"}
    for unit in (ZJJ, CGJ):
        assert client.post(PAGE + "/catalogue", data={**entry, "unit": unit}, follow_redirects=False).status_code == 303
    limit = {"key": "投诉", "days": "10", "role": "admin"}
    assert client.post(PAGE + "/limits", data=limit, follow_redirects=False).status_code == 303
    refused = client.post(PAGE + "/limits", data={**limit, "days": "91"})  # refused: recorded nowhere
    assert refused.status_code == 422

    page = client.get(PAGE, params={"role": "supervisor"})
    rows = _rows(page.text)
    assert [row[1:] for row in rows[:3]] == [
        ("管理员", "办理时限", "办理时限 投诉：15 → 10 个工作日"),
        ("管理员", "派单目录", "派单目录 城乡建设（成都市，全部号码）：成都市住房和城乡建设局 → 成都市城市管理局"),
        ("管理员", "派单目录", "派单目录 城乡建设（成都市，全部号码）：新增，由成都市住房和城乡建设局承办"),
    ]
    with session_scope() as s:
        newest = s.scalars(select(SettingChange).order_by(SettingChange.id.desc())).first()
        assert newest is not None
        assert rows[0][0] == china(newest.at).strftime("%Y-%m-%d %H:%M")  # China time
    assert _link(page.text, "earlier-changes") == "" and _link(page.text, "newest-changes") == ""

    only = client.get(PAGE, params={"role": "supervisor", "changes_kind": "limit"})
    assert [row[2] for row in _rows(only.text)] == ["办理时限"]
    assert '<option value="limit" selected>办理时限</option>' in _section(only.text)


def test_older_changes_fifty_at_a_time(client: TestClient) -> None:
    with session_scope() as s:
        for days in range(2, 62):  # 60 changes of the limit, after the 24 units of the fixture
            service.set_limit(s, "咨询", days, actor="admin")
    page = client.get(PAGE, params={"role": "admin", "changes_kind": "limit"})
    rows = _rows(page.text)
    assert len(rows) == 50 and rows[0][3] == "办理时限 咨询：60 → 61 个工作日"
    earlier = _link(page.text, "earlier-changes")
    assert earlier.startswith(PAGE + "?") and "changes_kind=limit" in earlier and earlier.endswith("#changes")
    older = client.get(earlier)
    rest = _rows(older.text)
    assert len(rest) == 10 and rest[-1][3] == "办理时限 咨询：3 → 2 个工作日"
    assert _link(older.text, "earlier-changes") == ""
    back = _link(older.text, "newest-changes")
    assert _rows(client.get(back).text) == rows


def test_signed_in_the_record_names_the_account_and_only_managers_see_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    admin, chief = bearer("zhaolei", ["admin"], "赵磊"), bearer("wangfang", ["supervisor"], "王芳")
    agent = bearer("zhoujing", ["agent"], "周静")
    data = {"code": CGJ, "successor": ""}
    assert client.post(PAGE + "/units/deactivate", data=data, headers=admin, follow_redirects=False).status_code == 303
    assert _rows(client.get(PAGE, headers=chief).text)[0][1:] == (
        "赵磊（zhaolei）",
        "单位",
        "单位 成都市城市管理局（510100-cgj）：停用",
    )
    day = {"day": "2099-01-05", "kind": "holiday", "note": "暴雨停工"}
    assert client.post(CALENDAR + "/days", data=day, headers=admin, follow_redirects=False).status_code == 303
    calendar = client.get(CALENDAR, params={"month": "2099-01"}, headers=chief)
    assert [row[1:] for row in _rows(calendar.text)] == [
        ("赵磊（zhaolei）", "工作日历", "工作日历 2099-01-05（星期一）：按官方日历（工作日） → 休息日（暴雨停工）")
    ]  # the calendar's changes only, with no 类型 to choose
    assert 'name="changes_kind"' not in _section(calendar.text)
    seen = client.get(CALENDAR, params={"month": "2099-01"}, headers=agent)
    assert seen.status_code == 200 and 'data-day="2099-01-05"' in seen.text and _section(seen.text) == ""


def test_the_calendar_pages_back_and_keeps_its_month(client: TestClient) -> None:
    for n in range(1, 27):  # 52 changes: each day of January set, then cleared
        day = f"2099-01-{n:02d}"
        sent = client.post(CALENDAR + "/days", data={"day": day, "kind": "holiday", "role": "admin"})
        assert sent.status_code == 200
        assert client.post(CALENDAR + "/days/clear", data={"day": day, "role": "admin"}).status_code == 200
    page = client.get(CALENDAR, params={"month": "2099-01", "role": "supervisor"})
    rows = _rows(page.text)
    assert len(rows) == 50 and {r[1] for r in rows} == {"管理员"}
    assert rows[0][3] == "工作日历 2099-01-26（星期一）：休息日 → 按官方日历（工作日）"
    earlier = _link(page.text, "earlier-changes")
    assert "month=2099-01" in earlier and "role=supervisor" in earlier
    assert [r[3] for r in _rows(client.get(earlier).text)] == [
        "工作日历 2099-01-01（星期四）：休息日 → 按官方日历（工作日）",
        "工作日历 2099-01-01（星期四）：按官方日历（工作日） → 休息日",
    ]
