"""Pure telephony rules: notice texts, what the proxy is told, call facts and KPIs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.errors import InvalidInput, NotFound
from hotline.routing.domain import Action, RouteDecision
from hotline.telephony.domain import (
    CallEventType,
    CallFacts,
    EventRecord,
    PromptId,
    PromptKind,
    audio_key,
    call_facts,
    check_endpoint_pattern,
    check_uri_template,
    chinese_numeral,
    compute_kpis,
    notice_text,
    parse_prompt_id,
    parse_target,
    proxy_answer,
    resolve_endpoint,
    spoken_digits,
)

ENDPOINTS = {
    "queue:*": "sip:queue-{region}@10.0.0.1",
    "queue:510700": "sip:mianyang-acd@10.7.0.1",
    "legacy:*": "sip:{number}@10.0.0.2",
    "subcenter:*": "sip:{number}-{region}@10.0.0.3",
    "announcement:*": "sip:announce@10.0.0.4;dialed={dialed}",
}


def test_numbers_are_read_digit_by_digit_with_yao_for_one() -> None:
    assert spoken_digits("12345") == "幺二三四五"
    assert spoken_digits("96110") == "九六幺幺零"
    with pytest.raises(InvalidInput):
        spoken_digits("12a45")


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (8, "八"), (10, "十"), (16, "十六"), (20, "二十"), (31, "三十一")])
def test_months_and_days_in_chinese(n: int, text: str) -> None:
    assert chinese_numeral(n) == text


def test_notice_texts_name_the_line_and_read_numbers_digit_by_digit() -> None:
    transition = notice_text(PromptId(PromptKind.TRANSITION, "12331"), "食品药品监督举报", date(2021, 10, 1))
    assert "食品药品监督举报热线幺二三三幺" in transition
    assert "十月一日起" in transition and "幺二三四五" in transition
    assert not any(ch.isdigit() for ch in transition)  # nothing espeak-ng would read as a quantity
    cancelled = notice_text(PromptId(PromptKind.CANCELLATION, "12331"), "食品药品监督举报")
    assert "已停止使用" in cancelled and "幺二三三幺" in cancelled
    after = notice_text(PromptId(PromptKind.AFTER_HOURS, "12366"), "税务热线")
    assert "税务热线幺二三六六的非工作时间" in after  # no 热线热线


def test_audio_is_cached_by_text() -> None:
    assert audio_key("您好") == audio_key("您好")
    assert audio_key("您好") != audio_key("您好！")


def test_prompt_ids_are_checked() -> None:
    assert str(parse_prompt_id("after-hours:12366")) == "after-hours:12366"
    for bad in ("transition", "welcome:12331", "transition:abc", ""):
        with pytest.raises(InvalidInput):
            parse_prompt_id(bad)


def _decision(action: Action, target: str | None, prompt: str | None = None, skill: str | None = None) -> RouteDecision:
    return RouteDecision(action, prompt, skill, target, "说明")


def test_queue_decision_relays_with_prompt_and_skill() -> None:
    answer = proxy_answer(
        _decision(Action.QUEUE, "queue:510100", "transition:12331", "12331"), "12331", "510100", ENDPOINTS
    )
    assert (answer.action, answer.uri, answer.prompt, answer.skill) == (
        "relay",
        "sip:queue-510100@10.0.0.1",
        "transition:12331",
        "12331",
    )
    assert answer.decision == "queue" and answer.dialed == "12331"


def test_exact_target_wins_over_the_kind_wildcard() -> None:
    answer = proxy_answer(_decision(Action.QUEUE, "queue:510700"), "12345", "510700", ENDPOINTS)
    assert answer.uri == "sip:mianyang-acd@10.7.0.1"


def test_legacy_and_subcenter_templates_are_filled() -> None:
    legacy = proxy_answer(_decision(Action.LEGACY, "legacy:12333:510100"), "12333", "510100", ENDPOINTS)
    assert legacy.uri == "sip:12333@10.0.0.2"
    sub = proxy_answer(_decision(Action.SUBCENTER, "subcenter:12366:510300"), "12366", "510300", ENDPOINTS)
    assert sub.uri == "sip:12366-510300@10.0.0.3"


def test_cancelled_number_goes_to_the_announcement_server_which_releases() -> None:
    answer = proxy_answer(_decision(Action.CANCELLED, None, "cancellation:12331"), "12331", "510100", ENDPOINTS)
    assert answer.action == "relay" and answer.release is True
    assert answer.uri == "sip:announce@10.0.0.4;dialed=12331"
    assert answer.prompt == "cancellation:12331" and answer.target == "announcement:510100"


def test_rejects_carry_a_sip_code() -> None:
    unknown = proxy_answer(_decision(Action.REJECT, None), "12399", "510100", ENDPOINTS)
    assert (unknown.action, unknown.code) == ("reject", 404)
    emergency = proxy_answer(_decision(Action.REJECT, None), "110", "510100", ENDPOINTS, emergency=True)
    assert (emergency.action, emergency.code) == ("reject", 380)


def test_a_target_without_address_is_an_error_not_a_guess() -> None:
    with pytest.raises(NotFound) as exc:
        resolve_endpoint(parse_target("subcenter:12366:510100"), {"queue:*": "sip:q@x"}, "12366")
    assert exc.value.code == "endpoint-not-configured"


def test_endpoint_patterns_and_templates_are_checked() -> None:
    assert check_endpoint_pattern("legacy:12331:510100") == "legacy:12331:510100"
    assert check_uri_template("sip:{number}@10.0.0.2") == "sip:{number}@10.0.0.2"
    for bad in ("queue", "agents:*", "queue:abc"):
        with pytest.raises(InvalidInput):
            check_endpoint_pattern(bad)
    for bad in ("http://x", "sip:{user}@x", "sip:a b"):
        with pytest.raises(InvalidInput):
            check_uri_template(bad)


T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)


def _events(**offsets: float) -> list[EventRecord]:
    return [EventRecord(CallEventType(k), T0 + timedelta(seconds=v)) for k, v in offsets.items()]


def test_facts_measure_wait_from_queued_to_answered() -> None:
    f = call_facts("a", _events(offered=0, queued=5, answered=17, ended=100))
    assert f.requested and f.answered and not f.abandoned
    assert f.wait_seconds == 12.0


def test_facts_of_an_abandoned_call() -> None:
    f = call_facts("b", _events(offered=0, queued=2, abandoned=40))
    assert f.requested and not f.answered and f.abandoned and f.wait_seconds is None


def test_facts_of_a_call_that_never_asked_for_an_agent() -> None:
    f = call_facts("c", _events(offered=0, ended=20))  # e.g. heard the cancellation notice
    assert not f.requested and not f.answered and f.queue_seconds is None


def test_facts_say_how_long_the_caller_waited_for_an_agent_answered_or_not() -> None:
    # What callers' patience is measured from (hotline.staffing): the wait of those answered, and of those who
    # hung up, from the queue entry.
    assert call_facts("a", _events(offered=0, queued=5, answered=17, ended=100)).queue_seconds == 12.0
    assert call_facts("b", _events(offered=0, queued=2, abandoned=40)).queue_seconds == 38.0
    assert call_facts("d", _events(offered=0, answered=9)).queue_seconds == 9.0  # no queue entry: as wait_seconds
    # Hung up before the queue (during a notice): not a wait for an agent.
    assert call_facts("e", _events(offered=0, abandoned=6)).queue_seconds is None
    # Ended or transferred while queued, without an answer or a hang-up reported: how it ended is unknown.
    assert call_facts("f", _events(offered=0, queued=2, ended=50)).queue_seconds is None
    # Two systems' clocks: an event reported before the one it follows counts as no wait, never a negative one.
    late = call_facts("g", _events(offered=0, queued=10, abandoned=9))
    assert late.abandoned and late.queue_seconds == 0.0
    assert call_facts("h", _events(offered=0, queued=10, answered=8)).wait_seconds == 0.0


def test_kpis_connection_rate_and_15_second_rate() -> None:
    facts = [
        call_facts("1", _events(offered=0, queued=1, answered=10)),  # 9 s
        call_facts("2", _events(offered=0, queued=1, answered=16)),  # 15 s: within (<= 15)
        call_facts("3", _events(offered=0, queued=1, answered=30)),  # 29 s: late
        call_facts("4", _events(offered=0, queued=1, abandoned=50)),
        call_facts("5", _events(offered=0, ended=5)),  # never requested an agent
    ]
    k = compute_kpis(facts)
    assert (k.offered, k.requested, k.answered, k.abandoned, k.answered_within) == (5, 4, 3, 1, 2)
    assert k.connection_rate == pytest.approx(0.75)
    assert k.within_rate == pytest.approx(2 / 3)  # of the answered calls (GB/T 33358 practice, domain.md)
    assert k.average_wait_seconds == pytest.approx((9 + 15 + 29) / 3)
    assert compute_kpis(facts, threshold_seconds=30).within_rate == pytest.approx(1.0)


def test_kpis_without_requests_are_unknown_not_zero() -> None:
    k = compute_kpis([CallFacts("x", T0, False, False, False, None)])
    assert k.connection_rate is None and k.within_rate is None
    with pytest.raises(InvalidInput):
        compute_kpis([], threshold_seconds=0)


# --- how long the proxy may keep an answer ---------------------------------------------------------


def test_cache_seconds_until_the_next_change_rounded_down_and_capped() -> None:
    from hotline.telephony.domain import PROXY_CACHE_CAP, cache_seconds

    at = datetime(2021, 9, 30, 15, 59, 57, 300_000, tzinfo=UTC)  # 23:59:57.3 in China
    boundary = datetime(2021, 9, 30, 16, 0, tzinfo=UTC)
    assert cache_seconds(boundary, at) == 2  # 2.7 s left: never past the boundary
    assert cache_seconds(boundary, boundary - timedelta(microseconds=1)) == 0
    assert cache_seconds(boundary, boundary) == 0
    assert cache_seconds(boundary, boundary + timedelta(seconds=3)) == 0  # (a bound already passed)
    assert cache_seconds(boundary, at - timedelta(hours=1)) == PROXY_CACHE_CAP
    assert cache_seconds(None, at) == PROXY_CACHE_CAP  # never changes with this plan: the cap still applies
    assert 1 <= PROXY_CACHE_CAP <= 10


def test_an_answer_reported_back_by_the_proxy_is_checked() -> None:
    from hotline.telephony.domain import answer_from_dict

    relay = proxy_answer(
        RouteDecision(Action.QUEUE, "transition:12331", "12331", "queue:510100", "过渡期"), "12331", "510100", ENDPOINTS
    )
    assert answer_from_dict({**relay.to_dict(), "ttl": 6}) == relay
    reject = proxy_answer(RouteDecision(Action.REJECT, None, None, None, "未知号码"), "12399", "510100", ENDPOINTS)
    assert answer_from_dict(reject.to_dict()) == reject
    for bad in (
        {**relay.to_dict(), "action": "dance"},
        {**relay.to_dict(), "uri": "http://x"},
        {**reject.to_dict(), "code": 200},
        {**relay.to_dict(), "region": None},
        {"action": "relay"},
        {**relay.to_dict(), "prompt": 5},
    ):
        with pytest.raises(InvalidInput) as exc:
            answer_from_dict(bad)
        assert exc.value.code == "invalid-decision"


def test_a_calls_outcome_in_one_word() -> None:
    from hotline.telephony.domain import CallOutcome, call_outcome

    def outcome(decision: str = "queue", **offsets: float) -> CallOutcome:
        return call_outcome(call_facts("a", _events(**offsets)) if offsets else None, decision)

    assert outcome(offered=0, queued=1, answered=9, ended=60) is CallOutcome.ANSWERED
    # transferred by the agent who answered it; answered after the caller was reported gone is still answered
    assert outcome(offered=0, answered=5, transferred=30) is CallOutcome.TRANSFERRED
    assert outcome(offered=0, queued=1, abandoned=20, answered=25) is CallOutcome.ANSWERED
    assert outcome(offered=0, queued=1, abandoned=20) is CallOutcome.ABANDONED
    assert outcome(offered=0, queued=1, ended=40) is CallOutcome.UNANSWERED  # hung up in the queue, reported as ended
    # no events: a rejected number or a cancellation notice reached no agent; a call sent to agents is unknown
    assert outcome("reject") is outcome("cancelled") is CallOutcome.UNANSWERED
    assert outcome("queue") is outcome("legacy") is outcome("subcenter") is CallOutcome.UNREPORTED


def test_a_days_calls_per_number_dialed() -> None:
    from hotline.telephony.domain import calls_by_line

    answered = call_facts("a", _events(offered=0, queued=1, answered=11))
    slow = call_facts("b", _events(offered=0, queued=1, answered=31))
    gone = call_facts("c", _events(offered=0, queued=1, abandoned=40))
    lines = calls_by_line(
        [
            ("12331", "queue", gone),
            ("12345", "queue", answered),
            ("12331", "queue", slow),
            ("12331", "cancelled", None),
            ("12315", "legacy", None),
            ("12345", "queue", None),
        ]
    )
    assert [(line.dialed, line.calls) for line in lines] == [("12331", 3), ("12345", 2), ("12315", 1)]
    old = lines[0]
    assert old.routed == {"queue": 2, "cancelled": 1}
    assert old.outcomes == {"abandoned": 1, "answered": 1, "unanswered": 1}
    # Its KPIs count what was reported: 1 answered of 2 asking for an agent, within 15 s: none (waited 30 s).
    assert (old.kpis.requested, old.kpis.answered, old.kpis.connection_rate, old.kpis.within_rate) == (2, 1, 0.5, 0.0)
    assert lines[1].outcomes == {"answered": 1, "unreported": 1} and lines[1].kpis.connection_rate == 1.0
    assert lines[2].kpis.connection_rate is None  # nothing reported: no rate, not 0 %
    assert calls_by_line([]) == []
