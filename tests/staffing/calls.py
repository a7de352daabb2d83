"""Calls as the platform records them, for the seat planning tests: the SIP proxy's routing decision, then the
events the telephony side (ACD) reports for the call (`hotline.telephony.service`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hotline.db import session_scope
from hotline.telephony import service as telephony
from hotline.timeutil import CHINA_TZ


def set_up_routes() -> None:
    with session_scope() as s:
        telephony.set_endpoint(s, "queue:*", "sip:queue-{region}@10.0.0.1")
        telephony.set_endpoint(s, "legacy:*", "sip:{number}@10.0.0.2")
        telephony.set_trunk(s, "cd-telecom", "成都市")
        telephony.set_trunk(s, "my-telecom", "绵阳市")


def record_waits(
    first: datetime,
    *,
    hung_up: Sequence[float] = (),
    answered: Sequence[float] = (),
    trunk: str = "cd-telecom",
    prefix: str = "",
) -> None:
    """Callers to 12345 from FIRST (China time) on, a minute apart, routed by the proxy and queued two seconds
    later: those of HUNG_UP hang up after waiting that many seconds, those of ANSWERED are answered after that
    many seconds and talk for four minutes."""
    fates = [("abandoned", w) for w in hung_up] + [("answered", w) for w in answered]
    with session_scope() as s:
        for k, (event, wait) in enumerate(fates):
            call_id = f"{prefix}{trunk}-{first:%m%d%H%M}-{k}"
            at = (first + timedelta(minutes=k)).replace(tzinfo=CHINA_TZ)
            telephony.record_decision(s, telephony.route_call(s, "12345", "13800001111", trunk, call_id, None, at))
            telephony.record_event(s, call_id, "offered", at)
            queued = at + timedelta(seconds=2)
            telephony.record_event(s, call_id, "queued", queued)
            telephony.record_event(s, call_id, event, queued + timedelta(seconds=wait))
            if event == "answered":
                telephony.record_event(s, call_id, "ended", queued + timedelta(seconds=wait + 240))
