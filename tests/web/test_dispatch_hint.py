"""The dispatch helper's suggestion on the order page: a dispatcher opening an order still to be dispatched sees
the suggested category and unit, the 派单 form starts with them, and open orders of the same demand can be merged
from there; without a dispatch model the page works as before (no model is trained for it)."""

from __future__ import annotations

import logging
import math
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.accounts.domain import Acting
from hotline.app import create_app
from hotline.db import session_scope
from hotline.web import dispatch_hint
from hotline.workorders import domain as d
from hotline.workorders import service as orders
from tests.web import test_intake as intake
from tests.web.orders import take_in

# The 受理 tests' fixtures: a dispatch model trained on a sample of the shared data, and the shared server with it.
dispatch_models = intake.dispatch_models
advice = intake.advice

HOUSING = "我家小区旁边的建筑工地违规施工，渣土车乱倒建筑垃圾，楼房墙体出现裂缝，请住建部门查处。"


def _percent(x: float) -> str:
    return f"{math.floor(x * 100 + 0.5)}%"


def _phone() -> str:
    return "137" + str(uuid.uuid4().int)[:8]


def _stored(server: str, number: str) -> dict[str, Any]:
    return dict(httpx.get(f"{server}/api/orders/{number}", params={"role": "dispatcher"}).json())


def _open(page: Any, action: str) -> Any:
    step = page.locator(f"#work details[data-action={action}]")
    if step.get_attribute("open") is None:
        step.locator("summary").click()
    return step


def _send(page: Any, button: Any) -> int:
    with page.expect_navigation() as arrived:
        button.click()
    return int(arrived.value.status)


# -- the shared server, with a dispatch model -------------------------------------------------------------------
@pytest.mark.browser
def test_a_dispatcher_sees_the_suggestion_and_dispatches_as_suggested(page, advice) -> None:  # type: ignore[no-untyped-def]
    phone = _phone()
    number = take_in(advice, HOUSING, phone)
    expected = httpx.post(
        f"{advice}/api/dispatch/suggest", json={"text": HOUSING, "region_code": "510100", "phone": phone}
    ).json()
    unit = expected["unit"]
    assert unit, "the demo catalogue names a unit for every first-level category in 成都市"

    page.goto(f"/orders/{number}?role=dispatcher")
    hint = page.locator("#work #dispatch-hint")
    assert hint.locator("[data-field=suggestion]").inner_text() == (
        f"系统建议：{expected['category']}（置信度 {_percent(expected['confidence'])}）→ {unit['name']}"
    )
    assert (hint.locator("[data-field=manual]").count() == 1) == expected["manual"]
    step = _open(page, "dispatch")
    assert step.locator("select[name=target_unit]").input_value() == unit["code"]
    assert step.locator("input[name=category]").input_value() == expected["category"]

    # What the dispatcher typed wins over the suggestion when the step is refused and shown again.
    other = next(
        u for u in httpx.get(f"{advice}/api/workorders/units").json() if u["active"] and u["code"] != unit["code"]
    )
    step.locator("select[name=target_unit]").select_option(other["code"])
    step.locator("input[name=category]").fill("不存在的分类")
    assert _send(page, step.locator("button[type=submit]")) == 422
    step = page.locator("#work details[data-action=dispatch]")
    assert step.locator("[role=alert]").get_attribute("data-code") == "category-not-found"
    assert step.locator("select[name=target_unit]").input_value() == other["code"]
    assert step.locator("input[name=category]").input_value() == "不存在的分类"
    assert _stored(advice, number)["state"] == "registered"

    page.goto(f"/orders/{number}?role=dispatcher")  # looked at afresh: the suggestion again, sent as it is
    assert _send(page, _open(page, "dispatch").locator("button[type=submit]")) == 200
    assert page.locator("#work [data-field=done]").inner_text() == "已派单"
    stored = _stored(advice, number)
    assert stored["state"] == "dispatched"
    assert stored["lead_unit"]["code"] == unit["code"] and stored["category"] == expected["category"]


@pytest.mark.browser
def test_an_earlier_order_of_the_same_demand_is_merged_from_the_suggestion(page, advice) -> None:  # type: ignore[no-untyped-def]
    phone = _phone()
    earlier = take_in(advice, "小区门口工地夜间施工噪音很大，影响休息", phone)
    number = take_in(advice, "又来反映小区门口工地夜间施工噪音，还是很吵", phone)

    page.goto(f"/orders/{earlier}?role=dispatcher")  # the later telling is not offered as the first's master
    assert page.locator(f"#dispatch-hint [data-field=repeats] li[data-number='{number}']").count() == 0

    page.goto(f"/orders/{number}?role=dispatcher")
    repeat = page.locator(f"#dispatch-hint [data-field=repeats] li[data-number='{earlier}']")
    why = repeat.locator("[data-field=why]").inner_text()
    assert "同一来电号码" in why and "相似度" in why
    link = urlsplit(repeat.locator("a").get_attribute("href"))
    assert link.path == f"/orders/{earlier}" and parse_qs(link.query) == {"role": ["dispatcher"]}

    assert _send(page, repeat.get_by_role("button", name="并入此单")) == 200
    assert page.locator("#work [data-field=done]").inner_text() == "已并单"
    stored = _stored(advice, number)
    assert stored["state"] == "merged" and stored["master"] == earlier
    assert stored["history"][-1]["reason"] == f"与工单 {earlier} 为重复诉求"
    assert number in _stored(advice, earlier)["duplicates"]
    assert page.locator("#dispatch-hint").count() == 0  # merged: nothing left to dispatch


@pytest.mark.browser
def test_roles_not_picking_a_unit_get_no_suggestion(page, advice) -> None:  # type: ignore[no-untyped-def]
    phone = _phone()
    # A demand no other test tells (the server is shared): nothing like it is open.
    odd = "青羊区某巷子里的百年银杏树被人剥了树皮，眼看要枯死，请园林部门救一救。"
    number = take_in(advice, odd, phone)
    page.goto(f"/orders/{number}?role=supervisor")  # offered 并单 only
    assert page.locator("#work details[data-action=merge]").count() == 1
    assert page.locator("#dispatch-hint").count() == 0

    # The same caller tells it again: a supervisor may merge it, so sees the earlier order, not the category.
    again = take_in(advice, "又来反映：" + odd, phone)
    page.goto(f"/orders/{again}?role=supervisor")
    assert page.locator("#dispatch-hint [data-field=suggestion]").count() == 0
    repeat = page.locator(f"#dispatch-hint [data-field=repeats] li[data-number='{number}']")
    assert repeat.get_by_role("button", name="并入此单").count() == 1

    unit = httpx.get(f"{advice}/api/workorders/units").json()[0]["code"]
    sent = httpx.post(
        f"{advice}/api/orders/{number}/actions/dispatch", json={"role": "dispatcher", "target_unit": unit}, timeout=30
    )
    assert sent.status_code == 200, sent.text
    page.goto(f"/orders/{number}?role=department&unit={unit}")
    assert page.locator("#work details[data-action=accept]").count() == 1
    assert page.locator("#work details[data-action=dispatch]").count() == 0
    assert page.locator("#dispatch-hint").count() == 0


# -- no dispatch model, or a failing helper (in process) ----------------------------------------------------------
def _registered(url: str) -> str:
    with session_scope(url) as session:
        orders.load_units(session)
        order = orders.create_order(session, type="投诉", content=HOUSING, phone="13700009999", region="510100")
        return order.number


def _offered(number: str) -> tuple[dict[str, Any], list[d.Action]]:
    with session_scope() as session:
        view = orders.show_order(session, number, "dispatcher")
    actions = d.available_actions(d.State(view["state"]), d.Role.DISPATCHER, co_handling=False, unit="", lead_unit=None)
    return view, actions


@pytest.fixture
def no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOTLINE_DATA_DIR: no dispatch model built."""
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_without_a_model_the_page_offers_dispatch_without_a_suggestion(db_url: str, no_model: Path) -> None:
    number = _registered(db_url)
    view, actions = _offered(number)
    assert d.Action.DISPATCH in actions
    with session_scope() as session:
        assert dispatch_hint.hint(session, view, Acting("dispatcher", None, ""), actions) is None
    assert not (no_model / "models" / "dispatch" / "CURRENT").exists()  # none was trained for the page

    shown = TestClient(create_app()).get(f"/orders/{number}", params={"role": "dispatcher"})
    assert shown.status_code == 200
    assert 'data-action="dispatch"' in shown.text and "dispatch-hint" not in shown.text
    assert not (no_model / "models" / "dispatch" / "CURRENT").exists()


def test_a_failing_helper_leaves_the_page_without_a_suggestion(
    db_url: str, no_model: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from hotline.dispatch import service as dispatch

    def broken(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("model file unreadable")

    number = _registered(db_url)
    monkeypatch.setattr(dispatch, "usable_version", lambda: "v1")
    monkeypatch.setattr(dispatch, "advise", broken)
    view, actions = _offered(number)
    with caplog.at_level(logging.ERROR, logger="hotline.web.dispatch_hint"), session_scope() as session:
        assert dispatch_hint.hint(session, view, Acting("dispatcher", None, ""), actions) is None
    assert any(number in r.getMessage() for r in caplog.records)

    shown = TestClient(create_app()).get(f"/orders/{number}", params={"role": "dispatcher"})
    assert shown.status_code == 200
    assert 'data-action="dispatch"' in shown.text and "dispatch-hint" not in shown.text


def test_a_low_confidence_suggestion_is_shown_but_prefills_nothing(
    db_url: str, no_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.dispatch import service as dispatch

    number = _registered(db_url)
    with session_scope() as session:
        unit = next(u for u in orders.list_units(session) if u["active"])
    sure = {"category": "城乡建设", "confidence": 0.93, "top3": [], "manual": False, "repeats": [],
            "unit": {"code": unit["code"], "name": unit["name"]}}  # fmt: skip
    monkeypatch.setattr(dispatch, "usable_version", lambda: "v1")
    view, actions = _offered(number)
    for advice, prefilled in ((sure, unit["code"]), ({**sure, "confidence": 0.41, "manual": True}, None)):
        monkeypatch.setattr(dispatch, "advise", lambda *_a, _advice=advice, **_k: _advice)
        with session_scope() as session:
            shown = dispatch_hint.hint(session, view, Acting("dispatcher", None, ""), actions)
        assert shown is not None and shown["category"] == "城乡建设"
        assert (shown["prefill"].get("dispatch") or {}).get("target_unit") == prefilled
