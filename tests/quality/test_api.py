"""`/api/quality/...` as clients use it (SQLite and PostgreSQL): supervisors draw, pick, score and review, an agent
reads, confirms and appeals their own results only, administrators change the sheet; each refusal with its stable
code and status, sign-in off (the role named) and on (the account's own roles and name)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.quality.domain import DEFAULT_SHEET
from tests.conftest import bearer
from tests.quality.orders import LI, ZHANG, take, take_many

SUPERVISOR = {"role": "supervisor", "actor": "王芳（wangfang）"}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def _pick(client: TestClient, number: str) -> int:
    res = client.post("/api/quality/inspections", json={"number": number, **SUPERVISOR})
    assert res.status_code == 201, res.text
    return int(res.json()["id"])


def _scored(client: TestClient, number: str, deductions: list[dict[str, Any]] | None = None) -> int:
    task = _pick(client, number)
    res = client.post(f"/api/quality/inspections/{task}/score", json={"deductions": deductions or [], **SUPERVISOR})
    assert res.status_code == 200, res.text
    return task


def _refused(res: Any, status: int, code: str) -> None:
    assert (res.status_code, res.json()["code"]) == (status, code), res.text


def test_a_supervisor_draws_scores_and_reviews(client: TestClient) -> None:
    take_many(ZHANG, 4)
    take(LI)
    drawn = client.post(
        "/api/quality/draws",
        json={"since": "2021-06-01", "until": "2021-06-30", "per_agent": 2, "seed": 5, **SUPERVISOR},
    )
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["draw"]["seed"] == 5 and drawn.json()["draw"]["drawn"] == 3
    pending = client.get("/api/quality/inspections", params={"status": "pending"}).json()
    assert pending["total"] == 3 and {i["status"] for i in pending["inspections"]} == {"pending"}
    task = pending["inspections"][0]["id"]
    scored = client.post(
        f"/api/quality/inspections/{task}/score",
        json={"deductions": [{"item": "诉求记录完整准确", "points": 25, "note": "未记录诉求"}], **SUPERVISOR},
    )
    assert (
        scored.status_code == 200 and scored.json()["total"] == 75 and scored.json()["scored_by"] == SUPERVISOR["actor"]
    )
    agent = pending["inspections"][0]["agent"]
    appealed = client.post(
        f"/api/quality/inspections/{task}/appeal", json={"reason": "已记录", "role": "agent", "actor": agent}
    )
    assert appealed.status_code == 200, appealed.text
    review = {"outcome": "change", "note": "改分", "deductions": [{"item": "2", "points": 5, "note": "不完整"}]}
    reviewed = client.post(f"/api/quality/inspections/{task}/review", json={**review, **SUPERVISOR})
    assert reviewed.status_code == 200 and (reviewed.json()["total"], reviewed.json()["first_total"]) == (95, 75)
    figures = client.get("/api/quality/figures", params={"since": "2021-06-01", "until": "2021-06-30"}).json()
    assert figures["centre"] | {"pass_rate": None} == {
        "inspected": 1, "average": 95.0, "passed": 1, "pass_rate": None, "appeals": 1, "changed": 1, "pending": 2,
    }  # fmt: skip


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"deductions": [{"item": "服务用语规范", "points": 16, "note": "x"}]}, 422, "quality-deduction-too-large"),
    ({"deductions": [{"item": "服务用语规范", "points": 2}]}, 422, "quality-note-required"),
    ({"deductions": [{"item": "迟到", "points": 2, "note": "x"}]}, 422, "quality-unknown-item"),
    ({"veto": {"item": "泄露来电人信息"}}, 422, "quality-reason-required"),
    ({"role": "agent", "actor": "李娜（lina）"}, 403, "role-not-allowed"),
    ({"role": "dispatcher"}, 403, "role-not-allowed"),
    ({"actor": "张敏（zhangmin）"}, 403, "quality-own-order"),
])  # fmt: skip
def test_a_refused_score_says_why(client: TestClient, body: dict[str, Any], status: int, code: str) -> None:
    task = _pick(client, take(ZHANG))
    _refused(client.post(f"/api/quality/inspections/{task}/score", json={**SUPERVISOR, **body}), status, code)
    assert client.get(f"/api/quality/inspections/{task}").json()["status"] == "pending"


def test_the_codes_of_the_steps(client: TestClient) -> None:
    number = take(ZHANG)
    task = _scored(client, number)
    _refused(
        client.post("/api/quality/inspections", json={"number": number, **SUPERVISOR}), 409, "quality-already-inspected"
    )
    _refused(
        client.post("/api/quality/inspections", json={"number": "51010020210601x", **SUPERVISOR}),
        404,
        "workorder-not-found",
    )
    _refused(client.post(f"/api/quality/inspections/{task}/score", json=SUPERVISOR), 409, "quality-already-scored")
    _refused(client.post("/api/quality/inspections/999999/score", json=SUPERVISOR), 404, "quality-task-not-found")
    _refused(client.get("/api/quality/inspections/999999"), 404, "quality-task-not-found")
    for typo in (3_000_000_000, 10**20):  # past the id column's integers: not found, not the database's overflow
        _refused(client.get(f"/api/quality/inspections/{typo}"), 404, "quality-task-not-found")
    _refused(
        client.post(f"/api/quality/inspections/{task}/review", json={"outcome": "keep", "note": "x", **SUPERVISOR}),
        409, "quality-not-appealed",
    )  # fmt: skip
    as_zhang = {"role": "agent", "actor": ZHANG}
    _refused(client.post(f"/api/quality/inspections/{task}/appeal", json=as_zhang), 422, "quality-reason-required")
    _refused(
        client.post(f"/api/quality/inspections/{task}/appeal", json={"reason": "x", "role": "agent"}),
        422,
        "actor-required",
    )
    _refused(
        client.post(f"/api/quality/inspections/{task}/appeal", json={"reason": "x", "role": "agent", "actor": LI}),
        403, "quality-not-own",
    )  # fmt: skip
    assert (
        client.post(f"/api/quality/inspections/{task}/appeal", json={"reason": "理由", **as_zhang}).status_code == 200
    )
    _refused(
        client.post(f"/api/quality/inspections/{task}/appeal", json={"reason": "再次", **as_zhang}),
        409,
        "quality-appeal-closed",
    )
    _refused(client.post(f"/api/quality/inspections/{task}/confirm", json=as_zhang), 409, "quality-not-confirmable")
    _refused(
        client.post(f"/api/quality/inspections/{task}/review", json={"outcome": "redo", "note": "x", **SUPERVISOR}),
        422, "quality-invalid-outcome",
    )  # fmt: skip
    _refused(
        client.post(f"/api/quality/inspections/{task}/appeal", json={"reason": "x", **SUPERVISOR}),
        403,
        "role-not-allowed",
    )
    _refused(client.post("/api/quality/draws", json={"per_agent": 0, **SUPERVISOR}), 422, "quality-invalid-count")
    _refused(client.get("/api/quality/inspections", params={"status": "old"}), 422, "quality-invalid-filter")


def test_an_agent_sees_only_their_own_results_and_figures(client: TestClient) -> None:
    mine, theirs = _scored(client, take(ZHANG)), _scored(client, take(LI))
    as_zhang = {"role": "agent", "actor": "zhangmin"}
    listed = client.get("/api/quality/inspections", params={"status": "all", "agent": "lina", **as_zhang}).json()
    assert [i["id"] for i in listed["inspections"]] == [mine]  # `agent` is for those who inspect
    assert client.get(f"/api/quality/inspections/{mine}", params=as_zhang).json()["agent"] == ZHANG
    _refused(client.get(f"/api/quality/inspections/{theirs}", params=as_zhang), 403, "quality-not-own")
    figures = client.get("/api/quality/figures", params={"since": "2021-06-01", "until": "2021-06-30", **as_zhang})
    assert [a["agent_key"] for a in figures.json()["agents"]] == ["zhangmin"]
    _refused(
        client.get("/api/quality/inspections", params={"role": "department", "actor": "x"}), 403, "role-not-allowed"
    )


def test_the_sheet_is_read_by_all_who_are_inspected_and_changed_by_administrators(client: TestClient) -> None:
    assert client.get("/api/quality/sheet").json()["items"] == DEFAULT_SHEET.to_dict()["items"]
    body = {
        "items": [{"label": "服务用语规范", "points": 50}, {"label": "诉求记录完整准确", "points": 50}],
        "pass_line": 85,
    }
    _refused(client.put("/api/quality/sheet", json={**body, "pass_line": 101}), 422, "quality-invalid-sheet")
    _refused(client.put("/api/quality/sheet", json={**body, "items": body["items"][:1]}), 422, "quality-invalid-sheet")
    res = client.put("/api/quality/sheet", json={**body, "actor": "系统管理员"})
    assert res.status_code == 200 and res.json()["pass_line"] == 85 and res.json()["vetoes"] == []
    changes = client.get("/api/settings/changes", params={"kind": "quality"}).json()["changes"]
    assert [c["kind_label"] for c in changes] == ["质检标准"] and changes[0]["actor"] == "系统管理员"


def test_signed_in_each_account_acts_as_itself(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    agent, other = bearer("zhangmin", ["agent"], "张敏"), bearer("lina", ["agent"], "李娜")
    supervisor, admin = bearer("wangfang", ["supervisor"], "王芳"), bearer("boss", ["admin"], "管理员")
    dispatcher = bearer("lihua", ["dispatcher"], "李华")
    number = take(ZHANG, date(2021, 6, 2))
    task = client.post("/api/quality/inspections", json={"number": number}, headers=supervisor).json()["id"]
    _refused(client.post("/api/quality/inspections", json={"number": take(LI)}, headers=agent), 403, "role-not-granted")
    scored = client.post(f"/api/quality/inspections/{task}/score", json={"actor": "冒名"}, headers=supervisor)
    assert scored.status_code == 200 and scored.json()["scored_by"] == "王芳（wangfang）"
    assert client.get("/api/quality/inspections", params={"status": "done"}, headers=other).json()["total"] == 0
    assert client.get(f"/api/quality/inspections/{task}", headers=other).status_code == 403
    mine = client.get("/api/quality/inspections", params={"status": "done"}, headers=agent).json()
    assert [i["id"] for i in mine["inspections"]] == [task]
    appealed = client.post(
        f"/api/quality/inspections/{task}/appeal", json={"reason": "理由", "actor": "冒名"}, headers=agent
    )
    assert appealed.status_code == 200
    assert (
        client.get(f"/api/quality/inspections/{task}", headers=agent).json()["history"][-1]["actor"]
        == "张敏（zhangmin）"
    )
    _refused(client.get("/api/quality/sheet", headers=dispatcher), 403, "role-not-granted")
    _refused(client.put("/api/quality/sheet", json={"items": []}, headers=supervisor), 403, "role-not-granted")
    assert client.put("/api/quality/sheet", json={"items": []}, headers=admin).status_code == 422


def test_a_supervisor_or_administrator_voids_a_pending_task_with_a_reason(client: TestClient) -> None:
    task, scored = _pick(client, take(ZHANG)), _scored(client, take(LI))
    void = f"/api/quality/inspections/{task}/void"
    _refused(client.post(void, json=SUPERVISOR), 422, "quality-reason-required")
    _refused(client.post(void, json={"reason": "测试来电", "role": "agent", "actor": LI}), 403, "role-not-allowed")
    _refused(
        client.post(void, json={"reason": "测试来电", "role": "dispatcher", "actor": "李华"}), 403, "role-not-allowed"
    )
    _refused(
        client.post(f"/api/quality/inspections/{scored}/void", json={"reason": "测试来电", **SUPERVISOR}),
        409, "quality-not-voidable",
    )  # fmt: skip
    _refused(client.post("/api/quality/inspections/999999/void", json={"reason": "x", **SUPERVISOR}), 404,
             "quality-task-not-found")  # fmt: skip
    done = client.post(void, json={"reason": "测试来电", "role": "admin", "actor": "系统管理员"})
    assert done.status_code == 200, done.text
    assert (done.json()["status_label"], done.json()["voided_by"], done.json()["void_reason"]) == (
        "已作废", "系统管理员", "测试来电",
    )  # fmt: skip
    _refused(client.post(void, json={"reason": "再作废", **SUPERVISOR}), 409, "quality-task-voided")
    _refused(client.post(f"/api/quality/inspections/{task}/score", json=SUPERVISOR), 409, "quality-task-voided")
    assert client.get("/api/quality/inspections").json()["total"] == 0
    voided = client.get("/api/quality/inspections", params={"status": "voided"}).json()["inspections"]
    assert [(i["id"], i["status"]) for i in voided] == [(task, "voided")]
    figures = client.get("/api/quality/figures", params={"since": "2021-06-01", "until": "2021-06-30"}).json()
    assert (figures["centre"]["inspected"], figures["centre"]["pending"]) == (1, 0)


def test_signed_in_a_void_is_recorded_under_the_account(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    supervisor, agent = bearer("wangfang", ["supervisor"], "王芳"), bearer("zhangmin", ["agent"], "张敏")
    task = client.post("/api/quality/inspections", json={"number": take(LI)}, headers=supervisor).json()["id"]
    void = f"/api/quality/inspections/{task}/void"
    _refused(client.post(void, json={"reason": "话务员已离职"}, headers=agent), 403, "role-not-granted")
    done = client.post(void, json={"reason": "话务员已离职", "actor": "冒名"}, headers=supervisor)
    assert done.status_code == 200 and done.json()["voided_by"] == "王芳（wangfang）"
