"""Work-order pages: masking by role, the history of an order, and the citizen's own lookup."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openpyxl import load_workbook

from hotline.workorders.export import HEADER_ROW

pytestmark = pytest.mark.browser


def _an_order(web_server: str) -> dict[str, Any]:
    orders = httpx.get(f"{web_server}/api/orders", params={"role": "dispatcher"}).json()
    assert orders, "demo data should contain work orders"
    return next(o for o in orders if o["caller_phone"] and o["type"] != "举报")


def test_supervisor_sees_masked_numbers_dispatcher_sees_them_whole(page, web_server) -> None:  # type: ignore[no-untyped-def]
    order = _an_order(web_server)
    phone = order["caller_phone"]
    masked = phone[:3] + "****" + phone[-4:]

    page.goto("/orders?role=supervisor")
    row = page.locator(f"tr[data-number='{order['number']}']")
    assert row.locator("[data-field=caller_phone]").inner_text() == masked
    assert phone not in page.content()

    page.select_option("select[name=role]", "dispatcher")
    page.click("button[type=submit]")
    row = page.locator(f"tr[data-number='{order['number']}']")
    assert row.locator("[data-field=caller_phone]").inner_text() == phone


def test_co_handling_orders_are_labelled_in_the_list(page, web_server) -> None:  # type: ignore[no-untyped-def]
    listed = httpx.get(f"{web_server}/api/orders", params={"role": "dispatcher", "limit": 200}).json()
    parts = [o for o in listed if o["parent"]]
    assert parts, "demo data should hold a co-handled order"
    part = parts[0]
    page.goto("/orders?role=dispatcher")
    label = page.locator(f"tr[data-number='{part['number']}'] [data-field=co_handling]")
    assert label.inner_text() == "协办"
    assert label.get_attribute("title") == f"主办工单 {part['parent']}"
    # The lead itself (and any standalone order) carries no label.
    assert page.locator(f"tr[data-number='{part['parent']}'] [data-field=co_handling]").count() == 0
    labelled = page.locator("#orders tr[data-number]:has([data-field=co_handling])")
    assert labelled.count() == len(parts)


def test_list_narrows_to_the_chosen_state_type_and_channel(page, web_server) -> None:  # type: ignore[no-untyped-def]
    wanted = {"role": "supervisor", "state": "dispatched", "type": "投诉", "channel": "phone", "limit": 200}
    expected = httpx.get(f"{web_server}/api/orders", params=wanted).json()
    assert expected, "demo data should hold complaints by phone waiting to be signed for"
    everything = httpx.get(f"{web_server}/api/orders", params={"role": "supervisor", "limit": 200}).json()
    assert len(everything) > len(expected)
    page.goto("/orders?role=supervisor")
    page.select_option("select[name=state]", "dispatched")
    page.select_option("select[name=type]", "投诉")
    page.select_option("select[name=channel]", "phone")
    page.click("button[type=submit]")
    shown = [row.get_attribute("data-number") for row in page.locator("#orders tr[data-number]").all()]
    assert shown == [o["number"] for o in expected]
    assert page.locator("select[name=channel] option:checked").inner_text() == "电话"
    assert parse_qs(urlsplit(page.locator("#export").get_attribute("href")).query)["state"] == ["dispatched"]


def test_the_list_narrows_to_a_unit_and_a_handling_unit_follows_its_links(page, web_server) -> None:  # type: ignore[no-untyped-def]
    listed = httpx.get(f"{web_server}/api/orders", params={"role": "supervisor", "limit": 1000}).json()
    led = [o for o in listed if o["lead_unit"] and not o["parent"]]
    assert led, "demo data should hold dispatched orders"
    unit = led[0]["lead_unit"]
    theirs = [o["number"] for o in listed if o["lead_unit"] and o["lead_unit"]["code"] == unit["code"]]
    page.goto("/orders?role=supervisor")
    page.select_option("select[name=unit]", unit["code"])
    page.click("button[type=submit]")
    shown = [row.get_attribute("data-number") for row in page.locator("#orders tr[data-number]").all()]
    assert sorted(shown) == sorted(theirs) and len(shown) < len(listed)
    # The unit's own list (its unit is not a choice there): each order opens as that unit.
    page.goto(f"/orders?role=department&unit={unit['code']}")
    assert page.locator("select[name=unit]").count() == 0
    number = led[0]["number"]
    page.click(f"tr[data-number='{number}'] a")
    page.wait_for_load_state()
    assert parse_qs(urlsplit(page.url).query) == {"role": ["department"], "unit": [unit["code"]]}
    assert page.locator("#order").count() == 1


def test_export_link_carries_the_page_filters(page, web_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/orders?role=supervisor&sla=overdue&region=510100")
    page.fill("input[name=since]", "2021-06-01")
    page.fill("input[name=until]", "2021-06-30")
    page.click("button[type=submit]")
    link = urlsplit(page.locator("#export").get_attribute("href"))
    assert link.path == "/api/orders/export.xlsx"
    assert parse_qs(link.query) == {
        "role": ["supervisor"], "sla": ["overdue"], "region": ["510100"], "since": ["2021-06-01"],
        "until": ["2021-06-30"],
    }  # fmt: skip
    shown = [row.get_attribute("data-number") for row in page.locator("#orders tr[data-number]").all()]
    assert shown, "demo data should hold overdue orders from June 2021"
    with page.expect_download() as started:
        page.click("#export")
    download = started.value
    assert download.suggested_filename.startswith("工单导出_") and download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active  # stored without a suffix
    assert "时限状态：超期" in sheet["A1"].value and "受理时间 2021-06-01 至 2021-06-30" in sheet["A1"].value
    rows = [r for r in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True) if r[0] and r[0][0].isdigit()]
    assert sorted(r[0] for r in rows) == sorted(shown)
    phones = {r[9] for r in rows}
    assert phones and all("****" in p for p in phones)  # masked for a supervisor, as on the page


def test_order_page_shows_history_from_intake(page, web_server) -> None:  # type: ignore[no-untyped-def]
    order = _an_order(web_server)
    page.goto("/orders?role=supervisor")
    page.click(f"tr[data-number='{order['number']}'] a")
    assert order["number"] in page.locator("h1").inner_text()
    history = page.locator("#history tr")
    assert history.count() >= 2  # header + 受理
    assert "受理" in history.nth(1).inner_text()


def test_citizen_tracks_own_order_only_with_matching_phone_digits(page, web_server) -> None:  # type: ignore[no-untyped-def]
    order = _an_order(web_server)
    wrong = "0000" if not order["caller_phone"].endswith("0000") else "1111"
    response = page.goto(f"/track?number={order['number']}&phone_last4={wrong}")
    assert response.status == 404
    assert page.locator("[role=alert]").get_attribute("data-code") == "workorder-not-found"

    page.goto("/track")
    page.fill("input[name=number]", order["number"])
    page.fill("input[name=phone_last4]", order["caller_phone"][-4:])
    page.click("button[type=submit]")
    progress = page.locator("#progress")
    assert progress.locator("[data-field=state]").inner_text()
    assert order["caller_phone"] not in page.content()
    # Times read as people write them, in China time to the minute: the first step is the 受理.
    taken = progress.locator("tr:has(td)").first.locator("td")
    assert taken.nth(0).inner_text() == order["created_at"][:16].replace("T", " ")


def test_order_answered_from_an_article_shows_it(page, web_server) -> None:  # type: ignore[no-untyped-def]
    waiting = httpx.get(f"{web_server}/api/orders", params={"role": "agent", "state": "registered"}).json()
    assert waiting, "demo data should hold an order waiting to be answered or dispatched"
    number = waiting[0]["number"]
    answered = httpx.post(
        f"{web_server}/api/orders/{number}/actions/direct_resolve",
        json={"role": "agent", "actor": "话务员甲", "article": "DEMO-001"},
        timeout=30,  # the first use of the knowledge base in this server
    )
    assert answered.status_code == 200, answered.text
    page.goto(f"/orders/{number}?role=agent")
    assert page.locator("[data-field=answer_article]").inner_text() == "知识 DEMO-001"
    assert "直接办结" in page.locator("#history tr").last.inner_text()
