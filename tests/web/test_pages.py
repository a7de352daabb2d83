"""Pages in a real browser: what a supervisor or agent sees and does."""

from __future__ import annotations

import uuid

import pytest

from tests.web.orders import take_in

pytestmark = pytest.mark.browser


def test_overview_shows_plan_progress_by_mode(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    summary = page.locator("#plan-summary")
    for mode in ("整体并入", "双号并行", "设分中心"):
        assert summary.get_by_text(mode).count() == 1
    assert page.locator("#overdue-units table tr").count() > 1
    # The demo fed 3 of the 40 sources moments ago; the others have never sent anything.
    feeds = page.locator("#feed-summary")
    assert feeds.locator("td[data-freshness=live]").inner_text() == "3"
    assert feeds.locator("td[data-freshness=never]").inner_text() == "37"
    # The test server is uvicorn alone, not `hotline serve`: the overview says nothing is received from the queue.
    stopped = feeds.locator("[role=alert][data-worker=feeds]")
    assert stopped.inner_text().startswith("消息队列接收未运行（未检测到工作进程）")


def test_route_form_decides_a_transition_call(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/route")
    page.fill("input[name=dialed]", "12331")
    page.select_option("select[name=region]", "成都市")
    page.fill("input[name=at]", "2021-06-01T10:00")
    page.click("button[type=submit]")
    decision = page.locator("#decision")
    assert decision.locator("[data-field=action]").inner_text() == "queue"
    assert decision.locator("[data-field=prompt]").inner_text() == "transition:12331"
    assert decision.locator("[data-field=target]").inner_text() == "queue:510100"


def test_route_form_shows_error_for_unknown_region(page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto("/route?dialed=12331&region=火星市")
    assert response.status == 404
    assert page.locator("[role=alert]").get_attribute("data-code") == "region-not-found"


def test_plan_page_for_a_region_lists_every_integration_line(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/plan")
    page.select_option("select[name=region]", "绵阳市")
    page.fill("input[name=on]", "2021-10-20")
    page.click("button[type=submit]")
    assert "绵阳市" in page.locator("h1").inner_text()
    rows = page.locator("#plan-table tr[data-line]")
    assert rows.count() >= 32
    transfer = page.locator("tr[data-line='12333'] [data-milestone='transfer']")
    assert "2021-10-16" in transfer.inner_text()


def test_kpi_page_matches_the_api(page, web_server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    api = httpx.get(f"{web_server}/api/supervision/kpis", params={"since": "2021-06-01", "until": "2021-06-30"}).json()
    assert api["orders"] > 0
    page.goto("/kpis")
    page.fill("input[name=since]", "2021-06-01")
    page.fill("input[name=until]", "2021-06-30")
    page.click("button[type=submit]")
    cards = page.locator("#order-kpis [data-kpi]")
    assert cards.count() == len(api["order_kpis"])
    direct = next(k for k in api["order_kpis"] if k["key"] == "direct")
    text = page.locator("#order-kpis [data-kpi=direct]").inner_text()
    assert f"{direct['numerator']} / {direct['denominator']}" in text
    # 承办单位考核: one row per unit, each unit's 退单率 as the API counts it.
    rows = page.locator("#unit-kpis tr[data-unit]")
    assert rows.count() == len(api["units"]) > 0
    for unit in api["units"]:
        returned = next(k for k in unit["kpis"] if k["key"] == "return")
        cell = page.locator(f"#unit-kpis tr[data-unit='{unit['unit']}'] [data-kpi=return]").inner_text()
        assert f"{returned['numerator']}/{returned['denominator']}" in cell
    # 导出 Excel: the 考核报表 of the period shown, downloaded as the browser names it.
    link = page.locator("#kpi-export")
    assert link.get_attribute("href") == "/api/supervision/kpis/export.xlsx?since=2021-06-01&until=2021-06-30"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "考核报表_2021-06-01_2021-06-30.xlsx"


def test_the_kpi_export_link_carries_the_period_and_region_shown(page) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import parse_qs, urlsplit

    page.goto("/kpis?region=510100")  # the default period: the last 30 days, filled in on the page
    href = page.locator("#kpi-export").get_attribute("href")
    assert urlsplit(href).path == "/api/supervision/kpis/export.xlsx"
    shown = {name: page.locator(f"input[name={name}]").input_value() for name in ("since", "until")}
    assert parse_qs(urlsplit(href).query) == {**{k: [v] for k, v in shown.items()}, "region": ["510100"]}


def test_an_empty_kpi_period_points_to_the_latest_orders(page, web_server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    newest = max(o["created_at"] for o in httpx.get(f"{web_server}/api/orders", params={"limit": 1000}).json())
    # A month after every order: not the default last 30 days (the demo's orders are from the plan's year, 2021,
    # but the pages' tests that take orders in on this shared server leave some of today's).
    page.goto("/kpis?since=2099-01-01&until=2099-01-31")
    hint = page.locator("#latest-orders")
    assert newest[:10] in hint.inner_text() and "本期没有受理工单" in hint.inner_text()
    hint.locator("a").click()
    page.wait_for_load_state()
    assert page.locator("input[name=until]").input_value() == newest[:10]
    assert page.locator("#latest-orders").count() == 0
    assert page.locator("#unit-kpis tr[data-unit]").count() > 0


def _listed(web_server: str, **params: str) -> list[str]:
    import httpx

    orders = httpx.get(f"{web_server}/api/orders", params={**params, "limit": "1000"}).json()
    return [o["number"] for o in orders]


def _shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.get_attribute("data-number") for row in page.locator("#orders tr[data-number]").all()]


def test_the_dispatchers_to_do_counts_and_opens_the_orders_to_dispatch(page, web_server) -> None:  # type: ignore[no-untyped-def]
    # Its own order waiting for dispatch: other tests on the shared server dispatch the demo's.
    taken = take_in(web_server, f"楼下夜间施工噪音扰民（{uuid.uuid4().hex[:8]}）", "13800004321")
    page.goto("/?role=dispatcher")
    card = page.locator("#todo")
    assert card.get_attribute("data-role") == "dispatcher"
    assert card.locator("h2").inner_text() == "我的待办（派单员）"
    # The card comes first, before the merge plan's progress.
    assert page.locator("main section.card").first.get_attribute("id") == "todo"
    to_dispatch = _listed(web_server, role="dispatcher", state="registered")
    assert taken in to_dispatch
    line = card.locator("tr[data-state=registered]")
    assert line.locator("td").first.inner_text() == "待派单"
    for field in ("near_due", "overdue"):
        wanted = _listed(web_server, role="dispatcher", state="registered", sla=field)
        assert int(line.locator(f"[data-field={field}]").inner_text()) == len(wanted)
    assert int(line.locator("[data-field=count]").inner_text()) == len(to_dispatch)
    line.locator("[data-field=count]").click()
    page.wait_for_url("**/orders?role=dispatcher&state=registered")
    assert _shown(page) == to_dispatch
    assert page.locator("select[name=state]").input_value() == "registered"


def test_a_handling_units_to_do_counts_its_own_orders(page, web_server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    listed = httpx.get(f"{web_server}/api/orders", params={"role": "supervisor", "limit": 1000}).json()
    led: dict[str, int] = {}
    for o in listed:
        if o["lead_unit"]:
            led[o["lead_unit"]["code"]] = led.get(o["lead_unit"]["code"], 0) + 1
    assert len(led) > 1, "demo orders should be spread over several units"
    unit = max(led, key=lambda code: led[code])
    page.goto(f"/?role=department&unit={unit}")
    card = page.locator("#todo")
    assert card.get_attribute("data-role") == "department"
    assert [row.get_attribute("data-state") for row in card.locator("tr[data-state]").all()] == [
        "dispatched", "handling", "waiting_citizen",
    ]  # fmt: skip
    total = 0
    for state in ("dispatched", "handling", "waiting_citizen"):
        line = card.locator(f"tr[data-state={state}]")
        query = {"role": "department", "unit": unit, "state": state}
        count = int(line.locator("[data-field=count]").inner_text())
        assert count == len(_listed(web_server, **query))
        for field in ("near_due", "overdue"):
            assert int(line.locator(f"[data-field={field}]").inner_text()) == len(
                _listed(web_server, **query, sla=field)
            )
        total += count
    assert total > 0, "the unit with the most demo orders should have work waiting"
    # Its links keep to the unit: the list it opens is the unit's own.
    line = card.locator("tr[data-state=handling]")
    line.locator("[data-field=overdue]").click()
    page.wait_for_url(f"**/orders?role=department&unit={unit}&state=handling&sla=overdue")
    assert _shown(page) == _listed(web_server, role="department", unit=unit, state="handling", sla="overdue")


def test_the_overview_without_a_role_shows_the_default_roles_to_do_and_a_unit_must_be_named(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    assert page.locator("#todo").get_attribute("data-role") == "supervisor"  # as the order list defaults
    assert page.locator("#todo tr[data-state=resolved] td[colspan]").inner_text() == "—"  # answered: no deadline
    page.goto("/?role=department")
    alert = page.locator("#todo [role=alert]")
    assert alert.get_attribute("data-code") == "unit-required"
    assert page.locator("#plan-summary").is_visible()  # the rest of the page is there
    page.goto("/?role=citizen")
    assert page.locator("#todo").count() == 0
