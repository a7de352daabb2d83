"""骚扰号码名单 as plain Python: an entry's treatments and states, the steps it goes through (申请 → 审核通过 or 驳回;
生效中 → 解除, or 已到期 by itself), the checks on what is typed, who may type a number, and what the routing
lookup does with a call from a listed number (`screen`).

An entry in force is one approved (生效中) whose `active_until` is still ahead: 已到期 is derived from the clock, never
stored. A number has at most one entry pending or in force at a time (`nuisance-already-listed`).

Nothing here touches a database or the web: `nuisance.service` loads what these functions need."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.accounts.domain import Grant
from hotline.errors import Conflict, Forbidden, InvalidInput
from hotline.quality.domain import parse_enum
from hotline.telephony.domain import (
    NUISANCE_SKILL,
    SCREENED_DECISION,
    PromptId,
    PromptKind,
    ProxyAnswer,
    Target,
    callback_number,
    resolve_endpoint,
)

MAX_DAYS = 30  # a local rule: an entry is in force for 1..MAX_DAYS days, then expires by itself
DEFAULT_DAYS = 7
MAX_TEXT = 500  # reasons and notes
MAX_EVIDENCE = 200
HOTLINE = "12345"
# Numbers never listed: the emergency numbers, and 12345 itself.
PROTECTED_NUMBERS = frozenset({"110", "119", "120", "122", HOTLINE})
WARNING_PROMPT = str(PromptId(PromptKind.NUISANCE_WARNING, HOTLINE))  # nuisance-warning:12345
RELEASE_PROMPT = str(PromptId(PromptKind.NUISANCE_RELEASE, HOTLINE))  # nuisance-release:12345


class Treatment(StrEnum):
    WARN = "warn"  # the warning, then the 骚扰专席 of the same 12345 queue: the caller is still heard
    RELEASE = "release"  # a notice, then the call is released


TREATMENT_LABELS = {Treatment.WARN: "提示后转骚扰专席", Treatment.RELEASE: "提示后挂断"}


class EntryState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"  # derived: ACTIVE and the clock at or past `active_until`
    LIFTED = "lifted"
    REJECTED = "rejected"


STATE_LABELS = {
    EntryState.PENDING: "待审核",
    EntryState.ACTIVE: "生效中",
    EntryState.EXPIRED: "已到期",
    EntryState.LIFTED: "已解除",
    EntryState.REJECTED: "已驳回",
}
OPEN_STATES = frozenset({EntryState.PENDING, EntryState.ACTIVE})  # at most one per number


class Action(StrEnum):
    """A step of an entry's history."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    LIFTED = "lifted"


ACTION_LABELS = {
    Action.PROPOSED: "申请列入",
    Action.APPROVED: "审核通过",
    Action.REJECTED: "驳回",
    Action.LIFTED: "解除",
}
# Each decision's step: the state it may be taken from and the state it leads to.
TRANSITIONS: dict[Action, tuple[EntryState, EntryState]] = {
    Action.APPROVED: (EntryState.PENDING, EntryState.ACTIVE),
    Action.REJECTED: (EntryState.PENDING, EntryState.REJECTED),
    Action.LIFTED: (EntryState.ACTIVE, EntryState.LIFTED),
}
DECIDERS = frozenset({Grant.SUPERVISOR, Grant.ADMIN})  # approve, reject, lift; and type a number themselves


def state_at(stored: EntryState, active_until: datetime | None, at: datetime) -> EntryState:
    """The state an entry stored as STORED is in at AT: an approved one is 已到期 from its `active_until` on."""
    if stored is EntryState.ACTIVE and active_until is not None and at >= active_until:
        return EntryState.EXPIRED
    return stored


def in_force(stored: EntryState, active_from: datetime | None, active_until: datetime | None, at: datetime) -> bool:
    """Whether calls from the entry's number are screened at AT: approved, not lifted, AT in [from, until)."""
    return (
        stored is EntryState.ACTIVE
        and active_from is not None
        and active_until is not None
        and active_from <= at < active_until
    )


def after(state: EntryState, action: Action) -> EntryState:
    """The state ACTION leads to from STATE (the derived one: an expired entry is no longer lifted); refused with
    `nuisance-transition-not-allowed` (409) from any other state."""
    source, target = TRANSITIONS[action]
    if state is not source:
        raise Conflict(
            f"该名单记录当前为「{STATE_LABELS[state]}」，不能{ACTION_LABELS[action]}",
            code="nuisance-transition-not-allowed",
            state=state.value,
        )
    return target


def active_window(at: datetime, days: int) -> tuple[datetime, datetime]:
    """In force from AT (the approval) for DAYS whole days."""
    return at, at + timedelta(days=check_days(days))


def check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"限制天数须为 1 至 {MAX_DAYS} 天的整数", code="nuisance-invalid-days", days=str(days))
    return days


def parse_treatment(text: str) -> Treatment:
    """A treatment by its code (warn, release) or its label."""
    found: Treatment = parse_enum(Treatment, text, TREATMENT_LABELS, "处置方式", "nuisance-invalid-treatment")
    return found


def parse_state(text: str) -> EntryState:
    found: EntryState = parse_enum(EntryState, text, STATE_LABELS, "名单状态", "nuisance-invalid-state")
    return found


def required_text(text: str, what: str) -> str:
    """A reason or note that must be given (`nuisance-reason-required`), at most MAX_TEXT characters."""
    said = (text or "").strip()
    if not said:
        raise InvalidInput(f"请填写{what}", code="nuisance-reason-required")
    if len(said) > MAX_TEXT:
        raise InvalidInput(f"{what}不超过 {MAX_TEXT} 字", code="nuisance-reason-too-long")
    return said


def optional_text(text: str, what: str, limit: int = MAX_TEXT) -> str:
    said = (text or "").strip()
    if len(said) > limit:
        raise InvalidInput(f"{what}不超过 {limit} 字", code="nuisance-reason-too-long")
    return said


def normalize_number(text: str) -> str:
    """The caller number as the lookup compares it (`telephony.domain.callback_number`: +86 and 0086 dropped,
    separators removed): 13800001111, 02887654321. Refused (`nuisance-invalid-number`): anything else, and the
    emergency numbers and 12345 itself, which are never listed."""
    raw = (text or "").strip()
    number = callback_number(raw)
    if number is None or number in PROTECTED_NUMBERS:
        raise InvalidInput(
            f"号码不正确：{raw!r}（应为来电号码，如 13800001111 或 02887654321；紧急电话号码不能列入）",
            code="nuisance-invalid-number",
        )
    return number


def check_source(role: Grant, *, call_id: str, order: str, number: str) -> str:
    """Which of the three ways to name the caller was used ("call", "order" or "number"): exactly one must be
    (`nuisance-source-not-found`). Typing a number is for supervisors and administrators only
    (`nuisance-number-not-allowed`, 403): an agent applies from the call or the order and never sees the number."""
    given = [name for name, value in (("call", call_id), ("order", order), ("number", number)) if value.strip()]
    if len(given) != 1:
        raise InvalidInput(
            "请注明来电编号、工单编号或号码之一" if not given else "来电编号、工单编号和号码只能填写一项",
            code="nuisance-source-not-found",
        )
    if given[0] == "number" and role not in DECIDERS:
        raise Forbidden(
            "话务员请从来电记录或工单申请，不能直接填写号码", code="nuisance-number-not-allowed", role=role.value
        )
    return given[0]


@dataclass(frozen=True)
class Screened:
    """A number in force at some instant: its treatment and until when."""

    number: str
    treatment: Treatment
    until: datetime

    def seconds_left(self, at: datetime) -> int:
        """Whole seconds from AT to `until`, at least 1 while in force (what the proxy keeps the number for)."""
        return max(1, int((self.until - at).total_seconds()))


def screen(answer: ProxyAnswer, treatment: Treatment | None, endpoints: Mapping[str, str]) -> ProxyAnswer:
    """What the proxy does with a call from a listed number, given the ANSWER any other caller gets.

    Only a call that would reach the 12345 seats (decision `queue`) is screened: one to a line still on its own
    seats, a sub-centre, a cancelled number's announcement or an emergency number is not touched.
    WARN: the same queue, the warning first, for the 骚扰专席 (skill `nuisance`).
    RELEASE: the region's announcement server plays the notice and releases (decision `screened`); where none is
    configured (`endpoint-not-configured`, raised) the caller keeps the milder treatment (`service` falls back)."""
    if treatment is None or answer.decision != "queue" or answer.action != "relay":
        return answer
    if treatment is Treatment.WARN:
        return replace(
            answer,
            prompt=WARNING_PROMPT,
            skill=NUISANCE_SKILL,
            reason=_joined(answer.reason, "来电号码在骚扰号码名单中：提示后转骚扰专席"),
            screened=Treatment.WARN.value,
        )
    target = Target("announcement", None, answer.region)
    return ProxyAnswer(
        "relay",
        SCREENED_DECISION,
        answer.region,
        answer.dialed,
        uri=resolve_endpoint(target, endpoints, answer.dialed),
        target=target.key,
        prompt=RELEASE_PROMPT,
        release=True,
        reason=_joined(answer.reason, "来电号码在骚扰号码名单中：提示后挂断"),
        screened=Treatment.RELEASE.value,
    )


def _joined(first: str, then: str) -> str:
    return f"{first}；{then}" if first else then
