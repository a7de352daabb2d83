"""The 热点诉求 page (web.hotspots_page), in process (SQLite and PostgreSQL): the period's categories with 环比 and
links to their orders, the rising ones highlighted, keywords with example orders, places; the default period,
bad input said on the page, and who may open it once sign-in is on."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app
from hotline.timeutil import china_day, now
from tests.conftest import bearer
from tests.supervision.test_service import units as units  # the fixtures: units, then a week of orders
from tests.supervision.test_service_hotspots import week as week

PERIOD = {"since": "2021-06-01", "until": "2021-06-07"}


def _rows(html: str, table: str, key: str) -> dict[str, dict[str, Any]]:
    """Each row of TABLE (its id) by its KEY attribute: the row's class, and each `data-field` cell's text and
    links."""
    if f'id="{table}"' not in html:
        return {}
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    rows: dict[str, dict[str, Any]] = {}
    for attrs, cells in re.findall(r"<tr ([^>]*)>(.*?)</tr>", body, flags=re.S):
        found = re.search(rf'{key}="([^"]*)"', attrs)
        if not found:
            continue
        row: dict[str, Any] = {"class": (re.search(r'class="([^"]*)"', attrs) or [None, ""])[1]}
        for field, cell in re.findall(r'<td data-field="(\w+)"[^>]*>(.*?)</td>', cells, flags=re.S):
            row[field] = " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            row[f"{field}_links"] = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', cell)]
        rows[found.group(1)] = row
    return rows


def _alert(html: str) -> str | None:
    found = re.search(r'role="alert" data-code="([^"]+)"', html)
    return found.group(1) if found else None


@pytest.fixture
def client(week: dict[str, str]) -> TestClient:
    return TestClient(create_app())


def test_the_weeks_categories_with_their_change_and_the_rising_ones_highlighted(client: TestClient) -> None:
    res = client.get("/hotspots", params=PERIOD)
    assert res.status_code == 200, res.text
    assert "<h1>热点诉求</h1>" in res.text
    assert re.search(r'data-field="orders">9<', res.text) and re.search(r'data-field="orders_before">2<', res.text)
    assert "上期 2021-05-25 至 2021-05-31" in res.text
    assert "较上期增加不少于 50% 且不少于 5 件" in res.text
    rows = _rows(res.text, "categories", "data-category")
    assert list(rows) == ["城乡建设", "城乡建设/住房保障与房地产", "环境保护", "环境保护/环境污染", ""]
    housing, noise, none = rows["城乡建设"], rows["环境保护"], rows[""]
    assert (housing["count"], housing["before"], housing["change"]) == ("6", "0", "新出现 ↑")
    assert "rising" in housing["class"] and "rising" in rows["城乡建设/住房保障与房地产"]["class"]
    assert (noise["count"], noise["before"], noise["change"]) == ("2", "2", "0%") and "rising" not in noise["class"]
    # Each count opens the order list narrowed to the category, the period and (none here) the region.
    [link] = housing["count_links"]
    assert urlsplit(link).path == "/orders"
    assert parse_qs(urlsplit(link).query) == {"category": ["城乡建设"], **{k: [v] for k, v in PERIOD.items()}}
    [before] = noise["before_links"]
    assert parse_qs(urlsplit(before).query)["since"] == ["2021-05-25"]
    assert none["count_links"] == []  # 未分类: no filter of its own
    rising = _rows(res.text, "rising", "data-category")
    assert list(rising) == ["城乡建设", "城乡建设/住房保障与房地产"]


def test_a_categorys_link_lists_its_orders_of_the_period(client: TestClient, week: dict[str, str]) -> None:
    page = client.get("/hotspots", params=PERIOD).text
    link = _rows(page, "categories", "data-category")["城乡建设"]["count_links"][0]
    listed = client.get(link)
    assert listed.status_code == 200, listed.text
    numbers = set(re.findall(r'<tr data-number="([^"]+)"', listed.text))
    assert numbers == {week["first"], week["last"], *(week[f"more{i}"] for i in range(4))}
    # The list's form shows the category and keeps it when filtered further, and its export follows it.
    assert 'name="category" value="城乡建设"' in listed.text
    assert "category=%E5%9F%8E%E4%B9%A1%E5%BB%BA%E8%AE%BE" in listed.text  # 导出 Excel
    before = _rows(page, "categories", "data-category")["环境保护"]["before_links"][0]
    assert set(re.findall(r'<tr data-number="([^"]+)"', client.get(before).text)) == {
        week["previous_first"], week["previous_last"],
    }  # fmt: skip


def test_keywords_and_places_with_their_example_orders(client: TestClient, week: dict[str, str]) -> None:
    page = client.get("/hotspots", params=PERIOD).text
    words = _rows(page, "keywords", "data-word")
    assert (words["物业"]["count"], words["物业"]["before"], words["物业"]["change"]) == ("6", "0", "新出现")
    assert "rising" in words["物业"]["class"]
    assert (words["噪音"]["count"], words["噪音"]["before"]) == ("2", "2")
    newest = [week["last"], week["more3"], week["more2"]]
    assert words["物业"]["examples_links"] == [f"/orders/{n}" for n in newest]
    # The count opens the period's orders holding the word (关键词 on the order list, which keeps it in its form).
    listed = client.get(words["物业"]["count_links"][0])
    numbers = set(re.findall(r'<tr data-number="([^"]+)"', listed.text))
    assert len(numbers) == 6 and set(newest) <= numbers
    assert 'name="words" value="物业"' in listed.text
    assert list(words)[:4] == sorted(["小区", "物业", "乱收", "停车费"])  # six orders each, none before: by name
    places = _rows(page, "places", "data-place")
    assert list(places) == ["锦江区某小区", "武侯区某工地"]
    assert (
        places["锦江区某小区"]["count"] == "6" and places["锦江区某小区"]["examples_links"][0] == f"/orders/{newest[0]}"
    )
    assert "领导" not in words and "希望" not in words


def test_a_region_narrows_the_page_and_its_links(client: TestClient) -> None:
    res = client.get("/hotspots", params={**PERIOD, "region": "成都市"})
    assert re.search(r'data-field="orders">8<', res.text)
    assert '<option value="510100" selected>成都市</option>' in res.text
    link = _rows(res.text, "categories", "data-category")["环境保护"]["count_links"][0]
    assert parse_qs(urlsplit(link).query)["region"] == ["510100"]


def test_the_default_period_is_the_last_7_china_days(client: TestClient) -> None:
    today = china_day(now())
    res = client.get("/hotspots")
    assert res.status_code == 200
    assert f'name="since" value="{(today - timedelta(days=6)).isoformat()}"' in res.text
    assert f'name="until" value="{today.isoformat()}"' in res.text
    # Nothing taken in lately (the orders are from 2021): the page points to the week up to the latest one.
    [latest] = re.findall(r'id="latest-orders">.*?<a href="([^"]+)"', res.text, flags=re.S)
    assert parse_qs(urlsplit(latest.replace("&amp;", "&")).query) == {"since": ["2021-06-02"], "until": ["2021-06-08"]}


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"since": "2021-06-31"}, 422, "invalid-date"),
    ({"since": "2021-06-07", "until": "2021-06-01"}, 422, "invalid-period"),
    ({"since": "2020-01-01", "until": "2021-06-01"}, 422, "invalid-period"),
    ({"region": "火星"}, 404, "region-not-found"),
])  # fmt: skip
def test_bad_input_is_said_on_the_page(client: TestClient, params: dict[str, str], status: int, code: str) -> None:
    res = client.get("/hotspots", params=params)
    assert (res.status_code, _alert(res.text)) == (status, code)
    assert 'id="categories"' not in res.text and 'action="/hotspots"' in res.text  # the form, to try again


# -- sign-in on ----------------------------------------------------------------------------------------------------


def test_signed_in_monitors_open_it_from_the_navigation_and_agents_do_not(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    for login, role in (("lihua", "dispatcher"), ("wangfang", "supervisor"), ("admin", "admin")):
        headers = bearer(login, [role])
        res = client.get("/hotspots", params=PERIOD, headers=headers)
        assert res.status_code == 200 and 'id="categories"' in res.text, role
        assert '<a href="/hotspots">热点诉求</a>' in client.get("/orders", headers=headers).text, role
    agent = bearer("zhangmin", ["agent"])
    refused = client.get("/hotspots", params=PERIOD, headers=agent)
    assert refused.status_code == 403 and 'data-code="role-not-granted"' in refused.text
    assert 'id="categories"' not in refused.text
    assert 'href="/hotspots"' not in client.get("/orders", headers=agent).text
