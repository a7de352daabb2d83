"""The 话务记录 pages (web.calls_page): a day's calls with its figures, filtered; callers' numbers masked as on work
orders; the 受理工单 link opening the 受理 page on the call, which takes the caller's number from the call's record;
one call in full. In process (SQLite and PostgreSQL), sign-in off (the role named by `role`) and on; one browser
test on the shared demo server."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.telephony import service as telephony
from hotline.web import calls_page
from tests.conftest import bearer
from tests.telephony.missed_calls import set_up_lines

DAY = "2021-06-01"
T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 China time on DAY
# (call id, number dialed, caller, trunk, minutes after T0, events as (event, seconds after the call, data))
CALLS: list[tuple[str, str, str, str, int, list[tuple[str, int, dict[str, Any]]]]] = [
    ("c-answered", "12345", "13800001111", "cd-telecom", 0,
     [("offered", 0, {}), ("queued", 1, {}), ("answered", 9, {}), ("ended", 120, {})]),
    ("c-abandoned", "12331", "13900002222", "my-telecom", 5,
     [("offered", 0, {}), ("queued", 1, {}), ("abandoned", 31, {})]),
    ("c-transferred", "12345", "13700003333", "cd-telecom", 10,
     [("offered", 0, {}), ("queued", 1, {}), ("answered", 21, {}),
      ("transferred", 60, {"kind": "police", "to": "110", "mode": "one-key", "target": "police:510100"})]),
    ("c-rejected", "99999", "13600004444", "cd-telecom", 15, []),
    ("c-unreported", "12315", "13500005555", "cd-telecom", 20, []),
    ("c-next-day", "12345", "13400006666", "cd-telecom", 24 * 60, [("offered", 0, {}), ("queued", 1, {})]),
]  # fmt: skip
OUTCOMES = {
    "answered": ["c-answered"],
    "transferred": ["c-transferred"],
    "abandoned": ["c-abandoned"],
    "unanswered": ["c-rejected"],
    "unreported": ["c-unreported"],
}
ON_DAY = ["c-unreported", "c-rejected", "c-transferred", "c-abandoned", "c-answered"]  # newest first


def _record_calls() -> None:
    """What the proxy routed (the decisions kept as made at their instant) and what the ACD reported."""
    set_up_lines()
    with session_scope() as s:
        for call_id, dialed, caller, trunk, minutes, events in CALLS:
            at = T0 + timedelta(minutes=minutes)
            routed = telephony.route_call(s, dialed, caller, trunk, call_id, None, at)
            telephony.record_decision(s, dataclasses.replace(routed, decided_at=at))
            for event, seconds, data in events:
                telephony.record_event(s, call_id, event, at + timedelta(seconds=seconds), agent="A007", data=data)


def _line_name(number: str) -> str:
    from hotline.plan import service as plan

    with session_scope() as s:
        line = plan.get_line(s, number)
        return line.short_name or line.name


def _order_for(call_id: str, phone: str) -> str:
    from hotline.workorders import service as orders

    with session_scope() as s:
        order = orders.create_order(
            s, type="求助", content="路灯不亮，请尽快维修", phone=phone, region="510100", line="12345", call_id=call_id
        )
        return order.number


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    telephony._config_changed()
    _record_calls()
    yield TestClient(create_app())
    telephony._config_changed()


class _Page(HTMLParser):
    """What a test reads of a page: each element's `data-field` text and `href` by the row (`data-call`) it is in,
    the KPI figures (`data-kpi`), and the alert's code."""

    VOID = frozenset({"br", "input", "img", "meta", "link", "hr", "option"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.kpis: dict[str, str] = {}
        self.alert: str | None = None
        self.ids: dict[str, str] = {}  # the href of each link with an id
        self.fields: dict[str, str] = {}  # outside rows
        self._stack: list[tuple[str, dict[str, Any], str | None]] = []  # (tag, where its fields go, field)
        self._where: dict[str, Any] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("role") == "alert":
            self.alert = a.get("data-code")
        if tag in self.VOID:
            return
        where = self._stack[-1][1] if self._stack else self.fields
        if tag == "tr" and "data-call" in a:
            where = self.rows.setdefault(a["data-call"], {"links": []})
            self.order.append(a["data-call"])
        if tag == "a" and "id" in a:
            self.ids[a["id"]] = a.get("href", "")
        if tag == "a" and where is not self.fields:
            where["links"].append((a.get("data-action", ""), a.get("href", "")))
        field = a.get("data-field") or (f"kpi:{a['data-kpi']}" if "data-kpi" in a else None)
        if field:
            where[field] = ""
        self._stack.append((tag, where, field))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, where, field in self._stack:
            if field:
                where[field] += data

    def text(self, call: str, field: str) -> str:
        return " ".join(str(self.rows[call][field]).split())

    def kpi(self, name: str) -> str:
        return self.fields[f"kpi:{name}"].strip()


def _get(client: TestClient, path: str, **params: str) -> tuple[httpx.Response, _Page]:
    res = client.get(path, params=params)
    return res, _Page(res.text)


# -- the list ------------------------------------------------------------------------------------------------------
def test_a_supervisor_reads_the_days_calls_newest_first_with_its_figures(client: TestClient) -> None:
    res, page = _get(client, "/calls", role="supervisor", day=DAY)
    assert res.status_code == 200, res.text
    assert page.order == ON_DAY  # the next day's call is not listed
    assert page.fields["total"].strip() == "共 5 通"
    # The day's figures: calls offered on DAY (the next day's and those without events left out).
    assert (page.kpi("offered"), page.kpi("answered")) == ("3", "2")
    assert page.kpi("connection_rate") == "66.67%"
    assert page.kpi("within_rate") == "50.00%"  # waited 8 s and 20 s
    assert page.kpi("average_wait_seconds") == "14.0 秒"

    assert page.text("c-answered", "time") == "2021-06-01 10:00:00"  # China time
    # The number dialed with the catalogue's name of its line.
    assert page.text("c-answered", "line_name") == "12345热线"
    assert page.text("c-abandoned", "dialed") == f"12331{_line_name('12331')}"
    assert page.text("c-abandoned", "region") == "绵阳市"
    # Where the call went and why, in words: no raw target codes.
    route = page.text("c-abandoned", "route")
    assert route.startswith("转入12345话务队列：绵阳市12345话务队列，先播放过渡期提示音")
    assert "queue:" not in route and "transition:" not in route
    assert page.text("c-unreported", "route").startswith("原热线座席接听：12315（")
    assert page.text("c-rejected", "route").startswith("不予接入")
    assert "不在热线目录中" in page.text("c-rejected", "reason")
    assert [page.text(c, "wait") for c in ON_DAY] == ["—", "—", "20", "30", "8"]
    # Each call's 结果 is the one the 结果 filter finds it under (OUTCOMES).
    labels = {
        "answered": "接通",
        "abandoned": "放弃",
        "transferred": "转接",
        "unanswered": "未接通",
        "unreported": "未上报",
    }
    assert {c: page.text(c, "outcome") for c in ON_DAY} == {
        c: labels[o] for o, calls in OUTCOMES.items() for c in calls
    }


def _by_line(html: str) -> dict[str, list[str]]:
    """The 按拨打号码统计 table: each number dialed's cells, as text, in the order shown."""
    table = html.split('id="by-line"', 1)[1].split("</table>", 1)[0] if 'id="by-line"' in html else ""
    rows = re.findall(r'<tr data-line="([^"]+)">(.*?)</tr>', table, flags=re.S)
    return {line: [_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)] for line, row in rows}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_days_calls_per_number_dialed_where_they_went_and_if_answered(client: TestClient) -> None:
    res = client.get("/calls", params={"role": "supervisor", "day": DAY})
    lines = _by_line(res.text)
    # Busiest first: 来电, then per routing (转入12345, 原热线座席, 分中心, 号码已注销, 不予接入, 骚扰号码限制接入), 接通,
    # 放弃, 人工接通率.
    assert list(lines) == ["12345", "12315", "12331", "99999"]
    # 12345: one answered, one transferred
    assert lines["12345"][1:] == ["2", "2", "0", "0", "0", "0", "0", "2", "0", "100.0%"]
    assert lines["12331"][1:] == ["1", "1", "0", "0", "0", "0", "0", "0", "1", "0.0%"]  # old number, still dialed
    assert lines["12315"][1:] == ["1", "0", "1", "0", "0", "0", "0", "0", "0", "—"]  # its own seats reported nothing
    assert lines["99999"][1:] == ["1", "0", "0", "0", "0", "1", "0", "0", "0", "—"]
    assert lines["12331"][0] == f"12331 {_line_name('12331')}"
    # The region filter applies; each number links to its calls.
    only = client.get("/calls", params={"role": "supervisor", "day": DAY, "region": "510700"}).text
    assert list(_by_line(only)) == ["12331"]
    link = re.search(r'<tr data-line="12331">\s*<td><a href="([^"]+)"', only)
    assert link and parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["dialed"] == ["12331"]
    # A day without calls has no table.
    assert _by_line(client.get("/calls", params={"role": "supervisor", "day": "2021-05-01"}).text) == {}


def test_each_filter_narrows_the_list_and_its_count(client: TestClient) -> None:
    for params, expected in [
        ({"dialed": "12345"}, ["c-transferred", "c-answered"]),
        ({"region": "510700"}, ["c-abandoned"]),
        ({"dialed": "12345", "region": "510100"}, ["c-transferred", "c-answered"]),
        ({"day": "2021-06-02"}, ["c-next-day"]),
        ({"dialed": "12366"}, []),
        *(({"outcome": outcome}, calls) for outcome, calls in OUTCOMES.items()),
    ]:
        _, page = _get(client, "/calls", **{"role": "supervisor", "day": DAY, **params})
        assert page.order == expected, params
        assert page.fields["total"].strip() == f"共 {len(expected)} 通", params
    # The day's figures follow the region (as the per-number table does), not the number or the outcome.
    _, narrowed = _get(client, "/calls", role="supervisor", day=DAY, region="510700")
    assert (narrowed.kpi("offered"), narrowed.kpi("answered"), narrowed.kpi("connection_rate")) == ("1", "0", "0.00%")
    _, narrowed = _get(client, "/calls", role="supervisor", day=DAY, dialed="12331", outcome="abandoned")
    assert narrowed.kpi("offered") == "3"


def test_the_list_pages_through_the_days_calls(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls_page, "PAGE_SIZE", 2)
    seen = []
    path, params = "/calls", {"role": "supervisor", "day": DAY}
    for _ in range(3):
        res, page = _get(client, path, **params)
        assert page.fields["total"].startswith("共 5 通")
        seen.extend(page.order)
        nxt = page.ids.get("next-page")
        if nxt is None:
            break
        link = urlsplit(nxt)
        path, params = link.path, {k: v[0] for k, v in parse_qs(link.query).items()}
        assert params["day"] == DAY
    assert seen == ON_DAY
    res, _ = _get(client, "/calls", role="supervisor", day=DAY, page="0")
    assert res.status_code == 422 and 'data-code="invalid-page"' in res.text


def test_bad_filters_are_said_on_the_page(client: TestClient) -> None:
    for params, status, code in [
        ({"day": "2021-13-01"}, 422, "invalid-date"),
        ({"outcome": "ringing"}, 422, "invalid-outcome"),
        ({"region": "火星"}, 404, "region-not-found"),
    ]:
        res, page = _get(client, "/calls", role="supervisor", **params)
        assert (res.status_code, page.alert) == (status, code), params
        assert page.order == []


def test_the_day_shown_by_default_is_today_in_china(client: TestClient) -> None:
    from hotline.timeutil import china_day, now

    with session_scope() as s:
        routed = telephony.route_call(s, "12345", "13800007777", "cd-telecom", "c-now", None)
        telephony.record_decision(s, routed)
    _, page = _get(client, "/calls", role="supervisor")
    assert page.order == ["c-now"]
    assert f'name="day" value="{china_day(now()).isoformat()}"' in client.get("/calls").text


# -- who sees what -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "full", "takes_in"), [
    ("agent", True, True), ("dispatcher", True, True), ("admin", True, True), ("supervisor", False, False),
])  # fmt: skip
def test_callers_numbers_follow_the_work_order_rule(client: TestClient, role: str, full: bool, takes_in: bool) -> None:
    res, page = _get(client, "/calls", role=role, day=DAY)
    assert res.status_code == 200
    shown = page.text("c-answered", "caller")
    assert shown == ("13800001111" if full else "138****1111")
    assert ("13800001111" in res.text) is full
    intake = [h for action, h in page.rows["c-answered"]["links"] if action == "intake"]
    if not takes_in:
        assert intake == []
        return
    # The 受理工单 link carries the call, not the number.
    [href] = intake
    link = urlsplit(href)
    assert link.path == "/orders/new" and parse_qs(link.query) == {"call_id": ["c-answered"], "role": [role]}
    # Offered on the calls sent to agents (answered, abandoned: a call back), not on a refused number.
    offered = {c for c in ON_DAY if any(action == "intake" for action, _ in page.rows[c]["links"])}
    assert offered == {"c-answered", "c-abandoned", "c-transferred", "c-unreported"}


def test_a_handling_unit_may_not_open_the_pages(client: TestClient) -> None:
    for path in ("/calls", "/calls/c-answered"):
        res, page = _get(client, path, role="department", day=DAY)
        assert res.status_code == 403 and page.alert == "role-not-allowed", path
        assert page.order == [] and "13800001111" not in res.text and "138****1111" not in res.text


# -- one call ------------------------------------------------------------------------------------------------------
def test_a_call_in_full_with_its_events_facts_and_orders(client: TestClient) -> None:
    number = _order_for("c-transferred", "13700003333")
    res, page = _get(client, "/calls/c-transferred", role="agent")
    assert res.status_code == 200, res.text
    f = page.fields
    assert f["call_id"] == "c-transferred" and f["caller"] == "13700003333"
    assert f["time"] == "2021-06-01 10:10:00"
    assert f["route"].startswith("转入12345话务队列：成都市12345话务队列")
    assert "12345热线来电" in f["reason"]
    assert (f["outcome"], f["wait"], f["transferred"]) == ("转接", "20 秒", "是")
    assert f["answered"].startswith("是")
    assert [" ".join(t.split()) for t in _cells(res.text, "label")] == ["呼入", "排队", "人工接通", "转接"]
    assert _cells(res.text, "note")[-1] == "一键转接至 110"
    assert f'href="/orders/{number}?role=agent"' in res.text
    assert 'href="/orders/new?call_id=c-transferred&amp;role=agent"' in res.text

    masked = client.get("/calls/c-transferred", params={"role": "supervisor"})
    assert masked.status_code == 200 and "137****3333" in masked.text and "13700003333" not in masked.text
    assert 'data-action="intake"' not in masked.text


def _cells(html: str, field: str) -> list[str]:
    return re.findall(rf'data-field="{field}">([^<]*)<', html)


def test_the_list_links_each_call_to_its_orders(client: TestClient) -> None:
    number = _order_for("c-answered", "13800001111")
    _, page = _get(client, "/calls", role="dispatcher", day=DAY)
    assert page.text("c-answered", "orders") == number
    assert ("", f"/orders/{number}?role=dispatcher") in page.rows["c-answered"]["links"]
    assert page.text("c-abandoned", "orders") == "—"


def test_an_unknown_call_is_a_404_page(client: TestClient) -> None:
    res, page = _get(client, "/calls/no-such-call", role="supervisor")
    assert res.status_code == 404 and res.headers["content-type"].startswith("text/html")
    assert page.alert == "call-not-found"


# -- the 受理 page opened from a call -------------------------------------------------------------------------------
def test_the_intake_page_takes_the_callers_number_from_the_call_record(client: TestClient) -> None:
    def form(**params: str) -> dict[str, str]:
        html = client.get("/orders/new", params=params).text
        phone = re.search(r'name="phone" value="([^"]*)"', html)
        line = re.search(r'name="line" value="([^"]*)"', html)
        region = re.search(r'<option value="(\d+)" selected>', html)
        return {
            "phone": phone[1] if phone else "",
            "line": line[1] if line else "",
            "region": region[1] if region else "",
        }

    assert form(role="agent", call_id="c-answered") == {"phone": "13800001111", "line": "12345", "region": "510100"}
    assert form(role="agent", call_id="c-abandoned")["phone"] == "13900002222"
    # What the softphone says wins over the record.
    assert form(role="agent", call_id="c-answered", phone="13100000000")["phone"] == "13100000000"
    # A role that does not see callers in full is not handed the number (sign-in off, any role may be named).
    assert form(role="supervisor", call_id="c-answered")["phone"] == ""
    assert form(role="agent", call_id="no-such-call")["phone"] == ""


# -- sign-in on ----------------------------------------------------------------------------------------------------
@pytest.fixture
def signed_in(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    return client


def test_signed_in_the_desk_opens_the_pages_and_a_handling_unit_does_not(signed_in: TestClient) -> None:
    from hotline.workorders import service as orders

    with session_scope() as s:
        orders.add_unit(s, "510100-zjj", "成都市住建局", "department", region_code="510100")
    agent, supervisor = bearer("zhoujing", ["agent"]), bearer("wangfang", ["supervisor"])
    clerk = bearer("wujj", ["department"], bound_to="510100-zjj")

    res = signed_in.get("/calls", params={"day": DAY}, headers=agent)
    assert res.status_code == 200 and "13800001111" in res.text and 'data-action="intake"' in res.text
    assert '<a href="/calls">话务记录</a>' in res.text
    res = signed_in.get("/calls", params={"day": DAY}, headers=supervisor)
    assert res.status_code == 200 and "138****1111" in res.text and "13800001111" not in res.text
    # Naming a role the account does not hold does not unmask.
    assert signed_in.get("/calls", params={"day": DAY, "role": "agent"}, headers=supervisor).status_code == 403

    for path in ("/calls", "/calls/c-answered"):
        refused = signed_in.get(path, params={"day": DAY}, headers=clerk)
        assert refused.status_code == 403 and 'data-code="role-not-granted"' in refused.text
        assert "13800001111" not in refused.text
    overview = signed_in.get("/orders", headers=clerk)
    assert overview.status_code == 200 and 'href="/calls"' not in overview.text


def test_signed_in_the_page_follows_the_role_acted_in_not_everything_the_account_holds(signed_in: TestClient) -> None:
    from hotline.workorders import service as orders

    with session_scope() as s:
        orders.add_unit(s, "510100-zjj", "成都市住建局", "department", region_code="510100")
    both = bearer("liqiang", ["department", "agent"], bound_to="510100-zjj")
    as_unit = signed_in.get("/calls", params={"day": DAY, "role": "department"}, headers=both)
    assert as_unit.status_code == 403 and _Page(as_unit.text).alert == "role-not-allowed"
    assert "13800001111" not in as_unit.text
    # No role named: the first of the account's roles the page is open to, whatever order the roles were given in.
    as_agent = signed_in.get("/calls", params={"day": DAY}, headers=both)
    assert as_agent.status_code == 200 and "13800001111" in as_agent.text


# -- in the browser ------------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_an_agent_finds_a_call_and_takes_a_demand_in_from_it(page, web_server) -> None:  # type: ignore[no-untyped-def]
    call_id, phone = f"calls-page-{uuid.uuid4().hex[:8]}@pbx", "13700002468"
    routed = httpx.get(
        f"{web_server}/telephony/route",
        params={"dialed": "12345", "caller": phone, "trunk": "cd-telecom", "callid": call_id},
    )
    assert routed.status_code == 200 and routed.json()["region"] == "510100", routed.text
    for event in ("offered", "queued", "answered"):
        sent = httpx.post(f"{web_server}/telephony/events", json={"call_id": call_id, "event": event, "agent": "A007"})
        assert sent.status_code == 201, sent.text
    assert httpx.get(f"{web_server}/telephony/calls/{call_id}").status_code == 200  # the decision is stored by now

    page.goto("/calls?role=agent")
    assert page.locator("h1").inner_text() == "话务记录"
    page.fill("#call-filters input[name=dialed]", "12345")
    page.select_option("#call-filters select[name=region]", "510100")
    page.select_option("#call-filters select[name=outcome]", "answered")
    with page.expect_navigation():
        page.click("#call-filters button[type=submit]")
    assert parse_qs(urlsplit(page.url).query)["outcome"] == ["answered"]
    row = page.locator(f'#calls tr[data-call="{call_id}"]')
    assert row.locator("[data-field=caller]").inner_text() == phone
    assert row.locator("[data-field=outcome]").inner_text() == "接通"
    assert page.locator("#calls [data-field=outcome]:not([data-outcome=answered])").count() == 0

    with page.expect_navigation():
        row.locator("a[data-action=intake]").click()
    assert urlsplit(page.url).path == "/orders/new" and phone not in page.url
    assert page.locator("#intake [data-field=call-id]").inner_text() == call_id
    assert page.locator("#intake input[name=phone]").input_value() == phone
    assert page.locator("#intake input[name=line]").input_value() == "12345"
    assert page.locator("#intake select[name=region]").input_value() == "510100"
