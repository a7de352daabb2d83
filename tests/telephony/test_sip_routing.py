"""Real SIP calls through the shipped Kamailio configuration, routed by the running platform.

Started once for the module: the platform (uvicorn, SQLite database migrated in a temporary folder,
HOTLINE_ALLOW_TIME_OVERRIDE=1 so each call names its instant in an X-Hotline-At header), Kamailio on a free
loopback port, and SIPp answering endpoints standing in for the 12345 queue, a line's own seats, a
sub-centre and the announcement server. Each call is a SIPp scenario that checks what the answering side
received (X-Hotline-* headers echoed back in X-Got) or the final SIP code; SIPp's exit code is the assertion.
These tests use SQLite only (the store tests of the same service run on both databases).
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hotline import db
from hotline.telephony import service
from tests.platform_process import Platform
from tests.telephony.harness import Kamailio, require
from tests.telephony.sipp import SCENARIOS, Endpoint, caller_scenario, free_udp_port, place_call, sipp_binary

pytestmark = pytest.mark.telephony

_names = itertools.count()


@dataclass
class Rig:
    workdir: Path
    platform: Platform
    kamailio: Kamailio
    endpoints: dict[str, Endpoint]

    def call(self, dialed: str, at: str | None = None, *, tgrp: str | None = "cd", **expect: object) -> str:
        headers = {"X-Hotline-At": at} if at else {}
        name = f"call{next(_names)}-{dialed}"
        scenario = caller_scenario(dialed=dialed, tgrp=tgrp, headers=headers, **expect)  # type: ignore[arg-type]
        result = place_call(self.kamailio.port, self.workdir, name, scenario)
        assert result.returncode == 0, f"SIPp checks failed for {dialed} at {at}: {result.log}"
        return result.got


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    require("sipp")
    require("kamailio")
    workdir = tmp_path_factory.mktemp("sip")
    url = f"sqlite:///{workdir / 'hotline.db'}"
    db.upgrade(url)
    endpoints = {
        "queue": Endpoint("queue", free_udp_port()),
        "legacy": Endpoint("legacy", free_udp_port()),
        "subcenter": Endpoint("subcenter", free_udp_port()),
        "announcement": Endpoint("announcement", free_udp_port(), scenario="announcement_uas.xml"),
    }
    with db.session_scope(url) as session:
        p = endpoints
        service.set_endpoint(session, "queue:*", f"sip:queue-{{region}}@127.0.0.1:{p['queue'].port}")
        service.set_endpoint(session, "legacy:*", f"sip:legacy-{{number}}-{{region}}@127.0.0.1:{p['legacy'].port}")
        service.set_endpoint(
            session, "subcenter:*", f"sip:subcenter-{{number}}-{{region}}@127.0.0.1:{p['subcenter'].port}"
        )
        service.set_endpoint(session, "announcement:*", f"sip:announce-{{region}}@127.0.0.1:{p['announcement'].port}")
        service.set_trunk(session, "cd", "成都市")
    platform = Platform(
        {"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(workdir / "data"), "HOTLINE_ALLOW_TIME_OVERRIDE": "1"},
        log=workdir / "platform.log",
    )
    kamailio = Kamailio(workdir / "kamailio", platform.url, f"sip:fallback@127.0.0.1:{p['queue'].port}")
    try:
        for ep in endpoints.values():
            ep.start(workdir)
        platform.start()
        kamailio.start()
        yield Rig(workdir, platform, kamailio, endpoints)
    finally:
        kamailio.stop()
        platform.stop()
        for ep in endpoints.values():
            ep.stop()


def test_12345_goes_to_the_regions_queue(rig: Rig) -> None:
    rig.call(
        "12345",
        "2021-03-01T10:00",
        expect_got={
            "endpoint": "queue",
            "ruser": "queue-510100",
            "dialed": "12345",
            "prompt": "",
            "skill": "",
            "fallback": "",
        },
    )


def test_the_trunk_names_the_region(rig: Rig) -> None:
    # no tgrp: the source address is not a configured trunk, so the provincial centre's queue
    rig.call("12345", "2021-03-01T10:00", tgrp=None, expect_got={"endpoint": "queue", "ruser": "queue-510000"})
    # a trunk named by a region code needs no configuration
    rig.call("12345", "2021-03-01T10:00", tgrp="510700", expect_got={"ruser": "queue-510700"})


@pytest.mark.parametrize("at", ["2021-05-31T23:59:59"])
def test_full_merge_line_before_transition_rings_its_own_seats(rig: Rig, at: str) -> None:
    rig.call(
        "12331", at, expect_got={"endpoint": "legacy", "ruser": "legacy-12331-510100", "prompt": "", "dialed": "12331"}
    )


@pytest.mark.parametrize("at", ["2021-06-01T00:00", "2021-08-15T14:00", "2021-09-30T23:59:59"])
def test_full_merge_line_during_transition_plays_prompt_then_queue(rig: Rig, at: str) -> None:
    rig.call(
        "12331",
        at,
        expect_got={
            "endpoint": "queue",
            "ruser": "queue-510100",
            "prompt": "transition:12331",
            "skill": "12331",
            "dialed": "12331",
            "fallback": "",
        },
    )


@pytest.mark.parametrize("at", ["2021-10-01T00:00", "2022-03-01T09:00"])
def test_full_merge_line_after_transition_hears_cancellation_then_release(rig: Rig, at: str) -> None:
    # the announcement server answers, plays the notice named in the header, and hangs up itself
    rig.call(
        "12331",
        at,
        released_by_callee=True,
        expect_got={
            "endpoint": "announcement",
            "ruser": "announce-510100",
            "prompt": "cancellation:12331",
            "dialed": "12331",
        },
    )


def test_parallel_line_before_and_after_its_transfer_date(rig: Rig) -> None:
    rig.call(
        "12333", "2021-10-15T23:59", expect_got={"endpoint": "legacy", "ruser": "legacy-12333-510100", "skill": ""}
    )
    rig.call(
        "12333",
        "2021-10-16T00:00",
        expect_got={"endpoint": "queue", "ruser": "queue-510100", "skill": "12333", "prompt": ""},
    )


def test_subcenter_in_and_out_of_hours(rig: Rig) -> None:
    # Wednesday 2021-04-07 is a working day: 09:00-17:00 at the sub-centre, else 12345 after a notice
    rig.call(
        "12366",
        "2021-04-07T10:00",
        expect_got={"endpoint": "subcenter", "ruser": "subcenter-12366-510100", "prompt": ""},
    )
    rig.call(
        "12366", "2021-04-07T20:00", expect_got={"endpoint": "queue", "prompt": "after-hours:12366", "skill": "12366"}
    )
    # Labour Day holiday (Monday 2021-05-03): out of hours all day
    rig.call("12366", "2021-05-03T10:00", expect_got={"endpoint": "queue", "prompt": "after-hours:12366"})
    # from 08-31 the sub-centre answers 7x24
    rig.call("12366", "2021-09-01T22:00", expect_got={"endpoint": "subcenter", "prompt": ""})


def test_emergency_number_is_not_routed(rig: Rig) -> None:
    rig.call("110", "2021-06-01T10:00", expect_code=380)


def test_unknown_number_is_rejected(rig: Rig) -> None:
    rig.call("12399", "2021-06-01T10:00", expect_code=404)


def test_headers_from_the_caller_cannot_pose_as_the_platform(rig: Rig) -> None:
    scenario = caller_scenario(
        dialed="12345",
        tgrp="cd",
        headers={"X-Hotline-Prompt": "cancellation:12331", "X-Hotline-Fallback": "forged"},
        expect_got={"endpoint": "queue", "prompt": "", "fallback": ""},
    )
    result = place_call(rig.kamailio.port, rig.workdir, "forged", scenario)
    assert result.returncode == 0, result.log


def test_every_decision_is_kept_with_the_call_id(rig: Rig) -> None:
    rig.call("12333", "2021-10-20T10:00", expect_got={"endpoint": "queue"})
    calls = httpx.get(f"{rig.platform.url}/telephony/calls", params={"limit": 50}).json()
    mine = [c for c in calls if c["dialed"] == "12333" and c["decided_for"].startswith("2021-10-20")]
    assert len(mine) == 1
    call = httpx.get(f"{rig.platform.url}/telephony/calls/{mine[0]['call_id']}").json()
    assert call["decision"]["target"] == "queue:510100"
    assert call["decision"]["skill"] == "12333"
    assert call["decision"]["caller"] == "138****1111"  # the caller's number is masked


@pytest.mark.parametrize(
    ("dialed", "at", "logged"),
    [
        ("12331", "2021-06-01T10:00", "endpoint=queue ruser=queue-510100 dialed=12331 prompt=transition:12331"),
        (
            "12331",
            "2021-10-01T10:00",
            "endpoint=announcement ruser=announce-510100 dialed=12331 prompt=cancellation:12331",
        ),
        ("110", "2021-06-01T10:00", "rejected: 380"),
        ("12399", "2021-06-01T10:00", "rejected: 404"),
    ],
)
def test_the_shipped_caller_scenario_for_trying_by_hand(rig: Rig, dialed: str, at: str, logged: str) -> None:
    """deploy/kamailio/sipp/caller_uac.xml, as docs/telephony.md tells an operator to run it."""
    log = rig.workdir / f"by-hand-{dialed}-{at[:10]}.log"
    proc = subprocess.run(
        [
            sipp_binary(),
            f"127.0.0.1:{rig.kamailio.port}",
            "-sf",
            str(SCENARIOS / "caller_uac.xml"),
            "-s",
            dialed,
            "-key",
            "tgrp",
            "510100",
            "-key",
            "at",
            at,
            "-i",
            "127.0.0.1",
            "-p",
            str(free_udp_port()),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "10s",
            "-timeout_error",
            "-trace_logs",
            "-log_file",
            str(log),
        ],
        cwd=rig.workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
    )
    assert proc.returncode == 0
    assert logged in log.read_text()
