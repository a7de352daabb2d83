"""The rules of 短信通知 (pure): who gets no text and why, the quiet hours, what a gateway's answer means, the
back-off, and texts that hold the order number and never the citizen's name or demand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hotline.sms import domain as d
from hotline.timeutil import CHINA_TZ


def china(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("12812345678", None),  # 1 then 2: no mobile network
        ("1381234567", None),
        ("02885123456", None),
        ("", None),
    ],
)
def test_only_mainland_mobile_numbers_are_texted(phone: str, mobile: str | None) -> None:
    assert d.mobile_number(phone) == mobile


BASE = {"phone": "13812345678", "order_type": "咨询", "confidential": False, "channel": "phone", "declined": False}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"order_type": "举报"}, d.SkipReason.REPORT),
        ({"confidential": True}, d.SkipReason.CONFIDENTIAL),
        ({"channel": "app"}, d.SkipReason.OPEN311),
        ({"declined": True}, d.SkipReason.DECLINED),
        ({"phone": "028-85123456"}, d.SkipReason.NOT_MOBILE),
        ({"channel": "web"}, None),
    ],
)
def test_who_gets_no_text(change: dict[str, object], reason: d.SkipReason | None) -> None:
    assert d.eligible(**{**BASE, **change}) == reason  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("at", "goes"),
    [
        (china(8, 0), china(8, 0)),
        (china(12, 30), china(12, 30)),
        (china(20, 59), china(20, 59)),
        (china(21, 0), china(8, 0, day=2)),
        (china(23, 45), china(8, 0, day=2)),
        (china(0, 10), china(8, 0)),
        (china(7, 59), china(8, 0)),
    ],
)
def test_quiet_hours_hold_a_text_until_eight(at: datetime, goes: datetime) -> None:
    assert d.send_after(at) == goes


def test_texts_hold_the_number_and_the_due_date_never_a_name_or_demand() -> None:
    receipt = d.text(d.MessageKind.RECEIPT, "51010020260601000001", due=date(2026, 6, 15))
    assert receipt.startswith("【12345】") and "51010020260601000001" in receipt and "6月15日前答复" in receipt
    assert "后四位" in receipt
    resolved = d.text(d.MessageKind.RESOLVED, "51010020260601000001", track_url="https://12345.example.cn/track")
    assert "已办结" in resolved and "https://12345.example.cn/track" in resolved


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, d.Outcome.SENT),
        (202, d.Outcome.SENT),
        (400, d.Outcome.REFUSED),
        (401, d.Outcome.REFUSED),
        (408, d.Outcome.UNREACHED),
        (429, d.Outcome.UNREACHED),
        (500, d.Outcome.UNREACHED),
        (503, d.Outcome.UNREACHED),
        (None, d.Outcome.UNREACHED),
    ],
)
def test_what_a_gateway_answer_means(status: int | None, result: d.Outcome) -> None:
    assert d.outcome(status) == result


def test_back_off_grows_and_stops_at_the_attempts_allowed() -> None:
    delays = [d.retry_delay(n) for n in range(1, 8)]
    assert delays == sorted(delays) and delays[0] == timedelta(minutes=1) and delays[-1] == d.MAX_DELAY
    at = china(10)
    assert d.after_attempt(d.Outcome.UNREACHED, 1, at, max_attempts=3) == d.Next(
        d.MessageState.PENDING, at + timedelta(minutes=1)
    )
    assert d.after_attempt(d.Outcome.UNREACHED, 3, at, max_attempts=3).state is d.MessageState.FAILED
    assert d.after_attempt(d.Outcome.REFUSED, 1, at).state is d.MessageState.FAILED
    assert d.after_attempt(d.Outcome.SENT, 2, at) == d.Next(d.MessageState.SENT, None)
    # A retry falling in the quiet hours waits for the morning too.
    late = d.after_attempt(d.Outcome.UNREACHED, 2, china(20, 58))
    assert late.next_try_at == china(8, 0, day=2)


# -- 短信回访 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "rating"),
    [
        ("1", "satisfied"), ("１", "satisfied"), (" 1。", "satisfied"), ("满意", "satisfied"), ("满意！", "satisfied"),
        ("2", "basic"), ("基本 满意", "basic"), ("3", "unsatisfied"), ("不满意", "unsatisfied"), ("３!", "unsatisfied"),
        ("4", None), ("12", None), ("非常满意", None), ("好", None), ("", None),
    ],
)  # fmt: skip
def test_a_reply_is_read_as_its_rating(reply: str, rating: str | None) -> None:
    found = d.parse_rating(reply)
    assert (found.value if found else None) == rating


def test_the_resolved_notice_asks_for_a_rating_only_when_told() -> None:
    asked = d.text(d.MessageKind.RESOLVED, "5101", asks_rating=True)
    assert asked.endswith("请评价办理结果：满意回复1，基本满意回复2，不满意回复3。") and "5101" in asked
    assert d.SURVEY_PROMPT not in d.text(d.MessageKind.RESOLVED, "5101")


@pytest.mark.parametrize(
    ("rating", "surveyed", "answered", "to_visit", "outcome"),
    [
        ("satisfied", True, False, True, "recorded"),
        ("basic", True, False, True, "recorded"),
        ("unsatisfied", True, False, True, "unsatisfied"),
        (None, True, False, True, "unrecognized"),
        ("satisfied", False, False, True, "no_survey"),
        (None, False, False, False, "no_survey"),
        ("satisfied", True, True, True, "already_answered"),
        ("satisfied", True, False, False, "already_visited"),
        ("unsatisfied", True, False, False, "already_visited"),
    ],
)
def test_what_a_reply_does(rating: str | None, surveyed: bool, answered: bool, to_visit: bool, outcome: str) -> None:
    from hotline.workorders.domain import Satisfaction

    found = d.reply_outcome(
        Satisfaction(rating) if rating else None, surveyed=surveyed, answered_before=answered, to_visit=to_visit
    )
    assert found.value == outcome and d.REPLY_OUTCOME_LABELS[found]
