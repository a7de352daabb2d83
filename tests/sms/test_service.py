"""短信通知 as the platform runs it (SQLite and PostgreSQL): the relay writes a 受理回执 and a 办结告知 from the
work-order history, whatever path took the order in, skipping (with why) whom the rules leave out and never writing
a text twice; the sender posts what is due to a real HTTP gateway: sent, refused (4xx), retried (5xx, timeout) up to
the attempts allowed, held over the quiet hours, never posted by two senders; a failed text sent again."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from hotline.db import session_scope
from hotline.sms import domain as d
from hotline.sms import service
from hotline.sms.sender import HttpGateway
from hotline.sms.store import Event
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders
from tests.sms.conftest import PHONE, T0, Answer, Gateway, answer, review, take, units

SOON = T0 + timedelta(minutes=1)


def relay(at: datetime = SOON) -> dict[str, int]:
    with session_scope() as s:
        return service.relay_once(s, at=at)


def send(gateway: Gateway, at: datetime = SOON, *, timeout: float = 5.0, **more: Any) -> dict[str, int]:
    with session_scope() as s:
        return service.send_due(s, HttpGateway(gateway.url, token="tok-1", timeout=timeout), at=at, **more)


def texts(number: str | None = None, *, mask: bool = False) -> list[dict[str, Any]]:
    with session_scope() as s:
        if number is None:
            return list(reversed(service.list_messages(s, mask=mask)))
        return service.messages_for_order(s, number, mask=mask)


def states(number: str) -> list[tuple[str, str, str | None]]:
    return [(m["kind"], m["state"], m["skip_reason"]) for m in texts(number)]


def steps(message_id: int) -> list[tuple[str, str]]:
    with session_scope() as s:
        return [(e["action"], e["state"]) for e in service.history(s, message_id)]


# -- the relay ------------------------------------------------------------------------------------------------------


def test_a_demand_taken_in_gets_a_receipt_and_its_answer_a_resolved_notice(db_url: str) -> None:
    units()
    number = take()
    assert relay() == {"read": 1, "written": 1, "skipped": 0}
    [receipt] = texts(number)
    assert (receipt["kind_label"], receipt["state_label"], receipt["phone"]) == ("受理回执", "待发送", PHONE)
    assert receipt["text"].startswith("【12345】") and number in receipt["text"]
    with session_scope() as s:
        due = workorders.get_order(s, number).due
    assert f"{due.month}月{due.day}日前答复" in receipt["text"]
    # Never the citizen's name nor the demand.
    assert "王建国" not in receipt["text"] and "公积金" not in receipt["text"]

    answer(number, T0 + timedelta(days=2))
    assert relay(T0 + timedelta(days=2, minutes=1))["written"] == 0  # 办结 awaiting 审核: /track shows no reply yet
    review(number, T0 + timedelta(days=3))
    assert relay(T0 + timedelta(days=3, minutes=1))["written"] == 1
    # The receipt never tried (no gateway here) is not sent once the answer is: the 办结告知 says it all.
    assert states(number) == [("receipt", "skipped", "answered"), ("resolved", "pending", None)]
    notice = texts(number)[1]
    assert notice["kind_label"] == "办结告知" and "已办结" in notice["text"] and "已答复" not in notice["text"]


def test_a_direct_answer_gets_only_the_resolved_notice(db_url: str) -> None:
    number = take(direct=True)
    relay()
    assert states(number) == [("receipt", "skipped", "answered"), ("resolved", "pending", None)]
    # An order answered later, by API, after its receipt was written: the receipt not tried yet is not sent either.
    later = take(T0 + timedelta(minutes=5))
    relay(T0 + timedelta(minutes=6))
    with session_scope() as s:
        workorders.act(
            s, later, "direct_resolve", role="agent", actor="张敏", reply="答复", at=T0 + timedelta(minutes=7)
        )
    relay(T0 + timedelta(minutes=8))
    assert states(later) == [("receipt", "skipped", "answered"), ("resolved", "pending", None)]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"type": "举报"}, "report"),
        ({"confidential": True}, "confidential"),
        ({"phone": "028-85123456"}, "not_mobile"),
        ({"phone": "12345678901"}, "not_mobile"),
        ({"channel": "app"}, "open311"),
        ({"sms": False}, "declined"),
    ],
)
def test_whom_the_rules_leave_out_is_recorded_as_not_sent_with_why(
    db_url: str, fields: dict[str, Any], reason: str
) -> None:
    number = take(direct=True, **fields)
    relay()
    assert states(number) == [("receipt", "skipped", reason), ("resolved", "skipped", reason)]
    assert texts(number)[0]["skip_reason_label"] == d.SKIP_LABELS[d.SkipReason(reason)]
    assert steps(texts(number)[0]["id"]) == [("skipped", "skipped")]


def test_a_mobile_with_the_country_code_is_texted_without_it(db_url: str) -> None:
    number = take(phone="+8613812345678")
    relay()
    assert [(m["state"], m["phone"]) for m in texts(number)] == [("pending", PHONE)]


def test_an_event_read_more_than_a_day_late_is_not_sent(db_url: str) -> None:
    number = take()
    relay(T0 + timedelta(hours=25))
    assert states(number) == [("receipt", "skipped", "stale")]


def test_co_handling_orders_text_nobody_twice(db_url: str) -> None:
    units()
    with session_scope() as s:
        workorders.add_unit(s, "510100-rsj", "人社局", "department", region_code="510100", parent="510100")
    number = take()
    with session_scope() as s:
        workorders.act(s, number, "dispatch", role="dispatcher", target_unit="510100-zjj", co_units=["510100-rsj"],
                       at=SOON)  # fmt: skip
    relay(SOON)
    assert [m["order_number"] for m in texts()] == [number]


def test_reading_the_history_again_writes_nothing_twice(db_url: str) -> None:
    numbers = [take(), take(direct=True)]
    relay()
    before = texts()
    # A relay that died before saving its cursor, or a second relay: the history is read from the start again.
    with session_scope() as s:
        s.execute(text("DELETE FROM push_cursors WHERE name = 'sms'"))
    assert relay() == {"read": 3, "written": 0, "skipped": 0}
    assert texts() == before and [m["order_number"] for m in before] == [numbers[0], numbers[1], numbers[1]]
    assert relay() == {"read": 0, "written": 0, "skipped": 0}


def test_the_declined_choice_holds_for_the_resolved_notice_too(db_url: str) -> None:
    units()
    number = take(sms=False)
    relay()
    answer(number, T0 + timedelta(days=1))
    review(number, T0 + timedelta(days=1, hours=1))
    relay(T0 + timedelta(days=1, hours=2))
    assert states(number) == [("receipt", "skipped", "declined"), ("resolved", "skipped", "declined")]


# -- the sender -----------------------------------------------------------------------------------------------------


def test_a_text_not_sent_within_a_day_is_not_sent_at_all(db_url: str, gateway: Gateway) -> None:
    """No gateway configured for days (or one down all day): when one answers, the old 受理回执 is not sent days late
    (its answer date may have passed); a text written since is."""
    old = take()
    relay()
    late = T0 + timedelta(days=3)
    new = take(at=late - timedelta(minutes=5))
    relay(late)
    gateway.answers.append(Answer(200, {"id": "GW-1"}))
    assert send(gateway, late) == {"sent": 1, "failed": 0, "retry": 0, "stale": 1}
    assert states(old) == [("receipt", "skipped", "stale")] and states(new) == [("receipt", "sent", None)]
    assert [m["text"] for m in gateway.received] == [texts(new)[0]["text"]]
    assert steps(texts(old)[0]["id"]) == [("written", "pending"), ("skipped", "skipped")]


def test_sent_through_the_gateway_with_its_id_and_token(db_url: str, gateway: Gateway) -> None:
    number = take()
    relay()
    gateway.answers.append(Answer(200, {"id": "GW-778"}))
    assert send(gateway) == {"sent": 1, "failed": 0, "retry": 0, "stale": 0}
    [message] = texts(number)
    assert gateway.received == [{"id": message["id"], "phone": PHONE, "text": message["text"]}]
    assert gateway.headers[0]["Authorization"] == "Bearer tok-1"
    assert (message["state"], message["gateway_id"], message["attempts"]) == ("sent", "GW-778", 1)
    assert message["sent_at"] is not None and message["next_try_at"] is None
    assert steps(message["id"]) == [("written", "pending"), ("sent", "sent")]
    assert send(gateway, SOON + timedelta(hours=1)) == {"sent": 0, "failed": 0, "retry": 0, "stale": 0}  # never twice
    assert len(gateway.received) == 1


def test_a_refusal_fails_the_text_at_once(db_url: str, gateway: Gateway) -> None:
    number = take()
    relay()
    gateway.answers.append(Answer(400, {"error": f"号码格式错误：{PHONE}"}))
    assert send(gateway) == {"sent": 0, "failed": 1, "retry": 0, "stale": 0}
    [message] = texts(number)
    assert (message["state_label"], message["attempts"]) == ("发送失败", 1)
    assert "400" in message["last_error"] and "号码格式错误" in message["last_error"]
    # The gateway quoted the number: kept masked (the error is shown on 短信记录 and the API beside the masked phone).
    assert PHONE not in message["last_error"] and "138****5678" in message["last_error"]
    with session_scope() as s:
        assert PHONE not in repr(service.history(s, message["id"]))
    assert send(gateway, SOON + timedelta(days=1))["failed"] == 0 and len(gateway.received) == 1


def test_an_outage_is_retried_with_back_off_until_the_gateway_takes_it(db_url: str, gateway: Gateway) -> None:
    number = take()
    relay()
    gateway.answers += [Answer(503, {}), Answer(502, {})]
    assert send(gateway) == {"sent": 0, "failed": 0, "retry": 1, "stale": 0}
    [message] = texts(number)
    assert (message["state"], message["attempts"]) == ("pending", 1) and "503" in message["last_error"]
    first_retry = datetime.fromisoformat(message["next_try_at"])
    assert first_retry == SOON + d.retry_delay(1)
    assert send(gateway, first_retry - timedelta(seconds=1))["retry"] == 0  # not due yet
    assert send(gateway, first_retry)["retry"] == 1
    second = datetime.fromisoformat(texts(number)[0]["next_try_at"])
    assert second - first_retry == d.retry_delay(2) > d.retry_delay(1)
    assert send(gateway, second)["sent"] == 1
    assert len(gateway.received) == 3 and len({r["id"] for r in gateway.received}) == 1  # the same id each time
    assert [a for a, _ in steps(texts(number)[0]["id"])] == ["written", "tried", "tried", "sent"]


def test_an_outage_outlasting_the_attempts_fails_the_text(db_url: str, gateway: Gateway) -> None:
    number = take()
    relay()
    gateway.answers += [Answer(500, {}), Answer(500, {})]
    moment = SOON
    assert send(gateway, moment, max_attempts=2)["retry"] == 1
    moment = datetime.fromisoformat(texts(number)[0]["next_try_at"])
    assert send(gateway, moment, max_attempts=2) == {"sent": 0, "failed": 1, "retry": 0, "stale": 0}
    assert (texts(number)[0]["state"], texts(number)[0]["attempts"]) == ("failed", 2)


def test_a_gateway_that_does_not_answer_in_time_is_tried_again(db_url: str, gateway: Gateway) -> None:
    number = take()
    relay()
    held = threading.Event()
    gateway.answers.append(Answer(200, {"id": "late"}, hold=held))
    assert send(gateway, timeout=0.5) == {"sent": 0, "failed": 0, "retry": 1, "stale": 0}
    held.set()
    [message] = texts(number)
    assert message["state"] == "pending" and "未应答" in message["last_error"]


def test_a_gateway_that_cannot_be_reached_is_tried_again(db_url: str, gateway: Gateway) -> None:
    take()
    relay()
    with session_scope() as s:
        unreachable = HttpGateway("http://127.0.0.1:9/sms", timeout=2)
        assert service.send_due(s, unreachable, at=SOON) == {"sent": 0, "failed": 0, "retry": 1, "stale": 0}
    assert "无法连接短信网关" in texts()[0]["last_error"]


def test_a_text_due_in_the_quiet_hours_waits_until_eight(db_url: str, gateway: Gateway) -> None:
    evening = datetime(2026, 6, 1, 22, 30, tzinfo=CHINA_TZ)
    number = take(evening)
    relay(evening + timedelta(minutes=1))
    [message] = texts(number)
    assert datetime.fromisoformat(message["next_try_at"]) == datetime(2026, 6, 2, 8, 0, tzinfo=CHINA_TZ)
    assert send(gateway, datetime(2026, 6, 2, 7, 59, tzinfo=CHINA_TZ))["sent"] == 0
    assert gateway.received == []
    assert send(gateway, datetime(2026, 6, 2, 8, 0, tzinfo=CHINA_TZ))["sent"] == 1


def test_two_senders_never_post_one_text_twice(db_url: str, gateway: Gateway) -> None:
    take()
    relay()
    second: list[dict[str, int]] = []
    # While the first sender's post is in the gateway's hands, a second sender runs its round.
    gateway.answers.append(Answer(200, {"id": "gw-a"}, before=lambda: second.append(send(gateway))))
    assert send(gateway) == {"sent": 1, "failed": 0, "retry": 0, "stale": 0}
    assert second == [{"sent": 0, "failed": 0, "retry": 0, "stale": 0}]
    assert len(gateway.received) == 1


def test_a_sender_that_read_a_text_before_another_claimed_it_does_not_post_it(db_url: str, gateway: Gateway) -> None:
    take()
    relay()
    [message] = texts()
    with session_scope() as s:
        assert service._claim(s, message["id"], 0, SOON, timedelta(minutes=1))
        assert not service._claim(s, message["id"], 0, SOON, timedelta(minutes=1))  # what it read is out of date


# -- 重新发送 ----------------------------------------------------------------------------------------------------------


def test_a_failed_text_is_sent_again_once_asked(db_url: str, gateway: Gateway) -> None:
    take()
    relay()
    gateway.answers.append(Answer(403, {}))
    send(gateway)
    [message] = texts()
    with session_scope() as s:
        again = service.retry(s, message["id"], "王芳", at=SOON + timedelta(minutes=5))
    assert (again["state"], again["attempts"], again["phone"]) == ("pending", 0, "138****5678")
    assert send(gateway, SOON + timedelta(minutes=5))["sent"] == 1
    assert steps(message["id"]) == [
        ("written", "pending"),
        ("failed", "failed"),
        ("retried", "pending"),
        ("sent", "sent"),
    ]
    with session_scope() as s:
        retried = s.scalars(select(Event).where(Event.action == "retried")).one()
        assert (retried.actor, retried.note.startswith("此前已尝试 1 次")) == ("王芳", True)


@pytest.mark.parametrize(("wanted", "code"), [(None, "sms-not-found"), ("pending", "sms-not-failed")])
def test_only_a_failed_text_can_be_sent_again(db_url: str, wanted: str | None, code: str) -> None:
    from hotline.errors import HotlineError

    take()
    relay()
    message_id = texts()[0]["id"] if wanted else 999_999
    with pytest.raises(HotlineError) as refused, session_scope() as s:
        service.retry(s, message_id, "王芳")
    assert refused.value.code == code
    assert steps(texts()[0]["id"]) == [("written", "pending")]  # nothing recorded


def test_lists_mask_numbers_and_count_each_state(db_url: str) -> None:
    take()
    take(type="举报")
    relay()
    with session_scope() as s:
        assert service.state_counts(s) == {"pending": 1, "sent": 0, "failed": 0, "skipped": 1}
        listed = service.list_messages(s, state="pending")
        assert [m["phone"] for m in listed] == ["138****5678"]
        assert [m["phone"] for m in service.messages_for_order(s, listed[0]["order_number"])] == ["138****5678"]
        with pytest.raises(Exception, match="短信状态不正确"):
            service.list_messages(s, state="lost")
