"""Real SIP with sign-in on: Kamailio, on a network the platform does not trust, signs in with an API token.

The platform runs with HOTLINE_AUTH=on and HOTLINE_PROXY_NETWORKS naming a network that does not hold
127.0.0.1, so the proxy's token-less requests from loopback are refused (401). A `proxy` account without a
password holds an API token; the shipped configuration is rendered with the router URL
http://sipproxy:<token>@127.0.0.1:<port>, and Kamailio's http_client sends the token as the password of HTTP
Basic (`authmethod 1`: with the first request, not after a 401). With the token the platform routes the call
and keeps its decision, also for calls the proxy served from its cache and reported afterwards. With a wrong
token, or none, the platform answers 401 and the proxy fails open: the 12345 queue takes the call, marked
X-Hotline-Fallback: http-401, and the platform has no record of it.

Three Kamailio instances (right token, wrong token, no token) in front of one platform. SQLite only.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from hotline import db
from hotline.accounts import service as accounts
from hotline.telephony import service
from tests.platform_process import Platform
from tests.telephony.harness import Kamailio, recorded_decision, require
from tests.telephony.sipp import Endpoint, caller_scenario, free_udp_port, place_call

pytestmark = pytest.mark.telephony

_names = itertools.count()
UNTRUSTED = "192.0.2.0/24"  # TEST-NET-1: not where the proxy (127.0.0.1) calls from


@dataclass
class SignedInRig:
    workdir: Path
    platform: Platform
    admin_token: str
    proxy_token: str
    signed_in: Kamailio  # router URL with the proxy account's token
    wrong_token: Kamailio  # router URL with a token the platform never issued
    no_token: Kamailio  # router URL without credentials (how it ran on a trusted network)

    def call(self, proxy: Kamailio, dialed: str, at: str, **expect: object) -> str:
        """One call through the given proxy; returns its Call-ID."""
        scenario = caller_scenario(dialed=dialed, tgrp="cd", headers={"X-Hotline-At": at}, **expect)  # type: ignore[arg-type]
        result = place_call(proxy.port, self.workdir, f"signed{next(_names)}-{dialed}", scenario)
        assert result.returncode == 0, f"SIPp checks failed for {dialed} at {at}: {result.log}"
        assert result.call_id
        return result.call_id

    @property
    def auditor(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def record(self, call_id: str) -> httpx.Response:
        return httpx.get(
            f"{self.platform.url}/telephony/calls/{quote(call_id, safe='')}",
            headers=self.auditor,
        )

    def decision(self, call_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The platform's decision for a call; cached calls are reported a moment after they were served."""
        return recorded_decision(self.platform.url, call_id, headers=self.auditor, timeout=timeout)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedInRig]:
    require("sipp")
    require("kamailio")
    workdir = tmp_path_factory.mktemp("sip-signed-in")
    url = f"sqlite:///{workdir / 'hotline.db'}"
    db.upgrade(url)
    queue = Endpoint("queue", free_udp_port())
    with db.session_scope(url) as session:
        service.set_endpoint(session, "queue:*", f"sip:queue-{{region}}@127.0.0.1:{queue.port}")
        service.set_trunk(session, "cd", "成都市")
        accounts.create_account(session, "sipproxy", "SIP 代理", ["proxy"])  # no password: a system account
        proxy_token = accounts.issue_token(session, "sipproxy", label="Kamailio").token
        accounts.create_account(session, "auditor", "审计员", ["admin"])
        admin_token = accounts.issue_token(session, "auditor").token
    platform = Platform(
        {
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_DATA_DIR": str(workdir / "data"),
            "HOTLINE_ALLOW_TIME_OVERRIDE": "1",
            "HOTLINE_AUTH": "on",
            "HOTLINE_PROXY_NETWORKS": UNTRUSTED,
        },
        log=workdir / "platform.log",
    )
    host = platform.url.removeprefix("http://")
    fallback = f"sip:fallback@127.0.0.1:{queue.port}"
    proxies = {
        "signed_in": Kamailio(
            workdir / "kamailio-signed-in", f"http://sipproxy:{proxy_token}@{host}", fallback, children=2
        ),
        "wrong_token": Kamailio(
            workdir / "kamailio-wrong-token",
            f"http://sipproxy:{secrets.token_urlsafe(32)}@{host}",
            fallback,
            children=2,
        ),
        "no_token": Kamailio(workdir / "kamailio-no-token", platform.url, fallback, children=2),
    }
    try:
        queue.start(workdir)
        platform.start()
        for proxy in proxies.values():
            proxy.start()
        yield SignedInRig(workdir, platform, admin_token, proxy_token, **proxies)
    finally:
        for proxy in proxies.values():
            proxy.stop()
        platform.stop()
        queue.stop()


def test_the_proxys_network_is_not_trusted(rig: SignedInRig) -> None:
    """The premise: from 127.0.0.1 the platform routes nothing without credentials."""
    params = {"dialed": "12345", "trunk": "cd", "callid": "premise@test"}
    r = httpx.get(f"{rig.platform.url}/telephony/route", params=params)
    assert r.status_code == 401
    assert r.json()["code"] == "login-required"
    signed = httpx.get(f"{rig.platform.url}/telephony/route", params=params, auth=("sipproxy", rig.proxy_token))
    assert signed.status_code == 200
    assert signed.json()["action"] == "relay"


def test_a_call_through_the_signed_in_proxy_is_routed_by_the_platform(rig: SignedInRig) -> None:
    # as in test_sip_routing: 12331 during its transition plays the prompt, then the region's queue
    call_id = rig.call(
        rig.signed_in,
        "12331",
        "2021-06-01T00:00",
        expect_got={
            "endpoint": "queue",
            "ruser": "queue-510100",
            "prompt": "transition:12331",
            "skill": "12331",
            "dialed": "12331",
            "fallback": "",
        },
    )
    decision = rig.decision(call_id)
    assert decision["target"] == "queue:510100"
    assert decision["skill"] == "12331"
    assert decision["cached"] is False


def test_a_call_served_from_the_cache_is_reported_with_the_token_too(rig: SignedInRig) -> None:
    """The proxy's timer process reports cached calls (POST /telephony/decisions) over the same signed-in
    connection definition: the platform still keeps the decision of a call it was not asked about."""
    at = "2021-06-02T10:00"
    expect = {"endpoint": "queue", "ruser": "queue-510100", "prompt": "transition:12331", "fallback": ""}
    first = rig.call(rig.signed_in, "12331", at, expect_got=expect)
    second = rig.call(rig.signed_in, "12331", at, expect_got=expect)
    assert rig.decision(first)["cached"] is False
    kept = rig.decision(second)
    assert kept["cached"] is True
    assert kept["target"] == "queue:510100"


@pytest.mark.parametrize("proxy_name", ["wrong_token", "no_token"])
def test_a_proxy_the_platform_refuses_still_puts_the_call_through_to_the_queue(
    rig: SignedInRig, proxy_name: str
) -> None:
    """401 is the platform's answer, not an outage: like any error answer (test_sip_fallback), the call goes to
    the 12345 queue marked with the code, the dialed number for the agent, and no decision is kept."""
    proxy: Kamailio = getattr(rig, proxy_name)
    call_id = rig.call(
        proxy,
        "12331",
        "2021-06-03T10:00",
        expect_got={
            "endpoint": "queue",
            "ruser": "fallback",
            "fallback": "http-401",
            "prompt": "",
            "skill": "",
            "dialed": "12331",
        },
    )
    record = rig.record(call_id)
    assert record.status_code == 404, record.text
    assert record.json()["code"] == "call-not-found"
    # the signed-in proxy, meanwhile, is routed as usual
    rig.call(rig.signed_in, "12331", "2021-06-03T10:02", expect_got={"ruser": "queue-510100", "fallback": ""})
