"""The guard remembers who holds a token for a few seconds (the lookup costs more than a small request): what
that means for revocation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hotline.accounts import guard, service
from hotline.app import create_app
from hotline.db import session_scope


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(guard, "_clock", lambda: now[0])
    monkeypatch.setattr(guard, "_remembered", {})
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    return now


def _token(login: str, roles: list[str]) -> dict[str, str]:
    with session_scope() as session:
        service.create_account(session, login, login, roles)
        return {"Authorization": f"Bearer {service.issue_token(session, login).token}"}


def test_a_token_revoked_elsewhere_is_refused_once_the_memory_lapses(db_url: str, clock: list[float]) -> None:
    client = TestClient(create_app())
    headers = _token("desk", ["agent"])
    assert client.get("/api/workorders/limits", headers=headers).status_code == 200
    with session_scope() as session:  # as `hotline accounts disable` does, from another process
        service.set_active(session, "desk", False)
    clock[0] += guard.REMEMBER_FOR - 1
    assert client.get("/api/workorders/limits", headers=headers).status_code == 200  # the price of remembering
    clock[0] += 1
    refused = client.get("/api/workorders/limits", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "login-required"


def test_signing_out_here_forgets_the_token_at_once(db_url: str, clock: list[float]) -> None:
    client = TestClient(create_app())
    headers = _token("desk", ["agent"])
    assert client.get("/api/auth/me", headers=headers).json()["login"] == "desk"
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_roles_are_checked_on_every_request_even_when_remembered(db_url: str, clock: list[float]) -> None:
    client = TestClient(create_app())
    headers = _token("desk", ["agent"])
    assert client.get("/api/workorders/limits", headers=headers).status_code == 200
    refused = client.get(
        "/api/supervision/kpis", headers=headers, params={"since": "2021-10-01", "until": "2021-10-31"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"


def test_an_edit_here_forgets_the_accounts_remembered_identity_and_one_elsewhere_holds_within_the_memory(
    db_url: str, clock: list[float]
) -> None:
    client = TestClient(create_app())
    admin = _token("admin", ["admin"])
    headers = _token("desk", ["dispatcher"])
    feeds = "/api/feeds"  # a dispatcher's, not an agent's
    assert client.get(feeds, headers=headers).status_code == 200
    assert client.patch("/api/accounts/desk", json={"roles": ["agent"]}, headers=admin).status_code == 200
    refused = client.get(feeds, headers=headers)  # the clock has not moved: remembered no more
    assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    with session_scope() as session:  # as `hotline accounts edit` does, from another process
        service.update_account(session, "desk", grants=["dispatcher"])
    assert client.get(feeds, headers=headers).status_code == 403  # the price of remembering
    clock[0] += guard.REMEMBER_FOR
    assert client.get(feeds, headers=headers).status_code == 200
