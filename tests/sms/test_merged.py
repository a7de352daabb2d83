"""并单 and 短信通知 (SQLite and PostgreSQL): a demand merged into another gets its own 办结告知, naming its own
order number (the one its 受理回执 gave, which finds the master's reply on /track), when the master's reply can be
read there; under its own rules, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from hotline.db import session_scope
from hotline.errors import Conflict
from hotline.sms import service
from hotline.workorders import service as workorders
from tests.sms.conftest import DISPATCHER, PHONE, T0, ZJJ, answer, review, take, units

OTHER = "13998765432"  # the duplicate's citizen, not the master's
LATER = T0 + timedelta(days=2)


def relay(at: datetime) -> dict[str, int]:
    with session_scope() as s:
        return service.relay_once(s, at=at)


def merge(number: str, master: str, at: datetime) -> None:
    with session_scope() as s:
        workorders.act(s, number, "merge", master=master, at=at, **DISPATCHER)


def resolve(number: str, at: datetime) -> None:
    """NUMBER, 派单 already, signed for and 办结 by its unit at AT."""
    with session_scope() as s:
        workorders.act(s, number, "accept", role="department", unit=ZJJ, at=at - timedelta(hours=1))
        workorders.act(s, number, "resolve", role="department", unit=ZJJ, reply="已答复。", at=at)


def resolved(number: str) -> list[dict[str, Any]]:
    with session_scope() as s:
        return [m for m in service.messages_for_order(s, number, mask=False) if m["kind"] == "resolved"]


def test_a_merged_demand_is_told_its_own_number_when_the_master_passes_review(db_url: str) -> None:
    units()
    master = take()
    duplicate = take(T0 + timedelta(minutes=5), phone=OTHER)
    merge(duplicate, master, T0 + timedelta(minutes=10))
    relay(T0 + timedelta(minutes=11))
    answer(master, LATER)
    relay(LATER + timedelta(minutes=1))
    assert resolved(duplicate) == []  # 办结 awaiting 审核: /track shows no reply yet

    review(master, LATER + timedelta(hours=1))
    assert relay(LATER + timedelta(hours=1, minutes=1))["written"] == 2
    [notice] = resolved(duplicate)
    assert (notice["state"], notice["phone"], notice["order_number"]) == ("pending", OTHER, duplicate)
    assert f"工单编号{duplicate}）已办结" in notice["text"] and master not in notice["text"]
    assert [m["phone"] for m in resolved(master)] == [PHONE]
    # The number texted finds the master's reply on /track, with the duplicate's own phone.
    with session_scope() as s:
        track = workorders.public_lookup(s, duplicate, OTHER[-4:], at=LATER + timedelta(hours=2))
    assert track["reply"] == "已答复。" and master in track["state_label"]


def test_an_order_merged_into_a_merged_order_is_told_too(db_url: str) -> None:
    units()
    first, second, master = take(), take(phone=OTHER), take(phone="13700001111")
    merge(first, second, T0 + timedelta(minutes=10))
    merge(second, master, T0 + timedelta(minutes=20))
    relay(T0 + timedelta(minutes=21))
    with session_scope() as s:
        workorders.act(s, master, "direct_resolve", role="agent", actor="张敏", reply="可在线提取。",
                       at=T0 + timedelta(hours=1))  # fmt: skip
    relay(T0 + timedelta(hours=1, minutes=1))
    assert [(m["order_number"], m["phone"]) for n in (first, second, master) for m in resolved(n)] == [
        (first, PHONE), (second, OTHER), (master, "13700001111"),
    ]  # fmt: skip


@pytest.mark.parametrize(("fields", "reason"), [({"sms": False}, "declined"), ({"type": "举报"}, "report")])
def test_a_merged_demand_the_rules_leave_out_is_not_texted(db_url: str, fields: dict[str, Any], reason: str) -> None:
    units()
    master = take()
    duplicate = take(T0 + timedelta(minutes=5), phone=OTHER, **fields)
    merge(duplicate, master, T0 + timedelta(minutes=10))
    answer(master, LATER)
    review(master, LATER + timedelta(hours=1))
    relay(LATER + timedelta(hours=1, minutes=1))
    assert [(m["state"], m["skip_reason"]) for m in resolved(duplicate)] == [("skipped", reason)]
    assert [m["state"] for m in resolved(master)] == ["pending"]  # the master's citizen did not decline


def test_reading_the_history_again_texts_a_merged_demand_once(db_url: str) -> None:
    units()
    master = take()
    duplicate = take(phone=OTHER)
    merge(duplicate, master, T0 + timedelta(minutes=10))
    answer(master, LATER)
    review(master, LATER + timedelta(hours=1))
    relay(LATER + timedelta(hours=1, minutes=1))
    before = resolved(duplicate)
    with session_scope() as s:
        s.execute(text("DELETE FROM push_cursors WHERE name = 'sms'"))
    assert relay(LATER + timedelta(hours=1, minutes=2))["written"] == 0
    assert resolved(duplicate) == before and len(before) == 1


def test_an_answered_order_takes_no_more_merged_demands_but_a_reopened_one_does(db_url: str) -> None:
    """The domain merges only into a master still being worked on (`merge-master-closed`): nobody is merged into
    an order already answered. Reopened (重办), it takes duplicates again, and its next 审核通过 texts the new ones
    (its own 办结告知 went out the first time and is not sent again)."""
    units()
    master, early, late = take(), take(phone=OTHER), take(phone="13700001111")
    merge(early, master, T0 + timedelta(minutes=10))
    answer(master, LATER)
    review(master, LATER + timedelta(hours=1))
    relay(LATER + timedelta(hours=1, minutes=1))
    with pytest.raises(Conflict) as refused:
        merge(late, master, LATER + timedelta(hours=2))
    assert refused.value.code == "merge-master-closed"

    again = LATER + timedelta(days=1)
    with session_scope() as s:
        workorders.act(s, master, "callback", role="agent", actor="张敏", satisfaction="unsatisfied",
                       citizen_resolved=False, at=again)  # fmt: skip
        workorders.act(s, master, "reopen", role="dispatcher", actor="李华", reason="市民不满意", at=again)
    merge(late, master, again + timedelta(minutes=5))
    resolve(master, again + timedelta(days=2))
    review(master, again + timedelta(days=2, hours=1))
    assert relay(again + timedelta(days=2, hours=1, minutes=1))["written"] == 1
    assert [len(resolved(n)) for n in (master, early, late)] == [1, 1, 1]
    assert resolved(late)[0]["phone"] == "13700001111"


def test_a_merge_committed_after_the_master_was_answered_is_texted(db_url: str) -> None:
    """A merge and the master's 审核通过 at the same moment: the merge checked the master still open, then the
    master was answered before the merge committed. The relay, having read the 审核通过 before the merge appeared,
    texts the duplicate when it reads the merge. (SQLite lets one writer at a time: this cannot happen there.)"""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers")
    units()
    master, duplicate = take(), take(phone=OTHER)
    with session_scope() as s:
        workorders.act(s, master, "dispatch", target_unit=ZJJ, at=T0 + timedelta(minutes=1), **DISPATCHER)
    relay(T0 + timedelta(minutes=2))
    with session_scope() as s:
        workorders.act(s, duplicate, "merge", master=master, at=LATER + timedelta(minutes=5), **DISPATCHER)
        s.flush()
        resolve(master, LATER + timedelta(minutes=6))  # other transactions, committed first
        review(master, LATER + timedelta(minutes=6))
        relay(LATER + timedelta(minutes=7))
        assert resolved(duplicate) == [] and len(resolved(master)) == 1
    relay(LATER + timedelta(minutes=8))
    [notice] = resolved(duplicate)
    assert notice["state"] == "pending" and duplicate in notice["text"]
