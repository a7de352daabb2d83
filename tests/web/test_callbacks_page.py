"""漏话回拨 (web.callbacks_page): open tasks oldest first with what an agent needs to call back, numbers in full only for
those who dial, the form recording an attempt (refused ones change nothing and say why), the 已处理 tab, the
overview's 待回拨 line, and the KPIs on 考核指标. In process (SQLite and PostgreSQL), sign-in off (the role named by
`role`) and on; one browser test on the shared demo server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.telephony import callbacks
from tests.conftest import bearer
from tests.telephony.missed_calls import ANSWERED, MISSED, call, set_up_lines


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    set_up_lines()
    call("m1", "13900002222", 0, MISSED)
    call("m2", "13900002222", 20, MISSED)
    call("m3", "13700003333", 30, MISSED, trunk="my-telecom", dialed="12331")
    call("ok", "13600004444", 40, ANSWERED)
    yield TestClient(create_app())


def _ids() -> dict[str, int]:
    with session_scope() as s:
        return {c["caller"]: c["id"] for c in callbacks.list_callbacks(s, state="all", mask=False)["callbacks"]}


def _rows(html: str) -> dict[int, dict[str, str]]:
    """Each task's row: the text of each `data-field` cell, and whether it offers the attempt form."""
    rows = {}
    for callback_id, row in re.findall(r'<tr data-callback="(\d+)">(.*?)</tr>', html, flags=re.S):
        cells = {f: _text(v) for f, v in re.findall(r'<td data-field="(\w+)">(.*?)</td>', row, flags=re.S)}
        cells["form"] = "yes" if 'data-action="attempt"' in row else ""
        rows[int(callback_id)] = cells
    return rows


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _alert(html: str) -> str | None:
    found = re.search(r'role="alert" data-code="([^"]+)"', html)
    return found[1] if found else None


def test_an_agent_sees_the_open_tasks_oldest_first_with_full_numbers_and_a_form(client: TestClient) -> None:
    res = client.get("/callbacks", params={"role": "agent"})
    assert res.status_code == 200, res.text
    ids = _ids()
    rows = _rows(res.text)
    assert list(rows) == [ids["13900002222"], ids["13700003333"]]
    first = rows[ids["13900002222"]]
    assert first["caller"] == "13900002222" and 'href="tel:13900002222"' in res.text
    assert first["time"] == "2021-06-01 10:20 首次 2021-06-01 10:00"  # the latest missed call, and the first
    assert (first["missed"], first["region"]) == ("2", "成都市")
    assert first["dialed"].startswith("12345")
    assert first["due"] == "2021-06-02 10:00 超时"  # 2021: long past its deadline
    assert first["attempts"] == "尚未回拨" and first["form"] == "yes"
    assert rows[ids["13700003333"]]["dialed"].startswith("12331") and rows[ids["13700003333"]]["region"] == "绵阳市"
    assert "24</strong> 小时内，这是本中心的设定" in res.text  # the deadline is a local choice, and says so
    assert '<a href="/callbacks">漏话回拨</a>' in res.text
    nav = re.findall(r"<nav>(.*?)</nav>", res.text, flags=re.S)[0]
    assert nav.index('href="/calls"') < nav.index('href="/callbacks"') < nav.index('href="/orders"')


@pytest.mark.parametrize(("role", "full", "form"), [
    ("agent", True, True), ("dispatcher", True, True), ("admin", True, True), ("supervisor", False, False),
])  # fmt: skip
def test_numbers_in_full_and_the_form_only_for_those_who_dial(
    client: TestClient, role: str, full: bool, form: bool
) -> None:
    res = client.get("/callbacks", params={"role": role})
    assert res.status_code == 200
    row = _rows(res.text)[_ids()["13900002222"]]
    assert row["caller"] == ("13900002222" if full else "139****2222")
    assert ("13900002222" in res.text) is full
    assert bool(row["form"]) is form


def test_a_handling_unit_may_not_open_the_page(client: TestClient) -> None:
    res = client.get("/callbacks", params={"role": "department"})
    assert res.status_code == 403 and _alert(res.text) == "role-not-allowed"
    assert "13900002222" not in res.text and "139****2222" not in res.text


def test_the_form_records_an_attempt_and_a_closing_one_moves_the_task_to_the_closed_tab(client: TestClient) -> None:
    ids = _ids()
    task = ids["13700003333"]
    sent = client.post(
        f"/callbacks/{task}/attempts",
        data={"outcome": "no-answer", "note": "无人接听", "role": "agent", "actor": "张敏"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    back = urlsplit(sent.headers["location"])
    assert back.path == "/callbacks" and parse_qs(back.query) == {"role": ["agent"], "done": [str(task)]}
    page = client.get(sent.headers["location"])
    assert "已登记回拨 13700003333：未接通，继续待回拨" in page.text
    row = _rows(page.text)[task]
    assert "张敏：未接通" in row["attempts"] and "无人接听" in row["attempts"]
    assert "还可未接通 2 次" in page.text

    client.post(f"/callbacks/{task}/attempts", data={"outcome": "not-needed", "role": "dispatcher"})
    assert task not in _rows(client.get("/callbacks", params={"role": "agent"}).text)
    closed = client.get("/callbacks", params={"role": "supervisor", "state": "closed"})
    row = _rows(closed.text)[task]
    assert row["caller"] == "137****3333" and row["state"].startswith("来电人表示无需办理")
    assert "派单员：来电人表示无需办理" in row["attempts"]
    assert '<strong data-tab="closed">已处理</strong>' in closed.text


def test_refused_attempts_are_said_on_the_page_and_change_nothing(client: TestClient) -> None:
    task = _ids()["13900002222"]
    before = client.get("/api/callbacks", params={"state": "all"}).json()
    for data, status, code in [
        ({"outcome": "", "role": "agent"}, 422, "invalid-callback-outcome"),
        ({"outcome": "no-answer", "order": "W-1", "role": "agent"}, 422, "invalid-callback-order"),
        ({"outcome": "reached", "role": "supervisor"}, 403, "role-not-allowed"),
    ]:
        res = client.post(f"/callbacks/{task}/attempts", data=data)
        assert (res.status_code, _alert(res.text)) == (status, code), data
    # What was typed stays in the form that was sent.
    res = client.post(f"/callbacks/{task}/attempts", data={"outcome": "no-answer", "order": "W-1", "role": "agent"})
    assert re.search(
        rf'<tr data-callback="{task}">.*?<details class="record" data-action="attempt" open>', res.text, re.S
    )
    assert 'name="order" value="W-1"' in res.text
    missing = client.post("/callbacks/999999/attempts", data={"outcome": "reached", "role": "agent"})
    assert (missing.status_code, _alert(missing.text)) == (404, "callback-not-found")
    assert client.get("/api/callbacks", params={"state": "all"}).json() == before


def test_the_overview_tells_those_who_dial_how_many_wait_and_how_many_are_late(client: TestClient) -> None:
    for role in ("agent", "dispatcher", "admin"):  # administrators record attempts too (the access table)
        res = client.get("/", params={"role": role})
        line = re.search(r'<p id="todo-callbacks">(.*?)</p>', res.text, flags=re.S)
        assert line is not None, role
        assert _text(line[1]) == "漏话回拨： 待回拨 2 （ 超时 2 ）"
        assert f'href="/callbacks?role={role}"' in line[1] and f'href="/callbacks?role={role}&amp;overdue=1"' in line[1]
    assert 'id="todo-callbacks"' not in client.get("/", params={"role": "supervisor"}).text


def test_the_kpi_page_shows_the_callback_rates_with_their_definitions(client: TestClient) -> None:
    client.post(f"/callbacks/{_ids()['13900002222']}/attempts", data={"outcome": "reached", "role": "agent"})
    res = client.get("/kpis", params={"since": "2021-06-01", "until": "2021-06-01"})
    section = re.search(r'<section class="card" id="missed-calls">(.*?)</section>', res.text, flags=re.S)
    assert section is not None
    assert _text(re.search(r'data-kpi="callback_rate">(.*?)<', section[1])[1]) == "50.00%"  # type: ignore[index]
    assert "回拨率 = 已登记回拨" in section[1] and "及时回拨率 = 在回拨时限内首次回拨" in section[1]


def test_signed_in_an_agent_records_under_the_account_and_a_supervisor_only_reads(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    agent, supervisor = bearer("zhangmin", ["agent"], "张敏"), bearer("wangfang", ["supervisor"], "王芳")
    task = _ids()["13900002222"]
    read = client.get("/callbacks", headers=supervisor)
    assert read.status_code == 200 and "139****2222" in read.text and 'data-action="attempt"' not in read.text
    refused = client.post(f"/callbacks/{task}/attempts", data={"outcome": "reached"}, headers=supervisor)
    assert refused.status_code == 403
    sent = client.post(
        f"/callbacks/{task}/attempts",
        data={"outcome": "reached", "actor": "冒名"},
        headers=agent,
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with session_scope() as s:
        assert callbacks.get_callback(s, task)["attempts"][0]["actor"].startswith("张敏")


# -- in the browser ------------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_an_agent_records_a_callback_through_the_form(page) -> None:  # type: ignore[no-untyped-def]
    """The demo's missed calls: the caller who missed twice is called back, unanswered."""
    page.goto("/callbacks?role=agent")
    assert page.locator("h1").inner_text() == "漏话回拨"
    row = page.locator("#callbacks tr[data-callback]", has_text="13912340002")
    assert row.locator("[data-field=missed]").inner_text() == "2"
    row.locator("details[data-action=attempt] summary").click()
    row.locator("select[name=outcome]").select_option("no-answer")
    row.locator("input[name=note]").fill("无人接听，稍后再拨")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert page.locator("[data-field=recorded]").inner_text() == "已登记回拨 13912340002：未接通，继续待回拨"
    row = page.locator("#callbacks tr[data-callback]", has_text="13912340002")
    assert "未接通" in row.locator("[data-field=attempts]").inner_text()
    assert "无人接听，稍后再拨" in row.locator("[data-field=attempts]").inner_text()
    # The overview's 待回拨 line leads here.
    page.goto("/?role=agent")
    with page.expect_navigation():
        page.locator("#todo-callbacks a").first.click()
    assert urlsplit(page.url).path == "/callbacks"
