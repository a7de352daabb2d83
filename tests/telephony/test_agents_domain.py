"""座席状态 as plain Python (`telephony.agents`): seconds per state over a period, 签入时长 and 利用率, the state now
and since when, out-of-order reports, the lost 签出 after STALE_HOURS; properties over any sequence of changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import InvalidInput
from hotline.telephony import agents as a
from hotline.telephony.agents import AgentState as S
from hotline.telephony.agents import StateChange as C

START = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)  # 00:00 China time, 2 June
END = START + timedelta(hours=10)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def test_each_change_holds_until_the_next_and_the_day_adds_up() -> None:
    changes = [
        C(at(0), S.READY),
        C(at(10), S.BUSY),
        C(at(15), S.WRAP_UP),
        C(at(17), S.NOT_READY, "小休"),
        C(at(27), S.READY),
        C(at(30), S.LOGGED_OUT),
    ]
    hours = a.day_hours(changes, START, END)
    assert dict(hours.seconds) == {S.READY: 780.0, S.BUSY: 300.0, S.WRAP_UP: 120.0, S.NOT_READY: 600.0}
    assert hours.signed_in == 1800.0
    assert hours.utilization == pytest.approx(420 / 1800)
    shown = hours.to_dict()
    assert (shown["signed_in_seconds"], shown["busy_seconds"], shown["not_ready_seconds"]) == (1800.0, 300.0, 600.0)


def test_never_signed_in_has_no_utilization_rather_than_zero() -> None:
    assert a.day_hours([], START, END).utilization is None
    assert a.day_hours([C(at(5), S.LOGGED_OUT)], START, END).utilization is None
    assert a.day_hours([C(at(5), S.READY)], START, END).utilization == 0.0


def test_a_change_reported_out_of_order_is_counted_in_its_place() -> None:
    in_order = [C(at(0), S.READY, seq=1), C(at(10), S.BUSY, seq=2), C(at(20), S.READY, seq=3)]
    late = [in_order[0], in_order[2], C(at(10), S.BUSY, seq=9)]  # the busy arrived last
    assert a.day_hours(late, START, END) == a.day_hours(in_order, START, END)
    assert a.day_hours(late, START, at(30)).of(S.BUSY) == 600.0
    assert a.current(late, at(15)) == a.Current(S.BUSY, "", at(10))


def test_of_two_changes_at_one_instant_the_later_reported_holds() -> None:
    changes = [C(at(0), S.READY, seq=1), C(at(0), S.NOT_READY, "会议", seq=2)]
    assert dict(a.day_hours(changes, START, at(10)).seconds) == {S.NOT_READY: 600.0}
    assert a.current(changes, at(10)).reason == "会议"


def test_the_state_before_the_period_carries_into_it_and_the_period_clips() -> None:
    changes = [C(START - timedelta(hours=1), S.READY), C(at(30), S.BUSY)]
    hours = a.day_hours(changes, START, at(40))
    assert dict(hours.seconds) == {S.READY: 1800.0, S.BUSY: 600.0}
    assert a.day_hours(changes, START, START).seconds == {}


def test_signed_in_with_no_report_for_more_than_stale_hours_is_signed_out() -> None:
    assert a.STALE_HOURS == 12
    changes = [C(START - timedelta(hours=11), S.READY)]
    hours = a.day_hours(changes, START, END)
    assert dict(hours.seconds) == {S.READY: 3600.0}  # 12 h after its report, of which 1 h today
    assert a.current(changes, START + timedelta(minutes=59)) == a.Current(S.READY, "", changes[0].at)
    lost = a.current(changes, START + timedelta(hours=2))
    assert lost == a.Current(S.LOGGED_OUT, "", START + timedelta(hours=1))
    # a report at the 12th hour keeps the agent signed in
    again = [*changes, C(START + timedelta(hours=1), S.BUSY)]
    assert a.day_hours(again, START, START + timedelta(hours=2)).signed_in == 7200.0


def test_the_state_now_and_since_when() -> None:
    assert a.current([], END) == a.Current(S.LOGGED_OUT, "", None)
    changes = [C(at(0), S.READY), C(at(20), S.NOT_READY, "培训")]
    assert a.current(changes, at(10)) == a.Current(S.READY, "", at(0))
    assert a.current(changes, at(25)) == a.Current(S.NOT_READY, "培训", at(20))
    assert a.current(changes, START - timedelta(minutes=1)).state is S.LOGGED_OUT  # a change after AT is not yet


def test_labels_and_checks() -> None:
    assert [a.STATE_LABELS[s] for s in S] == ["空闲", "示忙", "通话中", "话后整理", "签出"]
    assert a.state_label(S.NOT_READY, "小休") == "示忙（小休）"
    assert a.state_label(S.NOT_READY) == "示忙（未注明）"
    assert a.parse_state(" wrap_up ") is S.WRAP_UP
    with pytest.raises(InvalidInput) as bad:
        a.parse_state("lunch")
    assert bad.value.code == "invalid-agent-state"
    with pytest.raises(InvalidInput) as empty:
        a.parse_agent("  ")
    assert empty.value.code == "invalid-agent"
    assert a.parse_reason(S.READY, "小休") == "" and a.parse_reason(S.NOT_READY, " 小休 ") == "小休"
    with pytest.raises(InvalidInput) as long:
        a.parse_reason(S.NOT_READY, "长" * 33)
    assert long.value.code == "invalid-agent-reason"


def test_counts_split_not_ready_by_reason_and_the_table_puts_signed_in_first() -> None:
    def row(agent: str, state: S, reason: str = "") -> a.AgentRow:
        return a.AgentRow(agent, agent, a.Current(state, reason, at(0)), 0, a.Hours())

    rows = a.table_order(
        [
            row("A9", S.LOGGED_OUT),
            row("A3", S.NOT_READY, "小休"),
            row("A1", S.NOT_READY, "小休"),
            row("A2", S.NOT_READY, "会议"),
            row("A4", S.BUSY),
            row("A5", S.NOT_READY),
        ]
    )
    assert [r.agent for r in rows] == ["A1", "A2", "A3", "A4", "A5", "A9"]
    counts = a.state_counts(rows)
    assert (counts["signed_in"], counts["not_ready"], counts["busy"], counts["ready"], counts["logged_out"]) == (
        5,
        4,
        1,
        0,
        1,
    )
    assert counts["not_ready_reasons"] == [
        {"reason": "小休", "agents": 2},
        {"reason": "会议", "agents": 1},
        {"reason": "未注明", "agents": 1},
    ]
    shown = rows[0].to_dict(at(5))
    assert (shown["label"], shown["state_seconds"]) == ("示忙（小休）", 300.0)


changes_st = st.lists(
    st.builds(
        C,
        at=st.integers(-20 * 60, 11 * 60).map(lambda m: at(m)),
        state=st.sampled_from(list(S)),
        reason=st.sampled_from(["", "小休"]),
    ),
    max_size=12,
).map(lambda cs: [C(c.at, c.state, c.reason, i) for i, c in enumerate(cs)])  # arrival order: ids never repeat


@settings(max_examples=300, deadline=None)
@given(changes_st, st.randoms())
def test_properties_over_any_changes(changes: list[C], rnd: object) -> None:
    hours = a.day_hours(changes, START, END)
    period = (END - START).total_seconds()
    assert 0 <= hours.signed_in <= period + 1e-6
    assert all(v > 0 for v in hours.seconds.values()) and S.LOGGED_OUT not in hours.seconds
    if hours.utilization is not None:
        assert 0 <= hours.utilization <= 1
    shuffled = list(changes)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert a.day_hours(shuffled, START, END) == hours  # the order of arrival does not matter, the instants do
    # splitting the period in two adds up
    mid = START + timedelta(hours=4)
    first, second = a.day_hours(changes, START, mid), a.day_hours(changes, mid, END)
    for s in S:
        assert first.of(s) + second.of(s) == pytest.approx(hours.of(s))
    # signed in now exactly when the last change up to the end is a signed-in one no older than STALE_HOURS
    now = a.current(changes, END)
    if now.state is not S.LOGGED_OUT:
        assert now.since is not None and END - now.since <= timedelta(hours=a.STALE_HOURS)
