"""The HTTP face of aggregation: a source posts batches, supervisors read states and KPIs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app

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
