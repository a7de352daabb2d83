"""工单附件 over HTTP (both databases): multipart upload with its refusals as status and code, the list, the download
with the sniffed type, nosniff and its disposition (images inline, others saved under their Chinese name), and the
access table's lines (sign-in on: a unit bound elsewhere is refused, an administrator may read but not add)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app
from tests.attachments.conftest import CGJ, PDF, ZJJ, png, state_of
from tests.conftest import bearer


@pytest.fixture
def client(order: str) -> TestClient:
    return TestClient(create_app())


def _post(client: TestClient, number: str, data: bytes, name: str, headers: dict[str, str] | None = None, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/orders/{number}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        data={"role": "agent", "actor": "张敏", **form},
        headers=headers or {},
    )


def test_upload_list_and_download(client: TestClient, order: str) -> None:
    photo = _post(client, order, png(), "现场照片.png")
    assert photo.status_code == 201, photo.text
    letter = _post(client, order, PDF, "回复函（终稿）.pdf", role="department", unit=ZJJ, actor="住建局甲")
    assert letter.status_code == 201, letter.text
    listed = client.get(f"/api/orders/{order}/attachments", params={"role": "supervisor"}).json()
    assert [(f["name"], f["content_type"], f["role"], f["unit"]) for f in listed] == [
        ("现场照片.png", "image/png", "agent", None),
        ("回复函（终稿）.pdf", "application/pdf", "department", ZJJ),
    ]
    shown = client.get(f"/api/orders/{order}/attachments/{photo.json()['id']}", params={"role": "supervisor"})
    assert shown.status_code == 200 and shown.content == png()
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-disposition"].startswith("inline;")
    saved = client.get(f"/api/orders/{order}/attachments/{letter.json()['id']}", params={"role": "department",
                                                                                        "unit": ZJJ})  # fmt: skip
    assert saved.content == PDF and saved.headers["content-type"] == "application/pdf"
    disposition = saved.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="attachment-') and disposition.endswith(".pdf\"; filename*=UTF-8''" + quote("回复函（终稿）.pdf"))  # fmt: skip
    history = client.get(f"/api/orders/{order}", params={"role": "supervisor"}).json()["history"]
    assert [h["action_label"] for h in history[-2:]] == ["上传附件", "上传附件"]


def test_refusals_answer_their_status_and_code_and_write_nothing(client: TestClient, order: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    before = state_of(order)
    monkeypatch.setenv("HOTLINE_ATTACHMENT_MAX_MB", "1")
    for data, form, status, code in [
        (b"<html><script>alert(1)</script>", {}, 422, "attachment-type-not-allowed"),
        (png() + b"\x00" * (1024 * 1024), {}, 413, "attachment-too-large"),
        (b"", {}, 422, "attachment-empty"),
        (png(), {"role": "department", "unit": CGJ}, 403, "unit-not-assigned"),
        (png(), {"role": "admin"}, 403, "role-not-allowed"),
    ]:
        answered = _post(client, order, data, "x.png", **form)
        assert (answered.status_code, answered.json()["code"]) == (status, code), form
    missing = client.get(f"/api/orders/{order}/attachments/1", params={"role": "dispatcher"})
    assert (missing.status_code, missing.json()["code"]) == (404, "attachment-not-found")
    assert client.get(f"/api/orders/{order}/attachments").json() == [] and state_of(order) == before


def test_signed_in_the_account_is_recorded_and_its_unit_binds(client: TestClient, order: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    unit = bearer("zjj", ["department"], "住建局甲", bound_to=ZJJ)
    other = bearer("cgj", ["department"], "执法局乙", bound_to=CGJ)
    admin = bearer("root", ["admin"], "管理员甲")
    done = _post(client, order, png(), "a.png", unit, role="department", unit="", actor="冒名")
    assert done.status_code == 201, done.text
    assert (done.json()["actor"], done.json()["unit"]) == ("住建局甲（zjj）", ZJJ)
    refused = _post(client, order, png(), "a.png", other, role="department", unit=ZJJ)
    assert (refused.status_code, refused.json()["code"]) == (403, "unit-not-granted")
    assert _post(client, order, png(), "a.png", admin, role="admin").status_code == 403
    assert client.get(f"/api/orders/{order}/attachments", headers=admin).status_code == 200
    hidden = client.get(f"/api/orders/{order}/attachments/{done.json()['id']}", headers=other)
    assert (hidden.status_code, hidden.json()["code"]) == (403, "unit-not-assigned")
