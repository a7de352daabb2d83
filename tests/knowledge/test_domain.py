"""Lifecycle and validation rules of knowledge articles (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.errors import Conflict, InvalidInput
from hotline.knowledge import domain
from hotline.knowledge.domain import ArticleInput, Status


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "review"),
        ("review", "published"),
        ("review", "draft"),
        ("published", "withdrawn"),
        ("published", "expired"),
        ("withdrawn", "draft"),
        ("expired", "draft"),
    ],
)
def test_allowed_transitions(current: str, target: str) -> None:
    assert domain.check_transition(current, target) == Status(target)


@pytest.mark.parametrize(
    ("current", "target"), [("draft", "published"), ("withdrawn", "published"), ("expired", "review")]
)
def test_forbidden_transitions(current: str, target: str) -> None:
    with pytest.raises(Conflict) as err:
        domain.check_transition(current, target)
    assert err.value.code == "transition-not-allowed"


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(InvalidInput) as err:
        domain.parse_status("archived")
    assert err.value.code == "invalid-status"


def test_split_list_accepts_chinese_and_ascii_separators() -> None:
    assert domain.split_list("12345、12333，12329; 12345") == ["12345", "12333", "12329"]
    assert domain.split_list(["a", " b ", "a", ""]) == ["a", "b"]
    assert domain.split_list(None) == []


def test_validation() -> None:
    with pytest.raises(InvalidInput) as err:
        ArticleInput(title=" ", body="  ").validate()
    assert err.value.code == "article-empty"
    with pytest.raises(InvalidInput) as err:
        ArticleInput(body="x", effective_from=date(2021, 5, 1), expires_on=date(2021, 4, 1)).validate()
    assert err.value.code == "invalid-validity"
    assert ArticleInput(title=" 标题 ", body="正文").validate().title == "标题"


def test_changed_fields_lists_only_real_changes() -> None:
    old = {"title": "a", "body": "b", "keywords": ["x"], "status": "draft"}
    assert domain.changed_fields(old, {"title": "a", "body": "c", "keywords": ["x"]}) == ["body"]
    assert domain.changed_fields(old, {"status": "review"}) == ["status"]


def test_validity_window() -> None:
    assert domain.is_valid_on(None, None, date(2021, 1, 1))
    assert domain.is_valid_on(date(2021, 1, 1), date(2021, 1, 31), date(2021, 1, 31))
    assert not domain.is_valid_on(date(2021, 1, 2), None, date(2021, 1, 1))
    assert not domain.is_valid_on(None, date(2020, 12, 31), date(2021, 1, 1))
