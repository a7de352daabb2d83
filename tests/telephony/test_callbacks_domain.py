"""漏话回拨 as pure rules: which calls are missed and must be called back, which answered call closes a task, what
an attempt does to a task, when a task is late, and its KPIs. Every combination of a call's events and routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import chain, combinations, product

import pytest

from hotline.errors import InvalidInput
from hotline.telephony.domain import (
    ROUTING_ACTIONS,
    TO_AGENTS,
    CallbackFacts,
    CallbackOutcome,
    CallbackState,
    CallEventType,
    EventRecord,
    after_attempt,
    callback_kpis,
    callback_late,
    callback_number,
    closes_by_call,
    missed_at,
    parse_callback_outcome,
    reached_at,
)

T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)
# When each event happens in the combinations below (seconds after T0): the order a real call has.
SECONDS = {
    CallEventType.OFFERED: 0,
    CallEventType.QUEUED: 2,
    CallEventType.ANSWERED: 20,
    CallEventType.TRANSFERRED: 60,
    CallEventType.ABANDONED: 30,
    CallEventType.ENDED: 90,
}
ALL_EVENTS = list(CallEventType)
EVERY_SET = list(chain.from_iterable(combinations(ALL_EVENTS, n) for n in range(len(ALL_EVENTS) + 1)))


def _events(kinds: tuple[CallEventType, ...]) -> list[EventRecord]:
    return [EventRecord(k, T0 + timedelta(seconds=SECONDS[k])) for k in kinds]


def _at(kind: CallEventType) -> datetime:
    return T0 + timedelta(seconds=SECONDS[kind])


@pytest.mark.parametrize("decision", [*ROUTING_ACTIONS, None])
def test_a_call_is_missed_exactly_when_sent_to_agents_queued_and_no_agent_took_it_before_it_ended(
    decision: str | None,
) -> None:
    assert len(EVERY_SET) == 64
    for kinds in EVERY_SET:
        present = set(kinds)
        agent_took_it = {CallEventType.ANSWERED, CallEventType.TRANSFERRED} & present
        over = {CallEventType.ABANDONED, CallEventType.ENDED} & present
        expected = None
        if decision in TO_AGENTS and CallEventType.QUEUED in present and not agent_took_it and over:
            # the caller hung up while queued (abandoned), else the call ended unanswered
            expected = _at(CallEventType.ABANDONED if CallEventType.ABANDONED in present else CallEventType.ENDED)
        assert missed_at(decision, _events(kinds)) == expected, (decision, kinds)


def test_named_cases_of_missed_calls() -> None:
    q, ab, en, an = CallEventType.QUEUED, CallEventType.ABANDONED, CallEventType.ENDED, CallEventType.ANSWERED
    off = CallEventType.OFFERED
    assert missed_at("queue", _events((off, q, ab))) == _at(ab)  # hung up while queued
    assert missed_at("queue", _events((off, q, ab, en))) == _at(ab)  # the abandon is when it was missed
    assert missed_at("legacy", _events((off, q, en))) == _at(en)  # ended unanswered after queueing
    assert missed_at("subcenter", _events((off, q, ab))) == _at(ab)
    assert missed_at("queue", _events((off, ab))) is None  # hung up during the notice: never asked for an agent
    assert missed_at("queue", _events((off, q))) is None  # still waiting
    assert missed_at("queue", _events((off, q, an, en))) is None  # answered
    assert missed_at("cancelled", _events((off, q, ab))) is None  # a cancellation notice reaches no agent
    assert missed_at("queue", _events((off, q, ab)), skill="nuisance") is None  # the 骚扰专席's caller: no callback
    assert missed_at("queue", _events((off, q, ab)), skill="12331") == _at(ab)  # any other skill is missed
    assert missed_at("reject", _events((off, q, ab))) is None
    assert missed_at(None, _events((off, q, ab))) is None  # routing not known (yet)
    # The earliest report of an event counts (an idempotent store keeps one per call and event anyway).
    twice = [
        EventRecord(q, T0),
        EventRecord(ab, T0 + timedelta(seconds=50)),
        EventRecord(ab, T0 + timedelta(seconds=9)),
    ]
    assert missed_at("queue", twice) == T0 + timedelta(seconds=9)


def test_the_caller_reached_an_agent_when_answered_or_transferred() -> None:
    for kinds in EVERY_SET:
        present = set(kinds)
        expected = None
        if CallEventType.ANSWERED in present:
            expected = _at(CallEventType.ANSWERED)
        elif CallEventType.TRANSFERRED in present:
            expected = _at(CallEventType.TRANSFERRED)
        assert reached_at(_events(kinds)) == expected, kinds


@pytest.mark.parametrize(
    ("caller", "number"),
    [
        ("13800001111", "13800001111"),
        ("+8613800001111", "13800001111"),
        ("008613800001111", "13800001111"),
        ("138 0000 1111", "13800001111"),
        ("028-87654321", "02887654321"),
        ("87654321", "87654321"),
        ("1234567", "1234567"),  # a local number without its area code: 7 digits
        ("123456", None),
        ("", None),
        ("   ", None),
        ("anonymous", None),
        ("Anonymous", None),
        ("unknown", None),
        ("private", None),
        ("restricted", None),
        ("0000000", None),
        ("+86", None),
        ("1380000111x", None),
        ("１３８００００１１１１", None),  # full-width digits are not what a switch dials
        ("1" * 21, None),
    ],
)
def test_only_a_known_number_can_be_called_back(caller: str, number: str | None) -> None:
    assert callback_number(caller) == number


def test_an_answered_call_closes_the_task_when_after_the_latest_missed_call_or_one_of_them() -> None:
    last = T0 + timedelta(hours=1)
    assert closes_by_call(last, last + timedelta(minutes=5), same_call=False)
    assert closes_by_call(last, last, same_call=False)
    assert not closes_by_call(last, last - timedelta(minutes=5), same_call=False)  # between two missed calls
    assert closes_by_call(last, last - timedelta(minutes=5), same_call=True)  # the missed call itself, reported late


def test_what_each_attempt_does_to_a_task() -> None:
    for outcome, no_answers, maximum in product(CallbackOutcome, range(0, 6), range(1, 5)):
        state = after_attempt(outcome, no_answers, maximum)
        if outcome is CallbackOutcome.NO_ANSWER:
            expected = CallbackState.UNREACHABLE if no_answers >= maximum else CallbackState.OPEN
        else:
            expected = {
                CallbackOutcome.REACHED: CallbackState.REACHED,
                CallbackOutcome.INVALID_NUMBER: CallbackState.INVALID_NUMBER,
                CallbackOutcome.NOT_NEEDED: CallbackState.NOT_NEEDED,
            }[outcome]
        assert state is expected, (outcome, no_answers, maximum)
    # The default: the third 未接通 gives up.
    assert [after_attempt(CallbackOutcome.NO_ANSWER, n, 3) for n in (1, 2, 3)] == [
        CallbackState.OPEN,
        CallbackState.OPEN,
        CallbackState.UNREACHABLE,
    ]


def test_outcomes_are_parsed_and_an_unknown_one_refused() -> None:
    assert {parse_callback_outcome(f" {o.value} ") for o in CallbackOutcome} == set(CallbackOutcome)
    with pytest.raises(InvalidInput) as exc:
        parse_callback_outcome("busy")
    assert exc.value.code == "invalid-callback-outcome"


def test_a_task_is_late_when_nothing_was_done_before_its_deadline() -> None:
    due = T0 + timedelta(hours=24)
    before, after = due - timedelta(hours=1), due + timedelta(hours=1)
    for first, closed, at in product([None, before, after], [None, before, after], [before, after]):
        expected = (first or closed or at) > due
        assert callback_late(due, first, closed, at) is expected, (first, closed, at)
    assert not callback_late(due, before, None, after)  # called back in time (even unanswered): not late later
    assert callback_late(due, None, None, after)  # open past its deadline
    assert callback_late(due, after, None, after)  # first called back too late
    assert not callback_late(due, None, before, after)  # the caller got through in time


def _facts(state: CallbackState, first: int | None = None, closed: int | None = None) -> CallbackFacts:
    """A task due at T0 + 24 h; FIRST (attempt) and CLOSED in hours after T0."""
    hours = lambda h: None if h is None else T0 + timedelta(hours=h)  # noqa: E731
    return CallbackFacts(state, T0 + timedelta(hours=24), hours(first), hours(closed))


def test_callback_rate_and_timely_rate() -> None:
    at = T0 + timedelta(hours=30)  # every task's deadline has passed
    tasks = [
        _facts(CallbackState.REACHED, first=2, closed=2),  # called back in time
        _facts(CallbackState.UNREACHABLE, first=3, closed=20),  # in time, never reached: still called back
        _facts(CallbackState.OPEN, first=26),  # called back late
        _facts(CallbackState.OPEN),  # never called back, past its deadline
        _facts(CallbackState.CALLED_AGAIN, closed=5),  # the caller got through in time: no callback owed
        _facts(CallbackState.CALLED_AGAIN, closed=28),  # got through, but only after the deadline
    ]
    k = callback_kpis(tasks, at)
    assert (k.tasks, k.called_back, k.judged, k.timely) == (6, 5, 5, 2)
    assert k.callback_rate == pytest.approx(5 / 6) and k.timely_rate == pytest.approx(2 / 5)
    assert k.to_dict()["callback_rate"] == k.callback_rate

    # Within its deadline and not called back yet: counted in 回拨率's denominator, not yet judged for 及时.
    early = callback_kpis([_facts(CallbackState.OPEN)], T0 + timedelta(hours=1))
    assert (early.tasks, early.called_back, early.judged, early.timely_rate) == (1, 0, 0, None)
    none = callback_kpis([], at)
    assert none.callback_rate is None and none.timely_rate is None  # no tasks is not 0 %
