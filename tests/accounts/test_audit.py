"""The audit trail of signing in and of account changes (both databases): what 等保 asks a platform to keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.accounts import service
from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import HotlineError

T0 = datetime(2021, 11, 1, 2, 0, tzinfo=UTC)
PASSWORD = "Hotline2021"


def _log(login: str | None = None) -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = service.audit_log(session, login=login)
    return [(r["login"], r["event"], r["detail"]) for r in reversed(rows)]


def test_account_changes_are_kept_in_order(db_url: str) -> None:
    with session_scope() as session:
        service.create_account(session, "lihua", "李华", ["dispatcher", "supervisor"], password=PASSWORD, at=T0)
    with session_scope() as session:
        service.issue_token(session, "lihua", label="脚本", days=30, at=T0)
        service.set_password(session, "lihua", "Newpass2022")
        service.set_active(session, "lihua", False)
        service.set_active(session, "lihua", True)
        service.revoke_tokens(session, "lihua")
    assert [(e, d) for _, e, d in _log("lihua")] == [
        ("created", "派单员、督办审核员"),
        ("token-issued", "脚本，30 天"),
        ("password-changed", ""),
        ("disabled", ""),
        ("enabled", ""),
        ("tokens-revoked", "0 个"),  # disabling had already ended the token
    ]


def test_failed_sign_ins_are_kept_although_the_attempt_fails(db_url: str) -> None:
    with session_scope() as session:
        service.create_account(session, "lihua", "李华", ["dispatcher"], password=PASSWORD, at=T0)
    attempts = [("nobody", "Whatever1"), *[("lihua", f"Wrong{i}pass") for i in range(5)], ("lihua", PASSWORD)]
    for i, (login, password) in enumerate(attempts):
        with pytest.raises(HotlineError), session_scope() as session:
            service.sign_in(session, login, password, address="10.1.2.3", at=T0 + timedelta(seconds=i))
    events = _log()
    assert ("nobody", "sign-in-failed", "无此账号或账号不用密码登录") in events
    assert [e for e in events if e[0] == "lihua" and e[1] != "created"] == [
        *[("lihua", "sign-in-failed", "密码错误")] * 4,
        ("lihua", "locked-at-address", "15 分钟内从此地址密码错误 5 次"),
        ("lihua", "sign-in-failed", "密码错误"),
        ("lihua", "sign-in-failed", "账号在此地址锁定中"),
    ]
    with session_scope() as session:
        assert {r["address"] for r in service.audit_log(session) if r["event"] != "created"} == {"10.1.2.3"}


def test_the_trail_is_for_administrators_and_names_the_client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    with session_scope() as session:
        service.create_account(session, "admin", "管理员", ["admin"], password=PASSWORD)
        service.create_account(session, "zhangmin", "张敏", ["agent"], password=PASSWORD)
    client = TestClient(create_app(), client=("192.0.2.7", 40000))
    assert client.post("/api/auth/login", json={"login": "zhangmin", "password": PASSWORD}).status_code == 200
    refused = client.get("/api/auth/events")
    assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    client.post("/api/auth/logout")
    assert client.post("/api/auth/login", json={"login": "admin", "password": PASSWORD}).status_code == 200
    trail = client.get("/api/auth/events", params={"login": "zhangmin"}).json()
    assert [(r["event"], r["event_label"], r["address"]) for r in trail[:2]] == [
        ("signed-out", "退出登录", "192.0.2.7"),
        ("signed-in", "登录", "192.0.2.7"),
    ]


def test_exports_of_personal_data_are_kept_under_the_signed_in_account(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.workorders import service as workorders

    monkeypatch.setenv("HOTLINE_AUTH", "on")
    zjj, rsj = "510100-zjj", "510100-rsj"
    with session_scope() as session:
        workorders.load_units(session)
        for code, name in ((zjj, "成都市住房和城乡建设局"), (rsj, "成都市人力资源和社会保障局")):
            workorders.add_unit(session, code, name, "department", region_code="510100", parent="510100")
        service.create_account(session, "wangfang", "王芳", ["supervisor"])
        service.create_account(session, "chengban", "经办人", ["department"], bound_to=zjj)
        tokens = {login: service.issue_token(session, login).token for login in ("wangfang", "chengban")}
    client = TestClient(create_app(), client=("192.0.2.8", 40000))

    def export(login: str, **params: str) -> Any:
        return client.get(
            "/api/orders/export.xlsx", params=params, headers={"Authorization": f"Bearer {tokens[login]}"}
        )

    assert export("wangfang", actor="冒名者", since="2021-06-01").status_code == 200
    assert export("chengban").status_code == 200  # its own unit, without naming it
    other = export("chengban", role="department", unit=rsj)
    assert other.status_code == 403 and other.json()["code"] == "unit-not-granted"
    with session_scope() as session:
        trail = [(e["login"], e["event"], e["detail"], e["address"]) for e in service.audit_log(session)]
    assert [e for e in trail if e[1] == "exported"] == [
        ("chengban", "exported", "工单 0 张（承办单位）；承办单位：成都市住房和城乡建设局", "192.0.2.8"),
        ("wangfang", "exported", "工单 0 张（督办审核员）；受理时间 2021-06-01 起", "192.0.2.8"),
    ]
