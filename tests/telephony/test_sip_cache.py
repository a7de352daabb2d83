"""The proxy's cache of answers, with real SIP: kept answers serve repeat calls without asking the platform,
every call is still in the platform's decision log with its Call-ID (reported afterwards, marked cached),
an answer is never used past the moment the platform said it may change, and a citizen's call still goes
through when the platform is killed after the cache was warmed.

One Kamailio from the shipped configuration for the module. The platform runs with the plan of NEXT year
(HOTLINE_PLAN_YEAR), so that right now every sub-centre is still before its 7×24 date and answers within
its service hours: a test sets 12366's closing time a few seconds from now and crosses it in real time.
Calls naming an instant (X-Hotline-At) are kept per named instant. SQLite only.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline import db
from hotline.plan.service import set_subcenter_hours
from hotline.telephony import service
from hotline.timeutil import CHINA_TZ
from tests.platform_process import Platform, free_tcp_port
from tests.telephony.harness import Kamailio, recorded_decision, require
from tests.telephony.sipp import Endpoint, caller_scenario, free_udp_port, place_call

pytestmark = pytest.mark.telephony

_names = itertools.count()
YEAR = datetime.now(CHINA_TZ).year + 1  # the plan's year: every phase below is in it
DOWN_SECONDS = 2  # HOTLINE_DOWN_SECONDS in deploy/kamailio/kamailio.cfg


@dataclass
class CacheRig:
    workdir: Path
    url: str
    platform: Platform
    kamailio: Kamailio

    def call(self, dialed: str, at: str | None, **expect: object) -> str:
        """One call through the proxy; returns its Call-ID."""
        headers = {"X-Hotline-At": at} if at else {}
        scenario = caller_scenario(dialed=dialed, tgrp="cd", headers=headers, **expect)  # type: ignore[arg-type]
        result = place_call(self.kamailio.port, self.workdir, f"cache{next(_names)}-{dialed}", scenario)
        assert result.returncode == 0, f"SIPp checks failed for {dialed} at {at}: {result.log}"
        assert result.call_id
        return result.call_id

    def decision(self, call_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The platform's record of a call; cached calls are reported a moment after they were served."""
        return recorded_decision(self.platform.url, call_id, timeout=timeout)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CacheRig]:
    require("sipp")
    require("kamailio")
    workdir = tmp_path_factory.mktemp("sip-cache")
    url = f"sqlite:///{workdir / 'hotline.db'}"
    db.upgrade(url)
    queue = Endpoint("queue", free_udp_port())
    subcenter = Endpoint("subcenter", free_udp_port())
    with db.session_scope(url) as session:
        service.set_endpoint(session, "queue:*", f"sip:queue-{{region}}@127.0.0.1:{queue.port}")
        service.set_endpoint(session, "subcenter:*", f"sip:subcenter-{{number}}-{{region}}@127.0.0.1:{subcenter.port}")
        service.set_trunk(session, "cd", "成都市")
    platform = Platform(
        {
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_DATA_DIR": str(workdir / "data"),
            "HOTLINE_ALLOW_TIME_OVERRIDE": "1",
            "HOTLINE_PLAN_YEAR": str(YEAR),
        },
        port=free_tcp_port(),
        log=workdir / "platform.log",
    )
    kamailio = Kamailio(workdir / "kamailio", platform.url, f"sip:fallback@127.0.0.1:{queue.port}")
    try:
        queue.start(workdir)
        subcenter.start(workdir)
        platform.start()
        kamailio.start()
        yield CacheRig(workdir, url, platform, kamailio)
    finally:
        kamailio.stop()
        platform.stop()
        queue.stop()
        subcenter.stop()


def test_a_repeat_call_is_served_from_the_cache_and_still_logged_with_its_call_id(rig: CacheRig) -> None:
    at = f"{YEAR}-06-01T10:00"  # during 12331's transition
    expect = {
        "endpoint": "queue",
        "ruser": "queue-510100",
        "prompt": "transition:12331",
        "skill": "12331",
        "fallback": "",
    }
    first = rig.call("12331", at, expect_got=expect)
    second = rig.call("12331", at, expect_got=expect)
    asked = rig.decision(first)
    kept = rig.decision(second)
    assert asked["cached"] is False
    assert kept["cached"] is True  # the platform was not asked: the proxy reported it afterwards
    assert kept["call_id"] == second
    for field in (
        "dialed",
        "trunk",
        "region_code",
        "decision",
        "target",
        "uri",
        "prompt",
        "skill",
        "reason",
        "decided_for",
    ):
        assert kept[field] == asked[field], field
    assert kept["caller"] == "138****1111"  # the caller is kept (masked), though not part of the key


def test_a_call_id_with_quotes_is_reported_as_it_was(rig: CacheRig) -> None:
    """A Call-ID may hold quotes and backslashes (RFC 3261 `word`): the report still carries it exactly."""
    at = "2021-07-02T10:00"
    rig.call("12345", at, expect_got={"ruser": "queue-510100"})
    odd = "-q\"u\\o'te"
    scenario = caller_scenario(
        dialed="12345", tgrp="cd", headers={"X-Hotline-At": at}, expect_got={"ruser": "queue-510100"}
    )
    result = place_call(
        rig.kamailio.port, rig.workdir, f"cache{next(_names)}-odd", scenario, extra=("-cid_str", f"%u-%p@%s{odd}")
    )
    assert result.returncode == 0, result.log
    assert result.call_id.endswith(odd)
    kept = rig.decision(result.call_id)
    assert kept["cached"] is True and kept["call_id"] == result.call_id


def test_a_call_id_with_a_percent_sign_is_reported_as_it_was(rig: CacheRig) -> None:
    """The proxy reports cached calls as tab-separated lines and escapes a Call-ID holding `%` (a legal
    `word` character) or a control character: the platform still stores it exactly."""
    at = "2021-07-03T10:00"
    rig.call("12345", at, expect_got={"ruser": "queue-510100"})
    scenario = caller_scenario(
        dialed="12345", tgrp="cd", headers={"X-Hotline-At": at}, expect_got={"ruser": "queue-510100"}
    )
    result = place_call(
        rig.kamailio.port, rig.workdir, f"cache{next(_names)}-pct", scenario, extra=("-cid_str", "%u-%p@%s-100%%25")
    )
    assert result.returncode == 0, result.log
    assert result.call_id.endswith("-100%25")
    kept = rig.decision(result.call_id)
    assert kept["cached"] is True and kept["call_id"] == result.call_id


def test_rejections_are_kept_and_logged_too(rig: CacheRig) -> None:
    rig.call("12399", "2021-07-01T10:00", expect_code=404)
    second = rig.call("12399", "2021-07-01T10:00", expect_code=404)
    kept = rig.decision(second)
    assert (kept["cached"], kept["proxy_action"], kept["sip_code"]) == (True, "reject", 404)


def test_a_kept_answer_is_not_used_past_the_sub_centres_closing_time(rig: CacheRig) -> None:
    """Real time: 12366 closes a few seconds from now. The proxy may keep the in-hours answer, but not past
    closing: the first call after it hears the after-hours notice and goes to the 12345 queue."""
    local = datetime.now(CHINA_TZ)
    if local.hour == 23 and local.minute == 59:
        time.sleep(61)  # a closing time after midnight is not a closing time today
        local = datetime.now(CHINA_TZ)
    closes = (local + timedelta(seconds=5)).replace(microsecond=0)
    with db.session_scope(rig.url) as session:
        set_subcenter_hours(
            session,
            "12366",
            local.replace(hour=0, minute=0, second=0, microsecond=0).time(),
            closes.time(),
            region_code="510100",
            workdays_only=False,
            actor="test",
        )
    time.sleep(0.6)  # the platform process sees the change within half a second
    in_hours = rig.call(
        "12366", None, expect_got={"endpoint": "subcenter", "ruser": "subcenter-12366-510100", "prompt": ""}
    )
    rig.call("12366", None, expect_got={"endpoint": "subcenter"})  # kept (or asked again): still in hours
    assert rig.decision(in_hours)["decision"] == "subcenter"
    while datetime.now(CHINA_TZ) < closes + timedelta(milliseconds=100):
        time.sleep(0.05)
    after = rig.call(
        "12366",
        None,
        expect_got={"endpoint": "queue", "ruser": "queue-510100", "prompt": "after-hours:12366", "skill": "12366"},
    )
    assert rig.decision(after)["decision"] == "queue"


def test_an_administrators_change_reaches_kept_answers(rig: CacheRig) -> None:
    at = "2021-08-01T10:00"
    rig.call("12345", at, expect_got={"ruser": "queue-510100"})
    rig.call("12345", at, expect_got={"ruser": "queue-510100"})  # kept
    queue_port = rig.kamailio.site.fallback_uri.rsplit(":", 1)[1]
    r = httpx.put(
        f"{rig.platform.url}/telephony/endpoints/queue:510100", json={"uri": f"sip:city-queue@127.0.0.1:{queue_port}"}
    )
    assert r.status_code == 200
    try:
        # within a few seconds (the proxy polls the platform's revision each second; answers are kept at
        # most service.PROXY_CACHE_CAP seconds anyway), calls go to the new address
        deadline = time.monotonic() + 10
        while True:
            scenario = caller_scenario(
                dialed="12345", tgrp="cd", headers={"X-Hotline-At": at}, expect_got={"ruser": "city-queue"}
            )
            result = place_call(rig.kamailio.port, rig.workdir, f"cache{next(_names)}-moved", scenario)
            if result.returncode == 0:
                break
            assert time.monotonic() < deadline, result.log
            time.sleep(0.5)
    finally:
        httpx.delete(f"{rig.platform.url}/telephony/endpoints/queue:510100")
        time.sleep(3)  # the proxy forgets its answers at the next poll and once more a second later


def test_platform_killed_after_the_cache_was_warmed(rig: CacheRig) -> None:
    """Chosen behaviour: a kept answer still serves until its ttl (it is right until then, and the caller
    hears the right notice and reaches the right seats); anything else goes to the 12345 queue, marked.
    The calls served while the platform was away are reported when it is back."""
    at = "2021-06-20T10:00"
    transition = {"endpoint": "queue", "ruser": "queue-510100", "prompt": "transition:12331", "fallback": ""}
    rig.call("12331", f"{YEAR}-06-20T10:00", expect_got=transition)
    assert rig.platform.proc is not None
    rig.platform.proc.kill()  # killed, not stopped: no goodbye
    rig.platform.proc.wait()
    rig.platform.proc = None
    try:
        during = rig.call("12331", f"{YEAR}-06-20T10:00", expect_got=transition)
        rig.call(
            "12333", at, expect_got={"endpoint": "queue", "ruser": "fallback", "fallback": "http-7", "dialed": "12333"}
        )
        rig.call("12366", at, expect_got={"ruser": "fallback", "fallback": "http-7", "dialed": "12366"})
    finally:
        rig.platform.start()
    kept = rig.decision(during, timeout=15)
    assert kept["cached"] is True and kept["prompt"] == "transition:12331"
    time.sleep(DOWN_SECONDS + 1)
