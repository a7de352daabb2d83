"""骚扰号码名单 (web.nuisance_page): the list by state with masked numbers and counts; the apply form, opened prefilled
from a call's page and an order's page (an agent never types nor reads the full number; supervisors may type one);
refused applications said in Chinese, keeping what was typed, writing nothing; an entry's page with its history and
the 审核通过 / 驳回 / 解除 forms for supervisors and administrators only; the overview's 骚扰号码待审核 line. In process
(SQLite and PostgreSQL), sign-in off (the role named) and on; one browser test on the shared demo server."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.nuisance import service
from hotline.timeutil import now
from tests.conftest import bearer
from tests.quality.orders import ZHANG, ZJJ, dispatch_with_co_handling, take, units
from tests.telephony.missed_calls import ANSWERED, call, set_up_lines

CALLER, ORDER_PHONE, TYPED = "13900002222", "13812341234", "13700007777"
REASON = "一周内来电二十余次，辱骂座席，无实际诉求"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    set_up_lines()
    call("c-1", CALLER, 0, ANSWERED)
    call("c-anon", "anonymous", 5, ANSWERED)
    take(ZHANG, phone=ORDER_PHONE, caller_name="刘芳")
    service.forget()
    yield TestClient(create_app())
    service.forget()


def _order() -> str:
    from sqlalchemy import select

    from hotline.workorders.store import Order

    with session_scope() as s:
        return str(s.scalars(select(Order.number)).one())


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _alert(html: str) -> str | None:
    found = re.search(r'role="alert" data-code="([^"]+)"', html)
    return found[1] if found else None


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', html, re.S)
    return found[1] if found else ""


def _field(html: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">(.*?)</(?:dd|td|p|span)>', html, re.S)
    return _text(found[1]) if found else ""


def _rows(html: str) -> dict[int, dict[str, str]]:
    return {
        int(entry): {f: _text(v) for f, v in re.findall(r'<td data-field="(\w+)">(.*?)</td>', row, re.S)}
        for entry, row in re.findall(r'<tr data-entry="(\d+)">(.*?)</tr>', html, flags=re.S)
    }


def _apply(client: TestClient, **form: str) -> httpx.Response:
    data = {"reason": REASON, "role": "agent", "actor": ZHANG} | form
    return client.post("/nuisance/apply", data=data, follow_redirects=False)


def _entries() -> list[dict[str, object]]:
    with session_scope() as s:
        return service.list_entries(s, mask=False)


def _entry_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    return int(urlsplit(response.headers["location"]).path.rsplit("/", 1)[1])


# -- applying ------------------------------------------------------------------------------------------------------
def test_an_agent_applies_from_a_call_without_ever_seeing_the_number(client: TestClient) -> None:
    form = client.get("/nuisance", params={"call": "c-1", "role": "agent", "actor": ZHANG})
    assert form.status_code == 200
    apply = _section(form.text, "apply")
    assert 'name="call" value="c-1"' in apply and 'name="number"' not in apply  # typing a number: supervisors only
    assert "139****2222" in _field(apply, "source") and CALLER not in form.text
    assert re.search(r'value="warn" checked> 提示后转骚扰专席（默认）', apply)
    assert 'value="release" >' in apply or 'value="release">' in apply  # not chosen unless asked for
    assert "打不进 12345" in apply and "应极少采用" in apply
    assert 'name="days" min="1" max="30" value="7"' in apply

    sent = _apply(client, call="c-1", treatment="warn", days="5")
    _entry_id(sent)
    assert parse_qs(urlsplit(sent.headers["location"]).query)["done"] == ["apply"]
    page = client.get(sent.headers["location"])
    assert _field(page.text, "done").startswith("已提交申请")
    assert (_field(page.text, "number"), _field(page.text, "state")) == ("139****2222", "待审核")
    assert _field(page.text, "treatment").startswith("提示后转骚扰专席") and "5 天" in _field(page.text, "period")
    assert 'href="/calls/c-1?role=agent"' in _section(page.text, "entry") and CALLER not in page.text
    history = _section(page.text, "nuisance-history")
    assert re.search(r'<tr data-step="proposed">.*?张敏（zhangmin）.*?申请列入.*?' + REASON, history, re.S)
    assert 'data-action="approve"' not in page.text and 'data-action="lift"' not in page.text  # agents do not decide
    assert [(e["number"], e["state"], e["days"], e["proposed_by"]) for e in _entries()] == [
        (CALLER, "pending", 5, ZHANG)
    ]


def test_applying_from_an_order_takes_the_callers_number_from_the_order(client: TestClient) -> None:
    number = _order()
    form = client.get("/nuisance", params={"order": number, "role": "dispatcher"})
    assert f'name="order" value="{number}"' in form.text and "138****1234" in _field(form.text, "source")
    entry = _entry_id(_apply(client, order=number, role="dispatcher", treatment="release"))
    page = client.get(f"/nuisance/{entry}", params={"role": "dispatcher"})
    assert _field(page.text, "number") == "138****1234" and _field(page.text, "treatment").startswith("提示后挂断")
    assert f'href="/orders/{number}?role=dispatcher"' in page.text and ORDER_PHONE not in page.text


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"call": "c-1", "reason": " "}, 422, "nuisance-reason-required"),
        ({"call": "c-1", "days": "31"}, 422, "nuisance-invalid-days"),
        ({"call": "c-1", "days": "0"}, 422, "nuisance-invalid-days"),
        ({"call": "c-1", "days": "七"}, 422, "nuisance-invalid-days"),
        ({"call": "c-1", "treatment": "block"}, 422, "nuisance-invalid-treatment"),
        ({"call": "no-such-call"}, 404, "nuisance-source-not-found"),
        ({"call": "c-anon"}, 422, "nuisance-source-not-found"),  # an anonymous caller has no number to list
        ({}, 422, "nuisance-source-not-found"),
        ({"number": TYPED}, 403, "nuisance-number-not-allowed"),  # an agent applies from the call or the order
    ],
)
def test_a_refused_application_is_said_keeps_what_was_typed_and_writes_nothing(
    client: TestClient, form: dict[str, str], status: int, code: str
) -> None:
    res = _apply(client, **{"days": "9", **form})
    assert (res.status_code, _alert(res.text)) == (status, code)
    apply = _section(res.text, "apply")
    assert re.search(r'name="days" min="1" max="30" value="[^"]*"', apply)
    assert f'value="{form.get("days", "9")}"' in apply and (form.get("reason", REASON).strip() in apply)
    assert _entries() == []


def test_a_supervisor_may_type_a_number_and_a_number_is_listed_once(client: TestClient) -> None:
    form = client.get("/nuisance", params={"role": "supervisor"})
    assert 'name="number"' in _section(form.text, "apply")
    entry = _entry_id(_apply(client, number=TYPED, role="supervisor", actor="王芳（wangfang）"))
    again = _apply(client, number=f"+86 {TYPED}", role="supervisor")
    assert (again.status_code, _alert(again.text)) == (409, "nuisance-already-listed")
    assert f"#{entry}" in _text(again.text) and TYPED in again.text  # what the supervisor typed, kept in the form
    emergency = _apply(client, number="110", role="supervisor")
    assert (emergency.status_code, _alert(emergency.text)) == (422, "nuisance-invalid-number")
    assert len(_entries()) == 1


# -- deciding ------------------------------------------------------------------------------------------------------
def test_a_supervisor_approves_then_lifts_with_a_reason(client: TestClient) -> None:
    entry = _entry_id(_apply(client, call="c-1"))
    page = client.get(f"/nuisance/{entry}", params={"role": "supervisor"})
    assert 'data-action="approve"' in page.text and 'data-action="reject"' in page.text
    assert 'data-action="lift"' not in page.text
    refused = client.post(f"/nuisance/{entry}/approve", data={"role": "agent", "actor": ZHANG})
    assert (refused.status_code, _alert(refused.text)) == (403, "role-not-allowed")
    assert _entries()[0]["state"] == "pending"

    sent = client.post(
        f"/nuisance/{entry}/approve", data={"role": "supervisor", "note": "核实属实"}, follow_redirects=False
    )
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert _field(page.text, "done").startswith("已审核通过") and _field(page.text, "state") == "生效中"
    assert re.fullmatch(r"\S+ \S+ 至 \S+ \S+（7 天）", _field(page.text, "period"))
    assert "核实属实" in _field(page.text, "decided")
    assert 'data-action="approve"' not in page.text and 'data-action="lift"' in page.text
    with session_scope() as s:
        assert [x.number for x in service.screened_numbers(s, now())] == [CALLER]

    blank = client.post(f"/nuisance/{entry}/lift", data={"role": "supervisor", "reason": ""})
    assert (blank.status_code, _alert(blank.text)) == (422, "nuisance-reason-required")
    assert _entries()[0]["state"] == "active"
    lifted = client.post(
        f"/nuisance/{entry}/lift", data={"role": "admin", "reason": "来电人已致歉"}, follow_redirects=False
    )
    page = client.get(lifted.headers["location"])
    assert _field(page.text, "state") == "已解除" and "来电人已致歉" in _field(page.text, "lifted")
    steps = re.findall(r'<tr data-step="(\w+)">', _section(page.text, "nuisance-history"))
    assert steps == ["proposed", "approved", "lifted"]
    assert 'data-action="lift"' not in page.text
    with session_scope() as s:
        assert service.screened_numbers(s, now()) == []


def test_a_rejection_needs_a_reason_and_keeps_what_was_typed(client: TestClient) -> None:
    entry = _entry_id(_apply(client, call="c-1"))
    long = client.post(f"/nuisance/{entry}/reject", data={"role": "supervisor", "reason": "证" * 501})
    assert (long.status_code, _alert(long.text)) == (422, "nuisance-reason-too-long")
    assert "证" * 501 in _section(long.text, "decide")
    sent = client.post(
        f"/nuisance/{entry}/reject", data={"role": "supervisor", "reason": "来电均有实际诉求"}, follow_redirects=False
    )
    page = client.get(sent.headers["location"])
    assert _field(page.text, "state") == "已驳回" and "来电均有实际诉求" in _field(page.text, "decided")
    twice = client.post(f"/nuisance/{entry}/approve", data={"role": "supervisor"})
    assert (twice.status_code, _alert(twice.text)) == (409, "nuisance-transition-not-allowed")
    assert _entries()[0]["state"] == "rejected"


def test_the_list_by_state_with_counts_and_masked_numbers(client: TestClient) -> None:
    pending = _entry_id(_apply(client, call="c-1"))
    active = _entry_id(_apply(client, number=TYPED, role="supervisor"))
    client.post(f"/nuisance/{active}/approve", data={"role": "supervisor"})
    rejected = _entry_id(_apply(client, order=_order()))
    client.post(f"/nuisance/{rejected}/reject", data={"role": "supervisor", "reason": "不属实"})

    first = client.get("/nuisance", params={"role": "supervisor"})  # what waits for a supervisor comes first
    assert '<strong data-tab="pending">待审核</strong>' in first.text
    counts = dict(re.findall(r'<span data-count="(\w+)">(\d+)</span>', first.text))
    assert counts == {"pending": "1", "active": "1", "expired": "0", "lifted": "0", "rejected": "1"}
    assert list(_rows(first.text)) == [pending] and _rows(first.text)[pending]["number"] == "139****2222"
    assert re.search(rf'href="/nuisance/{pending}\?role=supervisor">审核<', first.text)
    in_force = client.get("/nuisance", params={"role": "agent", "state": "active"})
    assert list(_rows(in_force.text)) == [active] and _rows(in_force.text)[active]["state"] == "生效中"
    every = client.get("/nuisance", params={"role": "agent", "state": "all"}).text
    assert sorted(_rows(every)) == sorted([pending, active, rejected])
    assert not any(n in every for n in (CALLER, TYPED, ORDER_PHONE))
    assert client.get("/nuisance", params={"role": "agent"}).text.count('<strong data-tab="active">') == 1


def test_a_handling_unit_may_not_open_the_list_and_an_unknown_entry_is_a_404_page(client: TestClient) -> None:
    res = client.get("/nuisance", params={"role": "department"})
    assert (res.status_code, _alert(res.text)) == (403, "role-not-allowed")
    missing = client.get("/nuisance/99", params={"role": "supervisor"})
    assert (missing.status_code, _alert(missing.text)) == (404, "nuisance-not-found")
    gone = client.post("/nuisance/99/lift", data={"role": "supervisor", "reason": "误列"})
    assert (gone.status_code, _alert(gone.text)) == (404, "nuisance-not-found")
    assert _entries() == []


# -- the links in and the overview -------------------------------------------------------------------------------
def test_the_call_and_order_pages_link_to_the_apply_form_for_those_who_may_apply(client: TestClient) -> None:
    link = re.compile(r'<a data-action="nuisance" href="([^"]+)">申请列入骚扰号码名单</a>')
    found = link.search(client.get("/calls/c-1", params={"role": "agent"}).text)
    assert found is not None and found[1] == "/nuisance?call=c-1&amp;role=agent#apply"
    assert link.search(client.get("/calls/c-anon", params={"role": "agent"}).text) is None  # no number to list
    number = _order()
    found = link.search(client.get(f"/orders/{number}", params={"role": "supervisor"}).text)
    assert found is not None and found[1] == f"/nuisance?order={number}&amp;role=supervisor#apply"
    units()
    dispatch_with_co_handling(number)
    unit = client.get(f"/orders/{number}", params={"role": "department", "unit": ZJJ})
    assert unit.status_code == 200 and link.search(unit.text) is None  # a handling unit reads the order, not the list
    nav = re.findall(r"<nav>(.*?)</nav>", client.get("/nuisance").text, flags=re.S)[0]
    assert nav.index('href="/quality"') < nav.index('href="/nuisance">骚扰号码<') < nav.index('href="/orders"')


def test_the_overview_shows_the_applications_waiting_to_those_who_decide(client: TestClient) -> None:
    line = re.compile(r'<p id="todo-nuisance">(.*?)</p>', re.S)
    assert line.search(client.get("/", params={"role": "supervisor"}).text) is None  # nothing waits: no line
    entry = _entry_id(_apply(client, call="c-1"))
    _apply(client, order=_order())
    found = line.search(client.get("/", params={"role": "admin"}).text)
    assert found is not None and _text(found[1]).startswith("骚扰号码待审核 2")
    assert 'href="/nuisance?role=admin&amp;state=pending"' in found[1]
    assert line.search(client.get("/", params={"role": "agent", "actor": ZHANG}).text) is None
    client.post(f"/nuisance/{entry}/reject", data={"role": "supervisor", "reason": "不属实"})
    found = line.search(client.get("/", params={"role": "supervisor"}).text)
    assert found is not None and _text(found[1]).startswith("骚扰号码待审核 1")


# -- sign-in on ----------------------------------------------------------------------------------------------------
def test_signed_in_the_steps_are_recorded_under_the_account(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    agent, supervisor = bearer("zhangmin", ["agent"], "张敏"), bearer("wangfang", ["supervisor"], "王芳")
    sent = client.post(
        "/nuisance/apply",
        data={"call": "c-1", "reason": REASON, "actor": "冒名"},
        headers=agent,
        follow_redirects=False,
    )
    entry = _entry_id(sent)
    assert "actor" not in parse_qs(urlsplit(sent.headers["location"]).query)
    assert client.post(f"/nuisance/{entry}/approve", headers=agent).status_code == 403
    client.post(f"/nuisance/{entry}/approve", headers=supervisor)
    with session_scope() as s:
        found = service.get_entry(s, entry)
    assert (found["proposed_by"], found["decided_by"], found["state"]) == (
        "张敏（zhangmin）",
        "王芳（wangfang）",
        "active",
    )
    overview = client.get("/", headers=agent).text
    assert 'href="/nuisance">骚扰号码<' in overview


# -- in the browser ------------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_an_agent_applies_from_a_call_and_a_supervisor_approves(page, web_server) -> None:  # type: ignore[no-untyped-def]
    call_id, phone = f"nuisance-{uuid.uuid4().hex[:8]}@pbx", f"137{random.randrange(10**8):08d}"
    routed = httpx.get(
        f"{web_server}/telephony/route",
        params={"dialed": "12345", "caller": phone, "trunk": "cd-telecom", "callid": call_id},
    )
    assert routed.status_code == 200, routed.text
    assert httpx.get(f"{web_server}/telephony/calls/{call_id}").status_code == 200  # the decision is stored by now

    page.goto(f"/calls/{call_id}?role=agent")
    with page.expect_navigation():
        page.click("a[data-action=nuisance]")
    form = page.locator("form[data-action=apply]")
    assert form.locator("input[name=call]").input_value() == call_id and phone not in page.content()
    assert form.locator("input[name=treatment][value=warn]").is_checked()
    form.locator("textarea[name=reason]").fill(REASON)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("[data-field=state]").inner_text() == "待审核"
    entry = urlsplit(page.url).path

    page.goto("/?role=supervisor")
    with page.expect_navigation():
        page.click("#todo-nuisance a")
    row = page.locator(f'#entries tr[data-entry="{entry.rsplit("/", 1)[1]}"]')
    assert row.locator("[data-field=number]").inner_text() == f"{phone[:3]}****{phone[-4:]}"
    with page.expect_navigation():
        row.locator("a[data-action=open]").click()
    decide = page.locator("form[data-action=approve]")
    decide.locator("textarea[name=note]").fill("核实属实")
    with page.expect_navigation():
        decide.locator("button[type=submit]").click()
    assert page.locator("[data-field=state]").inner_text() == "生效中"
    assert page.locator("#nuisance-history tr[data-step=approved]").count() == 1


# -- demo ----------------------------------------------------------------------------------------------------------
def test_the_demo_has_an_entry_in_force_and_one_waiting(db_url: str) -> None:
    from hotline.nuisance import service as nuisance_demo
    from hotline.telephony import service as telephony
    from hotline.workorders import service as workorders

    with session_scope() as s:
        workorders.load_demo(s)
        telephony.load_demo(s)
    with session_scope() as s:
        assert nuisance_demo.load_demo(s) == "骚扰号码名单：生效中 1 个（提示后转骚扰专席），待审核 1 个"
    with session_scope() as s:
        assert nuisance_demo.load_demo(s) == "骚扰号码名单：已有演示数据"
        found = sorted((e["state"], e["treatment"], e["number"], e["proposed_by"]) for e in _entries())
        assert found == [
            ("active", "warn", "13912340002", "张敏（zhangmin）"),
            ("pending", "warn", "08162345678", "张敏（zhangmin）"),
        ]
        assert [x.number for x in service.screened_numbers(s, now())] == ["13912340002"]
