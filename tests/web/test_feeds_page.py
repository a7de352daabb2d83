"""数据汇聚 pages: which sub-centres and city centres are feeding data now, and one source's KPIs and refusals.

The server's `hotline demo load` fed 12366 (40 calls today, 36 of them answered, 10 work orders),
12360 and 510100 moments before these tests; every other source has sent nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.aggregation.domain import LATE_WITHIN, LIVE_WITHIN
from hotline.errors import HotlineError
from hotline.timeutil import CHINA_TZ, now
from hotline.workers import STATUS_FILE, Board, Worker

pytestmark = pytest.mark.browser

SUBCENTRES = {"12360", "12366", "12313", "12367", "12305"}
DEMO_CALLS, DEMO_ANSWERED = 40, 36  # 12366 in aggregation.service.load_demo


def _source(web_server: str, code: str) -> dict[str, Any]:
    feeds = httpx.get(f"{web_server}/api/feeds").json()
    return {"today": feeds["today"], **next(s for s in feeds["sources"] if s["code"] == code)}


def test_overview_lists_every_source_and_its_connection(page, web_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_role("link", name="数据汇聚").click()
    page.wait_for_url("**/feeds")
    assert page.locator("h1").inner_text() == "数据汇聚"

    subcentres = page.locator("#feeds-table tr[data-kind=subcentre]")
    assert {subcentres.nth(i).get_attribute("data-source") for i in range(subcentres.count())} == SUBCENTRES
    assert subcentres.count() == 5
    cities = page.locator("#feeds-table tr[data-kind=city]")
    assert cities.count() == 21
    chengdu = page.locator("tr[data-source='510100']")
    assert "成都市" in chengdu.locator("[data-field=name]").inner_text()
    assert chengdu.locator("[data-field=kind]").inner_text() == "市（州）热线"
    assert chengdu.locator("[data-field=milestone]").inner_text() == "—"  # the plan's milestone is a sub-centre's

    rule = page.locator("#freshness-rule").inner_text()
    assert f"{LIVE_WITHIN.seconds // 60} 分钟内为实时" in rule
    assert f"{LATE_WITHIN.seconds // 60} 分钟内为延迟" in rule

    # 12366 fed moments ago: live, with today's calls and its connection rate.
    state = _source(web_server, "12366")
    row = page.locator("tr[data-source='12366']")
    fresh = row.locator("[data-field=freshness]")
    assert fresh.inner_text() == "实时"
    assert "state-done" in (fresh.get_attribute("class") or "")
    assert row.locator("[data-field=calls_today]").inner_text() == str(DEMO_CALLS)
    assert row.locator("[data-field=connection_rate_today]").inner_text() == f"{DEMO_ANSWERED / DEMO_CALLS:.2%}"
    seen = datetime.strptime(row.locator("[data-field=last_seen_at]").inner_text(), "%Y-%m-%d %H:%M")
    assert abs(seen.replace(tzinfo=CHINA_TZ) - now()) < timedelta(minutes=10)  # China time, not UTC
    milestone = row.locator("[data-field=milestone]").inner_text()
    assert milestone.startswith("数据实时归集：")
    assert state["milestone"]["effective_date"] in milestone
    assert state["milestone"]["status_label"] in milestone

    # 12367 has never sent anything.
    never = page.locator("tr[data-source='12367']")
    fresh = never.locator("[data-field=freshness]")
    assert fresh.inner_text() == "未接入"
    assert "state-overdue" in (fresh.get_attribute("class") or "")
    assert never.locator("[data-field=last_seen_at]").inner_text() == "—"
    assert never.locator("[data-field=calls_today]").inner_text() == "0"
    assert never.locator("[data-field=connection_rate_today]").inner_text() == "—"


def test_source_page_shows_its_kpis_and_the_batches_it_refused(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/feeds")
    refused_before = int(page.locator("tr[data-source='12366'] [data-field=rejected]").inner_text())
    page.click("tr[data-source='12366'] [data-field=name] a")
    page.wait_for_url("**/feeds/12366")
    assert "12366" in page.locator("h1").inner_text()
    # The last 30 days hold the whole demo batch: 36 of 40 calls answered; 3 orders resolved, all on time.
    assert page.locator("#call-kpis [data-kpi=connection_rate]").inner_text() == "90.00%"
    assert page.locator("#call-kpis [data-kpi=offered]").inner_text() == "40"
    assert "受理工单 10 件" in page.get_by_role("heading", name=re.compile("工单指标")).inner_text()
    on_time = page.locator("#order-kpis [data-kpi=on_time_resolve]").inner_text()
    assert "100.00%" in on_time
    assert "3 / 3" in on_time

    # A batch with one bad record (the third has no start time) is refused as a whole.
    moment = now().isoformat()
    good = {"kind": "call", "started_at": moment, "answered_at": moment}
    batch = [{**good, "id": "WEB-OK-1"}, {**good, "id": "WEB-OK-2"}, {"kind": "call", "id": "WEB-BAD-3"}]
    response = page.request.post("/api/feeds/12366", data={"records": batch})
    assert response.status == 422
    body = response.json()
    assert body["code"] == "feed-invalid"
    assert body["message"].startswith("第 3 条记录有误：呼入时间")

    page.reload()
    assert page.locator("#call-kpis [data-kpi=offered]").inner_text() == "40"  # nothing of it was kept
    latest = page.locator("#rejections tr[data-code]").first
    assert latest.locator("[data-field=transport]").inner_text() == "接口"
    assert latest.locator("[data-field=code]").inner_text() == "feed-invalid"
    assert latest.locator("[data-field=message]").inner_text() == body["message"]
    received = datetime.strptime(latest.locator("[data-field=received_at]").inner_text(), "%Y-%m-%d %H:%M")
    assert abs(received.replace(tzinfo=CHINA_TZ) - now()) < timedelta(minutes=2)  # China time, not UTC

    page.goto("/feeds")
    refused = page.locator("tr[data-source='12366'] [data-field=rejected]")
    assert int(refused.inner_text()) == refused_before + 1


def test_unknown_source_shows_the_error_page(page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto("/feeds/99999")
    assert response.status == 404
    assert page.locator("[role=alert]").get_attribute("data-code") == "feed-source-not-found"
    assert page.locator("#call-kpis").count() == 0


@pytest.fixture
def queue_status(web_data_dir: Path) -> Iterator[Path]:
    """The queue workers' status file the server reads (removed afterwards: the other tests see none)."""
    path = web_data_dir / STATUS_FILE
    yield path
    path.unlink(missing_ok=True)


def test_the_page_says_first_when_the_platform_stops_receiving_from_the_queue(page, queue_status: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto("/feeds")
    # The test server is uvicorn alone, not `hotline serve`: no queue workers run beside it.
    feeds = page.locator("#queue-workers [data-worker=feeds]")
    assert feeds.get_attribute("data-state") == "down"
    assert feeds.inner_text().startswith("消息队列接收未运行（未检测到工作进程），各来源经消息队列报送的数据暂未入库")

    async def idle(stop: asyncio.Event) -> None:
        await stop.wait()

    # As the workers' process writes it (this test's process standing in for it, alive): the queue went away.
    board = Board([Worker("feeds", "分中心数据接收", idle), Worker("push", "工单事件推送", idle)],
                  url="nats://feeder:s3cret@10.0.0.5:4222", path=queue_status, tell=lambda _line: None)  # fmt: skip
    board.running("push")
    board.failed("feeds", HotlineError("无法连接消息队列 nats://feeder:s3cret@10.0.0.5:4222：no servers", code="x"))
    since = {name: w["since"][11:16] for name, w in json.loads(queue_status.read_text("utf-8"))["workers"].items()}

    page.reload()
    feeds = page.locator("#queue-workers [data-worker=feeds]")
    assert feeds.get_attribute("data-state") == "waiting"
    assert feeds.get_attribute("role") == "alert"
    assert feeds.inner_text() == (
        f"消息队列接收中断（自 {since['feeds']} 起：无法连接消息队列 nats://feeder:***@10.0.0.5:4222：no servers），"
        "各来源经消息队列报送的数据暂未入库（已进入队列的数据在恢复后自动入库）；HTTP 和文件报送不受影响"
    )
    push = page.locator("#queue-workers [data-worker=push]")
    assert push.inner_text() == f"工单事件推送：正常（自 {since['push']} 起）"
    assert push.get_attribute("role") is None
    assert page.locator("#queue-workers-hint").inner_text() == "请告知系统管理员。"
    assert "s3cret" not in page.content()
    page.goto("/")  # the overview says it too, above the sources' counts
    assert (
        page.locator("#feed-summary [role=alert]").inner_text().startswith(f"消息队列接收中断（自 {since['feeds']} 起")
    )

    board.running("feeds")
    page.goto("/feeds")
    assert page.locator("#queue-workers [data-worker=feeds]").inner_text().startswith("消息队列接收：正常（自 ")
    assert page.locator("#queue-workers [role=alert]").count() == 0
    assert page.locator("#queue-workers-hint").count() == 0
    page.goto("/")
    assert page.locator("#feed-summary [role=alert]").count() == 0
