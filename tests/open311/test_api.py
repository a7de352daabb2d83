"""Open311 GeoReport v2: an app lists services, submits a citizen's request (a work order at once) and
follows it until it is answered; other apps and phone-in orders stay out of its sight. An app is an account with
the `open311` grant whose API token is the standard's `api_key`: revoked, expired, a disabled app's or another
system's token is refused in the standard's form. Keys in HOTLINE_OPEN311_KEYS still work while apps move."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.accounts import service as accounts
from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import Forbidden
from hotline.open311 import service as open311
from hotline.timeutil import CHINA_TZ, now
from hotline.workorders import service as workorders
from hotline.workorders.store import Order

ZJJ = "510100-zjj"
KEY: dict[str, str] = {}  # the apps' api_keys, issued afresh for each test


def _account(login: str, name: str, roles: list[str], bound_to: str | None = None, **token: Any) -> str:
    with session_scope() as session:
        accounts.create_account(session, login, name, roles, bound_to=bound_to)
        return accounts.issue_token(session, login, **token).token


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
    KEY.clear()
    KEY.update(tianfu=_account("tianfu", "天府通办", ["open311"]), wechat=_account("wechat", "微信小程序", ["open311"]))
    with TestClient(create_app()) as c:
        yield c


def _service(client: TestClient, name: str) -> str:
    return next(s["service_code"] for s in client.get("/open311/v2/services.json").json() if s["service_name"] == name)


def _submit(client: TestClient, **fields: str) -> Any:
    form = {
        "api_key": KEY["tianfu"],
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
    assert order["history"][0]["actor"] == "天府通办（tianfu）"  # the app's account, as for anyone signed in

    mine = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY["tianfu"]}).json()[0]
    assert mine["status"] == "open" and mine["description"] == "公租房申请进度怎么查？"
    assert mine["expected_datetime"] == f"{order['due']}T23:59:59+08:00"
    assert "caller_phone" not in mine and "phone" not in mine  # the standard's request has no contact details

    at = datetime.now(CHINA_TZ)
    with session_scope() as session:
        workorders.act(session, number, "dispatch", role="dispatcher", target_unit=ZJJ, at=at)
        workorders.act(session, number, "accept", role="department", unit=ZJJ, at=at)
        workorders.act(session, number, "resolve", role="department", unit=ZJJ, reply="请登录住房保障平台查询", at=at)
    resolved = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY["tianfu"]}).json()[0]
    assert resolved["status"] == "open" and resolved["agency_responsible"] == "成都市住房和城乡建设局"  # not reviewed
    with session_scope() as session:
        workorders.act(session, number, "review_pass", role="dispatcher", at=at)
    answered = client.get(f"/open311/v2/requests/{number}.xml", params={"api_key": KEY["tianfu"]})
    request = ElementTree.fromstring(answered.content).find("request")
    assert request is not None and request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "请登录住房保障平台查询"


def test_an_app_sees_only_its_own_requests(client: TestClient) -> None:
    first = _submit(client).json()[0]["service_request_id"]
    _submit(client, description="疫苗接种点在哪里", **{"service_code": _service(client, "公共卫生")})
    other = _submit(client, api_key=KEY["wechat"]).json()[0]["service_request_id"]
    with session_scope() as session:
        phoned = workorders.create_order(session, type="投诉", content="噪音扰民", phone="13900001111", region="510100")
        session.flush()
        phone_in = phoned.number
    listed = client.get("/open311/v2/requests.json", params={"api_key": KEY["tianfu"]}).json()
    assert len(listed) == 2 and other not in {r["service_request_id"] for r in listed}
    by_service = client.get(
        "/open311/v2/requests.json",
        params={"api_key": KEY["tianfu"], "service_code": _service(client, "住房保障与房地产")},
    ).json()
    assert [r["service_request_id"] for r in by_service] == [first]
    assert client.get("/open311/v2/requests.json", params={"api_key": KEY["tianfu"], "status": "closed"}).json() == []
    for number in (other, phone_in, "5101002021010100001"):
        got = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY["tianfu"]})
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
    mine = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY["tianfu"]}).json()[0]
    assert mine["address"] == "经纬度 30.658600,104.064700"
    refused = client.get("/open311/v2/requests.xml")  # no api_key
    error = ElementTree.fromstring(refused.content).find("error")
    assert refused.status_code == 403 and error is not None and error.findtext("code") == "403"
    assert client.get("/open311/v2/services.csv").json()[0]["error_code"] == "open311-invalid-format"
    period = client.get(
        "/open311/v2/requests.json",
        params={
            "api_key": KEY["tianfu"],
            "start_date": "2021-01-01T00:00:00+08:00",
            "end_date": "2021-12-31T00:00:00+08:00",
        },
    )
    assert period.status_code == 400 and period.json()[0]["error_code"] == "open311-invalid-period"


# -- who the app is ------------------------------------------------------------------------------------------------
def _refusal(answer: Any) -> tuple[int, str]:
    (error,) = answer.json()
    assert error["code"] == answer.status_code and error["description"]  # the standard's form
    return answer.status_code, error["error_code"]


def _mine(client: TestClient, key: str) -> Any:
    return client.get("/open311/v2/requests.json", params={"api_key": key})


def test_a_revoked_expired_or_disabled_apps_key_is_refused_and_nothing_is_kept(client: TestClient) -> None:
    assert _submit(client).status_code == 201
    late = _account("late-app", "过期应用", ["open311"], days=1, at=now() - timedelta(days=2))
    spare = _account("spare-app", "备用应用", ["open311"])
    with session_scope() as session:
        old = accounts.issue_token(session, "tianfu", label="旧令牌").token
        accounts.revoke_tokens(session, "wechat")
    assert _refusal(_mine(client, KEY["wechat"])) == (403, "open311-key-invalid")  # revoked
    assert _refusal(_submit(client, api_key=late)) == (403, "open311-key-expired")
    assert _mine(client, old).status_code == 200  # an app may hold two tokens while it rotates them
    with session_scope() as session:
        accounts.set_active(session, "tianfu", False)
    for key in (KEY["tianfu"], old):  # disabling the app ends all its tokens
        assert _refusal(_submit(client, api_key=key)) == (403, "open311-key-invalid")
    refused = client.get("/open311/v2/requests.xml", params={"api_key": KEY["tianfu"]})
    error = ElementTree.fromstring(refused.content).find("error")
    assert error is not None and error.findtext("error_code") == "open311-key-invalid"
    assert _orders() == 1
    assert _mine(client, spare).json() == []  # a new app sees nothing it did not submit
    with session_scope() as session:
        accounts.set_active(session, "tianfu", True)
    assert _refusal(_mine(client, KEY["tianfu"])) == (403, "open311-key-invalid")  # enabling brings no token back


def test_another_systems_or_a_persons_token_is_not_an_api_key(client: TestClient) -> None:
    feed = _account("feed-12366", "12366 数据接入", ["feed"], bound_to="12366")
    agent = _account("zhangmin", "张敏", ["agent"])
    for key, login in ((feed, "feed-12366"), (agent, "zhangmin")):
        answer = _submit(client, api_key=key)
        assert _refusal(answer) == (403, "open311-key-not-granted") and login in answer.json()[0]["description"]
    assert _orders() == 0


def test_the_guard_lets_open311_through_and_an_apps_token_opens_nothing_else(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    assert _submit(client).status_code == 201 and len(_mine(client, KEY["tianfu"]).json()) == 1
    bearer = {"Authorization": f"Bearer {KEY['tianfu']}"}
    assert client.get("/api/orders", headers=bearer).json()["code"] == "role-not-granted"
    assert client.get("/api/auth/me", headers=bearer).json()["role_labels"] == ["服务请求应用"]


# -- HOTLINE_OPEN311_KEYS, deprecated --------------------------------------------------------------------------------
def test_a_key_from_the_environment_still_works_and_its_requests_are_the_accounts_of_the_same_name(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Moving an app to an account: its login is the name it had in HOTLINE_OPEN311_KEYS, so its token sees what
    the app submitted with its old key, with no change to the orders."""
    monkeypatch.setenv("HOTLINE_OPEN311_KEYS", "tianfu=old-tianfu-key, legacy=old-legacy-key")
    monkeypatch.setattr(open311, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="hotline.open311.service"):
        before = _submit(client, api_key="old-tianfu-key").json()[0]["service_request_id"]
        _submit(client, api_key="old-tianfu-key")
    (warning,) = caplog.records  # once per app and process: which apps still use an old key
    assert "HOTLINE_OPEN311_KEYS" in warning.getMessage() and "tianfu" in warning.getMessage()
    after = _submit(client).json()[0]["service_request_id"]
    listed = {r["service_request_id"] for r in _mine(client, KEY["tianfu"]).json()}
    assert len(listed) == 3 and {before, after} <= listed
    assert {r["service_request_id"] for r in _mine(client, "old-tianfu-key").json()} == listed
    assert _mine(client, "old-legacy-key").json() == []  # an app with no account yet: its own requests only
    with session_scope() as session:
        assert workorders.show_order(session, before, "dispatcher")["history"][0]["actor"] == "open311:tianfu"
    for wrong in ("old-tianfu", "old-tianfu-key2", "tianfu", "OLD-TIANFU-KEY"):
        assert _refusal(_mine(client, wrong)) == (403, "open311-key-invalid")
    with session_scope() as session:
        accounts.set_active(session, "tianfu", False)  # disabling an app's account cuts off its old key too
    assert _refusal(_submit(client, api_key="old-tianfu-key")) == (403, "open311-key-invalid")
    assert len(_mine(client, "old-legacy-key").json()) == 0


def test_keys_from_the_environment_are_compared_in_constant_time(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every configured key is compared, as digests of one length, whichever matches: the time taken does not
    tell how many characters of a guess were right, nor which key it came close to."""
    monkeypatch.setenv("HOTLINE_OPEN311_KEYS", "a=first-key,b=second-key,c=third")
    compared: list[tuple[int, int]] = []
    real = open311.hmac.compare_digest

    def spy(x: bytes, y: bytes) -> bool:
        compared.append((len(x), len(y)))
        return real(x, y)

    monkeypatch.setattr(open311.hmac, "compare_digest", spy)
    with session_scope() as session:
        assert open311.client_of(session, "first-key").name == "a"
        assert compared == [(32, 32)] * 3
        compared.clear()
        with pytest.raises(Forbidden):
            open311.client_of(session, "first-ke")
        assert compared == [(32, 32)] * 3


def test_serve_is_told_while_the_environment_names_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_OPEN311_KEYS", "")
    assert open311.legacy_keys_notice() is None
    monkeypatch.setenv("HOTLINE_OPEN311_KEYS", "tianfu=k1,wechat=k2")
    notice = open311.legacy_keys_notice()
    assert notice is not None and "已弃用" in notice and "tianfu、wechat" in notice
