"""回访时限 in the browser: the agent's 我的待办 counts the callbacks 临期 and 超期 as the list finds them, the list and
the order page show the deadline, and 派单设置 keeps the limit as a local rule. On the demo (its orders are from
2021, so the one answered on the call and never called back is long past its 回访时限)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser


def _listed(web_server: str, **params: str) -> list[dict[str, Any]]:
    found = httpx.get(f"{web_server}/api/orders", params={"role": "agent", **params, "limit": "1000"}).json()
    assert isinstance(found, list)
    return found


def test_the_agents_to_do_counts_late_callbacks_and_opens_them(page, web_server) -> None:  # type: ignore[no-untyped-def]
    late = _listed(web_server, state="to_visit", sla="overdue")
    assert late, "the demo's order answered on the call (2021-06-01) waits for its callback past its 回访时限"
    page.goto("/?role=agent")
    line = page.locator("#todo tr[data-state=to_visit]")
    assert line.locator("td").first.inner_text() == "待回访"
    assert int(line.locator("[data-field=count]").inner_text()) == len(_listed(web_server, state="to_visit"))
    near = _listed(web_server, state="to_visit", sla="near_due")
    assert int(line.locator("[data-field=near_due]").inner_text()) == len(near)
    assert int(line.locator("[data-field=overdue]").inner_text()) == len(late)
    assert "待回访的工单（按回访时限" in page.locator("#todo").inner_text()

    line.locator("[data-field=overdue]").click()
    page.wait_for_url("**/orders?role=agent&state=to_visit&sla=overdue")
    rows = page.locator("#orders tr[data-number]")
    assert [r.get_attribute("data-number") for r in rows.all()] == [o["number"] for o in late]
    first = late[0]
    assert rows.first.locator("[data-field=sla]").inner_text() == f"超期（回访时限 {first['visit_due']}）"

    page.goto(f"/orders/{first['number']}?role=agent")
    order = page.locator("#order")
    assert order.locator("[data-field=visit_due]").inner_text() == first["visit_due"]
    assert order.locator("[data-field=sla]").inner_text() == "超期（按回访时限）"


def test_an_order_called_back_keeps_its_deadline_shown_and_the_limit_is_a_local_setting(page, web_server) -> None:  # type: ignore[no-untyped-def]
    visited = [o for o in _listed(web_server, state="archived") if o["visit_due"]]
    assert visited, "the demo's street-lamp order was called back and archived"
    page.goto(f"/orders/{visited[0]['number']}?role=agent")
    assert page.locator("#order [data-field=visit_due]").inner_text() == visited[0]["visit_due"]
    assert "按回访时限" not in page.locator("#order [data-field=sla]").inner_text()  # judged by its answer again

    page.goto("/settings/dispatch?role=admin")
    row = page.locator("#limit-table tr[data-limit='回访']")
    assert "本中心规定" in row.locator("td").first.inner_text()
    assert row.locator("input[name=days]").input_value() == "3"
    assert "回访时限为本中心自行规定" in page.locator("[data-field=limits-note]").inner_text()
