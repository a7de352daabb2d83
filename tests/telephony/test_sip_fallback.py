"""Fail open, with real SIP: when the platform is stopped, hangs or answers garbage, Kamailio still sends
the call to the 12345 queue, marked with X-Hotline-Fallback. A citizen's call is never dropped because a web
service failed. One Kamailio for the module; what listens on the platform's port changes per test.
SQLite only.

The proxy keeps the platform's answers for a few seconds per (number, trunk, named instant): each call
here names its own instant (X-Hotline-At) unless it means to reuse a kept answer. After a transport
failure the proxy does not ask again for DOWN_SECONDS (calls go straight to the queue): tests that cause
one wait that long at the end.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline import db
from hotline.telephony import service
from tests.platform_process import Platform, free_tcp_port
from tests.telephony.harness import GarbageServer, Kamailio, SilentServer, require
from tests.telephony.sipp import Endpoint, caller_scenario, free_udp_port, place_call

pytestmark = pytest.mark.telephony

_names = itertools.count()
_minutes = itertools.count()
DOWN_SECONDS = 2  # HOTLINE_DOWN_SECONDS in deploy/kamailio/kamailio.cfg


def fresh_instant() -> str:
    """An instant during 12331's transition that no earlier call named (so no kept answer applies)."""
    n = next(_minutes)
    return f"2021-06-{15 + n // 600:02d}T{8 + n // 60 % 10:02d}:{n % 60:02d}"


@dataclass
class FallbackRig:
    workdir: Path
    router_port: int
    platform: Platform
    kamailio: Kamailio

    def call(self, dialed: str, at: str | None = None, **expect: object) -> str:
        scenario = caller_scenario(dialed=dialed, tgrp="cd", headers={"X-Hotline-At": at or fresh_instant()}, **expect)  # type: ignore[arg-type]
        result = place_call(self.kamailio.port, self.workdir, f"fb{next(_names)}-{dialed}", scenario)
        assert result.returncode == 0, f"SIPp checks failed for {dialed}: {result.log}"
        return result.call_id


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FallbackRig]:
    require("sipp")
    require("kamailio")
    workdir = tmp_path_factory.mktemp("sip-fallback")
    url = f"sqlite:///{workdir / 'hotline.db'}"
    db.upgrade(url)
    queue = Endpoint("queue", free_udp_port())
    with db.session_scope(url) as session:
        service.set_endpoint(session, "queue:*", f"sip:queue-{{region}}@127.0.0.1:{queue.port}")
        # old seats that are switched off: nothing listens there
        service.set_endpoint(session, "legacy:*", f"sip:legacy-{{number}}@127.0.0.1:{free_udp_port()}")
        service.set_trunk(session, "cd", "成都市")
    port = free_tcp_port()
    platform = Platform(
        {"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(workdir / "data"), "HOTLINE_ALLOW_TIME_OVERRIDE": "1"},
        port=port,
        log=workdir / "platform.log",
    )
    kamailio = Kamailio(workdir / "kamailio", platform.url, f"sip:fallback@127.0.0.1:{queue.port}")
    try:
        queue.start(workdir)
        kamailio.start()
        yield FallbackRig(workdir, port, platform, kamailio)
    finally:
        kamailio.stop()
        platform.stop()
        queue.stop()


def test_platform_killed_mid_run(rig: FallbackRig) -> None:
    rig.platform.start()
    warm = fresh_instant()
    # routed by the platform over the kept-alive connection; the answer is kept for a few seconds
    rig.call(
        "12331",
        warm,
        expect_got={"endpoint": "queue", "ruser": "queue-510100", "prompt": "transition:12331", "fallback": ""},
    )
    rig.platform.stop()
    # connection refused: the fallback queue, marked, with the dialed number for the agent
    rig.call(
        "12331",
        expect_got={"endpoint": "queue", "ruser": "fallback", "fallback": "http-7", "prompt": "", "dialed": "12331"},
    )
    # the next caller is not made to try again (the platform failed a moment ago): same queue, same mark
    rig.call("12345", expect_got={"ruser": "fallback", "fallback": "http-7", "dialed": "12345"})
    # and back to normal when the platform returns (once the proxy asks again)
    rig.platform.start()
    time.sleep(DOWN_SECONDS + 1)
    rig.call("12331", expect_got={"ruser": "queue-510100", "fallback": "", "prompt": "transition:12331"})
    rig.platform.stop()
    time.sleep(DOWN_SECONDS + 1)


def test_platform_hanging_longer_than_a_second(rig: FallbackRig) -> None:
    server = SilentServer(rig.router_port)
    try:
        started = time.monotonic()
        rig.call(
            "12331", expect_got={"endpoint": "queue", "ruser": "fallback", "fallback": "http-28", "dialed": "12331"}
        )
        assert time.monotonic() - started < 5  # the 1 s lookup timeout, not a SIP timer
        # the callers right after are not made to wait for it too
        rig.call("12345", expect_got={"ruser": "fallback", "fallback": "http-28", "dialed": "12345"})
    finally:
        server.close()
    time.sleep(DOWN_SECONDS + 1)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        b'{"action": "dance"}',
        b'{"action": "relay", "uri": "not-a-sip-uri"}',
        b'{"action": "reject", "code": 200}',
        b'{"prompt": "transition:12331"}',
    ],
)
def test_platform_answering_garbage(rig: FallbackRig, body: bytes) -> None:
    server = GarbageServer(rig.router_port, body)
    try:
        rig.call(
            "12331",
            expect_got={
                "endpoint": "queue",
                "ruser": "fallback",
                "fallback": "garbage",
                "prompt": "",
                "dialed": "12331",
            },
        )
    finally:
        server.close()


def test_platform_error_answer_falls_back(rig: FallbackRig) -> None:
    # a target with no SIP address configured (the sub-centre here) is an error answer (404), not a dropped call
    rig.platform.start()
    try:
        scenario = caller_scenario(
            dialed="12366",
            tgrp="cd",
            headers={"X-Hotline-At": "2021-04-07T10:00"},
            expect_got={"ruser": "fallback", "fallback": "http-404", "dialed": "12366"},
        )
        result = place_call(rig.kamailio.port, rig.workdir, "fb-404", scenario)
        assert result.returncode == 0, result.log
    finally:
        rig.platform.stop()


def test_a_target_that_does_not_answer_falls_back_to_the_queue(rig: FallbackRig) -> None:
    # 12331 before its transition rings its old seats; they are off: after the 4 s timer, the 12345 queue
    rig.platform.start()
    try:
        scenario = caller_scenario(
            dialed="12331",
            tgrp="cd",
            headers={"X-Hotline-At": "2021-05-01T10:00"},
            expect_got={"ruser": "fallback", "fallback": "target-408", "dialed": "12331"},
        )
        result = place_call(rig.kamailio.port, rig.workdir, "fb-408", scenario, timeout=15)
        assert result.returncode == 0, result.log
    finally:
        rig.platform.stop()
