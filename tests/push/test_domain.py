"""The pure rules of push: which unit an event goes to, how the cursor moves past holes, subject tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.push.domain import HOLE_WAIT, MAX_HOLES, Cursor, advance, subject_token, target_unit

T0 = datetime(2021, 11, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "changes", "lead", "expected"),
    [
        ("dispatch", {"lead_unit": [None, "510100-zjj"]}, "510100-zjj", "510100-zjj"),
        ("redispatch", {"lead_unit": ["510100-zjj", "510100-rsj"]}, "510100-jyj", "510100-rsj"),  # moved since
        ("urge", {}, "510100-zjj", "510100-zjj"),
        ("supervise", {}, "510100-zjj", "510100-zjj"),
        ("review_reject", {"state": ["resolved", "handling"]}, "510100-zjj", "510100-zjj"),
        ("reopen", {}, "510100-zjj", "510100-zjj"),
        ("merge", {}, "510100-zjj", "510100-zjj"),
        ("urge", {}, None, None),  # not dispatched: no unit to tell
        ("dispatch", {}, "510100-zjj", None),  # a dispatch entry without its unit is not guessed
        ("accept", {}, "510100-zjj", None),  # the unit's own action
        ("create", {}, None, None),
        ("resolve", {}, "510100-zjj", None),
    ],
)
def test_the_unit_an_event_goes_to(action: str, changes: dict, lead: str | None, expected: str | None) -> None:
    assert target_unit(action, changes, lead) == expected


def test_the_cursor_moves_to_the_last_id_read() -> None:
    cursor = advance(Cursor(), [1, 2, 3], T0)
    assert cursor == Cursor(3, ())
    assert advance(cursor, [], T0) == cursor


def test_ids_skipped_are_holes_until_they_appear_or_time_out() -> None:
    cursor = advance(Cursor(3), [4, 7], T0)  # 5 and 6 not committed yet (or rolled back)
    assert cursor.last_id == 7 and cursor.holes == ((5, T0), (6, T0))
    later = T0 + timedelta(seconds=2)
    cursor = advance(cursor, [6, 8], later)  # 6 has appeared
    assert cursor.last_id == 8 and cursor.holes == ((5, T0),)
    assert advance(cursor, [], T0 + HOLE_WAIT - timedelta(seconds=1)).holes == ((5, T0),)
    assert advance(cursor, [], T0 + HOLE_WAIT).holes == ()  # given up: its transaction rolled back


def test_holes_are_bounded() -> None:
    cursor = advance(Cursor(), [MAX_HOLES + 10], T0)
    assert len(cursor.holes) == MAX_HOLES and cursor.holes[0][0] == 10  # the oldest ids are given up first


def test_the_cursor_survives_being_saved() -> None:
    cursor = advance(Cursor(3), [4, 7], T0)
    assert Cursor.from_dict(cursor.to_dict()) == cursor


def test_subject_tokens_keep_plain_codes_and_cannot_be_confused() -> None:
    assert subject_token("510100-zjj") == "510100-zjj"
    assert subject_token("510000-tax") == "510000-tax"
    tricky = ["a.b", "a*", "a>", "a b", "a~2e", "税务", "a.*"]
    tokens = [subject_token(code) for code in tricky]
    assert all(set(t) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_~") for t in tokens)
    assert len(set(tokens)) == len(tricky)  # no two codes share a subject
