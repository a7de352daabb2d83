"""`/api/nuisance` as clients use it (SQLite and PostgreSQL): agents and dispatchers apply from a call record or a work
order, supervisors and administrators also from a typed number and decide; numbers masked for every role; each
refusal with its stable code and status; sign-in off (the role named) and on (the account's own roles and name)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.nuisance.sources import CALLER, call, order

SUPERVISOR = {"role": "supervisor", "actor": "王芳（wangfang）"}
AGENT = {"role": "agent", "actor": "张敏（zhangmin）"}
REASON = {"reason": "一周内来电 30 余次辱骂话务员"}
ROLES = ("agent", "dispatcher", "supervisor", "admin")


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def _refused(res: Any, status: int, code: str) -> None:
    assert (res.status_code, res.json()["code"]) == (status, code), res.text


def _apply(client: TestClient, **body: Any) -> dict[str, Any]:
    res = client.post("/api/nuisance", json={**AGENT, **REASON, **body})
    assert res.status_code == 201, res.text
    made: dict[str, Any] = res.json()
    return made


def test_an_agent_applies_a_supervisor_approves_and_lifts(client: TestClient) -> None:
    made = _apply(client, call_id=call(), treatment="release", days=3)
    assert (made["state"], made["number"], made["treatment"], made["days"]) == ("pending", "138****1111", "release", 3)
    listed = client.get("/api/nuisance", params={"state": "pending", **SUPERVISOR}).json()
    assert [e["id"] for e in listed["entries"]] == [made["id"]] and listed["pending"] == 1
    done = client.post(f"/api/nuisance/{made['id']}/approve", json={"note": "属实", **SUPERVISOR})
    assert done.status_code == 200, done.text
    assert (done.json()["state_label"], done.json()["decided_by"]) == ("生效中", "王芳（wangfang）")
    lifted = client.post(f"/api/nuisance/{made['id']}/lift", json={"reason": "来电人已致歉", **SUPERVISOR})
    assert lifted.status_code == 200 and lifted.json()["state"] == "lifted"
    entry = client.get(f"/api/nuisance/{made['id']}", params=AGENT).json()
    assert [h["action_label"] for h in entry["history"]] == ["申请列入", "审核通过", "解除"]
    assert [h["actor"] for h in entry["history"]] == ["张敏（zhangmin）", "王芳（wangfang）", "王芳（wangfang）"]


def test_a_dispatcher_applies_from_an_order_and_a_supervisor_rejects(client: TestClient) -> None:
    made = _apply(client, order=order(), role="dispatcher", actor="李华")
    _refused(client.post(f"/api/nuisance/{made['id']}/reject", json=SUPERVISOR), 422, "nuisance-reason-required")
    done = client.post(f"/api/nuisance/{made['id']}/reject", json={"reason": "属正当诉求", **SUPERVISOR})
    assert (done.status_code, done.json()["state_label"], done.json()["decision_note"]) == (200, "已驳回", "属正当诉求")


@pytest.mark.parametrize("role", ROLES)
def test_numbers_are_masked_for_every_role(client: TestClient, role: str) -> None:
    made = _apply(client, call_id=call(caller="+8613800001111"))
    client.post(f"/api/nuisance/{made['id']}/approve", json=SUPERVISOR)
    typed = _apply(client, number="13900002222", **SUPERVISOR)
    asking = {"role": role, "actor": "某人"}
    listed = client.get("/api/nuisance", params=asking)
    one = client.get(f"/api/nuisance/{made['id']}", params=asking)
    assert listed.status_code == one.status_code == 200
    assert {e["number"] for e in listed.json()["entries"]} == {"138****1111", "139****2222"}
    assert one.json()["number"] == "138****1111"
    for res in (listed, one):
        assert CALLER not in res.text and "13900002222" not in res.text
    assert typed["number"] == "139****2222"


def test_who_may_do_what_with_sign_in_off(client: TestClient) -> None:
    call_id = call()
    _refused(client.post("/api/nuisance", json={**AGENT, **REASON, "number": CALLER}), 403,
             "nuisance-number-not-allowed")  # fmt: skip
    made = _apply(client, call_id=call_id)
    for role in ("agent", "dispatcher", "department"):
        for step in ("approve", "reject", "lift"):
            res = client.post(f"/api/nuisance/{made['id']}/{step}", json={"role": role, "actor": "某人", **REASON})
            _refused(res, 403, "role-not-allowed")
    _refused(client.get("/api/nuisance", params={"role": "department", "actor": "某单位"}), 403, "role-not-allowed")
    _refused(client.post("/api/nuisance", json={**REASON, "call_id": call_id, "role": "agent"}), 422, "actor-required")
    done = client.post(f"/api/nuisance/{made['id']}/approve", json={"role": "admin", "actor": "系统管理员"})
    assert done.status_code == 200 and done.json()["decided_by"] == "系统管理员"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"call_id": "nobody@pbx"}, 404, "nuisance-source-not-found"),
        ({"order": "510100-20210601-99999"}, 404, "nuisance-source-not-found"),
        ({}, 422, "nuisance-source-not-found"),
        ({"number": "110", **SUPERVISOR}, 422, "nuisance-invalid-number"),
        ({"number": "anonymous", **SUPERVISOR}, 422, "nuisance-invalid-number"),
        ({"number": CALLER, "days": 31, **SUPERVISOR}, 422, "nuisance-invalid-days"),
        ({"number": CALLER, "days": 0, **SUPERVISOR}, 422, "nuisance-invalid-days"),
        ({"number": CALLER, "treatment": "block", **SUPERVISOR}, 422, "nuisance-invalid-treatment"),
        ({"number": CALLER, "reason": "", **SUPERVISOR}, 422, "nuisance-reason-required"),
    ],
)
def test_refusals_have_stable_codes_and_write_nothing(
    client: TestClient, body: dict[str, Any], status: int, code: str
) -> None:
    _refused(client.post("/api/nuisance", json={**AGENT, **REASON, **body}), status, code)
    assert client.get("/api/nuisance", params=SUPERVISOR).json() == {"entries": [], "pending": 0}


def test_decision_refusals(client: TestClient) -> None:
    made = _apply(client, number=CALLER, **SUPERVISOR)
    _refused(client.post("/api/nuisance", json={**REASON, "number": "+86" + CALLER, **SUPERVISOR}), 409,
             "nuisance-already-listed")  # fmt: skip
    _refused(client.post(f"/api/nuisance/{made['id']}/lift", json={"reason": "x", **SUPERVISOR}), 409,
             "nuisance-transition-not-allowed")  # fmt: skip
    client.post(f"/api/nuisance/{made['id']}/approve", json=SUPERVISOR)
    _refused(
        client.post(f"/api/nuisance/{made['id']}/approve", json=SUPERVISOR), 409, "nuisance-transition-not-allowed"
    )
    for step in ("approve", "reject", "lift"):
        _refused(
            client.post(f"/api/nuisance/999/{step}", json={"reason": "x", **SUPERVISOR}), 404, "nuisance-not-found"
        )
    _refused(client.get("/api/nuisance/999", params=SUPERVISOR), 404, "nuisance-not-found")
    for typo in (3_000_000_000, 10**20, 0):  # past the id column's integers: not found, not the database's overflow
        _refused(client.get(f"/api/nuisance/{typo}", params=SUPERVISOR), 404, "nuisance-not-found")
        _refused(client.post(f"/api/nuisance/{typo}/lift", json={"reason": "x", **SUPERVISOR}), 404,
                 "nuisance-not-found")  # fmt: skip
    _refused(client.get("/api/nuisance", params={"state": "open", **SUPERVISOR}), 422, "nuisance-invalid-state")


def test_signed_in_each_account_acts_as_itself(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    agent, dispatcher = bearer("zhangmin", ["agent"], "张敏"), bearer("lihua", ["dispatcher"], "李华")
    supervisor, proxy = bearer("wangfang", ["supervisor"], "王芳"), bearer("kamailio", ["proxy"], "代理")
    made = client.post("/api/nuisance", json={"call_id": call(), "actor": "冒名", **REASON}, headers=agent)
    assert made.status_code == 201 and made.json()["proposed_by"] == "张敏（zhangmin）"
    entry = made.json()["id"]
    _refused(client.post("/api/nuisance", json={"number": "13900002222", **REASON}, headers=dispatcher), 403,
             "nuisance-number-not-allowed")  # fmt: skip
    _refused(client.post(f"/api/nuisance/{entry}/approve", json={}, headers=agent), 403, "role-not-granted")
    _refused(client.get("/api/nuisance", headers=proxy), 403, "role-not-granted")
    done = client.post(f"/api/nuisance/{entry}/approve", json={"actor": "冒名"}, headers=supervisor)
    assert done.status_code == 200 and done.json()["decided_by"] == "王芳（wangfang）"
    assert client.get("/api/nuisance", headers=dispatcher).json()["entries"][0]["number"] == "138****1111"
