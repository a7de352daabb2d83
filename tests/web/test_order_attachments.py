"""附件 on the order page (web.order_attachments): the files listed (name, type, size, who, when; a thumbnail for an
image, each linked to its download), the upload form for those who may add a file, posted like the page's steps
(done: back with 已上传附件; refused: the page again with the reason in the 附件 section, nothing written). In process
on both databases, and one browser test on the shared demo server: upload a PNG, see it listed, download it."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app
from hotline.attachments import service as attachments
from hotline.db import session_scope
from hotline.workorders import service as workorders
from tests.attachments.conftest import CGJ, PDF, ZJJ, order, png, state_of
from tests.conftest import bearer

__all__ = ["order"]  # the fixture: an order dispatched to ZJJ, CGJ co-handling it


@pytest.fixture
def client(order: str) -> TestClient:
    return TestClient(create_app())


def _section(html: str) -> str:
    found = re.search(r'<section class="card" id="attachments">(.*?)</section>', html, re.S)
    return found[1] if found else ""


def _upload(client: TestClient, number: str, data: bytes, name: str, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/orders/{number}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        data={"role": "agent", **form},
        follow_redirects=False,
    )


def test_an_upload_from_the_page_is_listed_with_its_link(client: TestClient, order: str) -> None:
    page = client.get(f"/orders/{order}", params={"role": "agent"}).text
    assert "本工单暂无附件" in _section(page) and 'id="attach-form"' in page
    posted = _upload(client, order, png(), "现场照片.png", actor="话务员甲")
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/orders/{order}?role=agent&done=attach#attachments"
    shown = _section(client.get(posted.headers["location"]).text)
    assert "已上传附件" in shown and "现场照片.png" in shown and "PNG 图片" in shown and "话务员甲（话务员）" in shown
    href = re.search(r'<img src="([^"]+)"', shown)
    assert href is not None
    assert client.get(href[1].replace("&amp;", "&")).content == png()


def test_a_unit_uploads_to_its_own_order_and_links_keep_its_unit(client: TestClient, order: str) -> None:
    posted = _upload(client, order, PDF, "回复函.pdf", role="department", unit=ZJJ)
    assert posted.status_code == 303 and f"unit={ZJJ}" in posted.headers["location"]
    shown = _section(client.get(posted.headers["location"]).text)
    link = re.search(r'href="([^"]+)" data-action="download" download="回复函.pdf"', shown)
    assert link is not None and f"unit={ZJJ}" in link[1]
    assert client.get(link[1].replace("&amp;", "&")).content == PDF
    assert client.get(f"/orders/{order}", params={"role": "department", "unit": CGJ}).status_code == 403


def test_a_refused_upload_shows_why_and_writes_nothing(client: TestClient, order: str) -> None:
    before = state_of(order)
    refused = _upload(client, order, b"<script>alert(1)</script>", "photo.png")
    assert refused.status_code == 422
    shown = _section(refused.text)
    assert 'data-code="attachment-type-not-allowed"' in shown and "本工单暂无附件" in shown
    wrong_unit = _upload(client, order, png(), "a.png", role="department", unit=CGJ)
    assert wrong_unit.status_code == 403
    assert state_of(order) == before


def test_the_form_is_offered_only_to_those_who_may_add_a_file(client: TestClient, order: str) -> None:
    for role in ("agent", "dispatcher", "supervisor"):
        assert 'id="attach-form"' in client.get(f"/orders/{order}", params={"role": role}).text
    assert 'id="attach-form"' in client.get(f"/orders/{order}", params={"role": "department", "unit": ZJJ}).text
    admin = client.get(f"/orders/{order}", params={"role": "admin"}).text
    assert 'id="attachments"' in admin and 'id="attach-form"' not in admin  # reads the files, adds none
    refused = _upload(client, order, png(), "a.png", role="admin")
    assert refused.status_code == 403


@pytest.mark.browser
def test_upload_a_png_see_it_listed_and_download_it(page, web_server) -> None:  # type: ignore[no-untyped-def]
    created = httpx.post(
        f"{web_server}/api/orders",
        params={"advice": "false"},
        json={"type": "投诉", "content": f"路面塌陷（{uuid.uuid4().hex[:8]}）", "phone": "13800005678",
              "region": "510100", "role": "agent", "actor": "话务员甲"},
        timeout=30,
    )  # fmt: skip
    number = created.json()["number"]
    page.goto(f"/orders/{number}?role=agent")
    form = page.locator("#attach-form")
    form.locator("input[type=file]").set_input_files(
        {"name": "现场照片.png", "mimeType": "image/png", "buffer": png(8, 8)}
    )
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    section = page.locator("#attachments")
    assert section.locator("[data-field=attach-done]").inner_text() == "已上传附件"
    row = section.locator("tr[data-attachment]")
    assert row.count() == 1
    assert row.locator("[data-field=name]").inner_text() == "现场照片.png"
    assert row.locator("[data-field=type]").inner_text() == "PNG 图片"
    assert page.evaluate("() => document.querySelector('#attachments img').naturalWidth") == 8  # the thumbnail
    href = row.locator("a[data-action=download]").get_attribute("href")
    got = page.request.get(href)
    assert got.status == 200 and got.body() == png(8, 8) and got.headers["content-type"] == "image/png"
    assert "上传附件" in page.locator("#history").inner_text()


def test_a_signed_in_unit_refused_an_upload_is_not_shown_another_units_order(
    order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    client = TestClient(create_app(), follow_redirects=False)
    clerk = bearer("cgjclerk", ["department"], bound_to=CGJ)  # CGJ co-handles: the order led by ZJJ is not its own
    assert client.get(f"/orders/{order}", params={"role": "department", "unit": ZJJ}, headers=clerk).status_code == 403
    with session_scope() as s:
        stored = workorders.get_order(s, order)
        phone, content = stored.caller_phone, stored.content
    before = state_of(order)
    for form in ({"role": "dispatcher"}, {"role": "department", "unit": ZJJ}):
        refused = client.post(
            f"/orders/{order}/attachments", files={"file": ("a.png", png(), "image/png")}, data=form, headers=clerk
        )
        assert refused.status_code == 403
        assert phone not in refused.text and content not in refused.text and 'id="attachments"' not in refused.text
    assert state_of(order) == before  # nothing attached


def test_a_full_lead_order_leaves_the_co_handling_units_form(client: TestClient, order: str) -> None:
    with session_scope() as s:
        for i in range(20):  # the lead order full, its co-handling order empty
            attachments.attach(s, order, png(), f"照片{i}.png", role="agent", actor="话务员甲")
    lead = client.get(f"/orders/{order}", params={"role": "agent"}).text
    assert 'id="attach-form"' not in lead and 'data-field="attachments-full"' in lead
    child = client.get(f"/orders/{order}-01", params={"role": "department", "unit": CGJ}).text
    assert 'id="attach-form"' in child and 'data-field="attachments-full"' not in child
    assert "照片19.png" in _section(child)  # the demand's files listed there all the same
