"""机构调整 meets 重办: a lead reopened after its citizen was not satisfied sends its answered co-handling orders
back to their own units; one whose unit has since been 停用 goes to the 接替单位 that 停用 named (or the one that
took over from that unit in turn), and the history says so; a unit 停用 without one refuses the 重办
(`unit-inactive`, naming it) and nothing is written. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.db import session_scope
from hotline.errors import Conflict
from hotline.workorders import units as reorganise
from tests.workorders.test_service import AT, CGJ, RSJ, ZJJ, _act, _answered_family, _show
from tests.workorders.test_service import units as units  # the fixture

LATER = AT + timedelta(days=14)
WHY = "市民称仍有污水外溢"
CGJ_NAMED = f"武侯区综合行政执法局（{CGJ}）"
COUNTY = "510107"  # 武侯区's centre


@pytest.fixture
def unsatisfied(units: str) -> tuple[str, str]:
    """A lead by 住建局 with 执法局 co-handling, both answered, the citizen not satisfied at the 回访."""
    lead, (kid,) = _answered_family()
    _act(lead, "callback", LATER, role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    return lead, kid


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


def test_a_co_handling_unit_out_of_service_without_a_successor_refuses_the_reopening(
    unsatisfied: tuple[str, str],
) -> None:
    lead, kid = unsatisfied
    # A successor named by an earlier 停用 no longer counts once the unit was put back and 停用 without one.
    _stop(CGJ, successor=RSJ)
    _start(CGJ)
    _stop(CGJ)
    before = {n: _show(n) for n in (lead, kid)}

    with pytest.raises(Conflict) as refused:
        _reopen(lead)
    assert refused.value.code == "unit-inactive" and refused.value.http_status == 409
    assert refused.value.details == {"unit": CGJ, "order": kid}
    assert CGJ_NAMED in refused.value.message and kid in refused.value.message
    for number, was in before.items():  # nothing half-written: neither the lead nor its co-handling order
        now = _show(number)
        assert (now["state"], now["version"], now["lead_unit"], now["history"]) == (
            was["state"], was["version"], was["lead_unit"], was["history"]
        )  # fmt: skip
    assert before[lead]["state"] == "visited"

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
