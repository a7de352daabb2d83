"""机构调整 (workorders.units): a unit is deactivated (停用) with a successor taking over its dispatch-catalogue
entries and child units, refused while it still leads orders being worked on, and put back in service (启用); a
unit's parent can never be itself or one of its descendants. Service on SQLite and PostgreSQL, the API with
sign-in on (administrators only), and the CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline.db import session_factory, session_scope
from hotline.errors import HotlineError
from hotline.timeutil import CHINA_TZ
from hotline.workorders import advice, service, units
from hotline.workorders.store import Unit
from tests.conftest import bearer
from tests.workorders.conftest import Ran

AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)
ZJJ, RSJ, CGJ = "510100-zjj", "510100-rsj", "510100-cgj"  # 住建局, 人社局, 城管局 (the successor)
WATER = "510100-zjj-gs"  # 住建局's 供水办, a child unit
WUHOU = "510107-zjj"  # 武侯区住建局, under 住建局 too


@pytest.fixture
def tree(db_url: str) -> str:
    """Chengdu's centre with three bureaus; 住建局 heads two units and is named by two catalogue entries."""
    with session_scope() as s:
        service.load_units(s)
        for code, name in (
            (ZJJ, "成都市住房和城乡建设局"),
            (RSJ, "成都市人力资源和社会保障局"),
            (CGJ, "成都市城市管理委员会"),
        ):
            service.add_unit(s, code, name, "department", region_code="510100", parent="510100")
        service.add_unit(s, WATER, "成都市供水管理办公室", "department", region_code="510100", parent=ZJJ)
        service.add_unit(s, WUHOU, "武侯区住房和城乡建设局", "department", region_code="510107", parent=ZJJ)
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
        service.set_catalogue_entry(s, "城乡建设/住房保障与房地产", ZJJ, line="12329")
        service.set_catalogue_entry(s, "劳动和社会保障", RSJ)
    return db_url


def _state() -> tuple[Any, ...]:
    """Everything a unit change may touch."""
    with session_scope() as s:
        entries = [(e.category, e.region_code, e.line, e.unit.code) for e in service.list_catalogue(s)]
        return service.list_units(s), entries


def _unit(code: str) -> dict[str, Any]:
    with session_scope() as s:
        return service.unit_view(service.get_unit(s, code))


def _refused(call: Callable[[Any], Any]) -> HotlineError:
    """The error CALL raises in a transaction of its own, having checked it wrote nothing."""
    before = _state()
    with pytest.raises(HotlineError) as caught, session_scope() as s:
        call(s)
    assert _state() == before
    return caught.value


def _lookup(category: str, region: str = "510100", line: str | None = None) -> str | None:
    with session_scope() as s:
        unit = service.lookup_dispatch_catalogue(s, category, region, line)
        return unit.code if unit else None


def _order() -> str:
    with session_scope() as s:
        order = service.create_order(
            s, type="求助", content="小区停水两天", phone="13811112222", region="510100", at=AT
        )
        s.flush()
        return order.number


def _act(number: str, action: str, **kw: Any) -> None:
    with session_scope() as s:
        service.act(s, number, action, at=AT, **kw)


# -- the tree ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("parent", [ZJJ, WATER])
def test_a_unit_cannot_sit_under_itself_or_its_descendants(tree: str, parent: str) -> None:
    error = _refused(
        lambda s: service.add_unit(s, ZJJ, "成都市住建局", "department", region_code="510100", parent=parent)
    )
    assert error.code == "unit-parent-loop" and error.http_status == 422
    # one level further down too: 供水办 under a unit of its own under it
    with session_scope() as s:
        service.add_unit(s, "510100-gs-1", "一所", "department", region_code="510100", parent=WATER)
    error = _refused(
        lambda s: service.add_unit(s, WATER, "供水办", "department", region_code="510100", parent="510100-gs-1")
    )
    assert error.code == "unit-parent-loop"
    with session_scope() as s:  # a parent elsewhere in the tree is fine
        service.add_unit(s, WATER, "成都市供水管理办公室", "department", region_code="510100", parent=CGJ)
    assert _unit(WATER)["parent"] == CGJ


# -- 停用 with a successor -----------------------------------------------------------------------------------------
def test_a_successor_takes_over_the_catalogue_entries_and_child_units(tree: str) -> None:
    assert _lookup("城乡建设/住房保障与房地产/保障性住房", line="12329") == ZJJ
    with session_scope() as s:
        done = units.deactivation_view(units.deactivate_unit(s, ZJJ, successor=CGJ))
    assert done["unit"]["active"] is False and done["successor"]["code"] == CGJ
    assert done["moved_entries"] == [
        {"category": "城乡建设", "region_code": "510100", "line": ""},
        {"category": "城乡建设/住房保障与房地产", "region_code": "", "line": "12329"},
    ]
    assert done["reparented"] == [WATER, WUHOU]
    _, entries = _state()
    assert sorted(entries) == sorted(
        [
            ("城乡建设", "510100", "", CGJ),
            ("城乡建设/住房保障与房地产", "", "12329", CGJ),
            ("劳动和社会保障", "", "", RSJ),
        ]
    )
    assert _unit(WATER)["parent"] == CGJ and _unit(WUHOU)["parent"] == CGJ
    # what a new order's dispatch suggestion now names
    assert _lookup("城乡建设/住房保障与房地产/保障性住房", line="12329") == CGJ
    assert _lookup("城乡建设/城市建设和市政管理") == CGJ
    with session_scope() as s:
        assert [u["code"] for u in service.list_units(s, active=False)] == [ZJJ]
        assert ZJJ not in [u["code"] for u in service.list_units(s, active=True)]


def test_dispatch_no_longer_suggests_an_inactive_unit(tree: str) -> None:
    """Without a successor an entry could not survive the 停用; one left by older data is passed over."""
    with session_scope() as s:
        service.add_unit(s, "510100-old", "已撤销的办公室", "department", region_code="510100")
        service.set_catalogue_entry(s, "城乡建设/住房保障与房地产", "510100-old", region_code="510100")
    assert _lookup("城乡建设/住房保障与房地产/保障性住房") == "510100-old"
    with session_scope() as s:
        s.execute(update(Unit).where(Unit.code == "510100-old").values(active=False))
    assert _lookup("城乡建设/住房保障与房地产/保障性住房") == ZJJ  # the less specific entry


def test_a_unit_leading_open_orders_is_refused_until_they_are_redispatched(tree: str) -> None:
    number = _order()
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    error = _refused(lambda s: units.deactivate_unit(s, ZJJ, successor=CGJ))
    assert error.code == "unit-has-open-orders" and error.http_status == 409
    assert error.details["count"] == 1 and "改派" in error.message
    _act(number, "return", role="department", unit=ZJJ, reason="应由城管部门办理")
    assert _refused(lambda s: units.deactivate_unit(s, ZJJ, successor=CGJ)).code == "unit-has-open-orders"
    _act(number, "redispatch", role="dispatcher", target_unit=CGJ)
    with session_scope() as s:
        units.deactivate_unit(s, ZJJ, successor=CGJ)
    assert _unit(ZJJ)["active"] is False


@pytest.mark.parametrize("first", ["dispatch", "deactivate"])
def test_a_dispatch_and_a_deactivation_at_the_same_moment_never_leave_an_order_with_an_inactive_unit(
    tree: str, first: str
) -> None:
    """A 派单 to 住建局 and its 停用 racing in two transactions: whichever takes the unit's row first, the other
    waits for it and then refuses — never an order being worked on by a unit out of service. PostgreSQL: SQLite
    runs one writer at a time and refuses a transaction whose snapshot a commit overtook."""
    if not tree.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL")
    number = _order()
    outcome: dict[str, Any] = {}

    def dispatch(s: Session) -> None:
        service.act(s, number, "dispatch", role="dispatcher", target_unit=ZJJ, at=AT)

    def deactivate(s: Session) -> None:
        units.deactivate_unit(s, ZJJ, successor=CGJ)

    steps = {"dispatch": dispatch, "deactivate": deactivate}
    second = "deactivate" if first == "dispatch" else "dispatch"

    def run_second() -> None:
        try:
            with session_scope() as s:
                steps[second](s)
            outcome["done"] = True
        except HotlineError as exc:
            outcome["refused"] = exc.code

    holder = session_factory()()
    try:
        steps[first](holder)
        holder.flush()  # the first holds the unit's row, not committed yet
        racer = threading.Thread(target=run_second)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), outcome  # waiting for the first transaction's lock
        holder.commit()
    finally:
        holder.close()
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert outcome == {"refused": "unit-has-open-orders" if first == "dispatch" else "unit-inactive"}
    with session_scope() as s:
        order = service.get_order(s, number)
        assert (order.state, order.lead_unit.code if order.lead_unit else None) == (
            ("dispatched", ZJJ) if first == "dispatch" else ("registered", None)
        )
        assert service.get_unit(s, ZJJ).active is (first == "dispatch")


def test_an_order_it_finished_keeps_naming_it(tree: str) -> None:
    number = _order()
    _act(number, "dispatch", role="dispatcher", target_unit=RSJ)
    _act(number, "accept", role="department", unit=RSJ)
    _act(number, "resolve", role="department", unit=RSJ, reply="已协调恢复供水")
    with session_scope() as s:
        units.deactivate_unit(s, RSJ, successor=CGJ)
    with session_scope() as s:
        assert service.order_view(s, service.get_order(s, number), "dispatcher")["lead_unit"]["code"] == RSJ


@pytest.mark.parametrize(
    ("code", "successor", "refusal"),
    [
        (ZJJ, None, "unit-in-catalogue"),  # named by two entries
        (ZJJ, ZJJ, "invalid-successor"),  # itself
        (ZJJ, WATER, "invalid-successor"),  # one of its own descendants
        (RSJ, "510100-old", "invalid-successor"),  # out of service
        (ZJJ, "nowhere", "unit-not-found"),
    ],
)
def test_a_refused_deactivation_writes_nothing(tree: str, code: str, successor: str | None, refusal: str) -> None:
    with session_scope() as s:
        service.add_unit(s, "510100-old", "已撤销的办公室", "department", region_code="510100")
        units.deactivate_unit(s, "510100-old")
    error = _refused(lambda s: units.deactivate_unit(s, code, successor=successor))
    assert error.code == refusal
    if refusal == "unit-in-catalogue":
        assert error.details["entries"][0] == {"category": "城乡建设", "region_code": "510100", "line": ""}
        assert "城乡建设（成都市，全部号码）" in error.message


def test_a_unit_heading_units_in_service_needs_a_successor(tree: str) -> None:
    with session_scope() as s:
        for key in (("城乡建设", "510100"), ("城乡建设/住房保障与房地产", "")):
            service.remove_catalogue_entry(s, key[0], region_code=key[1], line="12329" if key[1] == "" else "")
    error = _refused(lambda s: units.deactivate_unit(s, ZJJ))
    assert error.code == "unit-has-children" and error.details["children"] == [WATER, WUHOU]
    with session_scope() as s:  # its children out of service, it may go without a successor
        for child in (WATER, WUHOU):
            units.deactivate_unit(s, child)
        units.deactivate_unit(s, ZJJ)
    assert _unit(WATER)["parent"] == ZJJ  # not re-parented: there was no successor


# -- an inactive unit takes no new work; 启用 ---------------------------------------------------------------------
def test_an_inactive_unit_takes_no_catalogue_entry_order_or_child_until_reactivated(tree: str) -> None:
    with session_scope() as s:
        units.deactivate_unit(s, ZJJ, successor=CGJ)
    entry = _refused(lambda s: service.set_catalogue_entry(s, "城乡建设/住房保障与房地产", ZJJ, region_code="510107"))
    assert entry.code == "unit-inactive" and entry.http_status == 409
    child = _refused(
        lambda s: service.add_unit(s, "510100-new", "新办", "department", region_code="510100", parent=ZJJ)
    )
    assert child.code == "unit-inactive"
    number = _order()
    with pytest.raises(HotlineError) as dispatch, session_scope() as s:
        service.act(s, number, "dispatch", role="dispatcher", target_unit=ZJJ, at=AT)
    assert dispatch.value.code == "unit-inactive"
    with pytest.raises(HotlineError) as co, session_scope() as s:
        service.act(s, number, "dispatch", role="dispatcher", target_unit=CGJ, co_units=[ZJJ], at=AT)
    assert co.value.code == "unit-inactive"
    with session_scope() as s:  # its existing children may still be edited under it
        service.add_unit(s, WATER, "成都市供水管理办公室", "department", region_code="510100", parent=CGJ)

    with session_scope() as s:
        assert units.activate_unit(s, ZJJ).active is True
    # only the flag: what the successor took over stays with it
    assert _lookup("城乡建设/城市建设和市政管理") == CGJ and _unit(WUHOU)["parent"] == CGJ
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)


# -- API -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def api(tree: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from hotline.app import create_app

    monkeypatch.setenv("HOTLINE_AUTH", "on")
    monkeypatch.setattr(advice, "_advise_function", lambda: None)
    return TestClient(create_app())


def test_api_deactivates_and_activates_for_administrators_only(api: TestClient) -> None:
    admin, chief = bearer("zhaolei", ["admin"], "赵磊"), bearer("wangfang", ["supervisor"], "王芳")
    dispatcher = bearer("lihua", ["dispatcher"], "李华")
    for who in (chief, dispatcher):
        refused = api.post(f"/api/workorders/units/{ZJJ}/deactivate", json={"successor": CGJ}, headers=who)
        assert refused.status_code == 403 and refused.json()["code"] == "role-not-granted"
    assert _unit(ZJJ)["active"] is True

    missing = api.post(f"/api/workorders/units/{ZJJ}/deactivate", json={}, headers=admin)
    assert missing.status_code == 409 and missing.json()["code"] == "unit-in-catalogue"
    assert len(missing.json()["details"]["entries"]) == 2
    done = api.post(f"/api/workorders/units/{ZJJ}/deactivate", json={"successor": CGJ}, headers=admin)
    assert done.status_code == 200
    assert done.json()["reparented"] == [WATER, WUHOU] and len(done.json()["moved_entries"]) == 2
    listed = api.get("/api/workorders/units", params={"active": "false"}, headers=dispatcher)
    assert [u["code"] for u in listed.json()] == [ZJJ]

    again = api.post(f"/api/workorders/units/{RSJ}/deactivate", json={"successor": ZJJ}, headers=admin)
    assert again.status_code == 422 and again.json()["code"] == "invalid-successor"
    assert api.post(f"/api/workorders/units/{ZJJ}/activate", headers=chief).status_code == 403
    back = api.post(f"/api/workorders/units/{ZJJ}/activate", headers=admin)
    assert back.status_code == 200 and back.json()["active"] is True


def test_api_refuses_a_catalogue_entry_for_an_inactive_unit(api: TestClient) -> None:
    admin = bearer("zhaolei", ["admin"], "赵磊")
    api.post(f"/api/workorders/units/{ZJJ}/deactivate", json={"successor": CGJ}, headers=admin)
    entry = {"category": "城乡建设", "unit": ZJJ, "region_code": "510107"}
    refused = api.put("/api/workorders/catalogue", json=entry, headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "unit-inactive"


# -- CLI -----------------------------------------------------------------------------------------------------------
def test_cli_deactivates_with_a_successor_and_activates(tree: str, cli: Callable[..., Ran]) -> None:
    refused = cli("unit-deactivate", ZJJ)
    assert refused.returncode == 2 and "错误[unit-in-catalogue]" in refused.stderr
    assert _unit(ZJJ)["active"] is True
    done = cli("unit-deactivate", ZJJ, "--successor", CGJ)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"已停用单位：{ZJJ} 成都市住房和城乡建设局"
    assert "  派单目录改由成都市城市管理委员会（510100-cgj）承办：城乡建设 510100 全部号码" in lines
    assert f"  下级单位改隶成都市城市管理委员会（510100-cgj）：{WUHOU} 武侯区住房和城乡建设局" in lines
    inactive = cli("units", "--inactive")
    assert [u["code"] for u in json.loads(inactive.stdout)] == [ZJJ]
    back = cli("unit-activate", ZJJ)
    assert back.returncode == 0 and back.stdout.strip() == f"已启用单位：{ZJJ} 成都市住房和城乡建设局"
    assert cli("unit-activate", "nowhere").returncode == 2
