"""附件 at 受理 (web.intake): the files the citizen sent, chosen on the /orders/new form, all or nothing: taken, they
are on the new order (history 受理 then 上传附件); one refused, the form comes again with the typed values and the
reason naming the file, and no order is written. In process on both databases, and in Chromium on the demo server."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.attachments import service as attachments
from hotline.attachments.store import Attachment
from hotline.db import session_scope
from hotline.workorders import service as workorders
from hotline.workorders.store import Order
from tests.attachments.conftest import PDF, png

FORM = {"type": "投诉", "content": "小区门口路灯不亮，市民已通过微信发来照片。", "phone": "13800001234",
        "region": "510100", "role": "agent", "actor": "话务员甲", "place": "锦江区某小区"}  # fmt: skip


def _written() -> tuple[int, int]:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Order)) or 0, s.scalar(
            select(func.count()).select_from(Attachment)) or 0  # fmt: skip


def _post(client: TestClient, files: list[tuple[str, bytes]], **form: str) -> Any:
    return client.post(
        "/orders/new",
        data={**FORM, **form},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        follow_redirects=False,
    )


def test_files_chosen_at_intake_are_on_the_new_order(db_url: str) -> None:
    client = TestClient(create_app())
    sent = _post(client, [("微信图片_1.png", png()), ("诉求材料.pdf", PDF)])
    assert sent.status_code == 303, sent.text
    number = urlsplit(sent.headers["location"]).path.rsplit("/", 1)[-1]
    with session_scope() as s:
        history = workorders.show_order(s, number, "supervisor")["history"]
        listed = [(f["name"], f["actor"]) for f in attachments.list_attachments(s, number, role="agent")]
    assert listed == [("微信图片_1.png", "话务员甲"), ("诉求材料.pdf", "话务员甲")]
    assert [h["action_label"] for h in history] == ["受理", "上传附件", "上传附件"]
    page = client.get(sent.headers["location"]).text
    assert "已受理工单" in page and "微信图片_1.png" in page and "诉求材料.pdf" in page


def test_no_file_chosen_takes_the_demand_in_without_attachments(db_url: str) -> None:
    client = TestClient(create_app())
    empty = client.post("/orders/new", data=FORM, files=[("files", ("", b"", "application/octet-stream"))],
                        follow_redirects=False)  # fmt: skip  # what a browser sends for an empty file input
    assert empty.status_code == 303, empty.text
    assert _written() == (1, 0)


def test_one_refused_file_refuses_the_intake_and_keeps_the_form(db_url: str) -> None:
    client = TestClient(create_app())
    refused = _post(client, [("微信图片_1.png", png()), ("聊天记录.txt", b"just text")])
    assert refused.status_code == 422
    alert = re.search(r'role="alert"[^>]*data-code="([^"]+)"[^>]*>(.*?)<', refused.text, re.S) or re.search(
        r'data-code="([^"]+)"[^>]*role="alert"[^>]*>(.*?)<', refused.text, re.S)  # fmt: skip
    assert alert is not None and alert[1] == "attachment-type-not-allowed"
    assert alert[2].strip().startswith("附件「聊天记录.txt」：不支持的附件类型")
    assert FORM["content"] in refused.text and 'value="锦江区某小区"' in refused.text  # typed values kept
    assert "附件未保存，请重新选择文件（已选 2 个）" in refused.text
    assert _written() == (0, 0)
    too_many = _post(client, [(f"{i}.png", png()) for i in range(21)])
    assert too_many.status_code == 409 and 'data-code="attachment-limit"' in too_many.text
    assert _written() == (0, 0)


def test_a_refused_direct_answer_writes_neither_the_order_nor_its_files(db_url: str) -> None:
    client = TestClient(create_app())
    refused = _post(client, [("微信图片_1.png", png())], finish="direct", reply="")
    assert refused.status_code == 422 and 'data-code="reply-required"' in refused.text
    assert _written() == (0, 0)


@pytest.mark.browser
def test_take_a_demand_in_with_a_photo_and_a_refused_file_keeps_the_form(page, web_server) -> None:  # type: ignore[no-untyped-def]
    page.route("**/api/dispatch/suggest", lambda route: route.abort())
    content = f"路面井盖缺失，市民微信发来照片（{uuid.uuid4().hex[:8]}）。"

    def count() -> int:
        return len(httpx.get(f"{web_server}/api/orders", params={"role": "dispatcher", "limit": 1000}).json())

    before = count()
    page.goto("/orders/new?role=agent")
    page.select_option("#intake select[name=type]", "投诉")
    page.select_option("#intake select[name=region]", "510100")
    page.fill("#intake input[name=phone]", "13800005679")
    page.fill("#intake textarea[name=content]", content)
    chooser = page.locator("#intake input[type=file][name=files]")
    chooser.set_input_files([
        {"name": "井盖.png", "mimeType": "image/png", "buffer": png(8, 8)},
        {"name": "聊天记录.txt", "mimeType": "text/plain", "buffer": "井盖没了".encode()},
    ])  # fmt: skip
    with page.expect_navigation() as sent:
        page.click("#intake button[name=finish][value=register]")
    assert sent.value.status == 422 and urlsplit(page.url).path == "/orders/new"
    alert = page.locator("[role=alert]")
    assert alert.get_attribute("data-code") == "attachment-type-not-allowed"
    assert alert.inner_text().startswith("附件「聊天记录.txt」")
    assert page.locator("#intake textarea[name=content]").input_value() == content
    assert count() == before

    chooser.set_input_files({"name": "井盖.png", "mimeType": "image/png", "buffer": png(8, 8)})
    with page.expect_navigation():
        page.click("#intake button[name=finish][value=register]")
    assert page.locator("#created").inner_text().startswith("已受理工单")
    row = page.locator("#attachments tr[data-attachment]")
    assert row.count() == 1 and row.locator("[data-field=name]").inner_text() == "井盖.png"
    assert page.evaluate("() => document.querySelector('#attachments img').naturalWidth") == 8
    assert [e for e in page.locator("#history").inner_text().split("\n") if "上传附件 井盖.png" in e]
    assert count() == before + 1


def test_an_administrator_takes_a_demand_in_without_files_but_adds_none(db_url: str) -> None:
    client = TestClient(create_app())
    for files in ([], [("", b"")]):  # no file part at all, and the empty part of a browser's empty input
        plain = _post(client, files, role="admin")
        assert plain.status_code == 303, plain.text
    with_file = _post(client, [("照片.png", png())], role="admin")
    assert with_file.status_code == 403 and 'data-code="role-not-allowed"' in with_file.text
    assert _written() == (2, 0)


def test_a_refused_files_name_is_shown_without_direction_overrides(db_url: str) -> None:
    client = TestClient(create_app())
    refused = _post(client, [("\u202etxt.png", b"just text")])
    assert refused.status_code == 422
    assert "\u202e" not in refused.text and "附件「txt.png」：不支持的附件类型" in refused.text


def test_the_file_input_is_offered_to_the_roles_that_add_files(db_url: str) -> None:
    client = TestClient(create_app())
    agent, admin = (client.get("/orders/new", params={"role": role}) for role in ("agent", "admin"))
    assert agent.status_code == admin.status_code == 200
    assert 'name="files"' in agent.text and 'name="content"' in admin.text and 'name="files"' not in admin.text
