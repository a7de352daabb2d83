"""Times are timezone-aware, China time at the edges, UTC in the store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hotline.errors import InvalidInput

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)


MIN_YEAR, MAX_YEAR = 1900, 2999  # the instants parse_instant takes


def parse_instant(text: str) -> datetime:
    """ISO 8601 date or date-time; a value without an offset is China time. A bare date means 00:00."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            value = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"时间格式不正确：{text!r}（应为 ISO 8601，如 2021-06-01T09:30）", code="invalid-time"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TZ)
    # Stored as UTC and moved by days and hours afterwards: year 1 or 9999 would overflow there (a 500), not here.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidInput(f"时间超出范围：{text!r}（年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间）", code="invalid-time")
    return value


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"日期格式不正确：{text!r}（应为 YYYY-MM-DD）", code="invalid-date") from exc


def china(dt: datetime) -> datetime:
    """The same instant in China time (naive values are taken to be UTC, as stored)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(CHINA_TZ)


def china_day(dt: datetime) -> date:
    return china(dt).date()


def to_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CHINA_TZ)
    return dt.astimezone(UTC)
