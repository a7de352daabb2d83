"""骚扰号码名单 through the real proxy: a caller on the list is never served another caller's kept answer.

The proxy keeps answers per dialed number and trunk, for every caller; a listed caller's answer is their own (the
warning and the 骚扰专席, or a notice and release). So Kamailio keeps the list in force (htable `screened`, reloaded
from GET /telephony/screened-callers when the routing revision changes) and asks the platform for those callers.

One Kamailio from the shipped configuration (log level 2: the tests wait for its reload lines instead of sleeping),
the platform with HOTLINE_ALLOW_TIME_OVERRIDE (calls name an instant an hour ahead, inside every entry's days) and
SIPp endpoints for the 12345 queue and the announcement server. Entries are made through `nuisance.service` on the
platform's database. SQLite only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline import db
from hotline.nuisance import service as nuisance
from hotline.telephony import service
from hotline.timeutil import china, now
from tests.platform_process import Platform
from tests.telephony.harness import Kamailio, recorded_decision, require
from tests.telephony.sipp import Endpoint, caller_scenario, free_udp_port, place_call

pytestmark = pytest.mark.telephony

_names = itertools.count()

CITIZEN = "13800001111"  # not listed
NORMAL = {"endpoint": "queue", "ruser": "queue-510100", "dialed": "12345", "prompt": "", "skill": "", "fallback": ""}
WARNED = {**NORMAL, "prompt": "nuisance-warning:12345", "skill": "nuisance"}
RELEASED = {
    "endpoint": "announcement",
    "ruser": "announce-510100",
    "dialed": "12345",
    "prompt": "nuisance-release:12345",
}


@dataclass
class Rig:
    workdir: Path
    url: str
    platform: Platform
    kamailio: Kamailio

    def call(self, caller: str, at: str, expect: dict[str, str], *, released: bool = False) -> str:
        """One call to 12345 on trunk cd from CALLER, checked at the answering side; returns its Call-ID."""
        scenario = caller_scenario(
            dialed="12345",
            tgrp="cd",
            caller=caller,
            headers={"X-Hotline-At": at},
            expect_got=expect,
            released_by_callee=released,
        )
        result = place_call(self.kamailio.port, self.workdir, f"nuisance{next(_names)}", scenario)
        assert result.returncode == 0, f"SIPp checks failed for a call from {caller}: {result.log}"
        assert result.call_id
        return result.call_id

    def decision(self, call_id: str) -> dict[str, Any]:
        return recorded_decision(self.platform.url, call_id)

    def settled(self) -> None:
        """Wait until the proxy has seen the platform's current revision: the screened callers loaded for it, and
        its kept answers emptied the second time (one poll after the change), so nothing kept before is left."""
        revision = httpx.get(f"{self.platform.url}/telephony/revision").json()["revision"]
        self.kamailio.wait_for_log(f"(revision {revision})")
        self.kamailio.wait_for_log(f"answers forgotten once more after revision {revision}")

    def listed(self, number: str, treatment: str) -> int:
        """Put NUMBER on the list (a supervisor applies and approves), and wait for the proxy to know."""
        with db.session_scope(self.url) as session:
            entry = nuisance.propose(
                session, actor="班长", role="supervisor", number=number, treatment=treatment, reason="反复拨打辱骂座席"
            )
            nuisance.approve(session, entry["id"], actor="质检主管")
        self.settled()
        return int(entry["id"])

    def lift(self, entry_id: int) -> None:
        with db.session_scope(self.url) as session:
            nuisance.lift(session, entry_id, actor="质检主管", reason="来电人已致歉")


def instant() -> str:
    """An hour from now, China time: inside every entry approved now, named by each call (X-Hotline-At)."""
    return china(now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    require("sipp")
    require("kamailio")
    workdir = tmp_path_factory.mktemp("sip-nuisance")
    url = f"sqlite:///{workdir / 'hotline.db'}"
    db.upgrade(url)
    queue = Endpoint("queue", free_udp_port())
    announcement = Endpoint("announcement", free_udp_port(), scenario="announcement_uas.xml")
    with db.session_scope(url) as session:
        service.set_endpoint(session, "queue:*", f"sip:queue-{{region}}@127.0.0.1:{queue.port}")
        service.set_endpoint(session, "announcement:*", f"sip:announce-{{region}}@127.0.0.1:{announcement.port}")
        service.set_trunk(session, "cd", "成都市")
    platform = Platform(
        {"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(workdir / "data"), "HOTLINE_ALLOW_TIME_OVERRIDE": "1"},
        log=workdir / "platform.log",
    )
    kamailio = Kamailio(workdir / "kamailio", platform.url, f"sip:fallback@127.0.0.1:{queue.port}", log_level=2)
    try:
        queue.start(workdir)
        announcement.start(workdir)
        platform.start()
        kamailio.start()
        kamailio.wait_for_log("screened callers loaded: 0 (revision")  # the first poll: every later one is a change
        yield Rig(workdir, url, platform, kamailio)
    finally:
        kamailio.stop()
        platform.stop()
        queue.stop()
        announcement.stop()


@pytest.mark.parametrize(
    ("number", "dials_as", "treatment", "expect"),
    [
        ("13900002222", "+8613900002222", "warn", WARNED),  # the proxy strips +86 like the platform
        ("13900003333", "008613900003333", "release", RELEASED),
    ],
)
def test_a_listed_caller_gets_the_screened_treatment_though_another_callers_answer_is_kept(
    rig: Rig, number: str, dials_as: str, treatment: str, expect: dict[str, str]
) -> None:
    rig.listed(number, treatment)
    at = instant()
    first = rig.call(CITIZEN, at, NORMAL)  # asked, and kept for the next calls to 12345 on this trunk
    listed = rig.call(dials_as, at, expect, released=treatment == "release")
    again = rig.call(CITIZEN, at, NORMAL)
    assert rig.decision(first)["cached"] is False
    screened = rig.decision(listed)
    assert screened["cached"] is False  # the proxy asked the platform for the listed caller
    assert screened["prompt"] == expect["prompt"]
    # the citizen's answer was kept from before the listed caller's call to after it (never replaced by theirs)
    assert rig.decision(again)["cached"] is True


def test_a_lifted_entry_stops_screening_and_the_caller_is_served_from_the_cache_again(rig: Rig) -> None:
    number = "13900004444"
    entry_id = rig.listed(number, "warn")
    at = instant()
    rig.call(number, at, WARNED)
    rig.lift(entry_id)
    rig.settled()  # within the revision poll: the list reloaded without the number
    rig.call(CITIZEN, at, NORMAL)
    after = rig.call(number, at, NORMAL)
    assert rig.decision(after)["cached"] is True  # no longer screened by the proxy either: the kept answer serves
