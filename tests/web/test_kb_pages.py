"""The knowledge pages: an article in full with its versions and 纠错, and the supervisors' writing, editing,
lifecycle and review forms (web.kb_pages). Browser tests on the shared demo server (sign-in off, the role named
by `role`) create their own articles, so the demo articles other tests search stay as they are; the last test
runs in process with sign-in on."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer

browser = pytest.mark.browser


def _article(web_server: str, title: str, body: str, *, status: str = "published", **fields: Any) -> dict[str, Any]:
    """An article of the test's own, through the API (created as it stands: published by default)."""
    res = httpx.post(
        f"{web_server}/api/kb/articles",
        json={"title": title, "body": body, "status": status, "actor": "测试编辑", **fields},
    )
    assert res.status_code == 201, res.text
    return dict(res.json())


def _found(web_server: str, query: str) -> list[str]:
    """External ids /api/kb/search finds (published and valid today only, its default)."""
    res = httpx.get(f"{web_server}/api/kb/search", params={"q": query, "top": 20})
    return [h["article_id"] for h in res.json()["results"]]


def _open_flags(web_server: str, article_id: int) -> list[dict[str, Any]]:
    flags = httpx.get(f"{web_server}/api/kb/flags").json()["flags"]
    return [f for f in flags if f["article_id"] == article_id]


def _status(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator("#article [data-field=status]").inner_text())


@browser
def test_an_agent_reads_an_article_from_a_search_hit_and_reports_a_mistake(page, web_server) -> None:  # type: ignore[no-untyped-def]
    body = "绿道骑行驿站每日开放。\n开放时间：8:00—20:00\n<b>节假日</b>照常开放"
    art = _article(web_server, "锦城绿道骑行驿站开放时间", body, owner_unit="市公园城市局", lines=["12345"])

    page.goto("/kb?role=agent")
    page.fill("input[name=q]", "绿道骑行驿站几点开放")
    page.click("button[type=submit]")
    page.locator(f'#hits article[data-article="{art["external_id"]}"] h3 a').click()
    page.wait_for_url(f"**/kb/articles/{art['external_id']}?*")

    shown = page.locator("#article")
    assert shown.get_attribute("data-article") == art["external_id"]
    # The whole body as written: its line breaks kept, markup shown as text, not obeyed.
    assert shown.locator("[data-field=body]").inner_text() == body
    assert shown.locator("[data-field=body] b").count() == 0
    assert _status(page) == "已发布"
    assert shown.locator("[data-field=owner_unit]").inner_text() == "市公园城市局"
    assert shown.locator("[data-field=lines]").inner_text() == "12345"
    assert page.locator("#versions tr[data-version]").count() == 1
    # An agent reads and reports: nothing to edit, move or review.
    assert page.locator("#manage").count() == 0 and page.locator("[data-action=edit]").count() == 0
    assert page.locator("form[action^='/kb/flags/']").count() == 0

    page.fill("#flag input[name=actor]", "话务员小周")
    page.click("#flag button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("请填写纠错内容")
    assert page.locator("#flag input[name=actor]").input_value() == "话务员小周"  # what was typed stays
    assert _open_flags(web_server, art["id"]) == []

    page.fill("#flag textarea[name=reason]", "节假日开放时间已改为 9:00—18:00")
    page.click("#flag button[type=submit]")
    assert page.locator("[data-field=done]").inner_text() == "已提交纠错，等待审核"
    assert "节假日开放时间已改为" in page.locator("#flags [data-field=comment]").inner_text()
    [flag] = _open_flags(web_server, art["id"])
    assert (flag["kind"], flag["agent"], flag["comment"]) == (
        "outdated",
        "话务员小周",
        "节假日开放时间已改为 9:00—18:00",
    )
    assert flag["review_due"]


@browser
def test_an_agent_may_not_write_articles(page, web_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kb?role=agent")
    assert page.locator("[data-action=new-article]").count() == 0
    res = page.goto("/kb/new?role=agent")
    assert res.status == 403 and page.locator("#article-form").count() == 0
    assert "不能执行此操作" in page.locator("[role=alert]").inner_text()

    external = f"AGENT-{uuid.uuid4().hex[:8]}"
    refused = httpx.post(
        f"{web_server}/kb/new",
        data={"title": "不应写入", "body": "座席不能新建知识", "external_id": external, "role": "agent"},
    )
    assert refused.status_code == 403
    assert httpx.get(f"{web_server}/api/kb/articles/{external}").status_code == 404
    art = _article(web_server, "座席不能改的知识", "原文")
    for path, data in (("edit", {"body": "改过"}), ("status", {"status": "withdrawn"})):
        res = httpx.post(f"{web_server}/kb/articles/{art['id']}/{path}", data={**data, "role": "agent"})
        assert res.status_code == 403, path
    after = httpx.get(f"{web_server}/api/kb/articles/{art['id']}").json()
    assert (after["body"], after["status"], after["version"]) == ("原文", "published", 1)


@browser
def test_a_supervisor_writes_publishes_edits_and_withdraws_an_article(page, web_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kb?role=supervisor")
    page.click("[data-action=new-article]")
    form = page.locator("#article-form")
    form.locator("input[name=title]").fill("青少年天文观测营报名方式")
    form.locator("textarea[name=body]").fill("天文观测营每年暑期举办。\n报名请登录科技馆官网。")
    form.locator("input[name=category]").fill("文化教育")
    form.locator("input[name=owner_unit]").fill("市科协")
    form.locator("input[name=lines]").fill("12345、12355")
    form.locator("input[name=regions]").fill("510100、自贡市")
    form.locator("input[name=keywords]").fill("天文 观测营")
    form.locator("input[name=expires_on]").fill("2020-01-01")
    form.locator("input[name=effective_from]").fill("2021-01-01")
    form.locator("button[type=submit]").click()
    # The service's refusal, with everything typed kept.
    assert page.locator("[role=alert]").inner_text() == "失效日期不能早于生效日期"
    assert form.locator("textarea[name=body]").input_value() == "天文观测营每年暑期举办。\n报名请登录科技馆官网。"
    assert form.locator("input[name=lines]").input_value() == "12345、12355"
    form.locator("input[name=expires_on]").fill("")
    form.locator("button[type=submit]").click()

    assert page.locator("[data-field=done]").inner_text().startswith("已新建知识")
    key = page.locator("#article").get_attribute("data-article")
    assert key and urlsplit(page.url).path == f"/kb/articles/{key}"
    assert _status(page) == "草稿"
    assert page.locator("#article [data-field=lines]").inner_text() == "12345、12355"
    assert page.locator("#article [data-field=regions]").inner_text() == "成都市、自贡市"  # names, as typed or not
    assert page.locator("#article [data-field=updated]").inner_text().startswith("督办审核员")
    assert key not in _found(web_server, "天文观测营报名")  # a draft is not found

    page.click("#manage button[data-status=review]")
    assert _status(page) == "待审核"
    page.click("#manage button[data-status=published]")
    assert page.locator("[data-field=done]").inner_text() == "知识状态已改为“已发布”"
    assert _status(page) == "已发布"
    assert key in _found(web_server, "天文观测营报名")

    page.click("[data-action=edit]")
    form.locator("textarea[name=body]").fill("天文观测营每年寒暑假举办。\n报名请拨打科技馆咨询电话预约。")
    form.locator("input[name=note]").fill("增加寒假营期")
    form.locator("button[type=submit]").click()
    assert page.locator("[data-field=done]").inner_text() == "已保存修改（第 4 版）"
    assert _status(page) == "已发布"  # an edit keeps the status
    latest = page.locator("#versions tr[data-version]").first
    assert latest.get_attribute("data-version") == "4"
    assert latest.locator("[data-field=fields]").inner_text() == "正文"
    assert latest.locator("[data-field=note]").inner_text() == "增加寒假营期"
    assert page.locator("#versions tr[data-version]").count() == 4
    assert key in _found(web_server, "寒暑假科技馆咨询电话预约")

    page.click("[data-action=edit]")
    form.locator("button[type=submit]").click()  # nothing changed: no version
    assert page.locator("[data-field=done]").inner_text() == "内容没有变化，未生成新版本"
    assert page.locator("#versions tr[data-version]").count() == 4

    page.click("#manage button[data-status=withdrawn]")
    assert _status(page) == "已撤回"
    assert key not in _found(web_server, "天文观测营报名")
    assert key not in _found(web_server, "寒暑假科技馆咨询电话预约")
    assert page.locator("#manage button[data-status=published]").count() == 0  # withdrawn → draft only
    assert page.locator("#manage button[data-status=draft]").count() == 1


@browser
def test_a_stale_edit_form_does_not_overwrite_a_newer_version_unawares(page, web_server) -> None:  # type: ignore[no-untyped-def]
    art = _article(web_server, "社区食堂助餐补贴标准", "老年人助餐每餐补贴 3 元。")
    page.goto(f"/kb/articles/{art['external_id']}/edit?role=supervisor")
    form = page.locator("#article-form")
    form.locator("textarea[name=body]").fill("老年人助餐每餐补贴 4 元。")
    # Meanwhile someone else saves a change through the API.
    res = httpx.patch(
        f"{web_server}/api/kb/articles/{art['id']}", json={"body": "老年人助餐每餐补贴 5 元。", "actor": "另一位审核员"}
    )
    assert res.json()["version"] == 2
    form.locator("button[type=submit]").click()

    alert = page.locator("[role=alert]")
    assert alert.get_attribute("data-code") == "stale-version"
    assert "已被他人修改" in alert.inner_text() and "将覆盖第 2 版" in alert.inner_text()
    assert form.locator("textarea[name=body]").input_value() == "老年人助餐每餐补贴 4 元。"
    assert httpx.get(f"{web_server}/api/kb/articles/{art['id']}").json()["body"] == "老年人助餐每餐补贴 5 元。"

    form.locator("button[type=submit]").click()  # saving again, having been told, overwrites version 2
    assert page.locator("[data-field=done]").inner_text() == "已保存修改（第 3 版）"
    assert httpx.get(f"{web_server}/api/kb/articles/{art['id']}").json()["body"] == "老年人助餐每餐补贴 4 元。"

    # A status button of a page shown before a change is refused the same way.
    httpx.patch(f"{web_server}/api/kb/articles/{art['id']}", json={"category": "民政", "actor": "另一位审核员"})
    page.click("#manage button[data-status=withdrawn]")
    assert page.locator("[role=alert]").get_attribute("data-code") == "stale-version"
    assert _status(page) == "已发布" and page.locator("#article [data-field=version]").inner_text() == "第 4 版"


@browser
def test_a_supervisor_reviews_an_agents_correction(page, web_server) -> None:  # type: ignore[no-untyped-def]
    art = _article(web_server, "公共自行车押金退还", "押金在还车后 7 个工作日内退还。")
    page.goto(f"/kb/articles/{art['external_id']}?role=agent")
    page.fill("#flag textarea[name=reason]", "现已免押金，无需退还")
    page.click("#flag button[type=submit]")
    [flag] = _open_flags(web_server, art["id"])

    page.goto(f"/kb/articles/{art['external_id']}?role=supervisor")
    item = page.locator(f"#flags [data-flag='{flag['id']}']")
    assert "现已免押金" in item.inner_text()
    item.locator("select[name=resolution]").select_option("withdrawn")
    item.locator("input[name=note]").fill("政策已调整，撤回待重写")
    item.locator("button[type=submit]").click()

    assert page.locator("[data-field=done]").inner_text() == "纠错已处理"
    assert page.locator("#flags [data-field=no-flags]").count() == 1
    assert _open_flags(web_server, art["id"]) == []
    assert _status(page) == "已撤回"  # the service's withdrawn resolution withdraws the article
    assert (
        page.locator("#versions tr[data-version]").first.locator("[data-field=note]").inner_text()
        == "政策已调整，撤回待重写"
    )

    # The same flag reviewed again from a page shown before: the service's refusal, on the article's page.
    res = httpx.post(
        f"{web_server}/kb/flags/{flag['id']}/review",
        data={"resolution": "confirmed", "role": "supervisor", "article": art["external_id"]},
    )
    assert res.status_code == 409 and "该标记已处理" in res.text and 'id="article"' in res.text


@browser
def test_a_supervisor_finds_a_submitted_article_in_the_maintenance_queue_and_publishes_it(page, web_server) -> None:  # type: ignore[no-untyped-def]
    art = _article(web_server, "社区食堂就餐补贴", "六十岁以上老人凭社保卡就餐享受补贴。", status="review")
    page.goto("/kb?role=supervisor")
    page.click("[data-action=manage]")
    page.wait_for_url("**/kb/manage?role=supervisor")
    row = page.locator(f"#review tr[data-article='{art['external_id']}']")
    assert row.locator("[data-field=title]").inner_text() == "社区食堂就餐补贴"
    row.locator("[data-field=title]").click()
    page.wait_for_url(f"**/kb/articles/{art['external_id']}?*")
    assert _status(page) == "待审核"
    page.click("#manage button[data-status=published]")
    assert _status(page) == "已发布"
    page.goto("/kb/manage?role=supervisor")
    assert page.locator(f"#review tr[data-article='{art['external_id']}']").count() == 0  # nothing left to do


# -- sign-in on, in process ------------------------------------------------------------------------------------------
@pytest.fixture
def signed_in_client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from hotline.app import create_app

    monkeypatch.setenv("HOTLINE_AUTH", "on")
    yield TestClient(create_app(), follow_redirects=False)


def test_with_sign_in_only_managers_write_and_the_account_is_recorded(signed_in_client: TestClient) -> None:
    client = signed_in_client
    agent, supervisor = bearer("zhoujing", ["agent"]), bearer("wangfang", ["supervisor"])
    article = {"title": "路灯报修", "body": "路灯不亮请说明位置", "external_id": "LD-1"}

    refused = client.post("/kb/new", data=article, headers=agent)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert client.get("/kb/new", headers=agent).status_code == 403
    # Naming a role the account lacks does not help either.
    assert client.post("/kb/new", data={**article, "role": "supervisor"}, headers=agent).status_code == 403

    created = client.post("/kb/new", data={**article, "actor": "随便写的名字"}, headers=supervisor)
    assert created.status_code == 303 and created.headers["location"].startswith("/kb/articles/LD-1?")
    stored = client.get("/api/kb/articles/LD-1", headers=agent).json()
    assert stored["updated_by"] == "wangfang（wangfang）"  # the account, not a typed name

    as_agent = client.get("/kb/articles/LD-1", headers=agent)
    assert as_agent.status_code == 200 and 'id="flag"' in as_agent.text
    assert 'data-action="edit"' not in as_agent.text and "/status?" not in as_agent.text
    as_supervisor = client.get("/kb/articles/LD-1", headers=supervisor).text
    assert 'data-action="edit"' in as_supervisor and 'data-status="review"' in as_supervisor
    assert "新建知识" in client.get("/kb", headers=supervisor).text
    assert "新建知识" not in client.get("/kb", headers=agent).text

    flagged = client.post("/kb/articles/LD-1/flag", data={"reason": "报修电话已变更"}, headers=agent)
    assert flagged.status_code == 303
    [flag] = client.get("/api/kb/flags", headers=agent).json()["flags"]
    assert flag["agent"] == "zhoujing（zhoujing）"
    assert (
        client.post(f"/kb/flags/{flag['id']}/review", data={"resolution": "confirmed"}, headers=agent).status_code
        == 403
    )
    reviewed = client.post(f"/kb/flags/{flag['id']}/review", data={"resolution": "confirmed"}, headers=supervisor)
    assert reviewed.status_code == 303
    assert client.get("/api/kb/flags", headers=agent).json()["flags"] == []


def _usage(html: str, field: str) -> str:
    found = re.search(rf'data-field="{field}">([^<]*)<', html)
    return found.group(1) if found else ""


def test_agents_mark_an_article_useful_once_per_version_and_see_its_use(signed_in_client: TestClient) -> None:
    client = signed_in_client
    supervisor = bearer("wangfang", ["supervisor"])
    zhou, li = bearer("zhoujing", ["agent"]), bearer("lina", ["agent"])
    body = {
        "title": "公积金提取",
        "body": "带身份证到网点办理",
        "status": "published",
        "external_id": "GJJ-9",
        "actor": "-",
    }
    assert client.post("/api/kb/articles", json=body, headers=supervisor).status_code == 201

    page = client.get("/kb/articles/GJJ-9", headers=zhou).text
    assert _usage(page, "useful") == "有用 0 次（本版 0 次）" and 'id="useful"' in page
    assert _usage(page, "cited") == "作为答复依据 0 张工单"
    for agent in (zhou, li):
        assert client.post("/kb/articles/GJJ-9/useful", data={}, headers=agent).status_code == 303
    page = client.get("/kb/articles/GJJ-9", headers=zhou).text
    assert _usage(page, "useful") == "有用 2 次（本版 2 次）"
    assert _usage(page, "marked") == "您已标记本版有用" and 'id="useful"' not in page

    again = client.post("/kb/articles/GJJ-9/useful", data={}, headers=zhou)  # a second click, an old tab
    assert again.status_code == 409 and "已标记过本知识第 1 版有用" in again.text
    assert _usage(again.text, "useful") == "有用 2 次（本版 2 次）"  # nothing more recorded

    edited = client.patch(
        "/api/kb/articles/GJJ-9", json={"body": "带身份证和银行卡到网点办理", "actor": "-"}, headers=supervisor
    )
    assert edited.status_code == 200, edited.text
    page = client.get("/kb/articles/GJJ-9", headers=zhou).text
    assert _usage(page, "useful") == "有用 2 次（本版 0 次）" and 'id="useful"' in page  # a new text to judge

    order = client.post(
        "/api/orders",
        params={"advice": "false"},  # no dispatch model is trained for this test
        json={"type": "咨询", "content": "公积金怎么提取", "phone": "13700001111", "region": "510100"},
        headers=zhou,
    )
    assert order.status_code == 201, order.text
    answered = client.post(
        f"/api/orders/{order.json()['number']}/actions/direct_resolve", json={"article": "GJJ-9"}, headers=zhou
    )
    assert answered.status_code == 200, answered.text
    assert _usage(client.get("/kb/articles/GJJ-9", headers=li).text, "cited") == "作为答复依据 1 张工单"
    # Agents answer from published text only: a draft has no 有用 to give.
    draft = {"title": "草稿", "body": "未定", "external_id": "GJJ-10", "actor": "-"}
    assert client.post("/api/kb/articles", json=draft, headers=supervisor).status_code == 201
    assert 'id="useful"' not in client.get("/kb/articles/GJJ-10", headers=zhou).text


# -- 知识维护 and the knowledge lines of 我的待办 (sign-in on, in process) ---------------------------------------------
def _section(html: str, section: str) -> str:
    found = re.search(rf'<section class="card" id="{section}"[^>]*>(.*?)</section>', html, re.S)
    assert found, f"no section {section}"
    return found.group(1)


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr {attribute}="([^"]+)"', html)


def _overdue_yesterday(flag_id: int) -> None:
    """The flag was raised earlier and its review deadline passed yesterday."""
    from datetime import timedelta

    from hotline.db import session_scope
    from hotline.knowledge.store import ArticleFlag
    from hotline.timeutil import china_day, now

    with session_scope() as session:
        flag = session.get(ArticleFlag, flag_id)
        assert flag is not None
        flag.review_due = china_day(now()) - timedelta(days=1)


def _maintenance_work(client: TestClient, supervisor: dict[str, str], agent: dict[str, str]) -> dict[str, Any]:
    """An article submitted for review, a draft, one published article expiring in 5 days and one past its expiry
    date, and two 纠错 on a published article (one past its deadline)."""
    from datetime import timedelta

    from hotline.timeutil import china_day, now

    today = china_day(now())
    made: dict[str, Any] = {}
    for name, status, extra in (
        ("review", "review", {"title": "门诊报销比例", "owner_unit": "市医保局"}),
        ("draft", "draft", {"title": "电动车充电桩", "owner_unit": "市住建局"}),
        ("soon", "published", {"title": "暑期托管", "expires_on": (today + timedelta(days=5)).isoformat()}),
        ("lapsed", "published", {"title": "旧补贴", "expires_on": (today - timedelta(days=1)).isoformat()}),
        ("flagged", "published", {"title": "燃气报修电话", "owner_unit": "市燃气公司"}),
    ):
        body = {"body": f"{extra['title']}的说明", "status": status, "external_id": f"M-{name}", "actor": "-", **extra}
        res = client.post("/api/kb/articles", json=body, headers=supervisor)
        assert res.status_code == 201, res.text
        made[name] = res.json()
    for reason in ("报修电话已改为 96777", "夜间电话有误"):
        res = client.post("/kb/articles/M-flagged/flag", data={"reason": reason}, headers=agent)
        assert res.status_code == 303
    flags = client.get("/api/kb/flags", headers=agent).json()["flags"]
    made["flags"] = [f["id"] for f in flags]
    _overdue_yesterday(flags[-1]["id"])
    return made


def test_the_knowledge_managers_see_what_waits_on_them_and_others_are_refused(signed_in_client: TestClient) -> None:
    client = signed_in_client
    supervisor, agent = bearer("wangfang", ["supervisor"]), bearer("zhoujing", ["agent"])
    dispatcher = bearer("lihua", ["dispatcher"])
    made = _maintenance_work(client, supervisor, agent)

    for refused in (agent, dispatcher):
        res = client.get("/kb/manage", headers=refused)
        assert res.status_code == 403 and res.headers["content-type"].startswith("text/html")
        assert 'id="review"' not in res.text and "门诊报销比例" not in res.text
        assert client.get("/api/kb/queue", headers=refused).status_code == 403
    assert 'data-action="manage"' not in client.get("/kb", headers=agent).text
    assert 'href="/kb/manage?role=supervisor"' in client.get("/kb", headers=supervisor).text

    page = client.get("/kb/manage", headers=supervisor)
    assert page.status_code == 200
    html = page.text
    review = _section(html, "review")
    assert 'data-field="count">1<' in review and _rows(review, "data-article") == ["M-review"]
    assert 'href="/kb/articles/M-review?role=supervisor"' in review  # each row opens its article
    flags = _section(html, "flags")
    assert 'data-field="count">2<' in flags and 'data-field="overdue">1<' in flags
    first, later = made["flags"]
    assert _rows(flags, "data-flag") == [str(later), str(first)]  # oldest deadline first: the later one is overdue
    assert flags.count(">超期<") == 1 and "燃气报修电话" in flags and "报修电话已改为 96777" in flags
    assert 'href="/kb/articles/M-flagged?role=supervisor#flags"' in flags
    # The article's own page calls the passed review deadline as the queue does.
    flagged = client.get("/kb/articles/M-flagged", headers=supervisor).text
    assert flagged.count("（超期）") == 1 and "逾期" not in flagged
    expiring = _section(html, "expiring")
    assert _rows(expiring, "data-article") == ["M-lapsed", "M-soon"]
    assert "已过期，仍为已发布" in expiring and ">5 天<" in expiring
    assert _rows(_section(html, "drafts"), "data-article") == ["M-draft"]

    # One unit's own: the others' rows are gone, and each empty section says so.
    own = client.get("/kb/manage", params={"unit": "市住建局"}, headers=supervisor).text
    assert _rows(_section(own, "drafts"), "data-article") == ["M-draft"]
    assert "没有待审核的知识。" in own and "没有待核实的纠错。" in own and "30 天内没有到期的已发布知识。" in own

    queue = client.get("/api/kb/queue", headers=supervisor).json()
    assert [a["external_id"] for a in queue["review"]] == ["M-review"]
    assert [(f["article_external_id"], f["overdue"]) for f in queue["flags"]] == [
        ("M-flagged", True),
        ("M-flagged", False),
    ]
    assert queue["overdue_flags"] == 1 and [a["external_id"] for a in queue["expired"]] == ["M-lapsed"]


def test_the_overview_to_do_of_supervisors_and_administrators_counts_knowledge_work(
    signed_in_client: TestClient,
) -> None:
    client = signed_in_client
    supervisor, agent = bearer("wangfang", ["supervisor"]), bearer("zhoujing", ["agent"])
    admin = bearer("admin", ["admin"])
    _maintenance_work(client, supervisor, agent)

    for headers, role in ((supervisor, "supervisor"), (admin, "admin")):
        html = client.get("/", headers=headers).text
        card = _section(html, "todo")
        review = re.search(r'<tr data-kb="review">(.*?)</tr>', card, re.S)
        flags = re.search(r'<tr data-kb="flags">(.*?)</tr>', card, re.S)
        assert review and flags, role
        assert f'href="/kb/manage?role={role}#review">1</a>' in review.group(1)
        assert f'data-field="count" href="/kb/manage?role={role}#flags">2</a>' in flags.group(1)
        assert 'data-field="overdue"' in flags.group(1) and ">1</a>" in flags.group(1)
        assert 'data-state="' in card  # the order lines are still there
    # An agent's to-do is its 待回访: the knowledge base's maintenance is not its work.
    html = client.get("/", headers=agent).text
    assert 'data-state="to_visit"' in html and "data-kb=" not in html
