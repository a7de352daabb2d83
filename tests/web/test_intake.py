"""The 受理 page: an agent takes a demand in, with the dispatch helper's advice and the knowledge base's articles
shown beside the form, and may answer it on the spot (直接办结).

The servers get a dispatch model trained on a sample of the shared data (seconds; the full set takes minutes, and
a server without a model would train one on the first advice asked for). Without the shared data the tests that
need advice are skipped, as the dispatch tests are.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hotline import db
from hotline.accounts import service as accounts
from hotline.dispatch import corpus as corpora
from tests import dispatch_sample
from tests.platform_process import Platform

pytestmark = pytest.mark.browser

HOUSING = "我家小区旁边的建筑工地违规施工，渣土车乱倒建筑垃圾，楼房墙体出现裂缝，请住建部门查处。"
CREATED = re.compile(r"^已受理工单 (\d+)，办理期限 (\d{4}-\d{2}-\d{2})$")
ANSWERED = re.compile(r"^已受理并直接办结工单 (\d+)$")
# A 咨询 the demo knowledge base answers (DEMO-003 社保卡丢失如何挂失补办).
SOCIAL_CARD = "来电人的社保卡丢失了，咨询社保卡怎么挂失和补办，需要带什么证件。"


# -- a small dispatch model for the servers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def dispatch_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The models folder of a dispatch model trained on a sample of the shared data."""
    shared = corpora.default_data_dir()
    if not (shared / corpora.LABELLED).is_file():
        pytest.skip(f"shared training data not found at {shared}")
    sample = tmp_path_factory.mktemp("intake-training")
    for name, column, per_class, seed in ((corpora.SEGMENTED, "text_seg", 60, 1), (corpora.LABELLED, "text", 20, 2)):
        dispatch_sample.write(sample / name, column, dispatch_sample.sample(shared / name, column, per_class, seed))
    home = tmp_path_factory.mktemp("intake-model")
    subprocess.run(
        [sys.executable, "-m", "hotline", "dispatch", "train", "--data-dir", str(sample), "--folds", "0"],
        env={**os.environ, "HOTLINE_DATA_DIR": str(home)},
        check=True,
        capture_output=True,
    )
    return home / "models" / "dispatch"


def _install(models: Path, data_dir: Path) -> None:
    """The model as a server's current one (unless it has one): its folder first, the pointer to it last."""
    target = data_dir / "models" / "dispatch"
    if (target / "CURRENT").is_file():
        return
    version = (models / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.copytree(models / version, target / version)
    shutil.copy(models / "CURRENT", target / "CURRENT")


@pytest.fixture(scope="module")
def advice(dispatch_models: Path, web_server: str, web_data_dir: Path) -> str:
    """The shared server, with the dispatch model in place."""
    _install(dispatch_models, web_data_dir)
    return web_server


# -- helpers ----------------------------------------------------------------------------------------------------
def _count(server: str) -> int:
    return len(httpx.get(f"{server}/api/orders", params={"role": "dispatcher", "limit": 1000}).json())


def _percent(x: float) -> str:
    return f"{math.floor(x * 100 + 0.5)}%"  # as the page's Math.round


def _fill(page: Any, *, type: str, region: str, phone: str, content: str, caller: str = "") -> None:
    page.select_option("#intake select[name=type]", type)
    page.select_option("#intake select[name=region]", region)
    page.fill("#intake input[name=caller_name]", caller)
    page.fill("#intake input[name=phone]", phone)
    page.fill("#intake textarea[name=content]", content)  # typed last: the advice is asked with the rest


def _submit(page: Any, finish: str = "register") -> Any:
    """Send the form with 受理 (register) or 直接办结 (direct)."""
    with page.expect_navigation() as sent:
        page.click(f"#intake button[name=finish][value={finish}]")
    return sent.value


def _without_advice(page: Any) -> None:
    # Tests of the knowledge panel do without the dispatch helper (a server without a model would train one).
    page.route("**/api/dispatch/suggest", lambda route: route.abort())


def _created(page: Any) -> tuple[str, str]:
    found = CREATED.match(page.locator("#created").inner_text())
    assert found, page.locator("#created").inner_text()
    assert urlsplit(page.url).path == f"/orders/{found[1]}"
    return found[1], found[2]


# -- the shared server, sign-in off -----------------------------------------------------------------------------
def test_agent_takes_a_demand_in_with_the_advice_beside_it(page, advice) -> None:  # type: ignore[no-untyped-def]
    phone = "13700001001"
    page.goto("/orders?role=agent")
    with page.expect_navigation():
        page.click("#intake-link")
    assert page.locator("h1").inner_text() == "受理工单"
    assert page.locator("#intake select[name=channel]").input_value() == "phone"
    assert page.locator("#advice[data-state=idle]").count() == 1
    _fill(page, type="投诉", region="510100", phone=phone, content=HOUSING, caller="李四")
    page.fill("#intake input[name=actor]", "话务员小周")  # sign-in is off here: who took it is typed

    panel = page.locator("#advice[data-state=shown]")
    panel.wait_for()
    expected = httpx.post(
        f"{advice}/api/dispatch/suggest", json={"text": HOUSING, "region_code": "510100", "phone": phone}
    ).json()
    assert expected["unit"], "the demo catalogue names a unit for every first-level category in 成都市"
    assert panel.locator("[data-field=category]").inner_text() == expected["category"]
    assert panel.locator("[data-field=confidence]").inner_text() == _percent(expected["confidence"])
    assert panel.locator("[data-field=unit]").inner_text() == expected["unit"]["name"]
    assert panel.locator("[data-field=manual]").is_visible() == expected["manual"]
    top3 = panel.locator("[data-field=top3] li")
    assert [top3.nth(i).get_attribute("data-category") for i in range(top3.count())] == [
        r["category"] for r in expected["top3"]
    ]
    assert top3.nth(0).inner_text().endswith(_percent(expected["top3"][0]["confidence"]))

    # The suggestion is copied into 分类 with a click (a first-level name is a prefix of the category tree).
    panel.locator(f"[data-field=top3] button[data-category='{expected['category']}']").click()
    assert page.locator("#intake input[name=category]").input_value() == expected["category"]

    before = _count(advice)
    _submit(page)
    number, due = _created(page)
    assert page.locator("#order [data-field=content]").inner_text() == HOUSING
    assert page.locator("#order [data-field=type]").inner_text() == "投诉"
    assert page.locator("#order [data-field=region]").inner_text() == "成都市"
    assert page.locator("#order [data-field=caller_phone]").inner_text() == phone  # seen as the agent who took it

    stored = httpx.get(f"{advice}/api/orders/{number}", params={"role": "dispatcher"}).json()
    assert (stored["content"], stored["type"], stored["region_code"]) == (HOUSING, "投诉", "510100")
    assert (stored["caller_name"], stored["caller_phone"], stored["channel"]) == ("李四", phone, "phone")
    assert stored["category"] == expected["category"] and stored["due"] == due
    assert stored["state"] == "registered"
    first = stored["history"][0]
    assert (first["action"], first["action_label"], first["role"], first["actor"]) == (
        "create", "受理", "agent", "话务员小周"
    )  # fmt: skip
    assert _count(advice) == before + 1


def test_a_demand_repeating_an_open_order_shows_it_for_merging(page, advice) -> None:  # type: ignore[no-untyped-def]
    phone = "13700001002"
    earlier = httpx.post(
        f"{advice}/api/orders?advice=false",
        json={"type": "投诉", "content": "小区门口工地夜间施工噪音很大，影响休息", "phone": phone, "region": "510100"},
    )
    assert earlier.status_code == 201, earlier.text
    number = earlier.json()["number"]

    page.goto("/orders/new?role=agent")
    _fill(page, type="投诉", region="510100", phone=phone, content="又来反映小区门口工地夜间施工噪音，还是很吵")
    page.locator("#advice[data-state=shown]").wait_for()
    repeat = page.locator(f"#advice [data-field=repeats] li[data-number='{number}']")
    assert "同一来电号码" in repeat.locator("[data-field=why]").inner_text()
    link = urlsplit(repeat.locator("a").get_attribute("href"))
    assert link.path == f"/orders/{number}" and parse_qs(link.query) == {"role": ["agent"]}


def test_bad_input_shows_the_form_again_and_takes_nothing_in(page, web_server) -> None:  # type: ignore[no-untyped-def]
    # The advice failing (here: never answered) shows as unavailable and does not hold the form back.
    page.route("**/api/dispatch/suggest", lambda route: route.abort())
    content = "楼上住户空调外机滴水，多次沟通未果，请协调处理。"
    before = _count(web_server)
    page.goto("/orders/new")
    _fill(page, type="求助", region="510100", phone="12", content=content)
    page.locator("#intake input[name=place]").fill("锦江区某小区")
    unavailable = page.locator("#advice[data-state=unavailable]")
    unavailable.wait_for()
    assert unavailable.locator("[data-field=advice-status]").inner_text().startswith("派单建议暂不可用")

    response = _submit(page)
    assert response.status == 422
    assert urlsplit(page.url).path == "/orders/new"
    alert = page.locator("[role=alert]")
    assert alert.get_attribute("data-code") == "invalid-phone"
    assert alert.inner_text().startswith("电话号码不正确")
    assert page.locator("#intake textarea[name=content]").input_value() == content  # everything typed is kept
    assert page.locator("#intake select[name=type]").input_value() == "求助"
    assert page.locator("#intake input[name=place]").input_value() == "锦江区某小区"
    assert page.locator("#intake input[name=phone]").input_value() == "12"
    assert _count(web_server) == before

    page.fill("#intake textarea[name=content]", "   ")  # passes the browser's own check, not the platform's
    page.fill("#intake input[name=phone]", "13700001003")
    assert _submit(page).status == 422
    assert page.locator("[role=alert]").get_attribute("data-code") == "content-required"
    assert page.locator("[role=alert]").inner_text() == "诉求内容不能为空"
    assert _count(web_server) == before

    page.fill("#intake textarea[name=content]", content)
    _submit(page)
    number, _ = _created(page)
    assert _count(web_server) == before + 1
    assert httpx.get(f"{web_server}/api/orders/{number}").json()["place"] == "锦江区某小区"


def test_an_agent_answers_a_demand_from_the_knowledge_base_and_closes_it_at_once(page, web_server) -> None:  # type: ignore[no-untyped-def]
    _without_advice(page)
    expected = httpx.get(f"{web_server}/api/kb/search", params={"q": SOCIAL_CARD, "top": 3}).json()["results"]
    assert expected and expected[0]["title"] == "社保卡丢失如何挂失补办"
    hit = expected[0]
    article = httpx.get(f"{web_server}/api/kb/articles/{hit['article_id']}").json()
    before = _count(web_server)

    page.goto("/orders/new?role=agent")
    assert page.locator("#kb[data-state=idle]").count() == 1
    assert not page.locator("#intake [data-field=article-note]").is_visible()
    _fill(page, type="咨询", region="510100", phone="13700001011", content=SOCIAL_CARD)
    page.fill("#intake input[name=actor]", "话务员小林")
    kb = page.locator("#kb[data-state=shown]")
    kb.wait_for()
    items = kb.locator("[data-field=kb-hits] li")
    assert [items.nth(i).get_attribute("data-article") for i in range(items.count())] == [
        h["article_id"] for h in expected
    ]
    first = items.nth(0)
    assert first.locator("a").inner_text() == hit["title"]
    assert first.locator(".excerpt mark").count() > 0  # the matched words, marked as on the 知识库 page
    # The title opens the article's own page.
    href = first.locator("a").get_attribute("href")
    assert f'data-article="{hit["article_id"]}"' in httpx.get(f"{web_server}{href}").text

    first.locator("button[data-action=adopt]").click()
    page.locator("#intake [data-field=article-note]").wait_for(state="visible")
    assert page.locator("#intake textarea[name=reply]").input_value() == article["body"]
    assert page.locator("#intake input[name=article]").input_value() == hit["article_id"]
    assert page.locator("#intake [data-field=article-id]").inner_text() == hit["article_id"]

    _submit(page, "direct")
    found = ANSWERED.match(page.locator("#created").inner_text())
    assert found, page.locator("#created").inner_text()
    number = found[1]
    assert urlsplit(page.url).path == f"/orders/{number}"
    assert page.locator("#order [data-field=state]").inner_text() == "待回访"
    assert article["body"] in page.locator("#order").inner_text()
    assert page.locator("#order [data-field=answer_article]").inner_text() == f"知识 {hit['article_id']}"

    stored = httpx.get(f"{web_server}/api/orders/{number}", params={"role": "agent"}).json()
    assert (stored["state"], stored["reply"], stored["answer_article"]) == (
        "to_visit",
        article["body"],
        hit["article_id"],
    )
    assert [(h["action"], h["role"], h["actor"]) for h in stored["history"]] == [
        ("create", "agent", "话务员小林"),
        ("direct_resolve", "agent", "话务员小林"),
    ]
    assert _count(web_server) == before + 1


def test_a_refused_direct_answer_takes_nothing_in_and_keeps_the_form(page, web_server) -> None:  # type: ignore[no-untyped-def]
    _without_advice(page)
    # The knowledge base failing shows as unavailable and holds nothing back.
    page.route("**/api/kb/search**", lambda route: route.abort())
    before = _count(web_server)
    page.goto("/orders/new?role=agent")
    _fill(page, type="咨询", region="510100", phone="13700001012", content=SOCIAL_CARD)
    unavailable = page.locator("#kb[data-state=unavailable]")
    unavailable.wait_for()
    assert unavailable.locator("[data-field=kb-status]").inner_text().startswith("知识库暂不可用")

    response = _submit(page, "direct")  # no reply and no article
    assert response.status == 422
    assert urlsplit(page.url).path == "/orders/new"
    alert = page.locator("[role=alert]")
    assert (alert.get_attribute("data-code"), alert.inner_text()) == ("reply-required", "答复内容不能为空")
    assert page.locator("#intake textarea[name=content]").input_value() == SOCIAL_CARD
    assert page.locator("#intake select[name=type]").input_value() == "咨询"
    assert page.locator("#intake input[name=phone]").input_value() == "13700001012"
    assert _count(web_server) == before  # the order created before the refusal was rolled back with it

    # An article that is not in the knowledge base (typed into the form by hand): refused, all of it kept.
    page.locator("#intake input[name=article]").evaluate("el => { el.value = 'DEMO-999'; }")
    page.fill("#intake textarea[name=reply]", "请携带身份证到社保卡服务网点补办。")
    assert _submit(page, "direct").status == 404
    assert page.locator("[role=alert]").get_attribute("data-code") == "article-not-found"
    assert page.locator("#intake textarea[name=reply]").input_value() == "请携带身份证到社保卡服务网点补办。"
    assert page.locator("#intake input[name=article]").input_value() == "DEMO-999"
    assert page.locator("#intake [data-field=article-id]").inner_text() == "DEMO-999"
    assert _count(web_server) == before

    _submit(page)  # 受理 alone still takes the demand in
    number, _ = _created(page)
    assert httpx.get(f"{web_server}/api/orders/{number}").json()["state"] == "registered"
    assert _count(web_server) == before + 1


def test_direct_answer_only_for_the_roles_that_may_take_it(page, web_server) -> None:  # type: ignore[no-untyped-def]
    _without_advice(page)
    direct = page.locator("#intake button[name=finish][value=direct]")
    page.goto("/orders/new?role=admin")  # an administrator takes demands in but does not answer them
    assert page.locator("#intake select[name=role]").input_value() == "admin"
    assert page.locator("#intake button[name=finish][value=register]").is_visible()
    assert not direct.is_visible()
    assert not page.locator("#intake textarea[name=reply]").is_visible()
    page.select_option("#intake select[name=role]", "dispatcher")
    assert direct.is_visible() and page.locator("#intake textarea[name=reply]").is_visible()

    before = _count(web_server)
    sent = httpx.post(
        f"{web_server}/orders/new",
        data={"type": "咨询", "content": SOCIAL_CARD, "phone": "13700001013", "region": "510100", "role": "admin",
              "finish": "direct", "reply": "请携带身份证到社保卡服务网点补办。"},
    )  # fmt: skip
    assert sent.status_code == 403 and 'data-code="role-not-allowed"' in sent.text
    assert "不能执行「直接办结」" in sent.text  # refused for the answer, not for anything else
    assert _count(web_server) == before


def test_a_call_opens_the_form_filled_and_the_order_keeps_its_call(page, web_server) -> None:  # type: ignore[no-untyped-def]
    _without_advice(page)
    phone = "13700001021"
    # As the softphone opens it on an incoming call (来电弹屏).
    page.goto(f"/orders/new?role=agent&call_id=test-call-1&phone={phone}&line=12345")
    assert page.locator("#intake input[name=phone]").input_value() == phone
    assert page.locator("#intake input[name=line]").input_value() == "12345"
    assert page.locator("#intake [data-field=call-id]").inner_text() == "test-call-1"
    _fill(page, type="求助", region="510100", phone=phone, content="家门口下水道堵塞，污水漫到路面，请尽快疏通。")
    _submit(page)
    number, _ = _created(page)
    stored = httpx.get(f"{web_server}/api/orders/{number}", params={"role": "agent"}).json()
    assert (stored["call_id"], stored["line"], stored["caller_phone"]) == ("test-call-1", "12345", phone)


def test_a_routed_call_fills_its_region_and_line_from_the_call_record(page, web_server) -> None:  # type: ignore[no-untyped-def]
    _without_advice(page)
    phone = "13700001024"
    assert httpx.put(f"{web_server}/telephony/trunks/intake-test", json={"region": "成都市"}).status_code == 200
    routed = httpx.get(
        f"{web_server}/telephony/route",
        params={"dialed": "12345", "caller": phone, "trunk": "intake-test", "callid": "test-call-routed"},
    )
    assert routed.json()["region"] == "510100", routed.text
    assert httpx.get(f"{web_server}/telephony/calls/test-call-routed").status_code == 200  # stored by now
    # The softphone gave the call id and the number only: the rest comes from how the call was routed.
    page.goto(f"/orders/new?role=agent&call_id=test-call-routed&phone={phone}")
    assert page.locator("#intake select[name=region]").input_value() == "510100"
    assert page.locator("#intake input[name=line]").input_value() == "12345"
    # What the softphone says wins over the record.
    page.goto(f"/orders/new?role=agent&call_id=test-call-routed&phone={phone}&line=96345&region=510300")
    assert page.locator("#intake select[name=region]").input_value() == "510300"
    assert page.locator("#intake input[name=line]").input_value() == "96345"


def test_the_callers_earlier_orders_are_listed_beside_the_form(page, web_server) -> None:  # type: ignore[no-untyped-def]
    _without_advice(page)
    phone = "13700001022"
    earlier = []
    demands = (("求助", "小区门口路灯坏了一个月，晚上出行不便"), ("投诉", "又来反映小区门口路灯不亮，一直没人修"))
    for type, content in demands:
        made = httpx.post(
            f"{web_server}/api/orders?advice=false",
            json={"type": type, "content": content, "phone": phone, "region": "510100"},
        )
        assert made.status_code == 201, made.text
        earlier.append(made.json())

    page.goto(f"/orders/new?role=agent&phone={phone}")
    panel = page.locator("#caller-history[data-state=shown]")
    panel.wait_for()
    assert panel.locator("[data-field=history-status]").inner_text() == "共 2 张"
    items = panel.locator("[data-field=history-orders] li")
    latest_first = earlier[::-1]
    assert [items.nth(i).get_attribute("data-number") for i in range(items.count())] == [
        o["number"] for o in latest_first
    ]
    for i, order in enumerate(latest_first):
        item = items.nth(i)
        link = urlsplit(item.locator("a").get_attribute("href"))
        assert link.path == f"/orders/{order['number']}" and parse_qs(link.query) == {"role": ["agent"]}
        text = item.inner_text()
        assert order["created_at"][:10] in text and order["type"] in text and order["content"] in text
        assert item.locator("[data-field=state]").inner_text() == order["state_label"]

    # Another number typed in: its own history, here none.
    page.fill("#intake input[name=phone]", "13700001023")
    empty = page.locator("#caller-history[data-state=empty]")
    empty.wait_for()
    assert empty.locator("[data-field=history-status]").inner_text() == "无历史工单"
    assert not empty.locator("[data-field=history-orders]").is_visible()

    # The list failing says so and holds nothing back.
    page.route(re.compile(r"/api/orders\?"), lambda route: route.abort())
    page.fill("#intake input[name=phone]", phone)
    failed = page.locator("#caller-history[data-state=unavailable]")
    failed.wait_for()
    assert failed.locator("[data-field=history-status]").inner_text().startswith("历史工单暂不可用")
    _fill(page, type="求助", region="510100", phone=phone, content="小区门口路灯还是不亮，第三次反映。")
    _submit(page)
    _created(page)


# -- sign-in on -------------------------------------------------------------------------------------------------
PASSWORD = "Intake2024desk"
AGENT = ("zhou.hm", "周海明", ["agent"])
CLERK = ("wu.jj", "吴建军", ["department"])


@pytest.fixture(scope="module")
def signin_server(own_database: str, dispatch_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("intake-signin")
    _install(dispatch_models, data)
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": own_database}
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([sys.executable, "-m", "hotline", *command], env={**os.environ, **env}, check=True,
                       capture_output=True)  # fmt: skip
    with db.session_scope(own_database) as session:
        accounts.create_account(session, AGENT[0], AGENT[1], AGENT[2], password=PASSWORD)
        accounts.create_account(session, CLERK[0], CLERK[1], CLERK[2], bound_to="510100-zjj", password=PASSWORD)
    platform = Platform({**env, "HOTLINE_AUTH": "on"}, log=data / "server.log")
    platform.start()
    yield platform.url
    platform.stop()


def _signed_in(browser: Any, server: str, login: str, path: str) -> tuple[Any, Any]:
    ctx = browser.new_context(base_url=server, locale="zh-CN")
    pg = ctx.new_page()
    pg.goto(path)
    assert urlsplit(pg.url).path == "/login"
    pg.fill("#login input[name=login]", login)
    pg.fill("#login input[name=password]", PASSWORD)
    with pg.expect_navigation():
        pg.click("#login button[type=submit]")
    return ctx, pg


def test_signed_in_only_the_desk_takes_demands_in(browser, signin_server) -> None:  # type: ignore[no-untyped-def]
    ctx, pg = _signed_in(browser, signin_server, CLERK[0], "/orders")
    try:
        assert urlsplit(pg.url).path == "/orders"
        assert pg.locator("header nav a", has_text="工单").count() == 1
        assert pg.locator("header nav a", has_text="受理工单").count() == 0
        assert pg.locator("#intake-link").count() == 0
        response = pg.goto("/orders/new")
        assert response.status == 403
        assert pg.locator("[role=alert]").get_attribute("data-code") == "role-not-granted"
        assert pg.locator("#intake").count() == 0
    finally:
        ctx.close()

    login, name, _ = AGENT
    ctx, pg = _signed_in(browser, signin_server, login, "/orders/new")
    try:
        assert urlsplit(pg.url).path == "/orders/new"
        assert pg.locator("header nav a", has_text="受理工单").count() == 1
        options = pg.locator("#intake select[name=role] option")
        assert [options.nth(i).get_attribute("value") for i in range(options.count())] == ["agent"]
        _fill(pg, type="投诉", region="510100", phone="13700001004", content=HOUSING)
        # The caller's history is asked for as the account's role, with its session: a first call has none.
        pg.locator("#caller-history[data-state=empty]").wait_for()
        # The page's own request carries the session cookie and its origin: the guard lets it through.
        pg.locator("#advice[data-state=shown]").wait_for()
        assert pg.locator("#advice [data-field=unit]").inner_text()
        _submit(pg)  # sent from the page itself, so the browser sets Origin
        _created(pg)
        intake = pg.locator("#history tr").nth(1)
        assert "受理" in intake.inner_text()
        assert intake.locator("td").nth(3).inner_text() == f"{name}（{login}）"
        assert intake.locator("td").nth(4).inner_text() == "话务员"
        assert pg.locator("#order [data-field=content]").inner_text() == HOUSING
    finally:
        ctx.close()
