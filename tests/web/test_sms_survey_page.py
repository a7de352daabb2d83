"""短信回访 on the pages (web.sms_page; SQLite and PostgreSQL): the citizens' replies at /sms/replies (time, masked
number, text, 结果, order link; 不满意待电话回访 narrowed) for agents, dispatchers, supervisors and administrators, not
handling units; the order page's 短信 section shows a reply under the text that asked; 我的待办 says 短信评价不满意 N
to agents and dispatchers, linking to the list, until the phone 回访 is recorded. One browser test on the shared
demo server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.db import session_scope
from hotline.sms import service
from hotline.sms.store import Message
from hotline.timeutil import now
from hotline.workorders import service as workorders
from tests.conftest import bearer
from tests.sms.conftest import take
from tests.web.test_sms_page import _text

HAPPY, UNHAPPY = "13812341234", "13900002222"


@pytest.fixture
def client(db_url: str) -> TestClient:
    from hotline.app import create_app

    return TestClient(create_app())


def _rows(html: str) -> dict[int, dict[str, str]]:
    rows = {}
    for reply, row in re.findall(r'<tr data-reply="(\d+)"[^>]*>(.*?)</tr>', html, flags=re.S):
        fields = {f: _text(v) for f, v in re.findall(r'<td data-field="([\w-]+)">(.*?)</td>', row, re.S)}
        link = re.search(r'<a href="([^"]+)">', row)
        rows[int(reply)] = {**fields, "href": link[1] if link else ""}
    return rows


def _answered_and_texted(phone: str) -> str:
    """An order answered at once an hour ago, its 办结告知 (asking for a rating) sent: its number."""
    at = now() - timedelta(hours=1)
    number = take(at, direct=True, phone=phone)
    with session_scope() as s:
        service.relay_once(s, at=at)
        s.execute(update(Message).where(Message.kind == "resolved").values(state="sent", sent_at=at))
    return number


def _reply(client: TestClient, phone: str, text: str) -> dict[str, str]:
    res = client.post("/api/sms/replies", json={"id": None, "from": phone, "text": text, "received_at": None})
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


def test_the_replies_list_for_those_who_call_back(client: TestClient) -> None:
    happy, unhappy = _answered_and_texted(HAPPY), _answered_and_texted(UNHAPPY)
    assert _reply(client, HAPPY, "1")["outcome"] == "recorded"
    assert _reply(client, UNHAPPY, "不满意！")["outcome"] == "unsatisfied"
    assert _reply(client, "13700001111", "你好")["outcome"] == "no_survey"
    for role in ("agent", "dispatcher", "supervisor", "admin"):
        page = client.get("/sms/replies", params={"role": role})
        assert page.status_code == 200, role
    page = client.get("/sms/replies", params={"role": "agent"}).text
    rows = list(_rows(page).values())
    assert [(r["phone"], r["text"], r["outcome"]) for r in rows] == [
        ("137****1111", "你好", "无待评价短信"),
        ("139****2222", "不满意！", "不满意，转电话回访 待电话回访"),
        ("138****1234", "1", "已记为回访（满意）"),
    ]
    assert rows[2]["href"] == f"/orders/{happy}?role=agent" and HAPPY not in page and UNHAPPY not in page
    waiting = _rows(client.get("/sms/replies", params={"role": "dispatcher", "awaiting": "1"}).text)
    assert [r["order"] for r in waiting.values()] == [unhappy]
    every = _rows(client.get("/sms/replies", params={"role": "dispatcher", "awaiting": "0"}).text)
    assert len(every) == 3  # awaiting=0 is no filter
    refused = client.get("/sms/replies", params={"role": "department"})
    assert refused.status_code == 403
    assert 'href="/sms/replies?role=supervisor"' in client.get("/sms", params={"role": "supervisor"}).text


def test_the_order_page_shows_the_reply_under_its_text(client: TestClient) -> None:
    number = _answered_and_texted(HAPPY)
    _reply(client, HAPPY, "2")
    page = client.get(f"/orders/{number}", params={"role": "agent"}).text
    section = page.split('id="order-sms"')[1].split("</section>")[0]
    [row] = _rows(section).values()
    assert (row["phone"], row["text"], row["outcome"]) == ("138****1234", "2", "已记为回访（基本满意）")
    assert section.index('data-kind="resolved"') < section.index("data-reply=")


def test_my_todo_counts_unsatisfied_replies_until_the_phone_callback(client: TestClient) -> None:
    line = re.compile(r'<p id="todo-sms-survey">(.*?)</p>', re.S)
    number = _answered_and_texted(UNHAPPY)
    assert line.search(client.get("/", params={"role": "agent"}).text) is None
    _reply(client, UNHAPPY, "3")
    for role in ("agent", "dispatcher"):
        found = line.search(client.get("/", params={"role": role}).text)
        assert found is not None and _text(found[1]).startswith("短信评价不满意 1"), role
        assert f'href="/sms/replies?role={role}&amp;awaiting=1"' in found[1]
    assert line.search(client.get("/", params={"role": "supervisor"}).text) is None
    with session_scope() as s:
        workorders.act(s, number, "callback", role="agent", actor="张敏", satisfaction="unsatisfied",
                       citizen_resolved=False)  # fmt: skip
    assert line.search(client.get("/", params={"role": "agent"}).text) is None


def test_signed_in_agents_find_the_list_in_the_nav(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    agent, unit = bearer("zhangmin", ["agent"], "张敏"), bearer("gateway", ["sms_gateway"], "短信网关")
    assert 'href="/sms/replies">短信回访<' in client.get("/", headers=agent).text
    assert client.get("/sms/replies", headers=agent).status_code == 200
    assert client.get("/sms/replies", headers=unit).status_code in (403, 404)


# -- in the browser -------------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_an_unsatisfied_reply_leads_the_agent_to_the_order(page, web_server, web_data_dir) -> None:  # type: ignore[no-untyped-def]
    number = _server_survey(web_data_dir, "13700006633")
    page.goto("/?role=agent")
    with page.expect_navigation():
        page.click("#todo-sms-survey a")
    row = page.locator("#replies tr[data-reply]").filter(has_text="137****6633")
    assert row.count() == 1 and "待电话回访" in row.locator("[data-field=outcome]").inner_text()
    with page.expect_navigation():
        row.locator("[data-field=order] a").click()
    assert urlsplit_path(page.url) == f"/orders/{number}"
    reply = page.locator("#order-sms tr[data-reply]")
    assert reply.locator("[data-field=text]").inner_text() == "3"


def urlsplit_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def _server_survey(data: Path, phone: str) -> str:
    """On the shared server's database: an order answered an hour ago, its 办结告知 sent, the citizen's reply 3 (by
    `hotline sms reply`, as a reply delivered by other means)."""
    env = {**os.environ, "HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": f"sqlite:///{data / 'web.db'}"}
    script = (
        "from datetime import timedelta\n"
        "from sqlalchemy import update\n"
        "from hotline.db import session_scope\n"
        "from hotline.sms import service\n"
        "from hotline.sms.store import Message\n"
        "from hotline.timeutil import now\n"
        "from tests.sms.conftest import take\n"
        "at = now() - timedelta(hours=1)\n"
        f"number = take(at, direct=True, phone={phone!r})\n"
        "with session_scope() as s:\n"
        "    service.relay_once(s, at=at)\n"
        "    s.execute(update(Message).where(Message.order_number == number, Message.kind == 'resolved')"
        ".values(state='sent', sent_at=at))\n"
        "print(number)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    subprocess.run([sys.executable, "-m", "hotline", "sms", "reply", "--from", phone, "--text", "3"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    return done.stdout.strip()
