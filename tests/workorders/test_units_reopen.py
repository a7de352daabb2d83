"""机构调整 meets 重办: an order reopened after its citizen was not satisfied goes back to its unit, and a lead's
answered co-handling orders to theirs; one whose unit has since been 停用 goes to the 接替单位 that 停用 named (or
the one that took over from that unit in turn), and the history says so; a unit 停用 without one refuses the 重办
(`unit-inactive`, naming it) and nothing is written. A unit taking over gets one order of the family, never a
second one nor a co-handling order of the order it leads. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.errors import Conflict
from hotline.workorders import advice
from hotline.workorders import units as reorganise
from tests.workorders.test_service import AT, CGJ, RSJ, ZJJ, _act, _answered_family, _create, _show
from tests.workorders.test_service import units as units  # the fixture

LATER = AT + timedelta(days=14)
WHY = "市民称仍有污水外溢"
CGJ_NAMED = f"武侯区综合行政执法局（{CGJ}）"
COUNTY = "510107"  # 武侯区's centre


@pytest.fixture
def unsatisfied(units: str) -> tuple[str, str]:
    """A lead by 住建局 with 执法局 co-handling, both answered, the citizen not satisfied at the 回访."""
    lead, (kid,) = _unsatisfied()
    return lead, kid


def _unsatisfied(co_units: tuple[str, ...] = (CGJ,)) -> tuple[str, list[str]]:
    """A lead by 住建局 with CO_UNITS co-handling, all answered, the citizen not satisfied at the 回访."""
    lead, kids = _answered_family(co_units=co_units)
    _act(lead, "callback", LATER, role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    return lead, kids


def _stop(code: str, successor: str | None = None) -> None:
    with session_scope() as s:
        reorganise.deactivate_unit(s, code, successor=successor, actor="admin")


def _start(code: str) -> None:
    with session_scope() as s:
        reorganise.activate_unit(s, code, actor="admin")


def _reopen(lead: str) -> dict[str, object]:
    return _act(lead, "reopen", LATER, role="dispatcher", actor="派单员甲", reason=WHY)


@pytest.mark.parametrize("chain", [False, True])
def test_a_co_handling_order_goes_to_the_successor_of_its_unit_out_of_service(
    unsatisfied: tuple[str, str], chain: bool
) -> None:
    lead, kid = unsatisfied
    _stop(CGJ, successor=RSJ)
    heir, heir_named = RSJ, f"成都市人力资源和社会保障局（{RSJ}）"
    if chain:  # the successor merged away in turn: the one that took over from it
        _stop(RSJ, successor=COUNTY)
        heir, heir_named = COUNTY, f"武侯区（{COUNTY}）"

    reopened = _reopen(lead)
    assert (reopened["state"], reopened["lead_unit"]["code"]) == ("dispatched", ZJJ)  # type: ignore[index]
    shown = _show(kid)
    assert (shown["state"], shown["lead_unit"]["code"], shown["reply"]) == ("dispatched", heir, "")
    last = shown["history"][-1]
    assert (last["action"], last["actor"]) == ("reopen", "派单员甲")
    assert last["reason"] == f"随主办工单 {lead} 重办（协办单位{CGJ_NAMED}已停用，由接替单位{heir_named}承办）：{WHY}"
    assert last["changes"]["lead_unit"] == [CGJ, heir]
    assert [k["unit"] for k in _show(lead)["children"]] == [heir]
    # The successor works it as its own; the lead answers once it has.
    _act(kid, "accept", LATER, role="department", unit=heir)
    _act(kid, "resolve", LATER, role="department", unit=heir, reply="已接手清理")
    _act(lead, "accept", LATER, role="department", unit=ZJJ)
    assert _act(lead, "resolve", LATER, role="department", unit=ZJJ, reply="已再次疏通")["state"] == "resolved"


@pytest.mark.parametrize("out", [CGJ, ZJJ])
def test_a_unit_out_of_service_without_a_successor_refuses_the_reopening(
    unsatisfied: tuple[str, str], out: str
) -> None:
    """The co-handling unit (执法局) or the lead's own (住建局) 停用 without a successor: the message names it and
    says what to do, and neither the lead nor its co-handling order is touched."""
    lead, kid = unsatisfied
    order, named, todo = (
        (kid, CGJ_NAMED, "启用后再停用并指定接替单位") if out == CGJ else (lead, ZJJ_NAMED, "请指定承办单位")
    )
    # A successor named by an earlier 停用 no longer counts once the unit was put back and 停用 without one.
    _stop(out, successor=RSJ)
    _start(out)
    _stop(out)
    before = {n: _show(n) for n in (lead, kid)}

    with pytest.raises(Conflict) as refused:
        _reopen(lead)
    assert refused.value.code == "unit-inactive" and refused.value.http_status == 409
    assert refused.value.details == {"unit": out, "order": order}
    assert named in refused.value.message and order in refused.value.message and todo in refused.value.message
    for number, was in before.items():  # nothing half-written: neither the lead nor its co-handling order
        now = _show(number)
        assert (now["state"], now["version"], now["lead_unit"], now["history"]) == (
            was["state"], was["version"], was["lead_unit"], was["history"]
        )  # fmt: skip
    assert before[lead]["state"] == "visited"

    if out == ZJJ:  # what the message says to do: name a unit
        named_unit = _act(lead, "reopen", LATER, role="dispatcher", actor="派单员甲", reason=WHY, target_unit=RSJ)
        assert named_unit["lead_unit"]["code"] == RSJ and _show(lead)["history"][-1]["reason"] == WHY
        return
    # What the message says to do: put it back, then 停用 it naming a successor.
    _start(CGJ)
    _stop(CGJ, successor=RSJ)
    _reopen(lead)
    assert _show(kid)["lead_unit"]["code"] == RSJ


def test_a_co_handling_unit_in_service_gets_its_order_back_as_before(unsatisfied: tuple[str, str]) -> None:
    lead, kid = unsatisfied
    _stop(RSJ)  # another unit's 停用 changes nothing here
    _reopen(lead)
    shown = _show(kid)
    assert shown["lead_unit"]["code"] == CGJ and "lead_unit" not in shown["history"][-1]["changes"]
    assert shown["history"][-1]["reason"] == f"随主办工单 {lead} 重办：{WHY}"


# -- the order's own unit out of service ---------------------------------------------------------------------------
ZJJ_NAMED = f"成都市住房和城乡建设局（{ZJJ}）"
RSJ_NAMED = f"成都市人力资源和社会保障局（{RSJ}）"
COUNTY_NAMED = f"武侯区（{COUNTY}）"


def _answered_alone() -> str:
    """An order handled by 住建局 alone, the citizen not satisfied at the 回访."""
    n = _create(type="求助", content="楼道灯不亮")
    _act(n, "dispatch", role="dispatcher", target_unit=ZJJ)
    _act(n, "accept", role="department", unit=ZJJ)
    _act(n, "resolve", role="department", unit=ZJJ, reply="已更换灯泡")
    _act(n, "review_pass", role="supervisor")
    _act(n, "callback", LATER, role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    return n


@pytest.mark.parametrize("family", [False, True])
@pytest.mark.parametrize("chain", [False, True])
def test_an_order_whose_unit_is_out_of_service_goes_to_its_successor(units: str, family: bool, chain: bool) -> None:
    if family:
        lead, (kid,) = _unsatisfied()
    else:
        lead, kid = _answered_alone(), None
    _stop(ZJJ, successor=RSJ)
    heir, heir_named = RSJ, RSJ_NAMED
    if chain:
        _stop(RSJ, successor=COUNTY)
        heir, heir_named = COUNTY, COUNTY_NAMED

    reopened = _reopen(lead)
    assert (reopened["state"], reopened["lead_unit"]["code"]) == ("dispatched", heir)  # type: ignore[index]
    last = _show(lead)["history"][-1]
    assert (last["action"], last["actor"]) == ("reopen", "派单员甲")
    assert last["reason"] == f"承办单位{ZJJ_NAMED}已停用，由接替单位{heir_named}承办：{WHY}"
    assert last["changes"]["lead_unit"] == [ZJJ, heir]
    if kid is not None:  # its co-handling unit in service gets its order back as before
        shown = _show(kid)
        assert (shown["state"], shown["lead_unit"]["code"]) == ("dispatched", CGJ)
        assert shown["history"][-1]["reason"] == f"随主办工单 {lead} 重办：{WHY}"
    # The successor works it as its own.
    _act(lead, "accept", LATER, role="department", unit=heir)
    if kid is not None:
        _act(kid, "accept", LATER, role="department", unit=CGJ)
        _act(kid, "resolve", LATER, role="department", unit=CGJ, reply="已配合处理")
    assert _act(lead, "resolve", LATER, role="department", unit=heir, reply="已接手")["state"] == "resolved"


# -- one unit, one order of the family -----------------------------------------------------------------------------
@pytest.mark.parametrize("heir", [COUNTY, CGJ])
def test_two_co_handling_units_taken_over_by_one_unit_give_it_one_order(units: str, heir: str) -> None:
    """执法局 and 人社局 both 停用 to 武侯区; or 人社局 to 执法局, still in service and co-handling already: the unit
    taking over gets one co-handling order back, the one left out stays answered and is archived with the lead."""
    lead, kids = _unsatisfied(co_units=(CGJ, RSJ))
    by_unit = dict(zip((CGJ, RSJ), kids, strict=True))
    if heir == COUNTY:
        _stop(CGJ, successor=COUNTY)
    _stop(RSJ, successor=heir)
    left_out = by_unit[RSJ]
    left_before = _show(left_out)

    _reopen(lead)
    kept = _show(by_unit[CGJ])
    assert (kept["state"], kept["lead_unit"]["code"]) == ("dispatched", heir)
    takeover = f"协办单位{RSJ_NAMED}已停用，其协办工单 {left_out} 并入本单，由接替单位{_named(heir)}一并办理"
    handover = [f"协办单位{CGJ_NAMED}已停用，由接替单位{COUNTY_NAMED}承办"] if heir == COUNTY else []
    assert kept["history"][-1]["reason"] == f"随主办工单 {lead} 重办（{'；'.join([*handover, takeover])}）：{WHY}"
    left = _show(left_out)
    assert (left["state"], left["version"], left["lead_unit"], left["history"]) == (
        "resolved", left_before["version"], left_before["lead_unit"], left_before["history"]
    )  # fmt: skip
    assert [k["unit"] for k in _show(lead)["children"]] == [heir, RSJ]
    assert _show(lead)["history"][-1]["reason"] == WHY

    # Once the unit taking over has answered, the lead answers; archived, it takes both along.
    _act(by_unit[CGJ], "accept", LATER, role="department", unit=heir)
    _act(by_unit[CGJ], "resolve", LATER, role="department", unit=heir, reply="已一并处理")
    _act(lead, "accept", LATER, role="department", unit=ZJJ)
    _act(lead, "resolve", LATER, role="department", unit=ZJJ, reply="已再次疏通")
    _act(lead, "review_pass", LATER, role="supervisor")
    _act(lead, "archive", LATER, role="supervisor")
    assert {_show(k)["state"] for k in kids} == {"archived"}


@pytest.mark.parametrize("lead_out", [False, True])
def test_a_co_handling_order_is_not_given_to_the_unit_leading_the_order(
    unsatisfied: tuple[str, str], lead_out: bool
) -> None:
    """执法局 停用 to 住建局, which leads the order; or both 停用 to 武侯区, which now leads it: the lead's unit does
    the co-handling unit's part, its order stays answered, and the lead's history says so."""
    lead, kid = unsatisfied
    heir, heir_named = (COUNTY, COUNTY_NAMED) if lead_out else (ZJJ, ZJJ_NAMED)
    if lead_out:
        _stop(ZJJ, successor=COUNTY)
    _stop(CGJ, successor=heir)
    kid_before = _show(kid)

    reopened = _reopen(lead)
    assert reopened["lead_unit"]["code"] == heir  # type: ignore[index]
    notes = [f"承办单位{ZJJ_NAMED}已停用，由接替单位{COUNTY_NAMED}承办"] if lead_out else []
    notes.append(f"协办单位{CGJ_NAMED}已停用，其协办工单 {kid} 并入本单，由接替单位{heir_named}一并办理")
    assert _show(lead)["history"][-1]["reason"] == f"{'；'.join(notes)}：{WHY}"
    shown = _show(kid)
    assert (shown["state"], shown["lead_unit"], shown["history"]) == (
        "resolved", kid_before["lead_unit"], kid_before["history"]
    )  # fmt: skip
    # The lead answers without waiting on it.
    _act(lead, "accept", LATER, role="department", unit=heir)
    assert _act(lead, "resolve", LATER, role="department", unit=heir, reply="已一并处理")["state"] == "resolved"


def _named(code: str) -> str:
    return {COUNTY: COUNTY_NAMED, CGJ: CGJ_NAMED, RSJ: RSJ_NAMED, ZJJ: ZJJ_NAMED}[code]


# -- API and page --------------------------------------------------------------------------------------------------
@pytest.fixture
def client(units: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from hotline.app import create_app

    monkeypatch.setattr(advice, "_advise_function", lambda: None)
    return TestClient(create_app())


def test_api_reopens_an_order_to_the_successor_of_its_unit(client: TestClient) -> None:
    number = _answered_alone()
    _stop(ZJJ, successor=RSJ)
    page = client.get(f"/orders/{number}", params={"role": "dispatcher"})
    assert (
        '<option value="">接替单位（成都市人力资源和社会保障局，原承办单位成都市住房和城乡建设局已停用）</option>'
        in (page.text)
    )

    done = client.post(
        f"/api/orders/{number}/actions/reopen", json={"role": "dispatcher", "actor": "派单员甲", "reason": WHY}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["lead_unit"]["code"]) == ("dispatched", RSJ)
    last = client.get(f"/api/orders/{number}").json()["history"][-1]
    assert last["reason"] == f"承办单位{ZJJ_NAMED}已停用，由接替单位{RSJ_NAMED}承办：{WHY}"
    assert last["changes"]["lead_unit"] == [ZJJ, RSJ]


def test_api_refuses_the_reopening_when_the_unit_has_no_successor(client: TestClient) -> None:
    number = _answered_alone()
    _stop(ZJJ)
    page = client.get(f"/orders/{number}", params={"role": "dispatcher"})
    assert '<option value="">原承办单位（成都市住房和城乡建设局）已停用，请选择承办单位</option>' in page.text
    refused = client.post(
        f"/api/orders/{number}/actions/reopen", json={"role": "dispatcher", "actor": "派单员甲", "reason": WHY}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "unit-inactive"
    assert refused.json()["details"] == {"unit": ZJJ, "order": number}
    assert _show(number)["state"] == "visited"
