"""座席状态 in the store (`telephony.agent_states`, SQLite and PostgreSQL): reports stored once, a bad batch writing
nothing, the log append-only, and the day the database sums equal to `agents.day_hours` change by change."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotline.accounts import service as accounts
from hotline.db import AppendOnlyError, session_scope
from hotline.errors import InvalidInput
from hotline.telephony import agent_states
from hotline.telephony import agents as a
from hotline.telephony import service as telephony
from hotline.telephony.agents import AgentState as S
from hotline.telephony.store import AgentStateChange
from hotline.timeutil import china
from tests.conftest import query_plan

START = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)  # 00:00 China time, 2 June


def _iso(instant: datetime) -> str:
    return china(instant).isoformat()


def _post(*items: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    with session_scope() as s:
        return agent_states.record_states(s, list(items))


def test_a_report_is_stored_once(db_url: str) -> None:
    item = {"agent": "A007", "state": "not_ready", "at": "2026-06-02T09:00:00", "reason": "小休"}
    first, created = _post(item)
    assert created == 1 and first[0]["duplicate"] is False
    assert (first[0]["label"], first[0]["at"]) == ("示忙（小休）", "2026-06-02T09:00:00+08:00")
    again, created = _post(item, {**item, "at": "2026-06-02T01:00:00Z"}, {**item, "state": "ready"})
    assert created == 1 and [c["duplicate"] for c in again] == [True, True, False]  # 01:00Z is 09:00 China time
    with session_scope() as s:
        assert len(s.scalars(select(AgentStateChange)).all()) == 2


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"agent": "A007", "state": "lunch"}, "invalid-agent-state"),
        ({"agent": " ", "state": "ready"}, "invalid-agent"),
        ({"agent": "A007", "state": "ready", "at": "昨天"}, "invalid-time"),
        ({"agent": "A007", "state": "not_ready", "reason": "长" * 40}, "invalid-agent-reason"),
        ({"state": "ready"}, "invalid-agent"),
    ],
)
def test_one_bad_item_refuses_the_batch_and_writes_nothing(db_url: str, bad: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _post({"agent": "A001", "state": "ready"}, bad)
    assert refused.value.code == code
    with session_scope() as s:
        assert s.scalars(select(AgentStateChange)).first() is None


def test_the_log_is_append_only(db_url: str) -> None:
    _post({"agent": "A007", "state": "ready"})
    with pytest.raises(AppendOnlyError), session_scope() as s:
        s.scalars(select(AgentStateChange)).one().state = "busy"


def _random_changes(rnd: random.Random, agent: str, n: int) -> list[dict[str, Any]]:
    items = []
    for _ in range(n):
        state = rnd.choice(list(S))
        minutes = rnd.uniform(-16 * 60, 9 * 60)  # from the evening before (some over STALE_HOURS) into the day
        items.append(
            {
                "agent": agent,
                "state": state.value,
                "at": _iso(START + timedelta(minutes=minutes, microseconds=rnd.randrange(10**6))),
                "reason": rnd.choice(["", "小休", "培训"]),
            }
        )
    return items


def test_the_day_summed_by_the_database_is_the_rule_change_by_change(db_url: str) -> None:
    rnd = random.Random(12345)
    batches = {f"A{i:03d}": _random_changes(rnd, f"A{i:03d}", rnd.randrange(1, 25)) for i in range(30)}
    batches["LOST"] = [{"agent": "LOST", "state": "busy", "at": _iso(START - timedelta(hours=11))}]  # lost 签出
    for items in batches.values():
        rnd.shuffle(items)  # reported in any order
        _post(*items)
    until = START + timedelta(hours=8, minutes=17)
    with session_scope() as s:
        rows = {r.agent: r for r in agent_states.agent_rows(s, until)}
        stored = s.scalars(select(AgentStateChange).order_by(AgentStateChange.id)).all()
    expected_any = 0
    for agent in batches:
        changes = [a.StateChange(c.at, a.AgentState(c.state), c.reason, c.id) for c in stored if c.agent == agent]
        hours, now_ = a.day_hours(changes, START, until), a.current(changes, until)
        if not hours.seconds and now_.state is S.LOGGED_OUT:
            assert agent not in rows
            continue
        expected_any += 1
        row = rows[agent]
        assert row.now == now_, agent
        for state in S:
            assert row.hours.of(state) == pytest.approx(hours.of(state), abs=1e-3), (agent, state)
        assert row.hours.utilization == pytest.approx(hours.utilization, abs=1e-6)
    assert expected_any == len(rows) and len(rows) > 10
    assert [r.agent for r in a.table_order(rows.values())] == list(rows)


def test_agents_answered_calls_names_and_who_is_listed(db_url: str) -> None:
    at = START + timedelta(hours=3)
    with session_scope() as s:
        accounts.create_account(s, "a007", "王芳", ["agent"])  # logins are lower case
        for i, (agent, when) in enumerate([("A007", 10), ("A007", 20), ("A008", 30), ("A007", -30)]):
            telephony.record_event(s, f"c{i}", "answered", START + timedelta(minutes=when), agent)
        telephony.record_event(s, "c9", "queued", START + timedelta(minutes=5), "A009")  # not an answer
    _post(
        {"agent": "A007", "state": "ready", "at": _iso(START + timedelta(minutes=1))},
        {"agent": "A010", "state": "logged_out", "at": _iso(START - timedelta(hours=2))},  # off all day: not listed
        {"agent": "A011", "state": "busy", "at": _iso(START - timedelta(hours=13))},  # lost 签出 before the day
    )
    with session_scope() as s:
        rows = {r.agent: r for r in agent_states.agent_rows(s, at)}
        block = agent_states.agents_block(s, at)
    assert set(rows) == {"A007", "A008"}
    assert (rows["A007"].name, rows["A007"].answered, rows["A008"].name, rows["A008"].answered) == (
        "王芳",
        2,
        "A008",
        1,
    )
    assert rows["A008"].now.state is S.LOGGED_OUT and rows["A008"].hours.utilization is None
    assert block["counts"]["signed_in"] == 1 and block["counts"]["ready"] == 1
    assert block["rows"][0]["agent"] == "A007" and block["rows"][0]["state_seconds"] == pytest.approx(3 * 3600 - 60)


def test_the_days_changes_are_read_through_the_index(db_url: str) -> None:
    _post({"agent": "A007", "state": "ready"})
    plan = query_plan(db_url, lambda s: agent_states.day_seconds(s, START, START + timedelta(hours=1)))
    assert "ix_telephony_agent_state_at" in plan, plan
