"""座席状态 through `POST /telephony/agent-states` (the ACD's report, one or a batch: idempotent, bad input refused with
stable codes and nothing written, the telephony side's sign-in) and `hotline telephony agents` (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hotline.app import create_app
from hotline.cli import mount
from hotline.errors import HotlineError
from hotline.timeutil import china, now
from tests.conftest import bearer


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def _states(client: TestClient) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = client.get("/api/monitor").json()["agents"]["rows"]
    return rows


def test_a_state_change_is_stored_once(client: TestClient) -> None:
    at = china(now() - timedelta(minutes=5)).replace(tzinfo=None).isoformat()  # no offset: China time
    body = {"agent": "A007", "state": "not_ready", "at": at, "reason": "培训"}
    first = client.post("/telephony/agent-states", json=body)
    assert first.status_code == 201, first.text
    assert (first.json()["label"], first.json()["duplicate"]) == ("示忙（培训）", False)
    again = client.post("/telephony/agent-states", json=body)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    (row,) = _states(client)
    assert (row["agent"], row["state"], row["reason"]) == ("A007", "not_ready", "培训")
    assert 290 <= float(row["state_seconds"]) <= 400  # type: ignore[arg-type]


def test_without_an_instant_the_change_is_when_received(client: TestClient) -> None:
    res = client.post("/telephony/agent-states", json={"agent": "A008", "state": "ready"})
    assert res.status_code == 201
    assert abs((now() - datetime.fromisoformat(res.json()["at"])).total_seconds()) < 60


def test_a_batch_counts_what_was_new(client: TestClient) -> None:
    base = china(now() - timedelta(minutes=30))
    batch = [
        {"agent": "A001", "state": "ready", "at": base.isoformat()},
        {"agent": "A001", "state": "busy", "at": (base + timedelta(minutes=10)).isoformat()},
        {"agent": "A002", "state": "wrap_up", "at": (base + timedelta(minutes=20)).isoformat()},
    ]
    res = client.post("/telephony/agent-states", json=batch)
    assert res.status_code == 200 and (res.json()["stored"], res.json()["duplicates"]) == (3, 0)
    res = client.post("/telephony/agent-states", json=[*batch[1:], {"agent": "A002", "state": "ready"}])
    assert (res.json()["stored"], res.json()["duplicates"]) == (1, 2)
    states = {r["agent"]: r["state"] for r in _states(client)}
    assert states == {"A001": "busy", "A002": "ready"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"agent": "A007", "state": "lunch"}, "invalid-agent-state"),
        ({"agent": "", "state": "ready"}, "invalid-agent"),
        ({"agent": "A007", "state": "ready", "at": "tomorrow"}, "invalid-time"),
        ({"agent": "A007", "state": "ready", "at": "0001-01-01T00:00:00"}, "invalid-time"),
        ({"agent": "A007", "state": "ready", "at": "9999-12-31T23:59:59-10:00"}, "invalid-time"),
        ({"agent": "A007", "state": "ready", "at": "2999-01-01T00:00:00"}, "invalid-time"),  # the ACD's clock is off
        ({"agent": "A007", "state": "not_ready", "reason": "很" * 40}, "invalid-agent-reason"),
        ({"agent": "A007"}, "invalid-input"),
        ([{"agent": "A007", "state": "ready"}, {"agent": "A007", "state": "nap"}], "invalid-agent-state"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code_and_writes_nothing(
    client: TestClient, body: object, code: str
) -> None:
    res = client.post("/telephony/agent-states", json=body)
    assert (res.status_code, res.json()["code"]) == (422, code), res.text
    assert _states(client) == []


def test_signed_in_the_telephony_side_reports_and_an_agent_may_not(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    body = {"agent": "A007", "state": "ready"}
    proxy = bearer("acd", ["proxy"])
    assert client.post("/telephony/agent-states", json=body, headers=proxy).status_code == 201
    refused = client.post("/telephony/agent-states", json=body, headers=bearer("zhoujing", ["agent"]))
    assert refused.status_code == 403


def test_the_cli_prints_the_day_table(client: TestClient) -> None:
    start = china(now()).replace(hour=0, minute=0, second=0, microsecond=0)
    if now() - start < timedelta(minutes=20):
        pytest.skip("too close to midnight for a day of 20 minutes")
    t0 = now() - timedelta(minutes=20)
    client.post(
        "/telephony/agent-states",
        json=[
            {"agent": "A007", "state": "ready", "at": t0.isoformat()},
            {"agent": "A007", "state": "busy", "at": (t0 + timedelta(minutes=5)).isoformat()},
            {"agent": "A007", "state": "wrap_up", "at": (t0 + timedelta(minutes=10)).isoformat()},
            {"agent": "A007", "state": "logged_out", "at": (t0 + timedelta(minutes=15)).isoformat()},
        ],
    )
    client.post("/telephony/events", json={"call_id": "c1", "event": "answered", "agent": "A007"})
    result = CliRunner().invoke(mount(), ["telephony", "agents"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("A007")]
    assert line.split() == ["A007", "A007", "签出", "0:15:00", "0:05:00", "0:05:00", "0:00:00", "66.7%", "1"]
    assert "共 1 名座席" in result.stdout
    empty = CliRunner().invoke(mount(), ["telephony", "agents", "--day", "2020-01-01"])
    assert empty.exit_code == 0 and "共 0 名座席" in empty.stdout
    bad = CliRunner().invoke(mount(), ["telephony", "agents", "--day", "2020-13-01"])
    assert isinstance(bad.exception, HotlineError) and bad.exception.code == "invalid-date"  # `hotline` exits 2
