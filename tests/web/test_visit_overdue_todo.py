"""回访超期 on the supervisors' 我的待办: the orders waiting for their callback past the 回访时限 (nobody else is
reminded of them: the reminder job warns handling units only), counted as the order list finds them and linking to
it; the roles that call back have their own 待回访 line instead. In process, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ, now
from hotline.workorders import service

LONG_AGO = datetime(2021, 9, 27, 9, 0, tzinfo=CHINA_TZ)  # its 回访时限 was 2021-09-30


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def _direct(at: datetime) -> str:
    """An order answered on the call (直接办结) AT: waiting for its callback from then on."""
    with session_scope() as s:
        order = service.create_order(
            s, type="咨询", content="公积金怎么提取？", phone="13812341234", region="510100", at=at
        )
        service.act(s, order, "direct_resolve", role="agent", reply="携带身份证到网点办理", at=at)
        return order.number


def _line(client: TestClient, role: str) -> str | None:
    found = re.search(r'<p id="todo-visits">(.*?)</p>', client.get("/", params={"role": role}).text, re.S)
    return found.group(1) if found else None


def _part(line: str | None, pattern: str) -> str:
    found = re.search(pattern, line or "")
    assert found is not None, line
    return found.group(1)


def test_the_supervisors_to_do_counts_callbacks_past_their_deadline_and_opens_them(client: TestClient) -> None:
    late, fresh = _direct(LONG_AGO), _direct(now())
    line = _line(client, "supervisor")
    assert _part(line, r'data-field="count">(\d+)<') == "1" and "待回访工单已超过回访时限" in (line or "")
    href = _part(line, r'href="([^"]+)"').replace("&amp;", "&")
    assert href == "/orders?role=supervisor&state=to_visit&sla=overdue"
    listed = re.findall(r'<tr data-number="(\d+)"', client.get(href).text)
    assert listed == [late] and fresh not in listed
    for role in ("agent", "dispatcher", "admin"):  # those who call back see 待回访 with its 超期 instead
        assert _line(client, role) is None, role

    with session_scope() as s:
        service.act(s, late, "callback", role="agent", satisfaction="satisfied", citizen_resolved=True)
    assert _part(_line(client, "supervisor"), r'data-field="count">(\d+)<') == "0"
