"""The HTTP face of aggregation: a source posts batches, supervisors read states and KPIs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.accounts import service as accounts
from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.workers import STATUS_FILE, Board, Worker

CALL = {
    "kind": "call",
    "id": "C1",
    "started_at": "2021-11-01T09:00:00+08:00",
    "answered_at": "2021-11-01T09:00:09+08:00",
}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def test_a_source_posts_a_batch_and_a_resend_is_harmless(client: TestClient) -> None:
    first = client.post("/api/feeds/12366", json={"records": [CALL]})
    assert first.status_code == 200 and first.json()["inserted"] == 1
    again = client.post("/api/feeds/12366", json={"records": [CALL]})
    assert again.json()["unchanged"] == 1
    kpis = client.get("/api/feeds/12366/kpis", params={"since": "2021-11-01", "until": "2021-11-01"}).json()
    assert kpis["call_kpis"]["answered"] == 1 and kpis["call_kpis"]["answered_within"] == 1


def test_a_bad_batch_is_refused_with_every_error_and_the_refusal_is_kept(client: TestClient) -> None:
    bad = client.post("/api/feeds/12366", json={"records": [CALL, {"kind": "call", "id": "C2"}]})
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "feed-invalid" and body["details"]["errors"][0]["index"] == 1
    assert "未保存" in body["message"]
    kpis = client.get("/api/feeds/12366/kpis", params={"since": "2021-11-01", "until": "2021-11-01"}).json()
    assert kpis["call_kpis"]["offered"] == 0  # C1 was not kept either
    assert [r["code"] for r in kpis["rejections"]] == ["feed-invalid"] and kpis["rejections"][0]["transport"] == "http"
    rows = {r["code"]: r for r in client.get("/api/feeds").json()["sources"]}
    assert rows["12366"]["rejected"] == 1 and rows["12366"]["batches"] == 0


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/feeds/99999", {"records": []}, 404, "feed-source-not-found"),
        ("/api/feeds/12366", {"rows": []}, 422, "feed-invalid"),
        ("/api/feeds/12366", "not a batch", 422, "feed-invalid"),
    ],
)
def test_malformed_requests_get_stable_codes(
    client: TestClient, path: str, body: object, status: int, code: str
) -> None:
    got = client.post(path, json=body)
    assert (got.status_code, got.json()["code"]) == (status, code)


def test_kpis_of_an_unknown_source_or_a_bad_period(client: TestClient) -> None:
    assert client.get("/api/feeds/99999/kpis").json()["code"] == "feed-source-not-found"
    got = client.get("/api/feeds/12366/kpis", params={"since": "2021-11-10", "until": "2021-11-01"})
    assert (got.status_code, got.json()["code"]) == (422, "invalid-period")


def _bearer(login: str, role: str) -> dict[str, str]:
    with session_scope() as session:
        accounts.create_account(session, login, login, [role])
        return {"Authorization": f"Bearer {accounts.issue_token(session, login).token}"}


def test_supervisors_and_administrators_see_whether_the_queue_workers_run(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_AUTH", "on")

    async def idle(stop: asyncio.Event) -> None:
        await stop.wait()

    board = Board([Worker("feeds", "分中心数据接收", idle), Worker("push", "工单事件推送", idle)], url="nats://q:4222",
                  path=tmp_path / STATUS_FILE, tell=lambda _line: None)  # fmt: skip
    board.running("push")
    board.failed("feeds", HotlineError("无法连接消息队列 nats://q:4222：refused", code="queue-unreachable"))

    for login, role in [("desk", "agent"), ("sender", "dispatcher")]:
        refused = client.get("/api/system/queue-workers", headers=_bearer(login, role))
        assert (refused.status_code, refused.json()["code"]) == (403, "role-not-granted")
    for login, role in [("chief", "supervisor"), ("root", "admin")]:
        got = client.get("/api/system/queue-workers", headers=_bearer(login, role))
        assert got.status_code == 200
        body = got.json()
        assert body["process"] == "running" and body["nats_url"] == "nats://q:4222"
        feeds = body["workers"]["feeds"]
        assert (feeds["state"], feeds["failures"], feeds["reason"]) == (
            "waiting",
            1,
            "无法连接消息队列 nats://q:4222：refused",
        )
        assert feeds["line"].startswith("消息队列接收中断（自 ") and "HTTP 和文件报送不受影响" in feeds["line"]
        assert body["workers"]["push"]["state"] == "running"
    assert client.get("/api/health").json() == {"status": "ok"}  # public: nothing of this

    (tmp_path / STATUS_FILE).unlink()
    monkeypatch.setenv("HOTLINE_QUEUE_WORKERS", "off")
    body = client.get("/api/system/queue-workers", headers=_bearer("chief2", "supervisor")).json()
    assert body["process"] == "off" and body["workers"]["feeds"]["state"] == "off"


def test_the_feeds_page_tells_an_administrator_where_to_look_and_others_whom_to_tell(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))  # no workers' status there: they do not run
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    for login, role in [("chief", "supervisor"), ("sender", "dispatcher")]:
        html = client.get("/feeds", headers=_bearer(login, role)).text
        assert "消息队列接收未运行（未检测到工作进程）" in html and "请告知系统管理员。" in html
        assert "/api/system/queue-workers" not in html  # theirs to tell, not to open
    html = client.get("/feeds", headers=_bearer("root", "admin")).text
    assert "消息队列接收未运行（未检测到工作进程）" in html and "hotline serve" in html
    assert "请告知系统管理员" not in html
