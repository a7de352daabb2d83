"""短信记录 (web.sms_page) and the texts on the other pages: the 受理 form's 「发送短信」 box, ticked by default and
carried to the order (unticked: its texts are 不发送); the list by state with counts, masked numbers, order links,
the text, attempts and last error, 重新发送 for a failed text (supervisors and administrators only); the line
saying whether a gateway is configured; the order page's 短信 section; the overview's 短信发送失败 line. In process
(SQLite and PostgreSQL), sign-in off (the role named) and on; one browser test on the shared demo server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.sms import domain as sms
from hotline.sms import service
from tests.conftest import bearer
from tests.quality.orders import ZJJ, units

PHONE, OTHER = "13812341234", "13900002222"
MASKED = "138****1234"
CONTENT = "小区门口的路灯坏了一个多月，晚上出行不便，请尽快维修。"


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from hotline.app import create_app

    monkeypatch.delenv("HOTLINE_SMS_GATEWAY_URL", raising=False)
    yield TestClient(create_app())


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _alert(html: str) -> str | None:
    found = re.search(r'role="alert" data-code="([^"]+)"', html)
    return found[1] if found else None


def _rows(html: str) -> dict[int, dict[str, str]]:
    """The messages listed: id → field → text (and `href` of the order link)."""
    rows = {}
    for message, row in re.findall(r'<tr data-message="(\d+)"[^>]*>(.*?)</tr>', html, flags=re.S):
        fields = {f: _text(v) for f, v in re.findall(r'<td data-field="([\w-]+)">(.*?)</td>', row, re.S)}
        link = re.search(r'<a href="([^"]+)">', row)
        rows[int(message)] = {**fields, "href": link[1] if link else ""}
    return rows


def _take(client: TestClient, *, ticked: bool = True, phone: str = PHONE, **more: str) -> str:
    """A demand taken in on the 受理 page, 「发送短信」 ticked or not; the order's number."""
    form = {"type": "求助", "content": CONTENT, "phone": phone, "region": "510100", "role": "agent", "actor": "张敏"}
    form |= {"sms_asked": "1", **({"sms": "1"} if ticked else {}), **more}
    sent = client.post("/orders/new", data=form, follow_redirects=False)
    assert sent.status_code == 303, _alert(sent.text)
    return urlsplit(sent.headers["location"]).path.rsplit("/", 1)[1]


def _relay() -> None:
    with session_scope() as s:
        service.relay_once(s)


def _messages(**filters: object) -> list[dict[str, object]]:
    with session_scope() as s:
        return service.list_messages(s, mask=False, limit=100, **filters)  # type: ignore[arg-type]


def _hold(number: str, until: datetime) -> None:
    """The order's text held back until UNTIL (as the quiet hours or a retry's back-off leave it)."""
    from sqlalchemy import update

    from hotline.sms.store import Message

    with session_scope() as s:
        s.execute(update(Message).where(Message.order_number == number).values(next_try_at=until))


def _fail(number: str, error: str = "号码已停机") -> int:
    """The order's 受理回执 as the sender leaves one the gateway refused (its first try answered 4xx); its id."""
    from sqlalchemy import select

    from hotline.sms.store import Message

    with session_scope() as s:
        message = s.scalars(select(Message).where(Message.order_number == number)).one()
        message.state, message.attempts, message.last_error = sms.MessageState.FAILED.value, 1, error
        return message.id


# -- the 受理 form --------------------------------------------------------------------------------------------------
def test_the_intake_form_offers_the_texts_ticked_by_default(client: TestClient) -> None:
    form = client.get("/orders/new", params={"role": "agent"}).text
    box = re.search(r'<label class="check"[^>]*>(<input type="hidden" name="sms_asked" value="1">)?<input '
                    r'type="checkbox" name="sms" value="1" (checked)?>([^<]+)</label>', form)  # fmt: skip
    assert box is not None and box[1] and box[2] == "checked" and box[3] == "发送短信（受理回执、办结告知）"
    refused = client.post(
        "/orders/new", data={"type": "求助", "content": CONTENT, "phone": PHONE, "role": "agent", "sms_asked": "1"}
    )  # no region: refused, the form again as typed, the box left unticked
    assert _alert(refused.text) == "region-required"
    _relay()
    assert 'name="sms" value="1" >' in refused.text and _messages() == []


def test_a_demand_taken_in_with_the_box_ticked_gets_its_receipt_and_unticked_none(client: TestClient) -> None:
    ticked, unticked = _take(client), _take(client, ticked=False, phone=OTHER)
    _relay()
    found = {m["order_number"]: m for m in _messages()}
    assert found[ticked]["kind"] == "receipt" and found[ticked]["state"] == "pending"
    assert ticked in str(found[ticked]["text"])
    assert (found[unticked]["state"], found[unticked]["skip_reason"]) == ("skipped", "declined")

    page = client.get(f"/orders/{ticked}", params={"role": "agent"}).text
    section = re.search(r'<section class="card" id="order-sms">(.*?)</section>', page, re.S)
    assert section is not None
    (row,) = _rows(section[1]).values()
    assert (row["kind"], row["phone"], row["state"]) == ("受理回执", MASKED, "待发送")
    assert ticked in row["text"] and 'data-action="sms"' not in section[1]  # agents do not read the whole list
    declined = client.get(f"/orders/{unticked}", params={"role": "supervisor"}).text
    (row,) = _rows(declined).values()
    assert row["state"] == f"不发送 {sms.SKIP_LABELS[sms.SkipReason.DECLINED]}"
    assert f'href="/sms?role=supervisor&amp;order={unticked}&amp;state=all"' in declined


# -- the list -------------------------------------------------------------------------------------------------------
def test_the_list_by_state_with_counts_masked_numbers_and_order_links(client: TestClient) -> None:
    first, second, declined = _take(client), _take(client, phone=OTHER), _take(client, ticked=False)
    _relay()
    failed = _fail(second)

    page = client.get("/sms", params={"role": "supervisor"}).text  # what failed comes first
    assert '<strong data-tab="failed">发送失败</strong>' in page
    counts = dict(re.findall(r'<span data-count="(\w+)">(\d+)</span>', page))
    assert counts == {"pending": "1", "sent": "0", "failed": "1", "skipped": "1", "all": "3"}
    rows = _rows(page)
    assert list(rows) == [failed]
    assert rows[failed]["phone"] == "139****2222" and rows[failed]["last-error"] == "号码已停机"
    assert rows[failed]["order"] == second and rows[failed]["href"] == f"/orders/{second}?role=supervisor"
    assert rows[failed]["attempts"] == "1" and second in rows[failed]["text"]
    assert re.search(rf'action="/sms/{failed}/retry" data-action="retry"', page)

    every = client.get("/sms", params={"role": "admin", "state": "all"}).text
    assert sorted(r["order"] for r in _rows(every).values()) == sorted([first, second, declined])
    assert PHONE not in every and OTHER not in every
    pending = client.get("/sms", params={"role": "admin", "state": "pending"}).text
    assert [r["order"] for r in _rows(pending).values()] == [first] and 'data-action="retry"' not in pending
    _hold(first, datetime(2021, 6, 1, 2, tzinfo=UTC))  # due (written outside the quiet hours): no time said
    due = _rows(client.get("/sms", params={"role": "admin", "state": "pending"}).text)
    assert "后发送" not in due.popitem()[1]["time"]
    _hold(first, datetime(2099, 6, 1, 0, 30, tzinfo=UTC))
    held = _rows(client.get("/sms", params={"role": "admin", "state": "pending"}).text)
    assert held.popitem()[1]["time"].endswith("2099-06-01 08:30 后发送")  # China time
    one = _rows(client.get("/sms", params={"role": "admin", "state": "all", "order": declined}).text)
    assert [r["order"] for r in one.values()] == [declined]


def test_a_supervisor_sends_a_failed_text_again(client: TestClient) -> None:
    number = _take(client)
    _relay()
    failed = _fail(number)
    sent = client.post(f"/sms/{failed}/retry", data={"role": "supervisor", "state": "failed"}, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"]).text
    assert _text(re.search(r'data-field="done">(.*?)</p>', page)[1]).startswith("已重新排入待发送")  # type: ignore[index]
    assert (_messages()[0]["state"], _rows(page)) == ("pending", {})  # no longer among the failed
    again = client.post(f"/sms/{failed}/retry", data={"role": "supervisor"})
    assert (again.status_code, _alert(again.text)) == (409, "sms-not-failed")
    missing = client.post("/sms/999/retry", data={"role": "admin"})
    assert (missing.status_code, _alert(missing.text)) == (404, "sms-not-found")


def test_only_supervisors_and_administrators_read_the_list_and_resend(client: TestClient) -> None:
    number = _take(client)
    _relay()
    failed = _fail(number)
    for role in ("agent", "dispatcher", "department"):
        res = client.get("/sms", params={"role": role})
        assert (res.status_code, _alert(res.text)) == (403, "role-not-allowed")
    res = client.post(f"/sms/{failed}/retry", data={"role": "agent"})
    assert (res.status_code, _alert(res.text)) == (403, "role-not-allowed")
    assert _messages()[0]["state"] == "failed"


def test_the_page_says_whether_a_gateway_is_configured(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    line = re.compile(r'<p id="sms-gateway">(.*?)</p>')
    assert line.search(client.get("/sms").text)[1].startswith("未配置短信网关")  # type: ignore[index]
    monkeypatch.setenv("HOTLINE_SMS_GATEWAY_URL", "http://127.0.0.1:9/sms")
    said = line.search(client.get("/sms").text)[1]  # type: ignore[index]
    assert said.startswith("已配置短信网关") and "127.0.0.1" not in said


# -- the order page and the overview --------------------------------------------------------------------------------
def test_a_handling_unit_sees_the_orders_texts_masked(client: TestClient) -> None:
    from hotline.workorders import service as workorders

    number = _take(client)
    _relay()
    units()
    with session_scope() as s:
        workorders.act(s, number, "dispatch", role="dispatcher", actor="李华", target_unit=ZJJ)
    page = client.get(f"/orders/{number}", params={"role": "department", "unit": ZJJ}).text
    (row,) = _rows(page).values()
    assert row["phone"] == MASKED and PHONE not in page.split('id="order-sms"')[1]


def test_the_overview_counts_the_failed_texts_for_those_who_resend(client: TestClient) -> None:
    line = re.compile(r'<p id="todo-sms">(.*?)</p>', re.S)
    number = _take(client)
    _relay()
    assert line.search(client.get("/", params={"role": "supervisor"}).text) is None  # nothing failed: no line
    _fail(number)
    found = line.search(client.get("/", params={"role": "admin"}).text)
    assert found is not None and _text(found[1]).startswith("短信发送失败 1")
    assert 'href="/sms?role=admin&amp;state=failed"' in found[1]
    assert line.search(client.get("/", params={"role": "agent"}).text) is None


def test_signed_in_the_nav_links_the_list_for_those_who_read_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    supervisor, agent = bearer("wangfang", ["supervisor"], "王芳"), bearer("zhangmin", ["agent"], "张敏")
    link = 'href="/sms">短信记录<'
    assert link in client.get("/", headers=supervisor).text
    assert link not in client.get("/", headers=agent).text
    assert client.get("/sms", headers=agent).status_code in (403, 404)


# -- in the browser -------------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_receipt_appears_after_a_relay_and_an_unticked_box_sends_none(page, web_server, web_data_dir) -> None:  # type: ignore[no-untyped-def]
    page.route("**/api/dispatch/suggest", lambda route: route.abort())  # no dispatch model needed here
    numbers = {}
    for ticked, phone in ((True, "13700005511"), (False, "13700005522")):
        page.goto("/orders/new?role=agent")
        box = page.locator("#intake input[name=sms]")
        assert box.is_checked()  # ticked by default
        if not ticked:
            box.uncheck()
        page.select_option("#intake select[name=type]", "求助")
        page.select_option("#intake select[name=region]", "510100")
        page.fill("#intake input[name=phone]", phone)
        page.fill("#intake textarea[name=content]", CONTENT)
        with page.expect_navigation():
            page.click("#intake button[name=finish][value=register]")
        numbers[ticked] = urlsplit(page.url).path.rsplit("/", 1)[1]
    _relay_server(web_data_dir)

    page.goto(f"/orders/{numbers[True]}?role=agent")
    receipt = page.locator("#order-sms tr[data-kind=receipt]")
    assert receipt.locator("[data-field=state]").inner_text() == "待发送"  # the test server has no gateway
    assert receipt.locator("[data-field=phone]").inner_text() == "137****5511"
    assert numbers[True] in receipt.locator("[data-field=text]").inner_text()
    page.goto(f"/sms?role=supervisor&state=all&order={numbers[False]}")
    row = page.locator("#messages tr[data-message]")
    assert row.count() == 1 and row.locator("[data-field=state]").inner_text().startswith("不发送")
    with page.expect_navigation():
        row.locator("[data-field=order] a").click()
    assert urlsplit(page.url).path == f"/orders/{numbers[False]}"


def _relay_server(data: Path) -> None:
    """`hotline sms relay` on the shared server's database (the test server runs no background workers)."""
    env = {**os.environ, "HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": f"sqlite:///{data / 'web.db'}"}
    subprocess.run([sys.executable, "-m", "hotline", "sms", "relay"], env=env, check=True, capture_output=True)
