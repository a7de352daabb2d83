"""座席状态 (agent states) as plain Python: what an agent's reported state changes mean over a period.

The ACD / agent desk reports each change of an agent's state (`POST /telephony/agent-states`); nothing here touches
a database or the web. `telephony.agent_states` has the database sum the same rule over a day's changes (one row
per agent and state, never a row per change); `day_hours` is the rule, change by change, that it must match.

- A change holds from its instant until the agent's next change (ordered by instant, then by arrival: a change
  reported out of order is counted in its place), the end of the period, or STALE_HOURS after it, whichever comes
  first: an agent signed in with no report for longer is taken as signed out (a lost 签出).
- 签入时长 = every state but `logged_out`; 利用率 = (通话 + 话后整理) / 签入 (None when never signed in).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.errors import InvalidInput
from hotline.telephony.domain import parse_choice
from hotline.timeutil import china

STALE_HOURS = 12  # a signed-in agent with no report for longer is taken as signed out (lost 签出)
MAX_AGENT = 64  # characters of an agent id (工号), as `telephony_call_event.agent`
MAX_REASON = 32  # characters of a 示忙原因


class AgentState(StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    LOGGED_OUT = "logged_out"


STATE_LABELS = {
    AgentState.READY: "空闲",
    AgentState.NOT_READY: "示忙",
    AgentState.BUSY: "通话中",
    AgentState.WRAP_UP: "话后整理",
    AgentState.LOGGED_OUT: "签出",
}
SIGNED_IN = tuple(s for s in AgentState if s is not AgentState.LOGGED_OUT)
WORKING = (AgentState.BUSY, AgentState.WRAP_UP)  # 利用率's numerator
NO_REASON = "未注明"  # the label of a 示忙 reported without a reason


def parse_state(text: str) -> AgentState:
    return parse_choice(AgentState, text, "座席状态", "invalid-agent-state")


def parse_agent(text: str) -> str:
    agent = text.strip()
    if not agent or len(agent) > MAX_AGENT:
        raise InvalidInput(f"座席工号不能为空且不超过 {MAX_AGENT} 个字符", code="invalid-agent")
    return agent


def parse_reason(state: AgentState, text: str) -> str:
    """The 示忙原因 kept with a change: only a `not_ready` has one."""
    reason = text.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"示忙原因不超过 {MAX_REASON} 个字符", code="invalid-agent-reason")
    return reason if state is AgentState.NOT_READY else ""


@dataclass(frozen=True)
class StateChange:
    at: datetime
    state: AgentState
    reason: str = ""
    seq: int = 0  # arrival order: of two changes at one instant, the later one holds


@dataclass(frozen=True)
class Hours:
    """An agent's seconds in each state over a period (logged_out not counted), and what they make."""

    seconds: Mapping[AgentState, float] = field(default_factory=dict)

    def of(self, state: AgentState) -> float:
        return self.seconds.get(state, 0.0)

    @property
    def signed_in(self) -> float:
        return sum(self.of(s) for s in SIGNED_IN)

    @property
    def utilization(self) -> float | None:
        signed_in = self.signed_in
        return sum(self.of(s) for s in WORKING) / signed_in if signed_in > 0 else None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "signed_in_seconds": round(self.signed_in, 3),
            "ready_seconds": round(self.of(AgentState.READY), 3),
            "busy_seconds": round(self.of(AgentState.BUSY), 3),
            "wrap_up_seconds": round(self.of(AgentState.WRAP_UP), 3),
            "not_ready_seconds": round(self.of(AgentState.NOT_READY), 3),
            "utilization": self.utilization,
        }


def ordered(changes: Iterable[StateChange]) -> list[StateChange]:
    return sorted(changes, key=lambda c: (c.at, c.seq))


def stale_after(at: datetime) -> datetime:
    return at + timedelta(hours=STALE_HOURS)


def day_hours(changes: Iterable[StateChange], start: datetime, end: datetime) -> Hours:
    """Seconds in each state within [START, END) of an agent whose changes (any order; those before START count
    for the state the agent was in at START) are CHANGES."""
    items = ordered(changes)
    seconds: dict[AgentState, float] = {}
    for i, change in enumerate(items):
        if change.state is AgentState.LOGGED_OUT:
            continue
        until = min(items[i + 1].at if i + 1 < len(items) else end, end, stale_after(change.at))
        held = (until - max(change.at, start)).total_seconds()
        if held > 0:
            seconds[change.state] = seconds.get(change.state, 0.0) + held
    return Hours(seconds)


@dataclass(frozen=True)
class Current:
    state: AgentState
    reason: str
    since: datetime | None  # None: never reported


def current(changes: Iterable[StateChange], at: datetime) -> Current:
    """The state at AT and since when: the latest change up to AT, or signed out STALE_HOURS after a signed-in one."""
    items = [c for c in ordered(changes) if c.at <= at]
    if not items:
        return Current(AgentState.LOGGED_OUT, "", None)
    return latest(items[-1], at)


def latest(change: StateChange, at: datetime) -> Current:
    """The state at AT of an agent whose latest change up to AT is CHANGE."""
    if change.state is not AgentState.LOGGED_OUT and stale_after(change.at) < at:
        return Current(AgentState.LOGGED_OUT, "", stale_after(change.at))
    return Current(change.state, change.reason, change.at)


def state_label(state: AgentState, reason: str = "") -> str:
    if state is AgentState.NOT_READY:
        return f"{STATE_LABELS[state]}（{reason or NO_REASON}）"
    return STATE_LABELS[state]


@dataclass(frozen=True)
class AgentRow:
    """One line of the agents' table: who, the state now and since when, the day's calls answered and hours."""

    agent: str
    name: str
    now: Current
    answered: int
    hours: Hours

    def to_dict(self, at: datetime) -> dict[str, object]:
        since = self.now.since
        return {
            "agent": self.agent,
            "name": self.name,
            "state": self.now.state.value,
            "reason": self.now.reason,
            "label": state_label(self.now.state, self.now.reason),
            "since": china(since).isoformat() if since else None,
            "state_seconds": max(0.0, (at - since).total_seconds()) if since else None,
            "answered": self.answered,
            **self.hours.to_dict(),
        }


def state_counts(rows: Sequence[AgentRow]) -> dict[str, object]:
    """How many agents are in each state now (示忙 split by reason, busiest first), and signed in."""
    counts = Counter(r.now.state for r in rows)
    reasons = Counter(r.now.reason or NO_REASON for r in rows if r.now.state is AgentState.NOT_READY)
    return {
        "signed_in": sum(counts[s] for s in SIGNED_IN),
        **{s.value: counts[s] for s in AgentState},
        "not_ready_reasons": [
            {"reason": k, "agents": n} for k, n in sorted(reasons.items(), key=lambda i: (-i[1], i[0]))
        ],
    }


def table_order(rows: Iterable[AgentRow]) -> list[AgentRow]:
    """Signed-in agents first, then by 工号."""
    return sorted(rows, key=lambda r: (r.now.state is AgentState.LOGGED_OUT, r.agent))
