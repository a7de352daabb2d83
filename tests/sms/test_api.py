"""`/api/sms` and the `sms` field of `POST /api/orders` as clients use them (SQLite and PostgreSQL): supervisors and
administrators read the texts (numbers masked) with their counts and send a failed one again; other roles are
refused; a citizen who declines at 受理 gets no text; signed in, the account is who resent it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.sms import service
from tests.conftest import bearer
from tests.sms.conftest import PHONE, T0, Answer, Gateway
from tests.sms.test_service import SOON, relay, send

SUPERVISOR = {"role": "supervisor", "actor": "王芳"}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def _order(client: TestClient, **more: Any) -> str:
    body = {"type": "求助", "content": "路灯不亮", "phone": PHONE, "region": "510100", "at": T0.isoformat(), **more}
    res = client.post("/api/orders", json=body, params={"advice": "false"})
    assert res.status_code == 201, res.text
    number: str = res.json()["number"]
    return number


def test_supervisors_read_masked_texts_and_resend_a_failed_one(client: TestClient, gateway: Gateway) -> None:
    number = _order(client)
    declined = _order(client, sms=False)
    relay()
    gateway.answers.append(Answer(400, {}))
    send(gateway)
    listed = client.get("/api/sms", params=SUPERVISOR).json()
    assert listed["counts"] == {"pending": 0, "sent": 0, "failed": 1, "skipped": 1}
    assert [(m["order_number"], m["state"], m["skip_reason"]) for m in listed["messages"]] == [
        (declined, "skipped", "declined"),
        (number, "failed", None),
    ]
    assert {m["phone"] for m in listed["messages"]} == {"138****5678"}
    failed = client.get("/api/sms", params={"state": "failed", "order": number, **SUPERVISOR}).json()["messages"]
    assert [m["order_number"] for m in failed] == [number]
    res = client.post(f"/api/sms/{failed[0]['id']}/retry", json=SUPERVISOR)
    assert res.status_code == 200, res.text
    assert (res.json()["state_label"], res.json()["phone"]) == ("待发送", "138****5678")
    again = client.post(f"/api/sms/{failed[0]['id']}/retry", json=SUPERVISOR)
    assert (again.status_code, again.json()["code"]) == (409, "sms-not-failed")
    for typo in (999999, 10**20, 0):  # 10**20: past bigint, not the database's overflow error
        missing = client.post(f"/api/sms/{typo}/retry", json=SUPERVISOR)
        assert (missing.status_code, missing.json()["code"]) == (404, "sms-not-found")
    bad = client.get("/api/sms", params={"state": "lost", **SUPERVISOR})
    assert (bad.status_code, bad.json()["code"]) == (422, "sms-invalid-state")


@pytest.mark.parametrize("role", ["agent", "dispatcher", "department"])
def test_other_roles_are_refused(client: TestClient, role: str) -> None:
    res = client.get("/api/sms", params={"role": role, "actor": "某人"})
    assert (res.status_code, res.json()["code"]) == (403, "role-not-allowed")
    res = client.post("/api/sms/1/retry", json={"role": role, "actor": "某人"})
    assert (res.status_code, res.json()["code"]) == (403, "role-not-allowed")


def test_signed_in_the_account_is_who_resent(
    client: TestClient, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    _order(client)
    relay()
    gateway.answers.append(Answer(422, {}))
    send(gateway, SOON)
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    boss = bearer("wangfang", ["supervisor"], "王芳")
    agent = bearer("zhangmin", ["agent"], "张敏")
    with session_scope() as s:
        [message] = service.list_messages(s)
    refused = client.get("/api/sms", headers=agent)
    assert (refused.status_code, refused.json()["code"]) == (403, "role-not-granted")
    res = client.post(f"/api/sms/{message['id']}/retry", headers=boss, json={"actor": "冒名"})
    assert res.status_code == 200, res.text
    with session_scope() as s:
        assert service.history(s, message["id"])[-1]["actor"] == "王芳（wangfang）"


# -- 短信回访 ---------------------------------------------------------------------------------------------------------


def test_the_gateway_posts_replies_and_the_desk_reads_them_masked(
    client: TestClient, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from tests.sms.conftest import take

    number = take(direct=True)
    relay()
    send(gateway)
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    sms_gateway = bearer("sms-gw", ["sms_gateway"], "短信网关")
    agent = bearer("zhangmin", ["agent"], "张敏")
    body = {"id": "MO-7", "from": PHONE, "text": "3", "received_at": (T0 + timedelta(hours=1)).isoformat()}
    res = client.post("/api/sms/replies", json=body, headers=sms_gateway)
    assert res.status_code == 200, res.text
    assert set(res.json()) == {"reply_id", "outcome", "outcome_label"}  # no order number, no name
    assert (res.json()["outcome"], res.json()["outcome_label"]) == ("unsatisfied", "不满意，转电话回访")
    again = client.post("/api/sms/replies", json={**body, "text": "1"}, headers=sms_gateway)
    assert again.json() == res.json()  # the same id: nothing new
    refused = client.post("/api/sms/replies", json=body, headers=agent)
    assert refused.status_code in (403, 404)
    for bad in (
        {**body, "from": ""},
        {"text": "1"},
        {**body, "received_at": "前天"},
        ["1"],
        {**body, "id": "MO-8", "received_at": "0001-01-01T00:00:00+08:00"},
    ):
        invalid = client.post("/api/sms/replies", json=bad, headers=sms_gateway)
        assert (invalid.status_code, invalid.json()["code"]) == (422, "sms-invalid-reply"), bad
    listed = client.get("/api/sms/replies", headers=agent).json()
    assert listed["awaiting_calls"] == 1 and listed["counts"]["unsatisfied"] == 1
    [found] = listed["replies"]
    assert (found["phone"], found["order_number"], found["awaits_call"]) == ("138****5678", number, True)
    assert client.get("/api/sms/replies", headers=sms_gateway).status_code in (403, 404)
    bad = client.get("/api/sms/replies", params={"outcome": "happy"}, headers=agent)
    assert (bad.status_code, bad.json()["code"]) == (422, "sms-invalid-outcome")


@pytest.mark.parametrize("role", ["agent", "dispatcher", "supervisor", "admin"])
def test_the_desk_reads_replies_and_units_do_not(client: TestClient, role: str) -> None:
    assert client.get("/api/sms/replies", params={"role": role, "actor": "某人"}).status_code == 200
    res = client.get("/api/sms/replies", params={"role": "department", "actor": "某人"})
    assert (res.status_code, res.json()["code"]) == (403, "role-not-allowed")
