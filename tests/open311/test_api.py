"""Open311 GeoReport v2: an app lists services, submits a citizen's request (a work order at once) and
follows it until it is answered; other apps and phone-in orders stay out of its sight."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders
from hotline.workorders.store import Order

ZJJ = "510100-zjj"


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("HOTLINE_OPEN311_KEYS", "tianfu=key-tianfu, wechat=key-wechat")
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
    with TestClient(create_app()) as c:
        yield c


def _service(client: TestClient, name: str) -> str:
    return next(s["service_code"] for s in client.get("/open311/v2/services.json").json() if s["service_name"] == name)


def _submit(client: TestClient, **fields: str) -> Any:
    form = {
        "api_key": "key-tianfu",
        "service_code": _service(client, "住房保障与房地产"),
        "description": "公租房申请进度怎么查？",
        "phone": "13812345678",
        "last_name": "李",
        "first_name": "明",
        "address_string": "成都市武侯区",
        "jurisdiction_id": "510100",
        "attribute[type]": "咨询",
    }
    return client.post("/open311/v2/requests.json", data={**form, **fields})


def _orders() -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_services_are_the_second_level_categories_in_json_and_xml(client: TestClient) -> None:
    listed = client.get("/open311/v2/services.json").json()
    assert len(listed) == 118 and {s["group"] for s in listed} >= {"城乡建设", "劳动和社会保障", "卫生计生"}
    housing = next(s for s in listed if s["service_name"] == "住房保障与房地产")
    assert housing["group"] == "城乡建设" and housing["type"] == "realtime" and housing["metadata"] is True
    xml = ElementTree.fromstring(client.get("/open311/v2/services.xml").content)
    assert xml.tag == "services" and [e.findtext("service_code") for e in xml] == [s["service_code"] for s in listed]
    definition = client.get(f"/open311/v2/services/{housing['service_code']}.json").json()
    (attribute,) = definition["attributes"]
    assert attribute["code"] == "type" and [v["key"] for v in attribute["values"]][:3] == ["咨询", "求助", "投诉"]
    missing = client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["error_code"] == "open311-service-not-found"


def test_a_request_becomes_a_work_order_the_centre_handles(client: TestClient) -> None:
    made = _submit(client)
    assert made.status_code == 201
    (receipt,) = made.json()
    number = receipt["service_request_id"]
    assert number in receipt["service_notice"]
    with session_scope() as session:
        order = workorders.show_order(session, number, "dispatcher")
    assert (order["channel"], order["type"], order["category"]) == ("app", "咨询", "城乡建设/住房保障与房地产")
    assert (order["caller_name"], order["caller_phone"], order["place"]) == ("李明", "13812345678", "成都市武侯区")
    assert order["region_code"] == "510100"

    mine = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": "key-tianfu"}).json()[0]
    assert mine["status"] == "open" and mine["description"] == "公租房申请进度怎么查？"
    assert mine["expected_datetime"] == f"{order['due']}T23:59:59+08:00"
    assert "caller_phone" not in mine and "phone" not in mine  # the standard's request has no contact details

    at = datetime.now(CHINA_TZ)
    with session_scope() as session:
        workorders.act(session, number, "dispatch", role="dispatcher", target_unit=ZJJ, at=at)
        workorders.act(session, number, "accept", role="department", unit=ZJJ, at=at)
        workorders.act(session, number, "resolve", role="department", unit=ZJJ, reply="请登录住房保障平台查询", at=at)
    resolved = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": "key-tianfu"}).json()[0]
    assert resolved["status"] == "open" and resolved["agency_responsible"] == "成都市住房和城乡建设局"  # not reviewed
    with session_scope() as session:
        workorders.act(session, number, "review_pass", role="dispatcher", at=at)
    answered = client.get(f"/open311/v2/requests/{number}.xml", params={"api_key": "key-tianfu"})
    request = ElementTree.fromstring(answered.content).find("request")
    assert request is not None and request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "请登录住房保障平台查询"


def test_an_app_sees_only_its_own_requests(client: TestClient) -> None:
    first = _submit(client).json()[0]["service_request_id"]
    _submit(client, description="疫苗接种点在哪里", **{"service_code": _service(client, "公共卫生")})
    other = _submit(client, api_key="key-wechat").json()[0]["service_request_id"]
    with session_scope() as session:
        phoned = workorders.create_order(session, type="投诉", content="噪音扰民", phone="13900001111", region="510100")
        session.flush()
        phone_in = phoned.number
    listed = client.get("/open311/v2/requests.json", params={"api_key": "key-tianfu"}).json()
    assert len(listed) == 2 and other not in {r["service_request_id"] for r in listed}
    by_service = client.get(
        "/open311/v2/requests.json",
        params={"api_key": "key-tianfu", "service_code": _service(client, "住房保障与房地产")},
    ).json()
    assert [r["service_request_id"] for r in by_service] == [first]
    assert client.get("/open311/v2/requests.json", params={"api_key": "key-tianfu", "status": "closed"}).json() == []
    for number in (other, phone_in, "5101002021010100001"):
        got = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": "key-tianfu"})
        assert got.status_code == 404 and got.json()[0]["error_code"] == "open311-request-not-found"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"api_key": "stolen"}, 403, "open311-key-invalid"),
        ({"description": ""}, 400, "open311-description-required"),
        ({"phone": ""}, 400, "open311-phone-required"),
        ({"address_string": "", "jurisdiction_id": "510100"}, 400, "open311-location-required"),
        ({"service_code": "nope"}, 404, "open311-service-not-found"),
        ({"attribute[type]": "闲聊"}, 400, "invalid-type"),
        ({"jurisdiction_id": "火星"}, 404, "region-not-found"),
    ],
)
def test_a_bad_request_is_refused_in_the_standards_form_and_nothing_is_kept(
    client: TestClient, fields: dict[str, str], status: int, code: str
) -> None:
    got = _submit(client, **fields)
    assert got.status_code == status
    (error,) = got.json()
    assert (error["code"], error["error_code"]) == (status, code) and error["description"]
    assert _orders() == 0


def test_lat_and_long_are_a_location_and_xml_errors_follow_the_standard(client: TestClient) -> None:
    made = _submit(client, address_string="", lat="30.6586", long="104.0647")
    number = made.json()[0]["service_request_id"]
    mine = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": "key-tianfu"}).json()[0]
    assert mine["address"] == "经纬度 30.658600,104.064700"
    refused = client.get("/open311/v2/requests.xml")  # no api_key
    error = ElementTree.fromstring(refused.content).find("error")
    assert refused.status_code == 403 and error is not None and error.findtext("code") == "403"
    assert client.get("/open311/v2/services.csv").json()[0]["error_code"] == "open311-invalid-format"
    period = client.get(
        "/open311/v2/requests.json",
        params={
            "api_key": "key-tianfu",
            "start_date": "2021-01-01T00:00:00+08:00",
            "end_date": "2021-12-31T00:00:00+08:00",
        },
    )
    assert period.status_code == 400 and period.json()[0]["error_code"] == "open311-invalid-period"
