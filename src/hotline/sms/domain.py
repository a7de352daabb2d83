"""短信通知 to citizens, as plain rules. Pure: no database, no network.

A 受理回执 (`RECEIPT`) when a demand is taken in, a 办结告知 (`RESOLVED`) when its answer can be read on /track (the
order enters 待回访: 直接办结, or 审核通过 of a unit's 办结). Who gets none (`eligible`): a number that is not a
mainland mobile, 举报 and confidential (保密) orders (a shared phone could expose the citizen), orders an Open311 app
sent (the app tells its own users), a citizen who declined at 受理, and a text the relay reads more than `MAX_AGE`
after its event (a legacy import, a relay stopped for days). The text holds the order number, the 回执's due date
and where to follow the order: never the citizen's name nor the demand's text.

短信回访: the 办结告知 of an order's own answer asks for a rating (`SURVEY_PROMPT`); the citizen's reply is read by
`parse_rating` and judged by `reply_outcome` (满意/基本满意 recorded as the order's 回访, 不满意 left to an agent's
phone 回访).

Texts falling due in the quiet hours (21:00–08:00 China time) wait until 08:00 (`send_after`); a gateway's refusal
(4xx) fails a text at once, its outage (5xx, timeout) is retried with back-off up to the attempts allowed
(`after_attempt`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from hotline.timeutil import CHINA_TZ, china
from hotline.workorders.domain import SATISFACTION_LABELS, Satisfaction


class MessageKind(StrEnum):
    RECEIPT = "receipt"
    RESOLVED = "resolved"


class MessageState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class SkipReason(StrEnum):
    DECLINED = "declined"
    NOT_MOBILE = "not_mobile"
    REPORT = "report"
    CONFIDENTIAL = "confidential"
    OPEN311 = "open311"
    ANSWERED = "answered"  # a 受理回执 not yet sent when the order was answered at once (直接办结)
    STALE = "stale"


KIND_LABELS = {MessageKind.RECEIPT: "受理回执", MessageKind.RESOLVED: "办结告知"}
STATE_LABELS = {
    MessageState.PENDING: "待发送",
    MessageState.SENT: "已发送",
    MessageState.FAILED: "发送失败",
    MessageState.SKIPPED: "不发送",
}
SKIP_LABELS = {
    SkipReason.DECLINED: "市民不需要短信",
    SkipReason.NOT_MOBILE: "来电号码不是手机号码",
    SkipReason.REPORT: "举报工单不发短信",
    SkipReason.CONFIDENTIAL: "保密工单不发短信",
    SkipReason.OPEN311: "移动端应用受理的工单由应用自行通知",
    SkipReason.ANSWERED: "已直接办结，只发办结告知",
    SkipReason.STALE: "事件已超过 24 小时，不再发送",
}

# Event (history action) -> the text it makes. 办结告知 once the reply can be read on /track (待回访).
EVENT_KINDS = {
    "create": MessageKind.RECEIPT,
    "direct_resolve": MessageKind.RESOLVED,
    "review_pass": MessageKind.RESOLVED,
}
OPT_OUT = "sms"  # the key of the create entry's `changes` saying the citizen declined: {"sms": [None, False]}
MAX_AGE = timedelta(hours=24)
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
MAX_ATTEMPTS = 5
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)
SIGNATURE = "【12345】"

_MOBILE = re.compile(r"1[3-9]\d{9}")
_COUNTRY = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")


def mobile_number(phone: str) -> str | None:
    """The mainland mobile number PHONE is (1[3-9] and 9 digits; a +86, 0086 or 86 before it dropped), or None."""
    digits = _COUNTRY.sub("", (phone or "").strip())
    return digits if _MOBILE.fullmatch(digits) else None


def eligible(
    *, phone: str, order_type: str, confidential: bool, channel: str, declined: bool
) -> SkipReason | None:  # fmt: skip
    """Why an order's citizen gets no text (None: they get it). The order as it is when the relay reads the event."""
    if channel == "app":
        return SkipReason.OPEN311
    if order_type == "举报":
        return SkipReason.REPORT
    if confidential:
        return SkipReason.CONFIDENTIAL
    if declined:
        return SkipReason.DECLINED
    if mobile_number(phone) is None:
        return SkipReason.NOT_MOBILE
    return None


def stale(event_at: datetime, at: datetime) -> bool:
    return at - event_at > MAX_AGE


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def text(
    kind: MessageKind, number: str, *, due: date | None = None, track_url: str = "", asks_rating: bool = False
) -> str:
    """The message: the order number, the 回执's due date, where the order can be followed; a 办结告知 that
    ASKS_RATING ends with the survey's prompt (`SURVEY_PROMPT`)."""
    where = f"在 {track_url} " if track_url else "在12345网站“工单查询”"
    follow = f"可凭工单编号和来电号码后四位{where}查询，或拨打12345。"
    if kind is MessageKind.RECEIPT:
        promised = f"，承办单位将于{_day(due)}前答复" if due is not None else ""
        return f"{SIGNATURE}您反映的诉求已受理，工单编号{number}{promised}。办理进度{follow}"
    prompt = SURVEY_PROMPT if asks_rating else ""
    return f"{SIGNATURE}您反映的诉求（工单编号{number}）已办结，办理结果{follow}{prompt}"


def send_after(at: datetime) -> datetime:
    """When a text falling due at AT may go: AT, or 08:00 China time when AT is in the quiet hours."""
    local = china(at)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return at
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=CHINA_TZ)


def retry_delay(attempts: int) -> timedelta:
    """How long after its ATTEMPTS-th failed try a text is tried again: 1, 4, 16, 64 minutes …, at most 2 hours."""
    return min(FIRST_DELAY * 4 ** max(attempts - 1, 0), MAX_DELAY)


class Outcome(StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # the gateway will never take it: failed at once
    UNREACHED = "unreached"  # the gateway could not take it now: tried again


def outcome(status: int | None) -> Outcome:
    """What a gateway's HTTP STATUS (None: no answer, a timeout or a refused connection) means for the text."""
    if status is None or status >= 500 or status in (408, 429):
        return Outcome.UNREACHED
    if 200 <= status < 300:
        return Outcome.SENT
    return Outcome.REFUSED


@dataclass(frozen=True)
class Next:
    state: MessageState
    next_try_at: datetime | None


def after_attempt(result: Outcome, attempts: int, at: datetime, *, max_attempts: int = MAX_ATTEMPTS) -> Next:
    """The text's state after its ATTEMPTS-th try (counted) at AT ended with RESULT."""
    if result is Outcome.SENT:
        return Next(MessageState.SENT, None)
    if result is Outcome.REFUSED or attempts >= max_attempts:
        return Next(MessageState.FAILED, None)
    return Next(MessageState.PENDING, send_after(at + retry_delay(attempts)))


# -- 短信回访 ---------------------------------------------------------------------------------------------------------

SURVEY_PROMPT = "请评价办理结果：满意回复1，基本满意回复2，不满意回复3。"
SURVEY_HOURS = 72  # how long after the 办结告知 was sent a reply still answers it (HOTLINE_SMS_SURVEY_HOURS)
SURVEY_ACTOR = "短信回访"  # who the 回访 a reply records is, in the order's history
MAX_REPLY = 500  # characters of a reply kept

_RATINGS = {
    "1": Satisfaction.SATISFIED,
    "满意": Satisfaction.SATISFIED,
    "2": Satisfaction.BASIC,
    "基本满意": Satisfaction.BASIC,
    "3": Satisfaction.UNSATISFIED,
    "不满意": Satisfaction.UNSATISFIED,
}


def reply_token(text: str) -> str:
    """A reply as it is judged: NFKC (full-width digits become digits), spaces and punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text or "")
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "PZC")


def parse_rating(text: str) -> Satisfaction | None:
    """The rating a citizen's reply gives: 1/满意, 2/基本满意, 3/不满意; None for anything else."""
    return _RATINGS.get(reply_token(text))


class ReplyOutcome(StrEnum):
    RECORDED = "recorded"  # 满意/基本满意: recorded as the order's 回访
    UNSATISFIED = "unsatisfied"  # 不满意: kept; the order stays 待回访 for an agent's phone 回访
    UNRECOGNIZED = "unrecognized"  # not 1/2/3 nor the words
    NO_SURVEY = "no_survey"  # no 办结告知 asking for a rating sent to that number within the survey's hours
    ALREADY_VISITED = "already_visited"  # the order is no longer 待回访 (a phone 回访 came first)
    ALREADY_ANSWERED = "already_answered"  # that text already had a recognized reply: the first one wins


REPLY_OUTCOME_LABELS = {
    ReplyOutcome.RECORDED: "已记为回访",
    ReplyOutcome.UNSATISFIED: "不满意，转电话回访",
    ReplyOutcome.UNRECOGNIZED: "无法识别",
    ReplyOutcome.NO_SURVEY: "无待评价短信",
    ReplyOutcome.ALREADY_VISITED: "工单已回访",
    ReplyOutcome.ALREADY_ANSWERED: "已评价过",
}


def reply_outcome(
    rating: Satisfaction | None, *, surveyed: bool, answered_before: bool, to_visit: bool
) -> ReplyOutcome:  # fmt: skip
    """What a reply of RATING does. SURVEYED: a text asking for a rating was found for it (`Message.asks_rating`,
    sent to the number within the survey's hours); ANSWERED_BEFORE: that text already had a recognized reply;
    TO_VISIT: its order still waits for its 回访 (待回访)."""
    if not surveyed:
        return ReplyOutcome.NO_SURVEY
    if answered_before:
        return ReplyOutcome.ALREADY_ANSWERED
    if rating is None:
        return ReplyOutcome.UNRECOGNIZED
    if not to_visit:
        return ReplyOutcome.ALREADY_VISITED
    return ReplyOutcome.UNSATISFIED if rating is Satisfaction.UNSATISFIED else ReplyOutcome.RECORDED


def survey_reason(token: str, rating: Satisfaction) -> str:
    """The 回访's note in the order's history: 市民短信回复“1”（满意）."""
    return f"市民短信回复“{token}”（{SATISFACTION_LABELS[rating]}）"
