"""`GET /api/callbacks` and `POST /api/callbacks/{id}/attempts` (SQLite and PostgreSQL): who may read and record,
callers' numbers masked for those who do not dial, errors with their codes and nothing written; sign-in off (the role
named) and on (the account's roles)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.telephony.missed_calls import ANSWERED, MISSED, call, set_up_lines


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    set_up_lines()
    call("m1", "13900002222", 0, MISSED)
    call("m2", "13700003333", 30, MISSED, trunk="my-telecom")
    call("ok", "13600004444", 40, ANSWERED)
    with TestClient(create_app()) as c:
        yield c


def _ids(client: TestClient, **params: str) -> dict[str, int]:
    res = client.get("/api/callbacks", params={"role": "agent", **params})
    assert res.status_code == 200, res.text
    return {c["caller"]: c["id"] for c in res.json()["callbacks"]}


def test_agents_list_open_tasks_oldest_first_with_full_numbers_and_supervisors_masked(client: TestClient) -> None:
    res = client.get("/api/callbacks", params={"role": "agent"})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == 2 and (body["hours"], body["max_attempts"]) == (24, 3)
    assert [c["caller"] for c in body["callbacks"]] == ["13900002222", "13700003333"]
    assert body["callbacks"][1]["region"] == "绵阳市" and body["callbacks"][0]["dialed"] == "12345"
    for role, shown in [("dispatcher", "13900002222"), ("admin", "13900002222"), ("supervisor", "139****2222")]:
        got = client.get("/api/callbacks", params={"role": role}).json()["callbacks"][0]["caller"]
        assert got == shown, role
    assert list(_ids(client, region="绵阳市")) == ["13700003333"]
    assert list(_ids(client, overdue="true")) == ["13900002222", "13700003333"]  # 2021: long past the deadline
    bad = client.get("/api/callbacks", params={"state": "pending"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-callback-state"


def test_an_agent_records_attempts_and_the_third_unanswered_closes_the_task(client: TestClient) -> None:
    task = _ids(client)["13900002222"]
    for n in range(1, 4):
        res = client.post(
            f"/api/callbacks/{task}/attempts",
            json={"outcome": "no-answer", "note": f"第{n}次", "role": "agent", "actor": "张敏"},
        )
        assert res.status_code == 201, res.text
    body = res.json()
    assert body["state"] == "unreachable" and [a["actor"] for a in body["attempts"]] == ["张敏"] * 3
    assert body["caller"] == "13900002222"
    assert list(_ids(client)) == ["13700003333"]
    closed = client.get("/api/callbacks", params={"role": "supervisor", "state": "closed"}).json()["callbacks"]
    assert [(c["caller"], c["state_label"]) for c in closed] == [("139****2222", "多次回拨未接通")]
    # Once closed, no more attempts.
    again = client.post(f"/api/callbacks/{task}/attempts", json={"outcome": "reached", "role": "agent"})
    assert again.status_code == 409 and again.json()["code"] == "callback-closed"


def test_refused_attempts_say_why_and_write_nothing(client: TestClient) -> None:
    task = _ids(client)["13900002222"]
    before = client.get("/api/callbacks", params={"state": "all"}).json()
    for path_id, body, status, code in [
        (999999, {"outcome": "reached"}, 404, "callback-not-found"),
        (task, {"outcome": "busy"}, 422, "invalid-callback-outcome"),
        (task, {"outcome": "no-answer", "order": "X-1"}, 422, "invalid-callback-order"),
        (task, {"outcome": "reached", "order": "NO-SUCH"}, 404, "workorder-not-found"),
        (task, {"outcome": "reached", "role": "supervisor"}, 403, "role-not-allowed"),
        (task, {"outcome": "reached", "role": "department"}, 403, "role-not-allowed"),
    ]:
        res = client.post(f"/api/callbacks/{path_id}/attempts", json={"role": "dispatcher", **body})
        assert (res.status_code, res.json()["code"]) == (status, code), body
    assert client.get("/api/callbacks", params={"state": "all"}).json() == before
    assert client.get("/api/callbacks", params={"role": "department"}).status_code == 403


def test_with_no_name_typed_the_attempt_is_recorded_under_the_role(client: TestClient) -> None:
    task = _ids(client)["13700003333"]
    res = client.post(f"/api/callbacks/{task}/attempts", json={"outcome": "not-needed", "role": "dispatcher"})
    assert res.status_code == 201 and res.json()["attempts"][0]["actor"] == "派单员"


@pytest.fixture
def signed_in(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    return client


def test_signed_in_supervisors_read_masked_and_may_not_record_agents_do(signed_in: TestClient) -> None:
    from hotline.db import session_scope
    from hotline.workorders import service as orders

    with session_scope() as s:
        orders.add_unit(s, "510100-zjj", "成都市住建局", "department", region_code="510100")
    agent, supervisor = bearer("zhangmin", ["agent"], "张敏"), bearer("wangfang", ["supervisor"])
    clerk = bearer("wujj", ["department"], bound_to="510100-zjj")
    listed = signed_in.get("/api/callbacks", headers=supervisor)
    assert listed.status_code == 200 and listed.json()["callbacks"][0]["caller"] == "139****2222"
    task = listed.json()["callbacks"][0]["id"]
    refused = signed_in.post(f"/api/callbacks/{task}/attempts", json={"outcome": "reached"}, headers=supervisor)
    assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    assert signed_in.get("/api/callbacks", headers=clerk).status_code == 403
    # Naming a role the account does not hold does not unmask.
    assert signed_in.get("/api/callbacks", params={"role": "agent"}, headers=supervisor).status_code == 403

    done = signed_in.post(
        f"/api/callbacks/{task}/attempts", json={"outcome": "reached", "actor": "冒名"}, headers=agent
    )
    assert done.status_code == 201 and done.json()["caller"] == "13900002222"
    assert done.json()["attempts"][0]["actor"].startswith("张敏")  # the account, not the name typed
