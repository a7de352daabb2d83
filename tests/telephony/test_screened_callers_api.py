"""GET /telephony/screened-callers: the 骚扰号码名单 in force, as the SIP proxy loads it (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from hotline import db
from hotline.app import create_app
from hotline.nuisance import service as nuisance
from hotline.timeutil import now

DAY = 86400


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def _apply(db_url: str, number: str, *, treatment: str = "warn", days: int = 7, approved_ago: float = 0) -> int:
    """A supervisor lists NUMBER, approved APPROVED_AGO seconds ago."""
    with db.session_scope(db_url) as session:
        entry = nuisance.propose(
            session, actor="班长", role="supervisor", number=number, treatment=treatment, days=days, reason="反复骚扰"
        )
        if approved_ago >= 0:
            nuisance.approve(session, entry["id"], actor="质检主管", at=now() - timedelta(seconds=approved_ago))
        return int(entry["id"])


def _screened(client: TestClient) -> dict[str, int]:
    r = client.get("/telephony/screened-callers")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == "" or r.text.endswith("\n")
    return {number: int(left) for number, left in (line.split("\t") for line in r.text.splitlines())}


def _revision(client: TestClient) -> str:
    return str(client.get("/telephony/revision").json()["revision"])


def test_the_numbers_in_force_with_their_whole_seconds_left(client: TestClient, db_url: str) -> None:
    assert client.get("/telephony/screened-callers").text == ""
    _apply(db_url, "13900002222", days=7)
    _apply(db_url, "02887654321", treatment="release", days=1, approved_ago=DAY - 100)  # 100 s left
    _apply(db_url, "13900005555", days=1, approved_ago=DAY + 5)  # 已到期
    _apply(db_url, "13900006666", approved_ago=-1)  # 待审核: not screened yet
    listed = _screened(client)
    assert set(listed) == {"13900002222", "02887654321"}
    assert 7 * DAY - 60 <= listed["13900002222"] <= 7 * DAY
    assert 90 <= listed["02887654321"] <= 100  # the proxy forgets it when the entry ends


def test_the_routing_revision_changes_with_the_list(client: TestClient, db_url: str) -> None:
    """The proxy reloads the list (and forgets its kept answers) when the revision changes: each approval and lift
    changes it; an application screens no call and leaves it."""
    first = _revision(client)
    assert _revision(client) == first
    entry_id = _apply(db_url, "13900002222", approved_ago=-1)
    proposed = _revision(client)
    assert proposed == first
    with db.session_scope(db_url) as session:
        nuisance.approve(session, entry_id, actor="质检主管")
    approved = _revision(client)
    assert approved != proposed and "13900002222" in _screened(client)
    with db.session_scope(db_url) as session:
        nuisance.lift(session, entry_id, actor="质检主管", reason="来电人已致歉")
    assert _revision(client) != approved
    assert _screened(client) == {}
