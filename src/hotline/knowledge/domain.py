"""Knowledge-base rules in plain Python: article statuses, allowed transitions, validation, change sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from hotline.errors import InvalidInput


class Status(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


STATUS_LABELS = {
    Status.DRAFT: "草稿",
    Status.REVIEW: "待审核",
    Status.PUBLISHED: "已发布",
    Status.WITHDRAWN: "已撤回",
    Status.EXPIRED: "已过期",
}

# Allowed lifecycle moves. A withdrawn or expired article can be reworked as a draft and published again.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.REVIEW, Status.WITHDRAWN}),
    Status.REVIEW: frozenset({Status.DRAFT, Status.PUBLISHED, Status.WITHDRAWN}),
    Status.PUBLISHED: frozenset({Status.WITHDRAWN, Status.EXPIRED, Status.REVIEW}),
    Status.WITHDRAWN: frozenset({Status.DRAFT}),
    Status.EXPIRED: frozenset({Status.DRAFT}),
}


class FlagKind(StrEnum):
    USEFUL = "useful"
    OUTDATED = "outdated"


class Resolution(StrEnum):
    CONFIRMED = "confirmed"  # still correct as it stands
    UPDATED = "updated"  # the owner edited the article
    WITHDRAWN = "withdrawn"  # the owner withdrew it


FLAG_LABELS = {FlagKind.USEFUL: "有用", FlagKind.OUTDATED: "纠错"}
RESOLUTION_LABELS = {
    Resolution.CONFIRMED: "确认无误",
    Resolution.UPDATED: "已更新知识",
    Resolution.WITHDRAWN: "撤回知识",
}


# Working days the owning unit has to review an article flagged as outdated (an administrator may change it).
REVIEW_WORKDAYS = 3

CONTENT_FIELDS = (
    "title",
    "body",
    "category",
    "owner_unit",
    "lines",
    "regions",
    "keywords",
    "effective_from",
    "expires_on",
)

FIELD_LABELS = {
    "title": "标题",
    "body": "正文",
    "category": "分类",
    "owner_unit": "责任单位",
    "lines": "适用热线",
    "regions": "适用地区",
    "keywords": "关键词",
    "effective_from": "生效日期",
    "expires_on": "失效日期",
    "status": "状态",
}


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise InvalidInput(
            f"知识状态不正确：{value!r}（可选 {', '.join(s.value for s in Status)}）", code="invalid-status"
        ) from None


def check_transition(current: str, target: str) -> Status:
    src, dst = parse_status(current), parse_status(target)
    if dst not in TRANSITIONS[src]:
        from hotline.errors import Conflict

        raise Conflict(f"知识状态不能从“{STATUS_LABELS[src]}”变为“{STATUS_LABELS[dst]}”", code="transition-not-allowed")
    return dst


def split_list(value: str | Iterable[str] | None) -> list[str]:
    """Lists arrive as lists or as text separated by commas, semicolons, 、 or whitespace."""
    if value is None:
        return []
    if isinstance(value, str):
        for sep in "，,；;、|\n\t":
            value = value.replace(sep, " ")
        items: Iterable[str] = value.split(" ")
    else:
        items = value
    out: list[str] = []
    for item in items:
        item = str(item).strip()
        if item and item not in out:
            out.append(item)
    return out


@dataclass
class ArticleInput:
    """Validated content of an article (what an author or an import supplies)."""

    title: str = ""
    body: str = ""
    category: str = ""
    owner_unit: str = ""
    lines: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    effective_from: date | None = None
    expires_on: date | None = None

    def validate(self) -> ArticleInput:
        self.title = self.title.strip()
        if not self.body.strip() and not self.title:
            raise InvalidInput("知识正文不能为空", code="article-empty")
        if len(self.title) > 300:
            raise InvalidInput("标题不能超过 300 个字", code="title-too-long")
        if self.effective_from and self.expires_on and self.expires_on < self.effective_from:
            raise InvalidInput("失效日期不能早于生效日期", code="invalid-validity")
        for name in ("category", "owner_unit"):
            if len(getattr(self, name)) > 100:
                raise InvalidInput(f"{FIELD_LABELS[name]}不能超过 100 个字", code="field-too-long")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [name for name in (*CONTENT_FIELDS, "status") if name in new and old.get(name) != new[name]]


def is_valid_on(effective_from: date | None, expires_on: date | None, day: date) -> bool:
    return (effective_from is None or effective_from <= day) and (expires_on is None or day <= expires_on)
