"""设置变更记录 over HTTP: `GET /api/settings/changes` for supervisors and administrators only (sign-in on), a page
at a time by kind; the settings' own endpoints record the signed-in account, and with sign-in off the name sent or
else 管理员 — the calendar's `DELETE` too, in the orders' histories as in the records. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service
from tests.changelog.chengdu import CGJ, ZJJ, two_bureaus
from tests.conftest import bearer

API = "/api/settings/changes"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    two_bureaus()
    yield TestClient(create_app())


def _newest(client: TestClient, **params: str) -> dict[str, object]:
    found = client.get(API, params={"limit": "1", **params})
    assert found.status_code == 200, found.text
    return found.json()["changes"][0]  # type: ignore[no-any-return]


def test_supervisors_and_administrators_read_who_changed_what(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    admin, chief = bearer("zhaolei", ["admin"], "赵磊"), bearer("wangfang", ["supervisor"], "王芳")
    entry = {"category": "城乡建设", "unit": ZJJ, "region_code": "成都市", "actor": "冒名"}
    assert client.put("/api/workorders/catalogue", json=entry, headers=admin).status_code == 200
    moved = client.put("/api/workorders/catalogue", json={**entry, "unit": CGJ}, headers=admin)
    assert moved.status_code == 200
    assert client.put("/api/workorders/limits/投诉", json={"days": 10}, headers=admin).status_code == 200

    listed = client.get(API, params={"kind": "派单目录"}, headers=chief)
    assert listed.status_code == 200
    body = listed.json()
    assert body["earlier"] is None
    newest = body["changes"][0]
    assert {k: newest[k] for k in ("actor", "kind", "kind_label", "key", "before", "after", "summary")} == {
        "actor": "赵磊（zhaolei）",
        "kind": "catalogue",
        "kind_label": "派单目录",
        "key": "城乡建设|510100|",
        "before": {"unit": ZJJ, "unit_name": "成都市住房和城乡建设局"},
        "after": {"unit": CGJ, "unit_name": "成都市城市管理局"},
        "summary": "派单目录 城乡建设（成都市，全部号码）：成都市住房和城乡建设局 → 成都市城市管理局",
    }
    assert datetime.fromisoformat(newest["at"]).tzinfo is not None
    assert [c["kind"] for c in body["changes"]] == ["catalogue", "catalogue"]
    assert client.get(API, headers=admin).json()["changes"][0]["summary"] == "办理时限 投诉：15 → 10 个工作日"

    for roles in (["agent"], ["dispatcher"]):
        refused = client.get(API, headers=bearer(f"u{roles[0]}", roles))
        assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    unit = bearer("unit1", ["department"], bound_to=ZJJ)
    assert client.get(API, headers=unit).status_code == 403


def test_pages_go_back_with_earlier_and_a_kind_must_be_known(client: TestClient) -> None:
    for days in (4, 5, 6):
        assert client.put("/api/workorders/limits/咨询", json={"days": days}).status_code == 200
    first = client.get(API, params={"kind": "limit", "limit": "2"}).json()
    assert [c["after"] for c in first["changes"]] == [{"days": 6}, {"days": 5}]
    rest = client.get(API, params={"kind": "limit", "limit": "2", "before": str(first["earlier"])}).json()
    assert [c["after"] for c in rest["changes"]] == [{"days": 4}] and rest["earlier"] is None
    wrong = client.get(API, params={"kind": "账号"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid-change-kind"


def test_with_sign_in_off_a_change_is_the_name_sent_or_else_the_administrators(client: TestClient) -> None:
    assert client.put("/api/workorders/limits/投诉", json={"days": 10, "actor": "李明"}).status_code == 200
    assert _newest(client)["actor"] == "李明"
    unit = {"code": "510104-sw", "name": "锦江区水务局", "kind": "department", "region_code": "510104"}
    assert client.post("/api/workorders/units", json=unit).status_code == 201
    assert _newest(client)["actor"] == "管理员"
    assert client.post(f"/api/workorders/units/{CGJ}/deactivate", json={}).status_code == 200
    assert _newest(client)["summary"] == "单位 成都市城市管理局（510100-cgj）：停用"
    assert client.post(f"/api/workorders/units/{CGJ}/activate").status_code == 200
    assert client.put("/api/workorders/catalogue", json={"category": "城乡建设", "unit": ZJJ}).status_code == 200
    gone = client.delete("/api/workorders/catalogue", params={"category": "城乡建设", "actor": "王五"})
    assert gone.status_code == 200
    listed = client.get(API, params={"limit": "4"}).json()["changes"]
    assert [(c["actor"], c["summary"]) for c in listed] == [
        ("王五", "派单目录 城乡建设（全省，全部号码）：删除（原由成都市住房和城乡建设局承办）"),
        ("管理员", "派单目录 城乡建设（全省，全部号码）：新增，由成都市住房和城乡建设局承办"),
        ("管理员", "单位 成都市城市管理局（510100-cgj）：启用"),
        ("管理员", "单位 成都市城市管理局（510100-cgj）：停用"),
    ]


def test_clearing_a_day_with_sign_in_off_is_the_administrators_in_the_orders_histories_too(
    client: TestClient,
) -> None:
    saturday = "2099-01-10"  # a year the package does not know: Monday to Friday count
    assert client.put(f"/api/calendar/days/{saturday}", json={"kind": "workday", "note": "调休"}).status_code == 200
    with session_scope() as s:
        # taken on Friday 01-09, 3 working days: Saturday 01-10, Monday 01-12, Tuesday 01-13
        order = service.create_order(s, type="咨询", content="公积金怎么提取？", phone="13812341234", region="510100",
                                     at=datetime(2099, 1, 9, 10, 0, tzinfo=CHINA_TZ))  # fmt: skip
        number = order.number
        assert order.due.isoformat() == "2099-01-13"
    cleared = client.delete(f"/api/calendar/days/{saturday}")
    assert cleared.status_code == 200 and cleared.json()["redated"][0]["after"] == "2099-01-14"
    with session_scope() as s:
        history = service.history_of(s, service.get_order(s, number))
    assert (history[-1]["action"], history[-1]["actor"]) == ("recalendar", "管理员")
    records = client.get(API, params={"kind": "工作日历"}).json()["changes"]
    assert [(c["actor"], c["summary"]) for c in records] == [
        ("管理员", "工作日历 2099-01-10（星期六）：工作日（调休） → 按官方日历（休息日）"),
        ("管理员", "工作日历 2099-01-10（星期六）：按官方日历（休息日） → 工作日（调休）"),
    ]
