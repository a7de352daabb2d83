"""The loop through the HTTP API and the CLI, as dispatcher, department, supervisor and citizen."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.db import session_scope
from hotline.workorders import advice, service
from hotline.workorders.store import History, Order
from tests.workorders.conftest import Ran

ZJJ, RSJ = "510100-zjj", "510100-rsj"


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    # The dispatch classifier trains for a minute on first use; these tests are about the loop, not advice.
    monkeypatch.setattr(advice, "_advise_function", lambda: None)
    with session_scope() as session:
        service.load_units(session)
        service.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        service.add_unit(
            session, RSJ, "成都市人力资源和社会保障局", "department", region_code="510100", parent="510100"
        )
    return TestClient(create_app())


def _act(client: TestClient, number: str, action: str, **body: Any) -> Any:
    return client.post(f"/api/orders/{number}/actions/{action}", json=body)


def test_api_loop(client: TestClient) -> None:
    created = client.post(
        "/api/orders",
        json={"type": "求助", "content": "小区停水两天", "phone": "13811112222", "region": "成都市",
              "at": "2021-09-30T10:00", "client_key": "web-1", "caller_name": "钱七"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    order = created.json()
    number = order["number"]
    assert number == "5101002021093000001" and order["due"] == "2021-10-15"
    again = client.post(
        "/api/orders",
        json={"type": "求助", "content": "小区停水两天", "phone": "13811112222", "region": "成都市",
              "at": "2021-09-30T10:00", "client_key": "web-1", "caller_name": "钱七"},
    )  # fmt: skip
    assert again.json()["number"] == number
    t = "2021-09-30T11:00"
    assert _act(client, number, "dispatch", role="dispatcher", target_unit=ZJJ, at=t).status_code == 200
    bad = _act(client, number, "archive", role="supervisor", at=t)
    assert bad.status_code == 409 and bad.json()["code"] == "transition-not-allowed"
    wrong_unit = _act(client, number, "accept", role="department", unit=RSJ, at=t)
    assert wrong_unit.status_code == 403 and wrong_unit.json()["code"] == "unit-not-assigned"
    returned = _act(client, number, "return", role="department", unit=ZJJ, reason="应由水务部门办理", at=t)
    assert returned.json()["state"] == "returned"
    _act(client, number, "redispatch", role="dispatcher", target_unit=RSJ, at=t)
    seen = _act(client, number, "accept", role="department", unit=RSJ, at="2021-10-08T09:00").json()
    assert seen["caller_phone"] == "13811112222"  # a handling unit may call the citizen back
    stale = _act(client, number, "urge", role="dispatcher", version=seen["version"] - 1)
    assert stale.status_code == 409 and stale.json()["code"] == "stale-version"
    _act(client, number, "resolve", role="department", unit=RSJ, reply="已恢复供水", at="2021-10-09T09:00")
    review = client.get(f"/api/orders/{number}", params={"role": "supervisor"}).json()
    assert review["caller_phone"] == "138****2222" and review["caller_name"] == "钱*"
    assert review["sla"] == "on_time"
    _act(client, number, "review_pass", role="supervisor", at="2021-10-09T10:00")
    _act(client, number, "callback", role="agent", satisfaction="basic", citizen_resolved=True, at="2021-10-11T10:00")
    final = _act(client, number, "archive", role="dispatcher", at="2021-10-11T10:00").json()
    assert final["state"] == "archived"
    history = client.get(f"/api/orders/{number}").json()["history"]
    assert [h["action"] for h in history][-3:] == ["review_pass", "callback", "archive"]
    public = client.get(f"/api/public/orders/{number}", params={"phone_last4": "2222"})
    assert public.status_code == 200
    body = public.json()
    assert body["reply"] == "已恢复供水" and body["caller_phone"] == "138****2222"
    assert "钱七" not in public.text and "应由水务部门办理" not in public.text
    assert client.get(f"/api/public/orders/{number}", params={"phone_last4": "1111"}).status_code == 404
    assert client.get(f"/api/public/orders/{number}").json()["code"] == "invalid-phone-last4"
    for guess in ("1112", "1113", "1114", "1115"):  # five wrong guesses in all
        assert client.get(f"/api/public/orders/{number}", params={"phone_last4": guess}).status_code == 404
    locked = client.get(f"/api/public/orders/{number}", params={"phone_last4": "2222"})
    assert locked.status_code == 429 and locked.json()["code"] == "too-many-attempts"


def test_api_bad_input(client: TestClient) -> None:
    bad_type = client.post(
        "/api/orders", json={"type": "闲聊", "content": "x", "phone": "13800000000", "region": "510100"}
    )
    assert bad_type.status_code == 422 and bad_type.json()["code"] == "invalid-type"
    missing = client.post("/api/orders", json={"type": "咨询"})
    assert missing.status_code == 422 and missing.json()["code"] == "invalid-input"
    bad_time = client.post(
        "/api/orders", json={"type": "咨询", "content": "x", "phone": "13800000000", "region": "510100", "at": "昨天"}
    )
    assert bad_time.json()["code"] == "invalid-time"
    assert client.get("/api/orders/5101002021093099999").json()["code"] == "workorder-not-found"
    created = client.post(
        "/api/orders", json={"type": "咨询", "content": "x", "phone": "13800000000", "region": "510100"}
    )
    number = created.json()["number"]
    unknown = _act(client, number, "teleport", role="dispatcher")
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid-action"
    no_unit = _act(client, number, "dispatch", role="dispatcher", target_unit="nowhere")
    assert no_unit.status_code == 404 and no_unit.json()["code"] == "unit-not-found"
    no_article = _act(client, number, "direct_resolve", role="agent", article="NO-SUCH")
    assert no_article.status_code == 404 and no_article.json()["code"] == "article-not-found"
    assert client.get(f"/api/orders/{number}").json()["state"] == "registered"
    assert client.get("/api/orders", params={"sla": "late"}).json()["code"] == "invalid-sla"
    assert len(client.get("/api/orders/lifecycle").json()) > 20


def test_api_catalogue_entry_set_looked_up_and_removed(client: TestClient) -> None:
    entry = {"category": "城乡建设", "unit": ZJJ, "region_code": "510100"}
    assert client.put("/api/workorders/catalogue", json=entry).status_code == 200
    found = client.get("/api/workorders/catalogue/lookup", params={"category": "城乡建设", "region": "成都市"})
    assert found.json()["code"] == ZJJ
    removed = client.delete("/api/workorders/catalogue", params={"category": "城乡建设", "region_code": "510100"})
    assert removed.status_code == 200 and removed.json()["removed"] is True
    assert (
        client.get("/api/workorders/catalogue/lookup", params={"category": "城乡建设", "region": "成都市"}).json()
        is None
    )
    unknown = client.get("/api/workorders/catalogue/lookup", params={"category": "城乡建设", "region": "火星市"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "region-not-found"
    again = client.delete("/api/workorders/catalogue", params={"category": "城乡建设", "region_code": "510100"})
    assert again.status_code == 404 and again.json()["code"] == "catalogue-entry-not-found"


def test_api_lists_a_callers_orders_latest_first_to_those_who_see_numbers(client: TestClient) -> None:
    body = {"type": "求助", "content": "小区停水两天", "phone": "13811113333", "region": "510100"}
    numbers = [
        client.post("/api/orders", json={**body, "at": f"2021-09-{day}T10:00"}).json()["number"] for day in (28, 29, 30)
    ]
    client.post("/api/orders", json={**body, "phone": "13811114444", "at": "2021-09-30T11:00"})
    query = {"phone": "138-1111-3333", "role": "agent", "order": "newest"}
    page = client.get("/api/orders", params={**query, "limit": 2})
    assert [o["number"] for o in page.json()] == [numbers[2], numbers[1]]
    assert page.headers["x-total-count"] == "3"  # in all, beyond the page
    whole = client.get("/api/orders", params={**query, "limit": 10})
    assert [o["number"] for o in whole.json()] == numbers[::-1] and whole.headers["x-total-count"] == "3"
    refused = client.get("/api/orders", params={"phone": "13811113333", "role": "supervisor"})
    assert refused.status_code == 403 and refused.json()["code"] == "phone-filter-not-allowed"
    bad = client.get("/api/orders", params={**query, "order": "oldest"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-order"


def test_api_archive_answers_with_the_co_handling_orders_it_archived(client: TestClient) -> None:
    body = {"type": "求助", "content": "小区下水道堵塞", "phone": "13811112222", "region": "510100"}
    number = client.post("/api/orders", json={**body, "at": "2021-09-30T10:00"}).json()["number"]
    t = "2021-09-30T11:00"
    dispatched = _act(client, number, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[RSJ], at=t).json()
    kid = f"{number}-01"
    assert dispatched["children"] == [{"number": kid, "state": "dispatched", "state_label": "已派单（待签收）",
                                       "unit": RSJ}]  # fmt: skip
    _act(client, kid, "accept", role="department", unit=RSJ, at=t)
    _act(client, kid, "resolve", role="department", unit=RSJ, reply="已配合处理", at=t)
    alone = _act(client, kid, "review_pass", role="supervisor", at=t)
    assert alone.status_code == 409 and alone.json()["details"]["reason"] == "co-handling-follows-lead"
    _act(client, number, "accept", role="department", unit=ZJJ, at=t)
    _act(client, number, "resolve", role="department", unit=ZJJ, reply="已疏通", at=t)
    _act(client, number, "review_pass", role="supervisor", at=t)
    done = _act(client, number, "archive", role="dispatcher", actor="派单员甲", at=t)
    assert done.status_code == 200
    assert done.json()["state"] == "archived" and [(k["number"], k["state"]) for k in done.json()["children"]] == [
        (kid, "archived")
    ]
    last = client.get(f"/api/orders/{kid}").json()["history"][-1]
    assert (last["action"], last["actor"], last["reason"]) == ("archive", "派单员甲", f"随主办工单 {number} 归档")
    assert client.get("/api/orders", params={"state": "resolved"}).json() == []


def test_cli_binary_prints_number_and_due(client: TestClient) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "order", "create", "--type", "投诉", "--content", "噪音扰民",
         "--phone", "13812341234", "--region", "510100", "--at", "2025-09-30T09:00", "--json", "--no-advice"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    order = json.loads(done.stdout)
    # 投诉 15 working days after 2025-09-30, National Day 10-01..10-08 off, 10-11 a make-up Saturday.
    assert order["number"] == "5101002025093000001" and order["due"] == "2025-10-28"


def test_cli_loop_and_errors(client: TestClient, cli: Callable[..., Ran]) -> None:
    _cli = cli
    made = _cli(
        "create", "--type", "咨询", "--content", "社保卡怎么补办", "--phone", "13812341234", "--region", "510100",
        "--at", "2021-02-10T09:00", "--client-key", "cli-1", "--json", "--no-advice",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    order = json.loads(made.stdout)
    # Spring Festival 2021: 3 working days after 02-10 are 02-18, 02-19 and the make-up Saturday 02-20.
    assert order["number"] == "5101002021021000001" and order["due"] == "2021-02-20"
    number = order["number"]
    steps = [
        ("dispatch", "--role", "dispatcher", "--to-unit", RSJ, "--at", "2021-02-10T10:00"),
        ("accept", "--role", "department", "--unit", RSJ, "--at", "2021-02-18T09:00"),
        ("request_extension", "--role", "department", "--unit", RSJ, "--days", "2", "--reason", "需调取档案",
         "--at", "2021-02-18T10:00"),
        ("approve_extension", "--role", "supervisor", "--at", "2021-02-18T11:00"),
        ("resolve", "--role", "department", "--unit", RSJ, "--reply", "携带身份证到网点补办", "--at", "2021-02-19T09:00"),
        ("review_pass", "--role", "supervisor", "--at", "2021-02-19T10:00"),
        ("callback", "--role", "agent", "--satisfaction", "unsatisfied", "--not-resolved", "--at", "2021-02-20T10:00"),
        ("reopen", "--role", "dispatcher", "--reason", "市民称网点不受理", "--at", "2021-02-20T11:00"),
    ]  # fmt: skip
    for action, *rest in steps:
        done = _cli("act", number, action, *rest, "--json")
        assert done.returncode == 0, (action, done.stderr)
    view = json.loads(done.stdout)
    assert view["state"] == "dispatched" and view["reopen_count"] == 1
    shown = _cli("show", number, "--role", "supervisor")
    assert "重办" in shown.stdout and "138****1234" in shown.stdout
    forbidden = _cli("act", number, "archive", "--role", "supervisor")
    assert forbidden.returncode == 2 and "transition-not-allowed" in forbidden.stderr
    bad = _cli("create", "--type", "咨询", "--content", "x", "--phone", "12", "--region", "510100", "--no-advice")
    assert bad.returncode == 2 and "invalid-phone" in bad.stderr
    clash = _cli(
        "create", "--type", "咨询", "--content", "另一件事", "--phone", "13812341234", "--region", "510100",
        "--client-key", "cli-1", "--no-advice",
    )  # fmt: skip
    assert clash.returncode == 2 and "idempotency-conflict" in clash.stderr
    listed = _cli("list", "--state", "dispatched", "--json")
    assert [o["number"] for o in json.loads(listed.stdout)] == [number]
    by_words = _cli("list", "--words", "社保卡 补办", "--json")
    assert [o["number"] for o in json.loads(by_words.stdout)] == [number]
    assert json.loads(_cli("list", "--words", "公积金", "--json").stdout) == []
    too_many = _cli("list", "--words", "一 二 三 四 五 六")
    assert too_many.returncode == 2 and "invalid-words" in too_many.stderr
    looked = _cli("lookup", number, "--phone-last4", "1234")
    assert json.loads(looked.stdout)["caller_phone"] == "138****1234"
    assert _cli("lifecycle").returncode == 0
    # Reopened on 02-20 and waiting on RSJ again: the daily reminder urges it, once a day.
    reminded = _cli("remind", "--at", "2021-02-24T09:00")
    assert reminded.returncode == 0, reminded.stderr
    assert f"催办 {number} → {RSJ}" in reminded.stdout and "共提醒 1 张" in reminded.stdout
    assert "共提醒 0 张" in _cli("remind", "--at", "2021-02-24T15:00").stdout


def test_create_attaches_dispatch_advice_and_survives_its_failure(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_advise(session: Any, **kw: Any) -> dict[str, Any]:
        calls.append(kw)
        return {"category": "城乡建设", "confidence": 0.9, "unit": None, "repeats": []}

    monkeypatch.setattr(advice, "_advise_function", lambda: fake_advise)
    body = {"type": "投诉", "content": "路灯不亮", "phone": "13800001111", "region": "510100", "line": "12345"}
    made = client.post("/api/orders", json=body)
    assert made.status_code == 201 and made.json()["advice"]["category"] == "城乡建设"
    assert calls[0]["text"] == "路灯不亮" and calls[0]["line"] == "12345" and calls[0]["phone"] == "13800001111"
    assert "advice" not in client.post("/api/orders", params={"advice": "false"}, json=body).json()

    def broken(session: Any, **kw: Any) -> dict[str, Any]:
        raise RuntimeError("model missing")

    monkeypatch.setattr(advice, "_advise_function", lambda: broken)
    survived = client.post("/api/orders", json=body)
    assert survived.status_code == 201 and survived.json()["advice"]["error"] == "advice-failed"
    assert client.get(f"/api/orders/{survived.json()['number']}").status_code == 200


def test_api_acknowledges_only_committed_orders(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.orm import Session

    def failing_commit(self: Session) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "commit", failing_commit)
    quiet = TestClient(create_app(), raise_server_exceptions=False)
    body = {"type": "咨询", "content": "x", "phone": "13800000000", "region": "510100"}
    assert quiet.post("/api/orders", json=body).status_code == 500


def _import_lines(n: int, start: int = 0) -> str:
    return "".join(
        json.dumps(
            {"type": "求助", "content": f"旧热线工单 {i}", "phone": f"139{i:08d}", "region": "510100",
             "at": "2021-06-01T09:00", "client_key": f"legacy-{i}"},
            ensure_ascii=False,
        ) + "\n"
        for i in range(start, start + n)
    )  # fmt: skip


def test_cli_import_is_resumable_and_batch_atomic(client: TestClient, cli: Callable[..., Ran], tmp_path: Any) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(_import_lines(5), encoding="utf-8")
    first = cli("import", str(good), "--batch", "2")
    assert first.returncode == 0, first.stderr
    numbers = first.stdout.split()
    assert numbers == [f"51010020210601{i:05d}" for i in range(1, 6)]
    assert cli("import", str(good)).stdout.split() == numbers  # run again: nothing doubled
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_import_lines(3, start=10) + '{"type": "咨询"}\n', encoding="utf-8")
    failed = cli("import", str(bad), "--batch", "2")
    assert failed.returncode == 2 and "第 4 行" in failed.stderr
    assert len(failed.stdout.split()) == 2  # the first batch committed; the batch with the bad line did not
    with session_scope() as session:
        assert len(service.list_orders(session, limit=100)) == 7


def test_killed_import_keeps_every_acknowledged_order_whole(client: TestClient, tmp_path: Any) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text(_import_lines(3000), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline", "order", "import", str(big), "--batch", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(50)]
    proc.kill()  # SIGKILL in the middle of the load
    proc.wait(timeout=30)
    acknowledged += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    with session_scope() as session:
        for number in acknowledged:
            shown = service.show_order(session, number)
            assert shown["version"] == len(shown["history"]) == 1 and shown["history"][0]["action"] == "create"
        stored = session.scalar(select(func.count()).select_from(Order))
        has_history = select(History.id).where(History.order_id == Order.id).exists()
        unfinished = session.scalar(select(func.count()).select_from(Order).where(~has_history))
    assert len(acknowledged) >= 50 and stored is not None and stored >= len(acknowledged)
    assert unfinished == 0  # no order stored without its history


def test_cli_act_lists_the_co_handling_orders(client: TestClient, cli: Callable[..., Ran]) -> None:
    made = cli("create", "--type", "求助", "--content", "下水道堵塞", "--phone", "13812341234", "--region", "510100",
               "--json", "--no-advice")  # fmt: skip
    number = json.loads(made.stdout)["number"]
    done = cli("act", number, "dispatch", "--role", "dispatcher", "--to-unit", ZJJ, "--co-unit", RSJ)
    assert done.returncode == 0, done.stderr
    assert f"协办工单 {number}-01（{RSJ}）：已派单（待签收）" in done.stdout


def test_cli_removes_a_catalogue_entry_recorded_as_its_actor(client: TestClient, cli: Callable[..., Ran]) -> None:
    from hotline.changelog import service as changelog

    assert cli("catalogue-set", "城乡建设", ZJJ, "--region", "510100").returncode == 0
    assert cli("catalogue-set", "城乡建设", RSJ, "--line", "12329").returncode == 0
    removed = cli("catalogue-remove", "城乡建设", "--region", "成都市", "--actor", "赵磊")  # a 市（州） by name, as set
    assert removed.returncode == 0, removed.stderr
    said = f"已删除派单目录：城乡建设（成都市，全部号码）（原由成都市住房和城乡建设局（{ZJJ}）承办）"
    assert removed.stdout.strip() == said
    looked = cli("catalogue-lookup", "城乡建设/城市建设和市政管理", "--region", "510100", "--line", "12329")
    assert json.loads(looked.stdout)["code"] == RSJ  # the other entry stays
    assert json.loads(cli("catalogue-lookup", "城乡建设", "--region", "510100").stdout) is None
    with session_scope() as session:
        last = changelog.list_changes(session, kind="catalogue", limit=1).changes[0]
        assert (last.actor, last.key, last.before, last.after) == (
            "赵磊", "城乡建设|510100|", {"unit": ZJJ, "unit_name": "成都市住房和城乡建设局"}, None
        )  # fmt: skip
        assert last.summary == "派单目录 城乡建设（成都市，全部号码）：删除（原由成都市住房和城乡建设局承办）"
        recorded = changelog.list_changes(session, limit=500).changes

    again = cli("catalogue-remove", "城乡建设", "--region", "510100")
    assert again.returncode == 2 and "错误[catalogue-entry-not-found]" in again.stderr
    assert "派单目录中没有这一条：城乡建设（成都市，全部号码）" in again.stderr
    wrong_line = cli("catalogue-remove", "城乡建设", "--line", "12345")  # only the 12329 entry exists
    assert wrong_line.returncode == 2 and "错误[catalogue-entry-not-found]" in wrong_line.stderr
    with session_scope() as session:  # a refused removal records nothing
        assert [c.id for c in changelog.list_changes(session, limit=500).changes] == [c.id for c in recorded]
