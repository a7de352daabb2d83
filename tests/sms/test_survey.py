"""短信回访 as the platform runs it (SQLite and PostgreSQL): the 办结告知 of an order's own answer asks for a rating
(a merged duplicate's does not, nor any with the survey off); the citizen's reply 1/2 is recorded as the order's 回访
(counted in the KPIs as a phone 回访 is), 3 leaves it 待回访 for an agent, and the reply is matched to the latest such
text sent to the number within the survey's hours; the first recognized reply wins, a gateway's id is stored once,
a phone 回访 first makes the reply late, two replies at once record one 回访."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.sms import domain as d
from hotline.sms import service
from hotline.sms.store import CitizenReply, Message
from hotline.workorders import service as workorders
from tests.sms.conftest import PHONE, T0, Gateway, take
from tests.sms.test_service import SOON, relay, send

SENT = SOON  # when the 办结告知 is sent
LATER = T0 + timedelta(hours=2)


def surveyed(phone: str = PHONE, at: datetime = T0, **more: Any) -> str:
    """An order answered at once (直接办结) at AT, its 办结告知 relayed and sent a minute later: its number."""
    number = take(at, direct=True, phone=phone, **more)
    return number


def reply(body: str, *, phone: str = PHONE, at: datetime = LATER, gateway_id: str | None = None) -> dict[str, Any]:
    with session_scope() as s:
        return service.receive_reply(s, phone=phone, text=body, received_at=at, gateway_id=gateway_id, at=at)


def order(number: str) -> dict[str, Any]:
    with session_scope() as s:
        o = workorders.get_order(s, number)
        return {"state": o.state, "satisfaction": o.satisfaction, "resolved": o.citizen_resolved}


def last_entry(number: str) -> dict[str, Any]:
    with session_scope() as s:
        return workorders.history_of(s, workorders.get_order(s, number))[-1]


def stored() -> list[tuple[str, str | None, str]]:
    with session_scope() as s:
        rows = s.scalars(select(CitizenReply).order_by(CitizenReply.id))
        return [(r.text, r.rating, r.outcome) for r in rows]


def test_the_resolved_notice_asks_for_a_rating_and_a_1_records_the_callback(db_url: str, gateway: Gateway) -> None:
    number = surveyed()
    relay()
    send(gateway)
    [notice] = gateway.received
    assert notice["text"].endswith(d.SURVEY_PROMPT) and number in notice["text"]
    answer = reply("１。", at=LATER)  # full-width digit and punctuation: still 1
    assert answer == {"reply_id": answer["reply_id"], "outcome": "recorded", "outcome_label": "已记为回访"}
    assert order(number) == {"state": "visited", "satisfaction": "satisfied", "resolved": True}
    entry = last_entry(number)
    assert (entry["action"], entry["actor"], entry["reason"]) == ("callback", "短信回访", "市民短信回复“1”（满意）")
    assert entry["at"].startswith("2026-06-01T12:00")  # the reply's arrival time


def test_basic_is_recorded_and_unsatisfied_leaves_the_order_to_an_agent(db_url: str, gateway: Gateway) -> None:
    basic, unhappy = surveyed(), surveyed("13900002222")
    relay()
    send(gateway)
    assert reply("基本满意")["outcome"] == "recorded"
    assert order(basic)["satisfaction"] == "basic"
    assert reply(" 3 ", phone="13900002222")["outcome"] == "unsatisfied"
    assert order(unhappy) == {"state": "to_visit", "satisfaction": None, "resolved": None}
    with session_scope() as s:
        assert service.awaiting_calls(s) == 1
        [listed] = service.list_replies(s, awaiting=True)
    assert (listed["order_number"], listed["phone"], listed["rating_label"]) == (unhappy, "139****2222", "不满意")
    # The agent's phone 回访 closes it: no longer counted.
    with session_scope() as s:
        workorders.act(s, unhappy, "callback", role="agent", actor="张敏", satisfaction="unsatisfied",
                       citizen_resolved=False, at=LATER + timedelta(hours=1))  # fmt: skip
    with session_scope() as s:
        assert service.awaiting_calls(s) == 0


def test_replies_that_answer_no_survey(db_url: str, gateway: Gateway) -> None:
    number = surveyed()
    relay()
    assert reply("1")["outcome"] == "no_survey"  # not sent yet
    send(gateway)
    assert reply("1", phone="13900002222")["outcome"] == "no_survey"  # another number
    assert reply("1", at=SENT + timedelta(hours=72, minutes=1))["outcome"] == "no_survey"  # past the survey's hours
    assert reply("好的谢谢")["outcome"] == "unrecognized"
    assert order(number)["state"] == "to_visit"
    assert reply("1", phone="+8613812345678", at=SENT + timedelta(hours=71))["outcome"] == "recorded"
    assert stored()[-1] == ("1", "satisfied", "recorded")


def test_a_merged_duplicates_notice_asks_nothing_and_its_citizens_reply_answers_no_survey(
    db_url: str, gateway: Gateway
) -> None:
    from tests.sms.test_merged import merge

    master = take()
    duplicate = take(T0 + timedelta(minutes=5), phone="13900002222")
    merge(duplicate, master, T0 + timedelta(minutes=10))
    with session_scope() as s:
        workorders.act(s, master, "direct_resolve", role="agent", actor="张敏", reply="已答复。",
                       at=T0 + timedelta(minutes=20))  # fmt: skip
    relay(T0 + timedelta(minutes=21))
    send(gateway, T0 + timedelta(minutes=21))
    asked = {m["phone"]: d.SURVEY_PROMPT in m["text"] for m in gateway.received if "已办结" in m["text"]}
    assert asked == {PHONE: True, "13900002222": False}
    assert reply("3", phone="13900002222")["outcome"] == "no_survey"
    assert reply("3")["outcome"] == "unsatisfied"


def test_with_the_survey_off_the_notice_asks_nothing(
    db_url: str, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_SMS_SURVEY", "off")
    take(direct=True)
    relay()
    with session_scope() as s:
        [message] = s.scalars(select(Message).where(Message.kind == "resolved"))
        assert (message.asks_rating, d.SURVEY_PROMPT in message.text) == (False, False)


def test_the_first_recognized_reply_wins_and_a_phone_callback_first_makes_it_late(
    db_url: str, gateway: Gateway
) -> None:
    first, second = surveyed(), surveyed("13900002222")
    relay()
    send(gateway)
    assert reply("3")["outcome"] == "unsatisfied"
    assert reply("1", at=LATER + timedelta(minutes=5))["outcome"] == "already_answered"
    assert order(first)["state"] == "to_visit"
    with session_scope() as s:
        workorders.act(s, second, "callback", role="agent", actor="张敏", satisfaction="basic",
                       citizen_resolved=True, at=LATER)  # fmt: skip
    assert reply("1", phone="13900002222", at=LATER + timedelta(minutes=1))["outcome"] == "already_visited"
    assert order(second)["satisfaction"] == "basic"


def test_the_latest_survey_to_a_number_is_answered(db_url: str, gateway: Gateway) -> None:
    older = surveyed()
    newer = surveyed(at=T0 + timedelta(minutes=30))
    relay(T0 + timedelta(minutes=31))
    send(gateway, T0 + timedelta(minutes=31))
    assert reply("2")["outcome"] == "recorded"
    assert (order(newer)["state"], order(older)["state"]) == ("visited", "to_visit")


def test_the_same_gateway_id_is_stored_once(db_url: str, gateway: Gateway) -> None:
    surveyed()
    relay()
    send(gateway)
    first = reply("1", gateway_id="MO-1")
    assert reply("1", gateway_id="MO-1") == first
    assert reply("3", gateway_id="MO-1") == first  # same id: the stored answer, nothing new
    assert len(stored()) == 1


@pytest.mark.parametrize(
    "fields",
    [{"phone": ""}, {"text": "满" * 501}, {"received_at": "昨天"}, {"received_at": "2099-01-01T00:00:00+08:00"},
     {"gateway_id": "x" * 65}],
)  # fmt: skip
def test_bad_replies_write_nothing(db_url: str, fields: dict[str, Any]) -> None:
    args: dict[str, Any] = {"phone": PHONE, "text": "1", "received_at": LATER, **fields}
    with pytest.raises(InvalidInput) as refused, session_scope() as s:
        service.receive_reply(s, at=LATER, **args)
    assert refused.value.code == "sms-invalid-reply"
    assert stored() == []


def test_two_replies_at_once_record_one_callback(db_url: str, gateway: Gateway) -> None:
    number = surveyed()
    relay()
    send(gateway)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def one(body: str, minute: int) -> None:
        barrier.wait()
        outcomes.append(reply(body, at=LATER + timedelta(minutes=minute))["outcome"])

    threads = [threading.Thread(target=one, args=(body, i)) for i, body in enumerate(("1", "2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_answered", "recorded"]
    with session_scope() as s:
        callbacks = s.execute(
            text("SELECT count(*) FROM wo_history h JOIN wo_orders o ON o.id = h.order_id "
                 "WHERE o.number = :n AND h.action = 'callback'"), {"n": number}
        ).scalar_one()  # fmt: skip
    assert callbacks == 1


def test_an_order_answered_again_after_reopening_waits_for_a_new_rating(db_url: str, gateway: Gateway) -> None:
    from tests.sms.conftest import DISPATCHER, ZJJ, answer, review, units

    units()
    number = take()
    answer(number, T0 + timedelta(hours=3))
    review(number, T0 + timedelta(hours=4))
    relay(T0 + timedelta(hours=4, minutes=1))
    send(gateway, T0 + timedelta(hours=4, minutes=1))
    assert reply("3", at=T0 + timedelta(hours=5))["outcome"] == "unsatisfied"
    with session_scope() as s:
        assert service.awaiting_calls(s) == 1
        workorders.act(s, number, "callback", role="agent", actor="张敏", satisfaction="unsatisfied",
                       citizen_resolved=False, at=T0 + timedelta(hours=6))  # fmt: skip
        workorders.act(s, number, "reopen", reason="市民不满意", at=T0 + timedelta(hours=7), **DISPATCHER)
        workorders.act(s, number, "accept", role="department", unit=ZJJ, at=T0 + timedelta(hours=8))
        workorders.act(
            s, number, "resolve", role="department", unit=ZJJ, reply="再次答复。", at=T0 + timedelta(hours=9)
        )
        workorders.act(s, number, "review_pass", at=T0 + timedelta(hours=10), **DISPATCHER)
    assert order(number)["state"] == "to_visit"
    with session_scope() as s:  # the old 不满意 rated the first answer: not this one's
        assert service.awaiting_calls(s) == 0
        assert service.list_replies(s, awaiting=True) == []
