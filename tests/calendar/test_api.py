"""The calendar over HTTP: a month, an administrator's change to a day and its undoing, a year's import; other
roles read but do not change it (sign-in on). Both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from tests.conftest import bearer


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def test_a_month_and_an_administrators_change_to_a_day(client: TestClient) -> None:
    october = client.get("/api/calendar/months/2021-10").json()
    assert october["month"] == "2021-10" and len(october["days"]) == 31
    assert october["days"][8] == {
        "date": "2021-10-09",
        "is_workday": True,
        "label": "工作日",
        "tag": "调休上班",
        "official_is_workday": True,
        "official_known": True,
        "override": None,
    }
    set_ = client.put("/api/calendar/days/2021-10-12", json={"kind": "holiday", "note": "暴雨停工", "set_by": "李明"})
    assert set_.status_code == 200 and set_.json()["tag"] == "放假"
    assert set_.json()["override"]["note"] == "暴雨停工" and set_.json()["override"]["set_by"] == "李明"
    cleared = client.delete("/api/calendar/days/2021-10-12").json()
    assert cleared["cleared"] is True and cleared["is_workday"] is True and cleared["override"] is None

    assert client.get("/api/calendar/months/2021-13").json()["code"] == "invalid-month"
    bad = client.put("/api/calendar/days/2021-10-12", json={"kind": "weekend"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-day-kind"


def test_an_import_is_all_or_nothing(client: TestClient) -> None:
    good = "日期,类型,说明\n2099-01-01,放假,元旦\n2099-01-04,上班,调休\n".encode()
    done = client.post("/api/calendar/import", files={"file": ("2099.csv", good, "text/csv")}).json()
    assert done == {"days": 2, "holidays": 1, "workdays": 1, "first": "2099-01-01", "last": "2099-01-04", "redated": []}
    bad = "日期,类型\n2099-02-01,放假\n2099-02-30,放假\n".encode()
    refused = client.post("/api/calendar/import", files={"file": ("bad.csv", bad, "text/csv")})
    assert refused.status_code == 422 and refused.json()["details"] == {"row": 3}
    february = client.get("/api/calendar/months/2099-02").json()["days"]
    assert february[0]["override"] is None  # the good first row of the refused file was not written either


def test_signed_in_only_an_administrator_changes_the_calendar(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    admin, chief = bearer("admin1", ["admin"], "管理员甲"), bearer("chief", ["supervisor"], "王芳")
    assert client.get("/api/calendar/months/2021-10", headers=chief).status_code == 200
    refused = client.put("/api/calendar/days/2021-10-12", json={"kind": "holiday"}, headers=chief)
    assert refused.status_code == 403
    done = client.put("/api/calendar/days/2021-10-12", json={"kind": "holiday", "set_by": "冒名"}, headers=admin)
    assert done.status_code == 200 and done.json()["override"]["set_by"] == "管理员甲（admin1）"


def test_a_change_answers_with_the_deadlines_it_moved(client: TestClient) -> None:
    from datetime import datetime

    from hotline.timeutil import CHINA_TZ
    from hotline.workorders import service as orders

    with session_scope() as s:
        orders.load_units(s)
        order = orders.create_order(s, type="咨询", content="公积金怎么提取？", phone="13812341234", region="510100",
                                    at=datetime(2099, 1, 5, 10, 0, tzinfo=CHINA_TZ))  # fmt: skip
        number = order.number
        # Taken on Monday 01-05 as well, dispatched on Thursday 01-08: due 01-08, 签收 by 01-09, 退单 by 01-12.
        given = orders.create_order(s, type="咨询", content="医保怎么转移？", phone="13812341234", region="510100",
                                    at=datetime(2099, 1, 5, 10, 0, tzinfo=CHINA_TZ))  # fmt: skip
        s.flush()
        orders.act(s, given, "dispatch", role="dispatcher", target_unit="510100",
                   at=datetime(2099, 1, 8, 10, 0, tzinfo=CHINA_TZ))  # fmt: skip
        dispatched = given.number
    done = client.put("/api/calendar/days/2099-01-06", json={"kind": "holiday", "note": "停工"}).json()
    assert done["redated"] == [
        {"number": number, "before": "2099-01-08", "after": "2099-01-09", "changes": {"due": ["2099-01-08", "2099-01-09"]}},
        {"number": dispatched, "before": "2099-01-08", "after": "2099-01-09",
         "changes": {"due": ["2099-01-08", "2099-01-09"]}},
    ]  # fmt: skip
    # A day after both due dates (now 01-09): only the dispatched order's 退单 limit moves.
    later = client.put("/api/calendar/days/2099-01-12", json={"kind": "holiday", "note": "停工"}).json()
    assert later["redated"] == [
        {"number": dispatched, "before": None, "after": None, "changes": {"return_due": ["2099-01-12", "2099-01-13"]}}
    ]
    client.delete("/api/calendar/days/2099-01-12")
    undone = client.delete("/api/calendar/days/2099-01-06").json()
    assert undone["cleared"] is True and undone["redated"] == []  # a deadline given is never taken back
