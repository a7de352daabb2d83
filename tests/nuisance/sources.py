"""Calls and work orders the 骚扰号码名单 tests apply from: a call record kept with its caller's number, an order taken
from a caller."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.db import session_scope
from hotline.telephony import service as telephony
from hotline.workorders import service as workorders

T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 China time
CALLER = "13800001111"


def endpoints() -> None:
    with session_scope() as s:
        telephony.set_endpoint(s, "queue:*", "sip:queue-{region}@10.0.0.1")
        telephony.set_endpoint(s, "legacy:*", "sip:{number}@10.0.0.2")
        telephony.set_endpoint(s, "subcenter:*", "sip:sub-{number}@10.0.0.3")
        telephony.set_endpoint(s, "announcement:*", "sip:announce-{region}@10.0.0.4")
        telephony.set_trunk(s, "cd-telecom", "成都市")


def call(call_id: str = "call-1@pbx", caller: str = CALLER, dialed: str = "12345") -> str:
    """A call record (its routing decision kept) from CALLER; its id."""
    endpoints()
    with session_scope() as s:
        routed = telephony.route_call(s, dialed, caller, "cd-telecom", call_id, None, T0, screen=False)
        telephony.record_decision(s, routed)
    return call_id


def order(phone: str = CALLER, call_id: str = "") -> str:
    """A work order taken from PHONE; its number."""
    with session_scope() as s:
        made = workorders.create_order(
            s, type="投诉", content="反复来电辱骂话务员。", phone=phone, region="510100", at=T0, actor="张敏",
            call_id=call_id,
        )  # fmt: skip
        s.flush()
        return made.number
