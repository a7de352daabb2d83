"""实时监控 (web.monitor_page, `GET /api/monitor`, `GET /api/monitor/stream`): the figures at load without JavaScript,
the JSON, who may read them (those who read 考核指标), the stream's events from a real server, and the page following
the stream in Chromium: a queued caller shown waiting, then no longer once answered, without reloading."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.telephony import service as telephony
from hotline.timeutil import now
from tests.conftest import bearer
from tests.telephony.missed_calls import set_up_lines

CALLER = "13912345678"


def _call(call_id: str, minutes_ago: float, events: tuple[str, ...], trunk: str = "cd-telecom") -> None:
    at = now() - timedelta(minutes=minutes_ago)
    with session_scope() as s:
        routed = telephony.route_call(s, "12345", CALLER, trunk, call_id, None, at)
        telephony.record_decision(s, dataclasses.replace(routed, decided_at=at))
        for i, event in enumerate(events):
            telephony.record_event(s, call_id, event, at + timedelta(seconds=i))


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    telephony._config_changed()
    set_up_lines()
    _call("m-waiting", 1, ("offered", "queued"))
    _call("m-answered", 2, ("offered", "queued", "answered"), trunk="my-telecom")
    yield TestClient(create_app())
    telephony._config_changed()


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)"[^>]*>([^<]*)<', html))


def test_the_page_shows_the_figures_as_it_loads(client: TestClient) -> None:
    res = client.get("/monitor")
    assert res.status_code == 200, res.text
    shown = _figures(res.text)
    assert (shown["waiting"], shown["today.offered"], shown["today.answered"]) == ("1", "2", "1")
    assert shown["today.connection_rate"] == "50.0%" and shown["today.within_rate"] == "100.0%"
    assert re.search(
        r'<tr data-key="510100"><td data-field="name">成都市</td>\s*<td data-field="waiting">1</td>', res.text
    )
    assert 'data-stream="/api/monitor/stream"' in res.text and "/static/monitor.js" in res.text
    assert "2 小时" in res.text.split('id="monitor-rule"', 1)[1]  # the stale rule is said
    assert CALLER not in res.text and CALLER[-4:] not in res.text


def test_a_region_narrows_the_page_and_its_stream(client: TestClient) -> None:
    res = client.get("/monitor", params={"region": "绵阳市"})
    shown = _figures(res.text)
    assert (shown["waiting"], shown["today.offered"], shown["today.answered"]) == ("0", "1", "1")
    assert 'data-stream="/api/monitor/stream?region=510700"' in res.text
    assert 'href="/orders?state=registered&amp;region=510700"' in res.text
    bad = client.get("/monitor", params={"region": "火星"})
    assert bad.status_code == 404 and 'data-code="region-not-found"' in bad.text


def test_the_api_gives_the_same_board_as_json(client: TestClient) -> None:
    res = client.get("/api/monitor")
    assert res.status_code == 200, res.text
    board = res.json()
    assert (board["waiting"], board["today"]["offered"], board["today"]["answered"]) == (1, 2, 1)
    assert [r["code"] for r in board["regions"]] == ["510100", "510700"]
    assert set(board["orders"]) == {"received_today", "to_dispatch", "resolved_today", "overdue"}
    assert CALLER not in res.text
    assert client.get("/api/monitor", params={"region": "510700"}).json()["waiting"] == 0
    refused = client.get("/api/monitor", params={"region": "火星"})
    assert (refused.status_code, refused.json()["code"]) == (404, "region-not-found")
    assert client.get("/api/monitor/stream", params={"region": "火星"}).status_code == 404


def test_streams_share_a_reading_but_each_streams_first_board_is_read_afresh(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.supervision import api

    monkeypatch.setattr(api, "SHARED_SECONDS", 3600.0)
    assert api._board_now(None, shared=False)["waiting"] == 1
    _call("m-later", 0.5, ("offered", "queued"))
    assert api._board_now(None, shared=True)["waiting"] == 1  # the reading other streams made a moment ago
    assert api._board_now(None, shared=False)["waiting"] == 2  # a new stream: never older than its page
    assert api._board_now(None, shared=True)["waiting"] == 2
    assert api._board_now("510700", shared=True)["waiting"] == 0  # each region its own


@pytest.fixture
def signed_in(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    return client


def test_signed_in_those_who_read_the_kpis_open_it_and_the_others_do_not(signed_in: TestClient) -> None:
    from hotline.workorders import service as orders

    with session_scope() as s:
        orders.add_unit(s, "510100-zjj", "成都市住建局", "department", region_code="510100")
    readers = [bearer("wangfang", ["supervisor"]), bearer("lijun", ["admin"]), bearer("zhaomin", ["dispatcher"])]
    others = [bearer("zhoujing", ["agent"]), bearer("wujj", ["department"], bound_to="510100-zjj")]
    for headers in readers:
        page = signed_in.get("/monitor", headers=headers)
        assert page.status_code == 200 and '<a href="/monitor">实时监控</a>' in page.text
        assert signed_in.get("/api/monitor", headers=headers).json()["waiting"] == 1
    for headers in others:
        assert signed_in.get("/monitor", headers=headers).status_code == 403
        assert signed_in.get("/api/monitor", headers=headers).status_code == 403
        assert signed_in.get("/api/monitor/stream", headers=headers).status_code == 403
        assert '<a href="/monitor">' not in signed_in.get("/", headers=headers).text
    assert signed_in.get("/api/monitor").status_code == 401


# -- a real server -------------------------------------------------------------------------------------------------
REGION = "511800"  # 雅安市: no other test's calls arrive there (a trunk named by the region's code)


def _route(server: str, call_id: str, *events: str) -> None:
    routed = httpx.get(
        f"{server}/telephony/route", params={"dialed": "12345", "caller": CALLER, "trunk": REGION, "callid": call_id}
    )
    assert routed.status_code == 200 and routed.json()["region"] == REGION, routed.text
    _report(server, call_id, *events)
    assert httpx.get(f"{server}/telephony/calls/{call_id}").status_code == 200  # the decision is stored by now


def _report(server: str, call_id: str, *events: str) -> None:
    for event in events:
        sent = httpx.post(f"{server}/telephony/events", json={"call_id": call_id, "event": event, "agent": "A007"})
        assert sent.status_code == 201, sent.text


def _first_event(server: str, params: dict[str, str]) -> dict[str, Any]:
    """The first board the stream sends, its connection closed once read."""
    with httpx.stream("GET", f"{server}/api/monitor/stream", params=params, timeout=30) as res:
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/event-stream")
        lines: list[str] = []
        for line in res.iter_lines():
            if line == "" and any(x.startswith("data:") for x in lines):
                break
            lines.append(line)
    assert lines[0].startswith("retry: ")
    data = [x.removeprefix("data:").strip() for x in lines if x.startswith("data:")]
    assert len(data) == 1 and not any(x.startswith("event:") for x in lines)  # a plain message event
    board: dict[str, Any] = json.loads(data[0])
    return board


def test_the_stream_sends_the_board_as_server_sent_events(web_server: str) -> None:
    call_id = f"monitor-stream-{uuid.uuid4().hex[:8]}@pbx"
    _route(web_server, call_id, "offered", "queued", "answered", "ended")
    board = _first_event(web_server, {"region": REGION})
    assert board["region"] == REGION and board["region_name"] == "雅安市"
    assert board["today"]["answered"] >= 1 and board["orders"].keys() >= {"to_dispatch", "overdue"}
    assert CALLER not in json.dumps(board)


@pytest.mark.browser
def test_the_page_follows_the_stream_without_reloading(page, web_server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    call_id = f"monitor-page-{uuid.uuid4().hex[:8]}@pbx"
    _route(web_server, call_id, "offered", "queued")
    page.goto(f"/monitor?region={REGION}")
    assert page.locator("h1").inner_text() == "实时监控"
    waiting = page.locator("#monitor-now [data-figure=waiting]")
    expect(waiting).to_have_text("1")
    expect(page.locator("#monitor-state")).to_have_attribute("data-state", "live", timeout=30_000)
    page.evaluate("window.notReloaded = true")

    _report(web_server, call_id, "answered")
    expect(waiting).to_have_text("0", timeout=30_000)
    expect(page.locator(f'#monitor-regions tr[data-key="{REGION}"] [data-field=waiting]')).to_have_text("0")
    expect(page.locator(f'#monitor-regions tr[data-key="{REGION}"] [data-field=answered]')).not_to_have_text("0")
    assert page.evaluate("window.notReloaded") is True


def test_the_page_shows_the_agents_as_it_loads(client: TestClient) -> None:
    client.post("/telephony/agent-states", json={"agent": "A007", "state": "not_ready", "reason": "会议"})
    client.post("/telephony/agent-states", json={"agent": "A008", "state": "ready"})
    res = client.get("/monitor")
    shown = _figures(res.text)
    assert (shown["agents.counts.signed_in"], shown["agents.counts.not_ready"], shown["agents.counts.ready"]) == (
        "2",
        "1",
        "1",
    )
    assert re.search(r'<span id="monitor-agent-reasons">会议 1</span>', res.text)
    row = re.search(r'<tr data-key="A007" data-state="not_ready">(.*?)</tr>', res.text)
    assert row and '<td data-field="label">示忙（会议）</td>' in row.group(1)
    assert '<td data-field="state_seconds">0:00:0' in row.group(
        1
    ) and '<td data-field="utilization">0.0%</td>' in row.group(1)


@pytest.mark.browser
def test_the_agents_table_follows_a_posted_state_change(page, web_server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    agent = f"T{uuid.uuid4().hex[:6]}"  # the block is the whole centre's: an agent of this test alone
    sent = httpx.post(f"{web_server}/telephony/agent-states", json={"agent": agent, "state": "ready"})
    assert sent.status_code == 201, sent.text
    page.goto("/monitor")
    row = page.locator(f'#monitor-agents tr[data-key="{agent}"]')
    expect(row.locator("[data-field=label]")).to_have_text("空闲")
    expect(page.locator("#monitor-state")).to_have_attribute("data-state", "live", timeout=30_000)
    page.evaluate("window.notReloaded = true")

    sent = httpx.post(
        f"{web_server}/telephony/agent-states", json={"agent": agent, "state": "not_ready", "reason": "培训"}
    )
    assert sent.status_code == 201, sent.text
    expect(row.locator("[data-field=label]")).to_have_text("示忙（培训）", timeout=30_000)
    expect(row).to_have_attribute("data-state", "not_ready")
    expect(page.locator("#monitor-agent-reasons")).to_contain_text("培训")
    assert page.evaluate("window.notReloaded") is True
