"""热点诉求 from orders taken in at chosen instants (SQLite and PostgreSQL): which orders a period and a region
count (co-handling orders not, merged duplicates yes), the period before, and the API's answers and refusals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import literal_column, select, update

from hotline.app import create_app
from hotline.db import session_scope
from hotline.dispatch.text import tokens
from hotline.errors import InvalidInput, NotFound
from hotline.supervision import hotspots as hot
from hotline.supervision import service
from hotline.supervision.hotspots import Demand
from hotline.timeutil import CHINA_TZ, china_day, now
from hotline.workorders.store import Order
from tests.supervision.test_service import RSJ, ZJJ, _act, _create
from tests.supervision.test_service import units as units

HOUSING = "城乡建设/住房保障与房地产/物业服务"
NOISE = "环境保护/环境污染/噪音污染"
WEEK = (date(2021, 6, 1), date(2021, 6, 7))  # Tuesday to Monday
MIDNIGHT = datetime(2021, 6, 1, 0, 0, tzinfo=CHINA_TZ)
HOUR = timedelta(hours=1)


def _take(at: datetime, category: str = HOUSING, content: str = "小区物业乱收停车费", **kw: Any) -> str:
    return _create(at=at, category=category, content=content, **kw)


def _hotspots(since: date = WEEK[0], until: date = WEEK[1], region: str | None = None) -> dict[str, Any]:
    with session_scope() as session:
        return service.hotspots(session, since, until, region=region)


def _counts(items: list[dict[str, Any]], key: str = "name") -> dict[str, tuple[int, int]]:
    return {i[key]: (i["count"], i["before"]) for i in items}


@pytest.fixture
def week(units: None) -> dict[str, str]:
    """Orders taken in around the week 2021-06-01 to 06-07 (China time), in 成都市 unless said."""
    taken = {
        "first": _take(MIDNIGHT, place=" 锦江区 某小区 "),  # 06-01 00:00: the first instant of the week
        "last": _take(datetime(2021, 6, 7, 23, 59, 59, tzinfo=CHINA_TZ), place="锦江区某小区"),
        "noise": _take(MIDNIGHT + 30 * HOUR, NOISE, "夜间工地施工噪音扰民", place="武侯区某工地"),
        "mianyang": _take(MIDNIGHT + 50 * HOUR, NOISE, "夜间广场舞噪音", region="510700"),
        "uncategorised": _take(MIDNIGHT + 60 * HOUR, "", "咨询公积金提取"),
        # Not this week: the week after, the previous week (its first and last instants), before that.
        "after": _take(datetime(2021, 6, 8, 0, 0, tzinfo=CHINA_TZ)),
        "previous_last": _take(MIDNIGHT - timedelta(seconds=1), NOISE, "工地噪音"),
        "previous_first": _take(datetime(2021, 5, 25, 0, 0, tzinfo=CHINA_TZ), NOISE, "工地噪音"),
        "older": _take(datetime(2021, 5, 24, 23, 59, tzinfo=CHINA_TZ)),
    }
    for i in range(4):
        taken[f"more{i}"] = _take(MIDNIGHT + (70 + i) * HOUR, place="锦江区某小区")
    return taken


def test_the_week_against_the_week_before(week: dict[str, str]) -> None:
    found = _hotspots()
    assert (found["since"], found["until"]) == ("2021-06-01", "2021-06-07")
    assert found["previous"] == {"since": "2021-05-25", "until": "2021-05-31"}
    assert (found["region"], found["region_name"]) == (None, "全部地区")
    assert (found["orders"], found["orders_before"]) == (9, 2)
    assert _counts(found["categories"]) == {"城乡建设": (6, 0), "环境保护": (2, 2), "未分类": (1, 0)}
    housing = found["categories"][0]
    assert (housing["rising"], housing["change"]) == (True, None)  # 6 new ones
    assert _counts(housing["children"]) == {"住房保障与房地产": (6, 0)}
    assert [r["category"] for r in found["rising"]] == ["城乡建设", "城乡建设/住房保障与房地产"]
    keywords = _counts(found["keywords"])
    assert keywords["物业"] == (6, 0) and keywords["噪音"] == (2, 2) and keywords["工地"] == (1, 2)
    # Examples are the latest orders taken in.
    assert found["keywords"][0]["examples"] == [week["last"], week["more3"], week["more2"]]
    assert found["places"][0] == {
        "name": "锦江区某小区", "count": 6, "before": 0, "change": None, "rising": True,
        "examples": [week["last"], week["more3"], week["more2"]],
    }  # fmt: skip


def test_a_region_counts_its_own_orders(week: dict[str, str]) -> None:
    chengdu = _hotspots(region="成都市")
    assert (chengdu["region"], chengdu["region_name"], chengdu["orders"]) == ("510100", "成都市", 8)
    assert _counts(chengdu["categories"])["环境保护"] == (1, 2)
    mianyang = _hotspots(region="510700")
    assert (mianyang["orders"], mianyang["orders_before"]) == (1, 0)
    assert [k["name"] for k in mianyang["keywords"]] == sorted(["夜间", "广场", "噪音"])  # 广场舞 is cut 广场 舞
    assert _hotspots(region="自贡市")["categories"] == []


def test_co_handling_orders_are_not_counted_and_merged_duplicates_are(units: None) -> None:
    lead = _take(MIDNIGHT + HOUR, NOISE, "工地夜间施工噪音")
    _act(lead, "dispatch", MIDNIGHT + 2 * HOUR, role="dispatcher", target_unit=ZJJ, co_units=[RSJ])
    dup = _take(MIDNIGHT + 3 * HOUR, NOISE, "工地夜间施工噪音，第二次来电")
    _act(dup, "merge", MIDNIGHT + 4 * HOUR, role="dispatcher", master=lead, reason="重复诉求")
    with session_scope() as session:
        from hotline.workorders import service as orders

        assert orders.get_order(session, f"{lead}-01").content == "工地夜间施工噪音"  # the co-handling order
    found = _hotspots()
    # The lead and the duplicate merged into it: two citizens called; the co-handling order is the lead's demand.
    assert found["orders"] == 2
    assert _counts(found["categories"]) == {"环境保护": (2, 0)}
    assert _counts(found["keywords"])["噪音"] == (2, 0)
    assert found["keywords"][0]["examples"] == [dup, lead]


def test_a_longer_period_is_compared_with_as_many_days_before(week: dict[str, str]) -> None:
    one_day = _hotspots(date(2021, 6, 1), date(2021, 6, 1))
    assert one_day["previous"] == {"since": "2021-05-31", "until": "2021-05-31"}
    assert (one_day["orders"], one_day["orders_before"]) == (1, 1)
    fortnight = _hotspots(date(2021, 5, 25), date(2021, 6, 7))
    assert fortnight["previous"] == {"since": "2021-05-11", "until": "2021-05-24"}
    assert (fortnight["orders"], fortnight["orders_before"]) == (11, 1)


def test_an_empty_database_has_no_hot_topics(db_url: str) -> None:
    found = _hotspots()
    assert (found["orders"], found["orders_before"], found["orders_change"]) == (0, 0, None)
    assert found["categories"] == found["rising"] == found["keywords"] == found["places"] == []


def test_bad_periods_and_regions_are_refused(db_url: str) -> None:
    for since, until, code in [
        (date(2021, 6, 7), date(2021, 6, 1), "invalid-period"),
        (date(2020, 1, 1), date(2021, 1, 1), "invalid-period"),  # 367 days
    ]:
        with pytest.raises(InvalidInput) as err:
            _hotspots(since, until)
        assert err.value.code == code
    assert _hotspots(date(2020, 1, 2), date(2021, 1, 1))["orders"] == 0  # 366 days: the longest
    with pytest.raises(NotFound) as missing:
        _hotspots(region="火星")
    assert missing.value.code == "region-not-found"


def _stored_words() -> dict[str, str | None]:
    with session_scope() as session:
        return dict(session.execute(select(Order.number, Order.content_words)).all())


def test_each_order_is_cut_once_and_its_words_kept_across_restarts(
    week: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cut: list[str] = []
    real = service.tokens

    def counting(text: str) -> list[str]:
        cut.append(text)
        return real(text)

    monkeypatch.setattr(service, "tokens", counting)
    assert set(_stored_words().values()) == {None}  # as every order stored before the column existed
    first = _hotspots()
    assert len(cut) == 11  # the 9 orders of the week and the 2 of the week before, once each
    stored = _stored_words()
    assert {n for n, words in stored.items() if words is None} == {week["after"], week["older"]}  # not read
    assert stored[week["noise"]] == "夜间 工地 施工 噪音 扰民"

    # A restart: nothing in process remembers a word, and cutting would fail; the stored words are enough.
    def refused(text: str) -> list[str]:
        raise AssertionError(f"cut again: {text}")

    monkeypatch.setattr(service, "tokens", refused)
    assert _hotspots() == first
    assert _hotspots(region="成都市")["orders"] == 8
    # A longer period reads one order never read before: only that one is cut.
    monkeypatch.setattr(service, "tokens", counting)
    assert _hotspots(date(2021, 5, 25), date(2021, 6, 7))["orders_before"] == 1
    assert cut[11:] == ["小区物业乱收停车费"] and _stored_words()[week["older"]] == "小区 物业 乱收 停车费"


def test_the_stored_words_count_as_the_contents_cut_afresh(week: dict[str, str]) -> None:
    long = "依据中华人民共和国社会保险法，住房公积金管理中心2021年6月3日10:30前应依法办理，希望领导重视。物业物业"
    week["long"] = _take(MIDNIGHT + 80 * HOUR, content=long)
    # The counting from each content cut now (as before the words were stored), then from the stored words.
    with session_scope() as session:
        rows = session.execute(
            select(Order.number, Order.category, Order.place, Order.content, Order.created_at)
            .where(Order.parent_id.is_(None), Order.created_at >= MIDNIGHT - 7 * 24 * HOUR)
            .where(Order.created_at < MIDNIGHT + 7 * 24 * HOUR)
            .order_by(Order.created_at.desc(), Order.number.desc())
        ).all()
    fresh = [Demand(n, c, p, tokens(content)) for n, c, p, content, _ in rows]
    now = [d for d, row in zip(fresh, rows, strict=True) if row[4] >= MIDNIGHT]
    before = [d for d, row in zip(fresh, rows, strict=True) if row[4] < MIDNIGHT]
    expected = hot.hotspots(now, before).to_dict()
    filling, reading = _hotspots(), _hotspots()  # the words cut and stored, then the words read back
    for found in (filling, reading):
        assert {k: v for k, v in found.items() if k in expected} == expected
    stored = _stored_words()
    for number, _, _, content, _ in rows:
        kept = (stored[number] or "").split()
        assert len(kept) == len(set(kept)) and set(kept) == {w for w in tokens(content) if hot.is_keyword(w)}
    assert {"中华人民共和国", "管理中心", "依法办理", "领导"} <= set(stored[week["long"]].split())  # generic ones too


def test_a_failed_write_of_the_words_fails_no_call(week: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _hotspots()
    with session_scope() as session:
        session.execute(update(Order).values(content_words=None))
    # An UPDATE the database refuses (a column it does not have), as it would a lock waited on too long.
    monkeypatch.setattr(service, "update", lambda entity: update(entity).where(literal_column("no_such_column") == 1))
    assert _hotspots() == expected  # the words cut are counted though not stored
    assert set(_stored_words().values()) == {None}
    monkeypatch.setattr(service, "update", update)
    assert _hotspots() == expected and _stored_words()[week["noise"]] is not None  # the next call stores them


# -- the API -------------------------------------------------------------------------------------------------------
def test_the_api_answers_the_same_as_the_service(week: dict[str, str]) -> None:
    client = TestClient(create_app())
    res = client.get("/api/supervision/hotspots", params={"since": "2021-06-01", "until": "2021-06-07"})
    assert res.status_code == 200, res.text
    assert res.json() == _hotspots()
    region = client.get("/api/supervision/hotspots", params={"since": "2021-06-01", "until": "2021-06-07",
                                                              "region": "成都市"})  # fmt: skip
    assert region.json()["orders"] == 8
    empty = client.get("/api/supervision/hotspots", params={"since": "2021-06-01", "until": "2021-06-07",
                                                             "region": ""})  # fmt: skip
    assert empty.json()["orders"] == 9  # an empty region is every region, as on the KPI API


def test_the_api_defaults_to_the_last_7_china_days(db_url: str) -> None:
    today = china_day(now())
    found = TestClient(create_app()).get("/api/supervision/hotspots").json()
    assert (found["since"], found["until"]) == ((today - timedelta(days=6)).isoformat(), today.isoformat())
    assert found["previous"]["until"] == (today - timedelta(days=7)).isoformat()
    only_until = TestClient(create_app()).get("/api/supervision/hotspots", params={"until": "2021-06-07"}).json()
    assert only_until["since"] == "2021-06-01"


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"since": "2021-06-31"}, 422, "invalid-date"),
    ({"since": "2021-06-01", "until": "07/06/2021"}, 422, "invalid-date"),
    ({"since": "2021-06-07", "until": "2021-06-01"}, 422, "invalid-period"),
    ({"since": "2020-01-01", "until": "2021-06-01"}, 422, "invalid-period"),
    ({"region": "火星"}, 404, "region-not-found"),
])  # fmt: skip
def test_the_api_refuses_bad_input_with_stable_codes(
    db_url: str, params: dict[str, str], status: int, code: str
) -> None:
    res = TestClient(create_app()).get("/api/supervision/hotspots", params=params)
    assert (res.status_code, res.json()["code"]) == (status, code)
    kpis = TestClient(create_app()).get("/api/supervision/kpis", params=params)
    assert (kpis.status_code, kpis.json()["code"]) == (status, code)  # the same mistakes as the KPI API's


def test_only_monitors_may_ask_signed_in(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.accounts import service as accounts

    monkeypatch.setenv("HOTLINE_AUTH", "on")
    headers = {}
    with session_scope() as session:
        for login, roles in [("lihua", ["dispatcher"]), ("wangfang", ["supervisor"]), ("admin", ["admin"]),
                             ("zhangmin", ["agent"])]:  # fmt: skip
            accounts.create_account(session, login, login, roles)
            headers[login] = {"Authorization": f"Bearer {accounts.issue_token(session, login).token}"}
    client = TestClient(create_app())
    for login in ("lihua", "wangfang", "admin"):
        assert client.get("/api/supervision/hotspots", headers=headers[login]).status_code == 200, login
    refused = client.get("/api/supervision/hotspots", headers=headers["zhangmin"])
    assert (refused.status_code, refused.json()["code"]) == (403, "role-not-granted")
    assert client.get("/api/supervision/hotspots").status_code == 401
