"""Telephony rules as plain Python: what the proxy is told, notice texts, call facts and call-centre KPIs.

Nothing here touches a database, the web or a file: the service layer loads what these functions need.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from hotline.errors import InvalidInput, NotFound
from hotline.routing.domain import ACTION_LABELS, Action, RouteDecision

# ------------------------------------------------------------------------------------------------
# Voice notices

VOICE = "cmn-latn-pinyin"  # espeak-ng voice that reads Hanzi as Mandarin (the plain `cmn` voice does not)

_DIGITS = {"0": "零", "1": "幺", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}
_NUMERALS = "零一二三四五六七八九"


class PromptKind(StrEnum):
    TRANSITION = "transition"
    CANCELLATION = "cancellation"
    AFTER_HOURS = "after-hours"
    NUISANCE_WARNING = "nuisance-warning"  # 骚扰号码名单: played before the call goes to the 骚扰专席
    NUISANCE_RELEASE = "nuisance-release"  # 骚扰号码名单: played before hanging up


PROMPT_KIND_LABELS = {
    PromptKind.TRANSITION: "过渡期提示音",
    PromptKind.CANCELLATION: "号码注销提示音",
    PromptKind.AFTER_HOURS: "非工作时间提示音",
    PromptKind.NUISANCE_WARNING: "骚扰提示音（提示后转骚扰专席）",
    PromptKind.NUISANCE_RELEASE: "骚扰限制提示音（提示后挂断）",
}
# The notices of the 骚扰号码名单 belong to 12345 itself (`nuisance-warning:12345`, `nuisance-release:12345`).
NUISANCE_PROMPTS = (PromptKind.NUISANCE_WARNING, PromptKind.NUISANCE_RELEASE)


def spoken_digits(number: str) -> str:
    """A phone number read digit by digit as Chinese operators do, with 幺 for 1: 12345 -> 幺二三四五."""
    if not number or not number.isdigit():
        raise InvalidInput(f"号码只能由数字组成：{number!r}", code="invalid-number")
    return "".join(_DIGITS[d] for d in number)


def chinese_numeral(n: int) -> str:
    """1..99 as a Chinese numeral, for months and days (10 -> 十, 21 -> 二十一)."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _NUMERALS[ones]
    head = "" if tens == 1 else _NUMERALS[tens]
    return head + "十" + (_NUMERALS[ones] if ones else "")


def spoken_date(day: date) -> str:
    return f"{chinese_numeral(day.month)}月{chinese_numeral(day.day)}日"


@dataclass(frozen=True)
class PromptId:
    kind: PromptKind
    number: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.number}"


def parse_prompt_id(text: str) -> PromptId:
    kind, _, number = text.strip().partition(":")
    try:
        parsed = PromptKind(kind)
    except ValueError:
        parsed = None
    if parsed is None or not number.isdigit():
        raise InvalidInput(
            f"提示音编号不正确：{text!r}（应为 transition:号码、cancellation:号码、after-hours:号码、"
            "nuisance-warning:12345 或 nuisance-release:12345）",
            code="invalid-prompt",
        )
    return PromptId(parsed, number)


def notice_text(prompt: PromptId, line_name: str, cancelled_from: date | None = None) -> str:
    """The default Chinese text of a notice. Numbers are written as they must be read (幺二三四五)."""
    digits = spoken_digits(prompt.number)
    hotline = "幺二三四五政务服务便民热线"
    line_name = line_name if line_name.endswith("热线") else f"{line_name}热线"
    if prompt.kind is PromptKind.TRANSITION:
        when = f"自{spoken_date(cancelled_from)}起本号码停止使用，" if cancelled_from else "本号码将停止使用，"
        return f"您好！{line_name}{digits}已并入{hotline}，{when}今后请直接拨打幺二三四五。现在为您转接，请稍候。"
    if prompt.kind is PromptKind.CANCELLATION:
        return f"您好！{line_name}{digits}已停止使用，相关服务请拨打{hotline}。谢谢，再见！"
    if prompt.kind is PromptKind.NUISANCE_WARNING:
        return (
            f"您好！这里是{hotline}。您的号码因多次骚扰来电已被记录，请文明通话，理性反映诉求。现在为您转接，请稍候。"
        )
    if prompt.kind is PromptKind.NUISANCE_RELEASE:
        return (
            f"您好！这里是{hotline}。您的号码因多次骚扰来电，暂时限制接入幺二三四五。如遇紧急情况，请拨打幺幺零。再见！"
        )
    return f"您好！现在是{line_name}{digits}的非工作时间，现在为您转接{hotline}，请稍候。"


def audio_key(text: str, voice: str = VOICE) -> str:
    """Cache key of synthesised audio: the same text (and voice) is made once."""
    return "tts-" + hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:24]


def upload_key(content: bytes) -> str:
    return "rec-" + hashlib.sha256(content).hexdigest()[:24]


# ------------------------------------------------------------------------------------------------
# What the proxy is told

EMERGENCY_SIP_CODE = 380  # Alternative Service (RFC 5031): an emergency call, to be placed on the emergency network
UNKNOWN_SIP_CODE = 404

_TEMPLATE_FIELDS = re.compile(r"\{(\w+)\}")
_TEMPLATE_ALLOWED = {"kind", "number", "region", "dialed"}


def check_uri_template(template: str) -> str:
    template = template.strip()
    if not re.match(r"^sips?:[^\s]+$", template):
        raise InvalidInput(f"SIP 地址不正确：{template!r}（应以 sip: 开头）", code="invalid-endpoint")
    unknown = set(_TEMPLATE_FIELDS.findall(template)) - _TEMPLATE_ALLOWED
    if unknown:
        raise InvalidInput(
            f"SIP 地址模板中有未知字段：{', '.join(sorted(unknown))}（可用 {{kind}} {{number}} {{region}} {{dialed}}）",
            code="invalid-endpoint",
        )
    return template


ENDPOINT_KINDS = ("queue", "legacy", "subcenter", "announcement", "police")


def check_endpoint_pattern(pattern: str) -> str:
    """`kind:*` for every target of a kind, or an exact target such as `queue:510100`, `legacy:12331:510100`."""
    pattern = pattern.strip()
    kind, _, rest = pattern.partition(":")
    if kind not in ENDPOINT_KINDS or not rest or not re.match(r"^(\*|[0-9]+(:[0-9]+)?)$", rest):
        raise InvalidInput(
            f"目标模式不正确：{pattern!r}（如 queue:*、queue:510100、legacy:12331:510100、announcement:*）",
            code="invalid-endpoint",
        )
    return pattern


@dataclass(frozen=True)
class Target:
    kind: str
    number: str | None
    region: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.number}:{self.region}" if self.number else f"{self.kind}:{self.region}"


def parse_target(text: str) -> Target:
    parts = text.split(":")
    if len(parts) == 2:
        return Target(parts[0], None, parts[1])
    if len(parts) == 3:
        return Target(parts[0], parts[1], parts[2])
    raise InvalidInput(f"路由目标不正确：{text!r}", code="invalid-target")


def resolve_endpoint(target: Target, endpoints: Mapping[str, str], dialed: str) -> str:
    """The SIP URI of a logical target: an exact pattern wins over `kind:*`; `{…}` fields are filled in."""
    template = endpoints.get(target.key) or endpoints.get(f"{target.kind}:*")
    if template is None:
        raise NotFound(f"未配置 {target.key} 的 SIP 地址", code="endpoint-not-configured", target=target.key)
    values = {"kind": target.kind, "number": target.number or "", "region": target.region, "dialed": dialed}
    return _TEMPLATE_FIELDS.sub(lambda m: values[m.group(1)], template)


@dataclass(frozen=True)
class ProxyAnswer:
    """One line of JSON for the proxy: relay (uri + header values) or reject (SIP code)."""

    action: str  # "relay" | "reject"
    decision: str  # the routing action: queue | legacy | subcenter | cancelled | reject
    region: str
    dialed: str
    uri: str | None = None
    target: str | None = None
    prompt: str | None = None
    skill: str | None = None
    release: bool = False  # the answering side (announcement server) plays the prompt and hangs up
    code: int | None = None
    phrase: str | None = None
    reason: str = ""
    screened: str | None = None  # the caller is on the 骚扰号码名单: "warn" or "release" (`nuisance.domain.screen`)

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "decision": self.decision,
            "region": self.region,
            "dialed": self.dialed,
            "uri": self.uri,
            "target": self.target,
            "prompt": self.prompt,
            "skill": self.skill,
            "release": self.release,
            "code": self.code,
            "phrase": self.phrase,
            "reason": self.reason,
            "screened": self.screened,
        }


def proxy_answer(
    decision: RouteDecision, dialed: str, region: str, endpoints: Mapping[str, str], *, emergency: bool = False
) -> ProxyAnswer:
    """Turn a routing decision into what the proxy does.

    queue / legacy / subcenter: relay to that target's SIP address with the prompt and skill.
    cancelled: relay to the region's announcement server, which plays the cancellation notice and releases.
    reject: 380 for an emergency number (it belongs to the emergency network), 404 for an unknown number.
    """
    decided = decision.action.value
    if decision.action is Action.REJECT:
        code, phrase = (EMERGENCY_SIP_CODE, "Alternative Service") if emergency else (UNKNOWN_SIP_CODE, "Not Found")
        return ProxyAnswer("reject", decided, region, dialed, code=code, phrase=phrase, reason=decision.reason)
    if decision.action is Action.CANCELLED:
        target = Target("announcement", None, region)
        return ProxyAnswer(
            "relay",
            decided,
            region,
            dialed,
            uri=resolve_endpoint(target, endpoints, dialed),
            target=target.key,
            prompt=decision.prompt,
            release=True,
            reason=decision.reason,
        )
    if decision.target is None:
        raise InvalidInput(f"路由结果缺少目标：{decision}", code="invalid-decision")
    target = parse_target(decision.target)
    return ProxyAnswer(
        "relay",
        decided,
        region,
        dialed,
        uri=resolve_endpoint(target, endpoints, dialed),
        target=decision.target,
        prompt=decision.prompt,
        skill=decision.skill,
        reason=decision.reason,
    )


# How long the proxy may keep an answer (seconds): until the decision may next change (the next phase
# boundary, a sub-centre's opening or closing time), and never longer than this, so that an administrator's
# edit of the plan, a trunk or a SIP address reaches calls within a few seconds even if the proxy is not told.
PROXY_CACHE_CAP = 6


def cache_seconds(valid_until: datetime | None, at: datetime, cap: int = PROXY_CACHE_CAP) -> int:
    """Whole seconds from AT during which an answer decided for AT stays right: the time left before
    VALID_UNTIL (the next instant the decision may change, None: not while the plan stays as it is), rounded
    down, at most CAP. 0: do not keep it."""
    if valid_until is None:
        return cap
    return max(0, min(cap, math.floor((valid_until - at).total_seconds())))


# A call the 骚扰号码名单 turned away (`nuisance.domain.screen`): its notice played, then released; and the skill a
# screened call with the milder treatment is routed to on the 12345 queue (骚扰专席).
SCREENED_DECISION = "screened"
NUISANCE_SKILL = "nuisance"
# What the routing did with a call, in words, for every decision a call record may hold.
DECISION_LABELS: dict[str, str] = {
    **{action.value: label for action, label in ACTION_LABELS.items()},
    SCREENED_DECISION: "骚扰号码限制接入（放音后挂断）",
}
ANSWER_ACTIONS = ("relay", "reject")
ROUTING_ACTIONS = ("queue", "legacy", "subcenter", "cancelled", "reject", SCREENED_DECISION)
SCREENED_VALUES = ("warn", "release")


def answer_from_dict(data: Mapping[str, object]) -> ProxyAnswer:
    """The answer a proxy acted on, as it reports it back (the JSON of `ProxyAnswer.to_dict`), checked with
    the rules the proxy applies before acting on it."""

    def text(name: str, limit: int) -> str | None:
        value = data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidInput(f"路由结果字段 {name} 不正确", code="invalid-decision")
        return value

    action, decision = data.get("action"), data.get("decision")
    region, dialed = text("region", 6), text("dialed", 32)
    if action not in ANSWER_ACTIONS or decision not in ROUTING_ACTIONS or not region or not dialed:
        raise InvalidInput("路由结果不完整：需要 action、decision、region、dialed", code="invalid-decision")
    uri = text("uri", 255)
    code = data.get("code")
    if action == "relay" and not (uri and re.match(r"^sips?:", uri)):
        raise InvalidInput("转接结果缺少 SIP 地址", code="invalid-decision")
    if action == "reject" and not (isinstance(code, int) and 300 <= code <= 699):
        raise InvalidInput("拒绝结果的 SIP 状态码应在 300–699 之间", code="invalid-decision")
    return ProxyAnswer(
        str(action),
        str(decision),
        region,
        dialed,
        uri=uri,
        target=text("target", 64),
        prompt=text("prompt", 64),
        skill=text("skill", 32),
        release=data.get("release") is True,
        code=code if isinstance(code, int) else None,
        phrase=text("phrase", 64),
        reason=text("reason", 2000) or "",
        screened=str(data["screened"]) if data.get("screened") in SCREENED_VALUES else None,
    )


# ------------------------------------------------------------------------------------------------
# Call events and the facts KPIs are computed from


class CallEventType(StrEnum):
    OFFERED = "offered"
    QUEUED = "queued"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"
    ENDED = "ended"


EVENT_LABELS = {
    CallEventType.OFFERED: "呼入",
    CallEventType.QUEUED: "排队",
    CallEventType.ANSWERED: "人工接通",
    CallEventType.ABANDONED: "放弃",
    CallEventType.TRANSFERRED: "转接",
    CallEventType.ENDED: "结束",
}


_Choice = TypeVar("_Choice", bound=StrEnum)


def parse_choice(kind: type[_Choice], text: str, what: str, code: str) -> _Choice:
    """TEXT as one of KIND's values, else `InvalidInput` (CODE) naming WHAT and the values there are."""
    try:
        return kind(text.strip())
    except ValueError as exc:
        names = "、".join(e.value for e in kind)
        raise InvalidInput(f"未知的{what}：{text!r}（可用：{names}）", code=code) from exc


def parse_event_type(text: str) -> CallEventType:
    return parse_choice(CallEventType, text, "话务事件", "invalid-call-event")


@dataclass(frozen=True)
class EventRecord:
    event: CallEventType
    at: datetime


@dataclass(frozen=True)
class CallFacts:
    """What KPIs need to know about one call.

    requested: the caller asked for an agent (the call was queued, or answered without a queued event).
    answered: an agent took it. wait_seconds: from queued (else offered) to answered.
    queue_seconds: how long the caller waited for an agent, answered or not: wait_seconds when answered,
    queued to abandoned when the caller hung up while queued; None otherwise (a call not queued that hung up
    was listening to a notice, not waiting for an agent). What callers' patience is measured from.
    """

    call_id: str
    offered_at: datetime | None
    requested: bool
    answered: bool
    abandoned: bool
    wait_seconds: float | None
    transferred: bool = False
    queue_seconds: float | None = None


def call_facts(call_id: str, events: Iterable[EventRecord]) -> CallFacts:
    at = _first_times(events)
    answered_at = at.get(CallEventType.ANSWERED)
    start = at.get(CallEventType.QUEUED) or at.get(CallEventType.OFFERED)
    wait = seconds_between(start, answered_at)
    queued_at, abandoned_at = at.get(CallEventType.QUEUED), at.get(CallEventType.ABANDONED)
    abandoned = abandoned_at is not None and answered_at is None
    return CallFacts(
        call_id=call_id,
        offered_at=at.get(CallEventType.OFFERED),
        requested=queued_at is not None or answered_at is not None,
        answered=answered_at is not None,
        abandoned=abandoned,
        wait_seconds=wait,
        transferred=CallEventType.TRANSFERRED in at,
        queue_seconds=wait if answered_at is not None else seconds_between(queued_at, abandoned_at),
    )


class CallOutcome(StrEnum):
    """What became of a call, in one word (话务记录's 结果), from its facts (`call_outcome`)."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"
    UNANSWERED = "unanswered"
    UNREPORTED = "unreported"


OUTCOME_LABELS = {
    CallOutcome.ANSWERED: "接通",
    CallOutcome.ABANDONED: "放弃",
    CallOutcome.TRANSFERRED: "转接",
    CallOutcome.UNANSWERED: "未接通",
    CallOutcome.UNREPORTED: "未上报",
}
# Routing decisions that send a call to agents (the 12345 queue, a line's own seats, a sub-centre): their side
# reports the call's events. Rejected calls and cancellation notices reach no agent.
TO_AGENTS = ("queue", "legacy", "subcenter")


def call_outcome(facts: CallFacts | FactFlags | None, decision: str | None) -> CallOutcome:
    """转接 when an agent transferred it (the agent answered first), else 接通 when an agent answered, else 放弃
    when the caller hung up before an agent answered, else 未接通: no agent took it (a rejected number, a notice
    played before hanging up, a call that ended or is still waiting unanswered). A call sent to agents of which
    no event was reported (FACTS None) is 未上报: the platform does not know. `service.list_calls(outcome=…)`
    selects by the same rule in SQL."""
    if facts is None:
        return CallOutcome.UNREPORTED if decision in TO_AGENTS else CallOutcome.UNANSWERED
    if facts.transferred:
        return CallOutcome.TRANSFERRED
    if facts.answered:
        return CallOutcome.ANSWERED
    if facts.abandoned:
        return CallOutcome.ABANDONED
    return CallOutcome.UNANSWERED


def parse_outcome(text: str) -> CallOutcome:
    try:
        return CallOutcome(text.strip())
    except ValueError as exc:
        names = "、".join(o.value for o in CallOutcome)
        raise InvalidInput(f"未知的通话结果：{text!r}（可用：{names}）", code="invalid-outcome") from exc


TRANSFER_MODE_LABELS = {"three-way": "三方转接", "one-key": "一键转接"}


def event_note(event: str, data: Mapping[str, object]) -> str:
    """What an event's data says in words: where a transfer went (三方转接至 12366, 一键转接至 110)."""
    if event == CallEventType.TRANSFERRED.value and data.get("to"):
        return f"{TRANSFER_MODE_LABELS.get(str(data.get('mode')), '转接')}至 {data['to']}"
    return ""


def describe_target(target: str | None, region: str, line: str, skill: str | None = None) -> str:
    """Where a call was sent, in words (REGION: the target's region name; LINE: the target line's name, if any):
    成都市12345话务队列, 12331（…）原热线座席, 12366（…）分中心座席, 成都市语音通知（放音后挂断）; a call for the
    骚扰专席 (SKILL `nuisance`): 成都市12345话务队列（骚扰专席）."""
    if not target:
        return ""
    if skill == NUISANCE_SKILL:
        return f"{describe_target(target, region, line)}（骚扰专席）"
    try:
        kind = parse_target(target)
    except InvalidInput:
        return target
    number = f"{kind.number}（{line}）" if kind.number and line else kind.number or ""
    places = {
        "queue": f"{region}12345话务队列",
        "legacy": f"{number}原热线座席",
        "subcenter": f"{number}分中心座席",
        "announcement": f"{region}语音通知（放音后挂断）",
        "police": f"{POLICE_NUMBER} 报警台",
    }
    return places.get(kind.kind, target)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """START to END in seconds; 0 when reported out of order (clocks of different systems)."""
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True)
class Kpis:
    """人工服务接通率 (connection rate, over calls that asked for an agent) and 15秒接通率 (over answered calls)."""

    offered: int
    requested: int
    answered: int
    abandoned: int
    answered_within: int
    threshold_seconds: int
    connection_rate: float | None
    within_rate: float | None
    average_wait_seconds: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "offered": self.offered,
            "requested": self.requested,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "answered_within": self.answered_within,
            "threshold_seconds": self.threshold_seconds,
            "connection_rate": self.connection_rate,
            "within_rate": self.within_rate,
            "average_wait_seconds": self.average_wait_seconds,
        }


def compute_kpis(facts: Sequence[CallFacts], threshold_seconds: int = 15) -> Kpis:
    """Connection rate = answered / requested; 15-second rate = answered within the threshold / answered.

    Each is None when its denominator is empty (no calls is not a 0 % service level).
    """
    requested = [f for f in facts if f.requested]
    answered = [f for f in requested if f.answered]
    waits = [f.wait_seconds for f in answered if f.wait_seconds is not None]
    offered = sum(1 for f in facts if f.offered_at is not None)
    abandoned = sum(1 for f in requested if f.abandoned)
    return _kpis(offered, len(requested), len(answered), abandoned, waits, threshold_seconds)


def _kpis(offered: int, requested: int, answered: int, abandoned: int, waits: Sequence[float], threshold: int) -> Kpis:
    """The KPIs of calls so counted, WAITS the waits of those answered that have one (summed in their order)."""
    if threshold <= 0:
        raise InvalidInput("接通时限必须为正整数秒", code="invalid-threshold")
    within = sum(1 for wait in waits if wait <= threshold)
    return Kpis(
        offered=offered,
        requested=requested,
        answered=answered,
        abandoned=abandoned,
        answered_within=within,
        threshold_seconds=threshold,
        connection_rate=answered / requested if requested else None,
        within_rate=within / answered if answered else None,
        average_wait_seconds=sum(waits) / len(waits) if waits else None,
    )


@dataclass(frozen=True)
class FactFlags:
    """What `compute_kpis` and `call_outcome` read of a call's facts, its wait aside. A busy day's calls have a few
    dozen different ones, so its figures count calls by them (`tally_kpis`, `tally_lines`), not one by one."""

    offered: bool
    requested: bool
    answered: bool
    abandoned: bool
    transferred: bool


def flags_of(facts: CallFacts) -> FactFlags:
    return FactFlags(facts.offered_at is not None, facts.requested, facts.answered, facts.abandoned, facts.transferred)


def call_flags(kinds: Collection[CallEventType]) -> FactFlags:
    """The flags of the facts `call_facts` makes of a call's events, from the KINDS of event it has alone: the
    store keeps one event of each kind per call, and none of the flags depends on the times."""
    answered = CallEventType.ANSWERED in kinds
    return FactFlags(
        offered=CallEventType.OFFERED in kinds,
        requested=answered or CallEventType.QUEUED in kinds,
        answered=answered,
        abandoned=CallEventType.ABANDONED in kinds and not answered,
        transferred=CallEventType.TRANSFERRED in kinds,
    )


def tally_kpis(counted: Iterable[tuple[FactFlags, int]], waits: Sequence[float], threshold_seconds: int = 15) -> Kpis:
    """`compute_kpis` of calls counted by their flags (COUNTED: each flags and how many calls have them), WAITS the
    `wait_seconds` of those answered that have one, in the order `compute_kpis` would meet them (a sum of floats
    depends on its order: the figures are to be the same to the last digit)."""
    offered = requested = answered = abandoned = 0
    for flags, calls in counted:
        offered += calls if flags.offered else 0
        if flags.requested:
            requested += calls
            answered += calls if flags.answered else 0
            abandoned += calls if flags.abandoned else 0
    return _kpis(offered, requested, answered, abandoned, waits, threshold_seconds)


@dataclass(frozen=True)
class LineCalls:
    """A day's calls to one number dialed (话务记录's 按拨打号码): how many, where the routing sent them (count per
    `routing.domain.Action` value), what became of them (count per `CallOutcome` value) and its KPIs. While lines
    merge this is what a supervisor watches: callers still dialing an old number, and whether they got through."""

    dialed: str
    calls: int
    routed: Mapping[str, int]
    outcomes: Mapping[str, int]
    kpis: Kpis


def calls_by_line(calls: Iterable[tuple[str, str, CallFacts | None]], threshold_seconds: int = 15) -> list[LineCalls]:
    """CALLS as (number dialed, routing decision, facts or None when nothing was reported), grouped by number
    dialed, busiest first (then by number)."""
    counted: Counter[tuple[str, str, FactFlags | None]] = Counter()
    waits: dict[str, list[float]] = {}
    for dialed, decision, facts in calls:
        counted[dialed, decision, None if facts is None else flags_of(facts)] += 1
        if facts is not None and facts.requested and facts.answered and facts.wait_seconds is not None:
            waits.setdefault(dialed, []).append(facts.wait_seconds)
    return tally_lines(((*key, calls) for key, calls in counted.items()), waits, threshold_seconds)


def tally_lines(
    counted: Iterable[tuple[str, str, FactFlags | None, int]],
    waits: Mapping[str, Sequence[float]],
    threshold_seconds: int = 15,
) -> list[LineCalls]:
    """`calls_by_line` of calls counted by number dialed, routing decision and flags (None: nothing reported):
    COUNTED gives how many calls have each, WAITS each number's waits as `tally_kpis` takes them."""
    grouped: dict[str, list[tuple[str, FactFlags | None, int]]] = {}
    for dialed, decision, flags, calls in counted:
        grouped.setdefault(dialed, []).append((decision, flags, calls))
    lines = []
    for dialed, items in grouped.items():
        routed: dict[str, int] = {}
        outcomes: dict[str, int] = {}
        for decision, flags, calls in items:
            routed[decision] = routed.get(decision, 0) + calls
            outcome = call_outcome(flags, decision).value
            outcomes[outcome] = outcomes.get(outcome, 0) + calls
        reported = [(flags, calls) for _, flags, calls in items if flags is not None]
        kpis = tally_kpis(reported, waits.get(dialed, ()), threshold_seconds)
        lines.append(LineCalls(dialed, sum(calls for _, _, calls in items), routed, outcomes, kpis))
    return sorted(lines, key=lambda line: (-line.calls, line.dialed))


# ------------------------------------------------------------------------------------------------
# Transfers from 12345


class TransferKind(StrEnum):
    SUBCENTER = "subcenter"  # 三方转接 to a sub-centre
    POLICE = "police"  # 一键转接 110


POLICE_NUMBER = "110"


# ------------------------------------------------------------------------------------------------
# Missed calls and their callbacks (漏话回拨, 国办函〔2025〕66号: missed calls to 12345 are called back)

# A number one can call back: 7 (a local landline without its area code) to 20 digits, once a country prefix
# (+86, 0086) and separators are taken off. "anonymous", "unknown", "private"… (withheld or not passed on by the
# network) and an empty or all-zero caller are not numbers.
_CALLBACK_NUMBER = re.compile(r"[0-9]{7,20}")
_SEPARATORS = re.compile(r"[\s\-()]")


def callback_number(caller: str) -> str | None:
    """The number to call CALLER back on (13800001111, 02887654321), or None when it is not known: empty,
    anonymous or withheld. +86 138 0000 1111 and 13800001111 are the same caller."""
    number = _SEPARATORS.sub("", caller)
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    if not _CALLBACK_NUMBER.fullmatch(number) or not number.strip("0"):
        return None
    return number


def _first_times(events: Iterable[EventRecord]) -> dict[CallEventType, datetime]:
    """When each kind of event first happened: the store keeps one row per (call, event), and the earliest wins
    when a reporting system repeats itself."""
    at: dict[CallEventType, datetime] = {}
    for e in events:
        if e.event not in at or e.at < at[e.event]:
            at[e.event] = e.at
    return at


def missed_at(decision: str | None, events: Iterable[EventRecord], skill: str | None = None) -> datetime | None:
    """When a call became a missed call (漏话) that must be called back, or None if it is not one.

    Missed: the routing sent it to agents (`TO_AGENTS`), the caller asked for one (it was queued) and no agent took
    it (neither answered nor transferred): the caller hung up while queued (the instant of `abandoned`) or the call
    ended unanswered after queueing (of `ended`). Not missed: a call an agent answered; one never queued (the
    caller hung up during a notice; a refused number, a cancellation notice); one still waiting (no end yet); one
    for the 骚扰专席 (SKILL `nuisance`: a caller on the 骚扰号码名单, whom agents are not asked to call back)."""
    if decision not in TO_AGENTS or skill == NUISANCE_SKILL:
        return None
    at = _first_times(events)
    if CallEventType.QUEUED not in at or CallEventType.ANSWERED in at or CallEventType.TRANSFERRED in at:
        return None
    return at.get(CallEventType.ABANDONED) or at.get(CallEventType.ENDED)


def reached_at(events: Iterable[EventRecord]) -> datetime | None:
    """When the caller reached an agent on this call (answered; else the agent's transfer), or None."""
    at = _first_times(events)
    return at.get(CallEventType.ANSWERED) or at.get(CallEventType.TRANSFERRED)


def closes_by_call(last_missed_at: datetime, reached: datetime, *, same_call: bool) -> bool:
    """Whether a caller reaching an agent at REACHED closes the open callback task whose latest missed call was
    at LAST_MISSED_AT (已再次来电接通): a call answered after the missed ones, or one of them answered after all
    (its events reported out of order). An answer between two missed calls leaves the later one to call back."""
    return same_call or reached >= last_missed_at


class CallbackState(StrEnum):
    OPEN = "open"
    REACHED = "reached"
    CALLED_AGAIN = "called-again"
    INVALID_NUMBER = "invalid-number"
    NOT_NEEDED = "not-needed"
    UNREACHABLE = "unreachable"


CALLBACK_STATE_LABELS = {
    CallbackState.OPEN: "待回拨",
    CallbackState.REACHED: "已回拨接通",
    CallbackState.CALLED_AGAIN: "已再次来电接通",
    CallbackState.INVALID_NUMBER: "号码无效",
    CallbackState.NOT_NEEDED: "来电人表示无需办理",
    CallbackState.UNREACHABLE: "多次回拨未接通",
}


class CallbackOutcome(StrEnum):
    """What one callback attempt came to."""

    REACHED = "reached"
    NO_ANSWER = "no-answer"
    INVALID_NUMBER = "invalid-number"
    NOT_NEEDED = "not-needed"


CALLBACK_OUTCOME_LABELS = {
    CallbackOutcome.REACHED: "回拨接通",
    CallbackOutcome.NO_ANSWER: "未接通",
    CallbackOutcome.INVALID_NUMBER: "号码无效",
    CallbackOutcome.NOT_NEEDED: "来电人表示无需办理",
}


def parse_callback_outcome(text: str) -> CallbackOutcome:
    try:
        return CallbackOutcome(text.strip())
    except ValueError as exc:
        names = "、".join(f"{o.value}（{label}）" for o, label in CALLBACK_OUTCOME_LABELS.items())
        raise InvalidInput(f"回拨结果不正确：{text!r}（可用：{names}）", code="invalid-callback-outcome") from exc


def after_attempt(outcome: CallbackOutcome, no_answers: int, max_attempts: int) -> CallbackState:
    """A task's state once an attempt with OUTCOME is recorded; NO_ANSWERS counts its 未接通 attempts, this one
    included. 回拨接通, 号码无效 and 无需办理 close it; 未接通 leaves it open to try again, until the MAX_ATTEMPTS-th
    closes it as 多次回拨未接通."""
    if outcome is CallbackOutcome.NO_ANSWER:
        return CallbackState.UNREACHABLE if no_answers >= max_attempts else CallbackState.OPEN
    return {
        CallbackOutcome.REACHED: CallbackState.REACHED,
        CallbackOutcome.INVALID_NUMBER: CallbackState.INVALID_NUMBER,
        CallbackOutcome.NOT_NEEDED: CallbackState.NOT_NEEDED,
    }[outcome]


def callback_late(
    due_at: datetime, first_attempt_at: datetime | None, closed_at: datetime | None, at: datetime
) -> bool:
    """超时: nothing was done before the deadline: the first attempt came after it, or (none) the task closed after
    it, or (still open, none) it has passed at AT. A first attempt in time (even 未接通) meets the deadline."""
    return (first_attempt_at or closed_at or at) > due_at


@dataclass(frozen=True)
class CallbackFacts:
    """What the callback KPIs need to know about one callback task."""

    state: CallbackState
    due_at: datetime
    first_attempt_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class CallbackKpis:
    """回拨率 = tasks called back (at least one attempt) or closed by the caller reaching an agent on a later call /
    tasks. 及时回拨率 = tasks first called back within the deadline / tasks judged: those called back, and those
    whose deadline passed without an attempt, except the ones the caller closed by reaching an agent before it
    (no callback was owed them in time); a task still open within its deadline without an attempt is not judged
    yet. Each rate is None when its denominator is empty."""

    tasks: int
    called_back: int
    judged: int
    timely: int

    @property
    def callback_rate(self) -> float | None:
        return self.called_back / self.tasks if self.tasks else None

    @property
    def timely_rate(self) -> float | None:
        return self.timely / self.judged if self.judged else None

    def to_dict(self) -> dict[str, object]:
        return {
            "tasks": self.tasks,
            "called_back": self.called_back,
            "callback_rate": self.callback_rate,
            "judged": self.judged,
            "timely": self.timely,
            "timely_rate": self.timely_rate,
        }


def callback_kpis(facts: Iterable[CallbackFacts], at: datetime) -> CallbackKpis:
    """The callback KPIs (`CallbackKpis`) of FACTS as they stand at AT."""
    tasks = called_back = judged = timely = 0
    for f in facts:
        tasks += 1
        if f.first_attempt_at is not None or f.state is CallbackState.CALLED_AGAIN:
            called_back += 1
        if f.first_attempt_at is not None:
            judged += 1
            timely += f.first_attempt_at <= f.due_at
        elif f.state is CallbackState.CALLED_AGAIN and f.closed_at is not None and f.closed_at <= f.due_at:
            continue
        elif at > f.due_at:
            judged += 1
    return CallbackKpis(tasks, called_back, judged, timely)
