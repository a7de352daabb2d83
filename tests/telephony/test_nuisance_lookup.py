"""The routing lookup with the 骚扰号码名单 (SQLite and PostgreSQL): a listed caller's call for the 12345 seats gets the
warning and the 骚扰专席, or the notice and release, never kept by the proxy (ttl 0), while any other caller at the
same instant gets the normal answer (the memo, keyed without the caller, is never poisoned either way); calls to
lines on their own seats, sub-centres, cancelled numbers and emergency numbers are untouched; a lifted or expired
entry no longer screens; +86 and 0086 numbers are the same caller; call records and prompts say so in Chinese."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.nuisance import service as nuisance
from hotline.telephony import service
from tests.nuisance.sources import endpoints

T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 China time
AT = "2021-06-01T10:00"
LISTED, OTHER = "13800001111", "13900002222"


@pytest.fixture(autouse=True)
def _listed_setup(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    nuisance.forget()
    endpoints()
    yield
    nuisance.forget()


def _list(treatment: str = "warn", number: str = LISTED, days: int = 7) -> int:
    """NUMBER in force from an hour before T0 for DAYS days; the entry's id."""
    with session_scope() as s:
        made = nuisance.propose(
            s, actor="王芳", role="supervisor", number=number, treatment=treatment, days=days, reason="反复辱骂",
            at=T0 - timedelta(hours=1),
        )  # fmt: skip
        nuisance.approve(s, made["id"], actor="王芳", at=T0 - timedelta(hours=1))
    return int(made["id"])


def _lookup(caller: str, dialed: str = "12345", at: str = AT, call_id: str = "c") -> service.RoutedCall:
    return service.lookup(dialed, caller, "cd-telecom", call_id, at)


@pytest.mark.parametrize("listed_first", [True, False])
def test_a_warned_caller_gets_the_nuisance_seats_and_others_the_normal_answer(listed_first: bool) -> None:
    _list("warn")
    order = [LISTED, OTHER, LISTED, OTHER] if listed_first else [OTHER, LISTED, OTHER, LISTED]
    got = {caller: [] for caller in (LISTED, OTHER)}  # type: dict[str, list[service.RoutedCall]]
    for i, caller in enumerate(order):
        got[caller].append(_lookup(caller, call_id=f"c{i}"))
    normal = got[OTHER][0].answer
    assert (normal.decision, normal.skill, normal.prompt, normal.screened) == ("queue", None, None, None)
    assert all(r.answer == normal and r.ttl > 0 for r in got[OTHER])
    for routed in got[LISTED]:
        a = routed.answer
        assert (a.decision, a.uri, a.target, a.prompt, a.skill, a.screened, a.release) == (
            "queue", normal.uri, "queue:510100", "nuisance-warning:12345", "nuisance", "warn", False
        )  # fmt: skip
        assert routed.ttl == 0


def test_a_released_caller_hears_the_notice_and_is_released() -> None:
    _list("release")
    other = _lookup(OTHER)
    released = _lookup("+86" + LISTED)
    a = released.answer
    assert (a.action, a.decision, a.uri, a.target, a.prompt, a.release, a.screened) == (
        "relay", "screened", "sip:announce-510100@10.0.0.4", "announcement:510100", "nuisance-release:12345", True,
        "release",
    )  # fmt: skip
    assert released.ttl == 0
    assert _lookup(OTHER).answer == other.answer and other.answer.decision == "queue" and other.ttl > 0
    assert _lookup("0086" + LISTED).answer == a


def test_the_proxys_json_answer_says_screened(db_url: str) -> None:
    from hotline.app import create_app

    _list("release")
    client = TestClient(create_app())

    def route(caller: str) -> dict[str, Any]:
        res = client.get("/telephony/route", params={"dialed": "12345", "caller": caller, "trunk": "cd-telecom",
                                                     "callid": f"j-{caller}", "at": AT})  # fmt: skip
        assert res.status_code == 200, res.text
        body: dict[str, Any] = json.loads(res.text)
        return body

    listed, other = route(LISTED), route(OTHER)
    assert (listed["screened"], listed["decision"], listed["ttl"]) == ("release", "screened", 0)
    assert (other["screened"], other["decision"]) == (None, "queue") and other["ttl"] > 0


@pytest.mark.parametrize(
    ("dialed", "at", "decision"),
    [
        ("12333", AT, "legacy"),  # still on its own seats
        ("12366", AT, "subcenter"),
        ("12331", "2021-10-02T10:00", "cancelled"),
        ("110", AT, "reject"),
    ],
)
@pytest.mark.parametrize("treatment", ["warn", "release"])
def test_calls_not_for_the_12345_seats_are_untouched(dialed: str, at: str, decision: str, treatment: str) -> None:
    _list(treatment, days=30)
    other = _lookup(OTHER, dialed, at)
    listed = _lookup(LISTED, dialed, at)
    assert other.answer.decision == decision
    assert listed.answer == other.answer and listed.ttl == other.ttl and listed.answer.screened is None


def test_a_merged_lines_call_for_the_12345_seats_is_screened() -> None:
    _list("warn")
    assert _lookup(OTHER, "12331").answer.prompt == "transition:12331"
    warned = _lookup(LISTED, "12331").answer
    assert (warned.decision, warned.prompt, warned.skill) == ("queue", "nuisance-warning:12345", "nuisance")


def test_a_lifted_or_expired_entry_no_longer_screens() -> None:
    entry = _list("release", days=1)
    assert _lookup(LISTED).answer.screened == "release"
    expired = _lookup(LISTED, at="2021-06-02T09:00")  # approved at 09:00 the day before, for one day
    assert expired.answer.screened is None and expired.answer.decision == "queue" and expired.ttl > 0
    with session_scope() as s:
        nuisance.lift(s, entry, actor="王芳", reason="来电人已致歉", at=T0)
    lifted = _lookup(LISTED)
    assert lifted.answer == _lookup(OTHER).answer and lifted.ttl > 0


def test_route_call_screens_too_and_the_call_record_says_so() -> None:
    _list("release")
    _list("warn", number=OTHER)
    with session_scope() as s:
        service.record_decision(s, service.route_call(s, "12345", LISTED, "cd-telecom", "r1", AT))
        service.record_decision(s, service.route_call(s, "12345", OTHER, "cd-telecom", "w1", AT))
        service.record_decision(s, service.route_call(s, "12345", "13700003333", "cd-telecom", "n1", AT))
    with session_scope() as s:
        released = service.call_detail(s, "r1")["view"]
        warned = service.call_detail(s, "w1")["view"]
        normal = service.call_detail(s, "n1")["view"]
    assert (released["action_label"], released["where"]) == (
        "骚扰号码限制接入（放音后挂断）",
        "成都市语音通知（放音后挂断）",
    )
    assert released["prompt_label"] == "骚扰限制提示音（提示后挂断）" and released["to_agents"] is False
    assert (warned["action_label"], warned["where"]) == ("转入12345话务队列", "成都市12345话务队列（骚扰专席）")
    assert warned["prompt_label"] == "骚扰提示音（提示后转骚扰专席）"
    assert normal["where"] == "成都市12345话务队列"


def test_a_released_call_reported_back_from_a_proxy_cache_is_kept() -> None:
    _list("release")
    answer = _lookup(LISTED).answer.to_dict()
    with session_scope() as s:
        stored, refused = service.record_reported_lines(
            s, f"k1\t1622512800\t{LISTED}\tcd-telecom\t\t{json.dumps(answer)}\n"
        )
    assert (stored, refused) == (1, [])
    with session_scope() as s:
        assert service.get_call(s, "k1")["decision"]["decision"] == "screened"


def test_the_nuisance_notices_are_12345s_prompts() -> None:
    with session_scope() as s:
        prompts = {p["prompt_id"]: p for p in service.list_prompts(s)}
    warning, release = prompts["nuisance-warning:12345"], prompts["nuisance-release:12345"]
    assert warning["kind_label"] == "骚扰提示音（提示后转骚扰专席）"
    assert "幺二三四五" in warning["text"] and "文明通话" in warning["text"] and "转接" in warning["text"]
    assert "幺幺零" in release["text"] and "限制接入幺二三四五" in release["text"] and "再见" in release["text"]
    assert not any(ch.isdigit() for ch in warning["text"] + release["text"])  # numbers written as they are read
