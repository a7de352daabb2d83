"""The 骚扰号码名单's rules as plain Python: every state and step, the days and texts typed, who may type a number,
numbers as the lookup compares them, and what a call from a listed number becomes (`screen`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.accounts.domain import Grant
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.nuisance import domain as n
from hotline.nuisance.domain import Action, EntryState, Treatment
from hotline.routing.domain import Action as RouteAction
from hotline.routing.domain import RouteDecision
from hotline.telephony.domain import ProxyAnswer, answer_from_dict, proxy_answer

T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)
ENDPOINTS = {
    "queue:*": "sip:queue-{region}@10.0.0.1",
    "legacy:*": "sip:{number}@10.0.0.2",
    "subcenter:*": "sip:sub-{number}@10.0.0.3",
    "announcement:*": "sip:announce-{region}@10.0.0.4",
}


def test_labels_cover_every_value() -> None:
    assert set(n.TREATMENT_LABELS) == set(Treatment) and set(n.STATE_LABELS) == set(EntryState)
    assert set(n.ACTION_LABELS) == set(Action)
    assert n.STATE_LABELS[EntryState.PENDING] == "待审核" and n.STATE_LABELS[EntryState.EXPIRED] == "已到期"
    assert n.TREATMENT_LABELS[Treatment.WARN] == "提示后转骚扰专席"


@pytest.mark.parametrize(
    ("stored", "until", "expected"),
    [
        (EntryState.PENDING, None, EntryState.PENDING),
        (EntryState.ACTIVE, T0 + timedelta(seconds=1), EntryState.ACTIVE),
        (EntryState.ACTIVE, T0, EntryState.EXPIRED),  # at until: over
        (EntryState.ACTIVE, T0 - timedelta(days=1), EntryState.EXPIRED),
        (EntryState.LIFTED, T0 + timedelta(days=1), EntryState.LIFTED),
        (EntryState.LIFTED, T0 - timedelta(days=1), EntryState.LIFTED),
        (EntryState.REJECTED, None, EntryState.REJECTED),
    ],
)
def test_expired_is_derived_from_the_clock(stored: EntryState, until: datetime | None, expected: EntryState) -> None:
    assert n.state_at(stored, until, T0) is expected


def test_in_force_is_approved_unlifted_and_within_the_window() -> None:
    start, until = n.active_window(T0, 7)
    assert until - start == timedelta(days=7)
    assert n.in_force(EntryState.ACTIVE, start, until, T0)
    assert n.in_force(EntryState.ACTIVE, start, until, until - timedelta(microseconds=1))
    assert not n.in_force(EntryState.ACTIVE, start, until, until)
    assert not n.in_force(EntryState.ACTIVE, start, until, start - timedelta(seconds=1))
    for state in (EntryState.PENDING, EntryState.LIFTED, EntryState.REJECTED):
        assert not n.in_force(state, start, until, T0)
    assert not n.in_force(EntryState.ACTIVE, None, None, T0)


ALLOWED = {
    (EntryState.PENDING, Action.APPROVED): EntryState.ACTIVE,
    (EntryState.PENDING, Action.REJECTED): EntryState.REJECTED,
    (EntryState.ACTIVE, Action.LIFTED): EntryState.LIFTED,
}


@pytest.mark.parametrize("state", list(EntryState))
@pytest.mark.parametrize("action", [Action.APPROVED, Action.REJECTED, Action.LIFTED])
def test_every_step_from_every_state(state: EntryState, action: Action) -> None:
    if (state, action) in ALLOWED:
        assert n.after(state, action) is ALLOWED[state, action]
        return
    with pytest.raises(Conflict) as exc:
        n.after(state, action)
    assert exc.value.code == "nuisance-transition-not-allowed" and exc.value.http_status == 409
    assert n.STATE_LABELS[state] in exc.value.message


@pytest.mark.parametrize("days", [1, 7, n.MAX_DAYS])
def test_days_within_the_local_rule(days: int) -> None:
    assert n.check_days(days) == days


@pytest.mark.parametrize("days", [0, -1, n.MAX_DAYS + 1, 365, True, 1.5, "7"])
def test_days_outside_it_are_refused(days: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        n.check_days(days)  # type: ignore[arg-type]
    assert exc.value.code == "nuisance-invalid-days"


@pytest.mark.parametrize(("text", "expected"), [("warn", Treatment.WARN), (" release ", Treatment.RELEASE),
                                                ("提示后挂断", Treatment.RELEASE)])  # fmt: skip
def test_treatments_by_code_or_label(text: str, expected: Treatment) -> None:
    assert n.parse_treatment(text) is expected


@pytest.mark.parametrize("text", ["", "block", "WARN"])
def test_unknown_treatments_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        n.parse_treatment(text)
    assert exc.value.code == "nuisance-invalid-treatment"


def test_states_by_code_or_label() -> None:
    assert n.parse_state("已到期") is EntryState.EXPIRED and n.parse_state("pending") is EntryState.PENDING
    with pytest.raises(InvalidInput) as exc:
        n.parse_state("open")
    assert exc.value.code == "nuisance-invalid-state"


def test_reasons_are_required_and_bounded() -> None:
    assert n.required_text("  多次辱骂话务员 ", "申请理由") == "多次辱骂话务员"
    for blank in ("", "   "):
        with pytest.raises(InvalidInput) as exc:
            n.required_text(blank, "申请理由")
        assert exc.value.code == "nuisance-reason-required" and "申请理由" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        n.required_text("骂" * (n.MAX_TEXT + 1), "申请理由")
    assert exc.value.code == "nuisance-reason-too-long"
    assert n.optional_text("", "审核意见") == ""


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("13800001111", "13800001111"),
        ("+8613800001111", "13800001111"),
        ("008613800001111", "13800001111"),
        ("+86 138-0000-1111", "13800001111"),
        ("028-87654321", "02887654321"),
    ],
)
def test_numbers_are_normalized_as_the_lookup_compares_them(typed: str, number: str) -> None:
    assert n.normalize_number(typed) == number


@pytest.mark.parametrize(
    "typed", ["", "anonymous", "138", "110", "119", "120", "122", "12345", "0000000", "abc1234567"]
)
def test_unusable_and_protected_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        n.normalize_number(typed)
    assert exc.value.code == "nuisance-invalid-number"


@pytest.mark.parametrize("role", list(Grant))
def test_only_supervisors_and_administrators_type_a_number(role: Grant) -> None:
    assert n.check_source(role, call_id="c1", order="", number="") == "call"
    assert n.check_source(role, call_id="", order="510100-20210601-00001", number="") == "order"
    if role in (Grant.SUPERVISOR, Grant.ADMIN):
        assert n.check_source(role, call_id="", order="", number="13800001111") == "number"
        return
    with pytest.raises(Forbidden) as exc:
        n.check_source(role, call_id="", order="", number="13800001111")
    assert exc.value.code == "nuisance-number-not-allowed" and exc.value.http_status == 403


@pytest.mark.parametrize(("call_id", "order", "number"), [("", "", ""), (" ", "", ""), ("c1", "o1", ""),
                                                          ("c1", "", "138"), ("c1", "o1", "138")])  # fmt: skip
def test_exactly_one_source(call_id: str, order: str, number: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        n.check_source(Grant.SUPERVISOR, call_id=call_id, order=order, number=number)
    assert exc.value.code == "nuisance-source-not-found"


def test_seconds_left_for_the_proxy() -> None:
    screened = n.Screened("13800001111", Treatment.WARN, T0 + timedelta(seconds=90, milliseconds=700))
    assert screened.seconds_left(T0) == 90
    assert screened.seconds_left(T0 + timedelta(seconds=90, milliseconds=500)) == 1  # in force: kept at least 1 s


def _answer(action: RouteAction, target: str | None, *, prompt: str | None = None, skill: str | None = None,
            emergency: bool = False, dialed: str = "12345") -> ProxyAnswer:  # fmt: skip
    decision = RouteDecision(action, prompt, skill, target, "测试")
    return proxy_answer(decision, dialed, "510100", ENDPOINTS, emergency=emergency)


def test_warn_keeps_the_queue_with_the_warning_for_the_nuisance_seats() -> None:
    answer = _answer(RouteAction.QUEUE, "queue:510100", prompt="transition:12331", skill="social-security")
    warned = n.screen(answer, Treatment.WARN, {})
    assert (warned.action, warned.decision, warned.uri, warned.target) == (
        "relay", "queue", answer.uri, "queue:510100"
    )  # fmt: skip
    assert (warned.prompt, warned.skill, warned.screened, warned.release) == (
        "nuisance-warning:12345", "nuisance", "warn", False
    )  # fmt: skip
    assert warned.to_dict()["screened"] == "warn" and "骚扰号码名单" in warned.reason


def test_release_plays_the_notice_at_the_regions_announcement_server_and_hangs_up() -> None:
    answer = _answer(RouteAction.QUEUE, "queue:510100")
    released = n.screen(answer, Treatment.RELEASE, ENDPOINTS)
    assert released.to_dict() | {"reason": ""} == {
        "action": "relay", "decision": "screened", "region": "510100", "dialed": "12345",
        "uri": "sip:announce-510100@10.0.0.4", "target": "announcement:510100", "prompt": "nuisance-release:12345",
        "skill": None, "release": True, "code": None, "phrase": None, "reason": "", "screened": "release",
    }  # fmt: skip
    with pytest.raises(NotFound) as exc:
        n.screen(answer, Treatment.RELEASE, {"queue:*": "sip:q@10.0.0.1"})
    assert exc.value.code == "endpoint-not-configured"


@pytest.mark.parametrize("treatment", [Treatment.WARN, Treatment.RELEASE, None])
def test_calls_not_for_the_12345_seats_are_never_touched(treatment: Treatment | None) -> None:
    others = [
        _answer(RouteAction.LEGACY, "legacy:12331:510100", dialed="12331"),
        _answer(RouteAction.SUBCENTER, "subcenter:12366:510100", dialed="12366"),
        _answer(RouteAction.CANCELLED, None, prompt="cancellation:12315", dialed="12315"),
        _answer(RouteAction.REJECT, None, emergency=True, dialed="110"),
        _answer(RouteAction.REJECT, None, dialed="99999"),
    ]
    for answer in others:
        assert n.screen(answer, treatment, ENDPOINTS) is answer
    queue = _answer(RouteAction.QUEUE, "queue:510100")
    assert n.screen(queue, None, ENDPOINTS) is queue


def test_a_screened_answer_reported_back_by_the_proxy_is_read_as_given() -> None:
    released = n.screen(_answer(RouteAction.QUEUE, "queue:510100"), Treatment.RELEASE, ENDPOINTS)
    assert answer_from_dict(released.to_dict()) == released
    warned = n.screen(_answer(RouteAction.QUEUE, "queue:510100"), Treatment.WARN, ENDPOINTS)
    assert answer_from_dict(warned.to_dict()) == warned
    assert answer_from_dict({**warned.to_dict(), "screened": "bogus"}).screened is None
