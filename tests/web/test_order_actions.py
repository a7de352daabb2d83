"""Working an order from its page: each role takes its steps of the closed loop through the forms, sees what it
did, and a refused step leaves the order as it was."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.web.orders import take_in

pytestmark = pytest.mark.browser


def _new_order(web_server: str) -> str:
    return take_in(web_server, f"小区门口占道经营，影响通行（{uuid.uuid4().hex[:8]}）", "13800005678", actor="话务员甲")


def _a_unit(web_server: str) -> dict[str, Any]:
    units = httpx.get(f"{web_server}/api/workorders/units").json()
    return next(u for u in units if u["active"])


def _act(web_server: str, number: str, action: str, **body: Any) -> dict[str, Any]:
    answered = httpx.post(f"{web_server}/api/orders/{number}/actions/{action}", json=body, timeout=30)
    assert answered.status_code == 200, answered.text
    return dict(answered.json())


def _stored(web_server: str, number: str) -> dict[str, Any]:
    return dict(httpx.get(f"{web_server}/api/orders/{number}", params={"role": "dispatcher"}).json())


def _history(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The 操作 column of 办理记录, oldest first."""
    return [row.locator("td").nth(2).inner_text() for row in page.locator("#history tr:has(td)").all()]


def _offered(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.get_attribute("data-action") for d in page.locator("#work details[data-action]").all()]


def _take(page, action: str, fill=None) -> int:  # type: ignore[no-untyped-def]
    """Open the step's form, let FILL fill it in, press its button; the status the page came back with."""
    step = page.locator(f"#work details[data-action={action}]")
    if step.get_attribute("open") is None:  # a refused step comes back open
        step.locator("summary").click()
    if fill is not None:
        fill(step)
    with page.expect_navigation() as arrived:
        step.locator("button[type=submit]").click()
    return int(arrived.value.status)


def test_the_closed_loop_is_worked_through_the_order_page(page, web_server) -> None:  # type: ignore[no-untyped-def]
    number = _new_order(web_server)
    unit = _a_unit(web_server)
    at_unit = f"role=department&unit={unit['code']}"
    steps = [
        # (query of the page, action, how its form is filled, notice, state after, history label)
        ("role=dispatcher", "dispatch",
         lambda f: (f.locator("select[name=target_unit]").select_option(unit["code"]),
                    f.locator("input[name=actor]").fill("派单员甲")),
         "已派单", "已派单（待签收）", "派单"),
        (at_unit, "accept", None, "已签收", "办理中", "签收"),
        (at_unit, "resolve", lambda f: f.locator("textarea[name=reply]").fill("已联系城管劝离占道摊点，通行恢复。"),
         "已办结", "已办结（待审核）", "办结"),
        ("role=supervisor", "review_pass", None, "已审核通过", "待回访", "审核通过"),
        ("role=agent", "callback",
         lambda f: (f.locator("input[name=satisfaction][value=satisfied]").check(),
                    f.locator("input[name=citizen_resolved][value=yes]").check()),
         "已回访", "已回访", "回访"),
        ("role=supervisor", "archive", None, "已归档", "已归档", "归档"),
    ]  # fmt: skip
    seen = ["受理"]
    for query, action, fill, notice, state, label in steps:
        page.goto(f"/orders/{number}?{query}")
        assert _history(page) == seen
        assert _take(page, action, fill) == 200
        assert page.locator("#work [data-field=done]").inner_text() == notice
        assert page.locator("#order [data-field=state]").inner_text() == state
        seen.append(label)
        assert _history(page) == seen
    assert _offered(page) == []  # archived: nothing left to do
    stored = _stored(web_server, number)
    assert stored["state"] == "archived" and stored["lead_unit"]["code"] == unit["code"]
    assert stored["reply"] == "已联系城管劝离占道摊点，通行恢复。"
    assert stored["satisfaction"] == "satisfied" and stored["citizen_resolved"] is True
    assert stored["history"][1]["actor"] == "派单员甲"
    assert stored["history"][2]["unit"] == unit["code"]
    # The page says who and what in Chinese: the role, the unit's name, the states (not their codes).
    accepted = page.locator("#history tr[data-seq='3']")
    assert accepted.locator("[data-field=role]").inner_text() == "承办单位"
    assert accepted.locator("[data-field=unit]").inner_text() == unit["name"]
    assert accepted.locator("[data-field=states]").inner_text() == "已派单（待签收） → 办理中"


def test_each_role_is_offered_only_its_own_steps(page, web_server) -> None:  # type: ignore[no-untyped-def]
    number = _new_order(web_server)
    unit = _a_unit(web_server)["code"]
    page.goto(f"/orders/{number}?role=dispatcher")
    assert _offered(page) == ["direct_resolve", "dispatch", "merge"]
    page.goto(f"/orders/{number}?role=supervisor")
    assert _offered(page) == ["merge"]
    assert page.locator("#work details[data-action=dispatch]").count() == 0

    _act(web_server, number, "dispatch", role="dispatcher", target_unit=unit)
    page.goto(f"/orders/{number}?role=department&unit={unit}")
    assert _offered(page) == ["accept", "return"]  # no 派单 for a handling unit
    page.goto(f"/orders/{number}?role=dispatcher")
    assert _offered(page) == ["urge", "merge"]


def test_a_stale_page_is_refused_and_shown_again(page, web_server) -> None:  # type: ignore[no-untyped-def]
    number = _new_order(web_server)
    unit = _a_unit(web_server)["code"]
    _act(web_server, number, "dispatch", role="dispatcher", target_unit=unit)
    page.goto(f"/orders/{number}?role=department&unit={unit}")
    _act(web_server, number, "urge", role="dispatcher", reason="请尽快签收")  # meanwhile, from elsewhere
    before = _stored(web_server, number)

    assert _take(page, "accept") == 409
    alert = page.locator("#work details[data-action=accept] [role=alert]")
    assert alert.get_attribute("data-code") == "stale-version"
    assert "已被他人更新" in alert.inner_text()
    after = _stored(web_server, number)
    assert after["version"] == before["version"] and after["state"] == "dispatched"
    assert _history(page) == ["受理", "派单", "催办"]  # the page now shows the order as it stands

    assert _take(page, "accept") == 200  # looked at again, the step goes through
    assert page.locator("#work [data-field=done]").inner_text() == "已签收"


def test_a_return_without_reason_is_refused_keeping_what_was_typed(page, web_server) -> None:  # type: ignore[no-untyped-def]
    number = _new_order(web_server)
    unit = _a_unit(web_server)["code"]
    _act(web_server, number, "dispatch", role="dispatcher", target_unit=unit)
    page.goto(f"/orders/{number}?role=department&unit={unit}")

    status = _take(page, "return", lambda f: f.locator("input[name=actor]").fill("承办人乙"))
    assert status == 422
    step = page.locator("#work details[data-action=return]")
    assert step.locator("[role=alert]").get_attribute("data-code") == "reason-required"
    assert step.locator("[role=alert]").inner_text() == "退单原因不能为空"
    assert step.locator("input[name=actor]").input_value() == "承办人乙"
    assert page.locator("#order [data-field=state]").inner_text() == "已派单（待签收）"
    assert _stored(web_server, number)["state"] == "dispatched"
    assert _history(page) == ["受理", "派单"]

    step.locator("textarea[name=reason]").fill("不属于本单位职责范围")
    with page.expect_navigation() as arrived:
        step.locator("button[type=submit]").click()
    assert arrived.value.status == 200
    assert page.locator("#work [data-field=done]").inner_text() == "已退单"
    assert page.locator("#order [data-field=state]").inner_text() == "已退单（待改派）"
    assert _history(page)[-1] == "退单"
