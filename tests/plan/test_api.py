"""The HTTP API of the plan and routing capabilities: same decisions as the CLI, errors with stable codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def test_route_catalogue_and_regions(client: TestClient) -> None:
    got = client.get("/api/route", params={"dialed": "12331", "region": "成都市", "at": "2021-06-01T10:00"})
    assert got.status_code == 200
    body = got.json()
    assert set(body) == {"action", "prompt", "skill", "target", "reason"}
    assert (body["action"], body["prompt"], body["target"]) == ("queue", "transition:12331", "queue:510100")
    default_region = client.get("/api/route", params={"dialed": "12366", "at": "2021-06-14T10:00+08:00"}).json()
    assert (default_region["action"], default_region["target"]) == ("queue", "queue:510000")
    lines = client.get("/api/lines").json()
    assert len(lines) == 37 and {x["mode"] for x in lines} == {
        "platform",
        "full-merge",
        "parallel",
        "subcenter",
        "emergency",
    }
    one = client.get("/api/lines/12366").json()
    assert [m["id"] for m in one["milestones"]] == ["transfer-mechanism", "supervision", "full-time", "data-connected"]
    assert one["milestones"][2]["plan_date"] == "2021-08-31"
    regions = client.get("/api/regions").json()
    assert len(regions) == 22 and regions[1] == {"code": "510100", "name": "成都市"}


def test_record_local_line_status_overdue(client: TestClient) -> None:
    created = client.post("/api/lines", json={"number": "96128", "name": "城市管理热线", "units": ["成都市城管委"]})
    assert created.status_code == 201 and created.json()["scope"] == "local"
    assert client.post("/api/lines", json={"number": "96128", "name": "x"}).json()["code"] == "line-exists"
    rec = client.post(
        "/api/plan/records",
        json={
            "line": "12333",
            "milestone": "transfer",
            "region": "南充市",
            "postpone": "2021-11-01",
            "note": "人员未到位",
            "recorded_by": "王五",
        },
    )
    assert rec.status_code == 201 and rec.json()["recorded_by"] == "王五"
    routed = client.get("/api/route", params={"dialed": "12333", "region": "511300", "at": "2021-10-20"}).json()
    assert routed["action"] == "legacy"
    assert (
        client.get("/api/route", params={"dialed": "12333", "region": "510100", "at": "2021-10-20"}).json()["action"]
        == "queue"
    )
    status = client.get("/api/plan/status", params={"region": "南充市", "at": "2021-10-20"}).json()
    transfer = next(i for i in status["items"] if i["line"] == "12333" and i["milestone"] == "transfer")
    assert (transfer["status"], transfer["effective_date"], transfer["plan_date"]) == (
        "due",
        "2021-11-01",
        "2021-10-16",
    )
    assert sum(status["counts"].values()) == len(status["items"])
    overdue = client.get("/api/plan/overdue", params={"region": "南充市", "at": "2021-10-20"}).json()
    units = {u["unit"]: u for u in overdue}
    hr = units["人力资源社会保障厅"]["items"]
    assert [(i["line"], i["milestone"]) for i in hr] == [("12333", "systems-connected"), ("12333", "kb-shared")]
    assert [r["note"] for r in client.get("/api/plan/records", params={"line": "12333"}).json()] == ["人员未到位"]
    hours = client.put("/api/subcenters/12366/hours", json={"opens": "08:00", "closes": "20:00", "region": "成都市"})
    assert hours.status_code == 200 and hours.json()["description"] == "工作日08:00—20:00"
    late = client.get("/api/route", params={"dialed": "12366", "region": "成都市", "at": "2021-06-15T19:00"}).json()
    assert late["action"] == "subcenter"


@pytest.mark.parametrize(
    ("method", "url", "payload", "status", "code"),
    [
        ("get", "/api/route?dialed=12331&region=火星", None, 404, "region-not-found"),
        ("get", "/api/route?dialed=12331&at=2021-02-30", None, 422, "invalid-time"),
        ("get", "/api/route?region=成都市", None, 422, "invalid-input"),
        ("get", "/api/route?dialed=%20", None, 422, "invalid-number"),
        ("get", "/api/lines/99999", None, 404, "line-not-found"),
        ("get", "/api/plan/status?region=x", None, 404, "region-not-found"),
        ("get", "/api/plan/overdue?at=soon", None, 422, "invalid-input"),
        ("post", "/api/plan/records", {"line": "12331", "milestone": "transition", "region": "成都市"}, 422, "record-kind-required"),
        ("post", "/api/plan/records", {"line": "12331", "milestone": "nope", "region": "成都市", "done": "2021-05-01"}, 404, "milestone-not-found"),
        ("post", "/api/plan/records", {"line": "12331", "milestone": "transition", "region": "成都市", "done": "2021-5-1"}, 422, "invalid-input"),
        ("post", "/api/lines", {"number": "abc", "name": "x"}, 422, "invalid-number"),
        ("put", "/api/subcenters/12333/hours", {"opens": "08:00", "closes": "20:00"}, 422, "not-a-subcenter"),
    ],
)  # fmt: skip
def test_bad_input_is_4xx_with_stable_code(
    client: TestClient, method: str, url: str, payload: dict[str, str] | None, status: int, code: str
) -> None:
    got = client.request(method.upper(), url, json=payload)
    assert got.status_code == status, got.text
    assert got.json()["code"] == code
    assert got.json()["message"]
