"""The records a feed sends, parsed and checked (Pydantic) into domain values; errors in Chinese.

One batch is all or nothing: `parse_batch` reports every bad record (its index, the field, what is wrong)
and keeps none, so a sender fixes its data and resends the batch without wondering what was kept.
Times without an offset are China time, as the platform reads every time (`timeutil.parse_instant`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from hotline.aggregation.domain import FeedCall, FeedOrder, Record
from hotline.errors import InvalidInput, NotFound
from hotline.plan.regions import find_region
from hotline.timeutil import CHINA_TZ

MAX_BATCH = 5000


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=CHINA_TZ) if value.tzinfo is None else value


Instant = Annotated[datetime, AfterValidator(_aware)]
RecordId = Annotated[str, Field(min_length=1, max_length=64)]
SATISFACTION = {"satisfied": "satisfied", "basic": "basic", "unsatisfied": "unsatisfied",
                "满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}  # fmt: skip


def _satisfaction(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in SATISFACTION:
        raise ValueError("应为 satisfied、basic、unsatisfied（满意、基本满意、不满意）之一")
    return SATISFACTION[value]


def _region(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return find_region(value).code
    except NotFound as exc:
        raise ValueError(f"未知地区 {value}") from exc


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: RecordId
    updated_at: Instant | None = None


class CallIn(_In):
    kind: Literal["call"]
    started_at: Instant
    requested: bool = True
    answered_at: Instant | None = None
    ended_at: Instant | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CallIn:
        if self.answered_at and self.answered_at < self.started_at:
            raise ValueError("接通时间早于呼入时间")
        if self.ended_at and self.ended_at < (self.answered_at or self.started_at):
            raise ValueError("结束时间早于呼入或接通时间")
        return self

    def value(self) -> FeedCall:
        latest = max(t for t in (self.started_at, self.answered_at, self.ended_at) if t is not None)
        return FeedCall(self.id, self.started_at, self.updated_at or latest, self.requested, self.answered_at,
                        self.ended_at)  # fmt: skip


class OrderIn(_In):
    kind: Literal["workorder"]
    created_at: Instant
    due: date
    region: Annotated[str | None, AfterValidator(_region)] = None
    category: Annotated[str | None, Field(max_length=100)] = None
    demand_type: Annotated[str | None, Field(max_length=20)] = None
    dispatched: bool = False
    accept_due: date | None = None
    accepted_at: Instant | None = None
    resolved_at: Instant | None = None
    direct: bool = False
    returned: bool = False
    reopened: bool = False
    satisfaction: Annotated[str | None, AfterValidator(_satisfaction)] = None
    citizen_resolved: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OrderIn:
        created_day = self.created_at.astimezone(CHINA_TZ).date()
        if self.due < created_day:
            raise ValueError("办理期限早于受理日期")
        for name in ("accepted_at", "resolved_at"):
            moment = getattr(self, name)
            if moment is not None and moment < self.created_at:
                raise ValueError(f"{FIELD_LABELS[name]}早于受理时间")
        if self.direct and self.resolved_at is None:
            raise ValueError("直接办结的工单须有办结时间（resolved_at）")
        if self.satisfaction is not None and self.resolved_at is None:
            raise ValueError("未办结的工单不能有回访结果")
        return self

    def value(self) -> FeedOrder:
        moments = (self.created_at, self.accepted_at, self.resolved_at)
        latest = max(t for t in moments if t is not None)
        return FeedOrder(
            id=self.id,
            created_at=self.created_at,
            due=self.due,
            version=self.updated_at or latest,
            region_code=self.region,
            category=self.category or None,
            demand_type=self.demand_type or None,
            dispatched=self.dispatched,
            accept_due=self.accept_due,
            accepted_at=self.accepted_at,
            resolved_at=self.resolved_at,
            direct=self.direct,
            returned=self.returned,
            reopened=self.reopened,
            satisfaction=self.satisfaction,
            citizen_resolved=self.citizen_resolved,
        )


_RECORD: TypeAdapter[CallIn | OrderIn] = TypeAdapter(Annotated[CallIn | OrderIn, Field(discriminator="kind")])

FIELD_LABELS = {
    "id": "记录编号",
    "kind": "记录类型",
    "updated_at": "更新时间",
    "started_at": "呼入时间",
    "answered_at": "接通时间",
    "ended_at": "结束时间",
    "requested": "是否请求人工",
    "created_at": "受理时间",
    "due": "办理期限",
    "region": "地区",
    "category": "分类",
    "demand_type": "诉求类型",
    "dispatched": "是否派单",
    "accept_due": "签收期限",
    "accepted_at": "签收时间",
    "resolved_at": "办结时间",
    "direct": "是否直接办结",
    "returned": "是否退单",
    "reopened": "是否重办",
    "satisfaction": "回访结果",
    "citizen_resolved": "是否解决",
}
# Pydantic's error types, said in Chinese (the rest fall back to its English text).
_MESSAGES = {
    "missing": "缺少此字段",
    "union_tag_not_found": "缺少记录类型 kind（call 或 workorder）",
    "union_tag_invalid": "记录类型 kind 应为 call 或 workorder",
    "datetime_parsing": "时间格式不正确（应为 ISO 8601，如 2021-11-01T09:30:00+08:00）",
    "datetime_from_date_parsing": "时间格式不正确（应为 ISO 8601，如 2021-11-01T09:30:00+08:00）",
    "datetime_type": "应为时间（ISO 8601 字符串）",
    "date_parsing": "日期格式不正确（应为 YYYY-MM-DD）",
    "date_from_datetime_parsing": "日期格式不正确（应为 YYYY-MM-DD）",
    "date_from_datetime_inexact": "日期不应带时分秒",
    "date_type": "应为日期（YYYY-MM-DD）",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为字符串",
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "model_type": "每条记录应为一个 JSON 对象",
    "model_attributes_type": "每条记录应为一个 JSON 对象",
}


def _error(index: int, err: Mapping[str, Any]) -> dict[str, Any]:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("call", "workorder")]
    field = loc[0] if loc else None
    kind = str(err.get("type", ""))
    if kind == "value_error":
        message = str(err.get("ctx", {}).get("error", err.get("msg", "")))
    else:
        message = _MESSAGES.get(kind, str(err.get("msg", "")))
    if field:
        message = f"{FIELD_LABELS.get(field, field)}：{message}"
    return {"index": index, "field": field, "message": message}


def parse_batch(payload: Any, numbers: Sequence[int] | None = None) -> list[Record]:
    """PAYLOAD is `{"records": [...]}` or the list itself; every record valid, or InvalidInput listing all.

    NUMBERS, for records read from a file, are their row numbers there: errors then name rows ("第 5 行")."""
    rows = payload.get("records") if isinstance(payload, Mapping) else payload
    if not isinstance(rows, list):
        raise InvalidInput('数据应为 {"records": [...]} 或记录列表', code="feed-invalid")
    if len(rows) > MAX_BATCH:
        raise InvalidInput(f"一批最多 {MAX_BATCH} 条记录，本批 {len(rows)} 条，请分批发送", code="feed-batch-too-large")
    records: list[Record] = []
    errors: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        try:
            records.append(_RECORD.validate_python(row).value())
        except ValidationError as exc:
            errors.extend(_error(index, e) for e in exc.errors())
    if errors:
        first = errors[0]
        if numbers is not None:
            for error in errors:
                error["row"] = numbers[error["index"]]
        where = f"第 {first['row']} 行" if numbers is not None else f"第 {first['index'] + 1} 条记录"
        raise InvalidInput(
            f"{where}有误：{first['message']}（共 {len(errors)} 处错误，本批未保存）",
            code="feed-invalid",
            errors=errors,
        )
    return records
