"""工单导出: the orders a role may see, with the list's filters and a period of 受理 (China dates), as one .xlsx
sheet, for the reports every 12345 centre hands to its leaders and to units.

- A row is what the 工单 page shows that role (`service.order_view`): callers' names and phones masked the same
  way, and a handling unit gets only the orders of its own unit (`service.filtered_orders`).
- Streamed: the orders are read in batches and written by openpyxl's write-only workbook, so memory stays flat;
  at most MAX_ROWS rows, more is refused (`export-too-large`) and nothing is recorded.
- Citizens' text stays text: a cell starting with = + - @ (or a tab, a carriage return) is written as a string
  marked with Excel's quote prefix, so neither opening nor editing it makes it a formula (`=HYPERLINK(…)`).
- Every export is recorded in the accounts' audit trail (`exported`): who, how many orders, which filters (a
  caller's number among them masked, 138****1234).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from hotline import workbooks
from hotline.accounts.service import record_export
from hotline.errors import InvalidInput
from hotline.plan.regions import find_region, region_name
from hotline.privacy import mask_phone
from hotline.timeutil import china, now
from hotline.workbooks import cell, excel_time
from hotline.workorders import domain as d
from hotline.workorders import service
from hotline.workorders.store import Order, Unit

MAX_ROWS = 100_000
_BATCH = 500
SHEET = "工单"
HEADER_ROW = workbooks.HEADER_ROW

# (header, width in characters, field of the order's view or a name `_row` fills in)
COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("工单编号", 22, "number"),
    ("主办/协办", 9, "co_handling"),
    ("主办工单", 22, "parent"),
    ("受理时间", 19, "created_at"),
    ("渠道", 8, "channel_label"),
    ("诉求类型", 9, "type"),
    ("分类", 30, "category"),
    ("地区", 12, "region"),
    ("来电人", 10, "caller_name"),
    ("联系电话", 14, "caller_phone"),
    ("是否保密", 8, "confidential"),
    ("紧急程度", 8, "urgency_label"),
    ("诉求内容", 50, "content"),
    ("诉求地点", 20, "place"),
    ("承办单位", 26, "lead_unit"),
    ("协办单位", 26, "co_units"),
    ("状态", 16, "state_label"),
    ("办理期限", 12, "effective_due"),
    ("时限状态", 9, "sla_label"),
    ("办结时间", 19, "resolved_at"),
    ("回访时限", 12, "visit_due"),
    ("答复内容", 40, "reply"),
    ("满意度", 9, "satisfaction"),
    ("是否解决", 8, "citizen_resolved"),
    ("催办次数", 8, "urge_count"),
    ("督办次数", 8, "supervise_count"),
    ("退单次数", 8, "return_count"),
)


@dataclass(frozen=True)
class Exporter:
    """Who exports: `login` goes to the audit trail, `name` to the sheet's title (`姓名（登录名）`)."""

    login: str
    name: str
    address: str | None = None  # the client's address, over HTTP


@dataclass(frozen=True)
class Exported:
    count: int
    filename: str  # 工单导出_20261129.xlsx (the China day of the export)
    ascii_filename: str  # orders_20261129.xlsx, for clients that cannot read filename*
    filters: str  # in Chinese, as the title and the audit trail say them


def export_orders(
    session: Session,
    out: Path | IO[bytes],
    *,
    role: str,
    filters: service.OrderFilters,
    exporter: Exporter,
    at: datetime | None = None,
    limit: int | None = None,
) -> Exported:
    """Write the orders ROLE may see under FILTERS to OUT (.xlsx) and record the export in the audit trail.

    Raises the list's errors for bad filters, and `export-too-large` above LIMIT (MAX_ROWS) orders; nothing is
    recorded then.
    """
    limit = MAX_ROWS if limit is None else limit
    when = at or now()
    day = china(when).date()
    query, wanted = service.filtered_orders(session, filters, role=role, today=day)
    said = describe(session, filters)
    if wanted is None:  # the SLA state is known only order by order: counted while writing
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        if total > limit:
            raise _too_large(limit, total)
    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = book.create_sheet(SHEET)
    try:
        workbooks.head(sheet, [(h, w) for h, w, _ in COLUMNS], f"工单导出：{said}", _made(role, exporter, when))
        count = _write(session, sheet, query, wanted, role, day, limit)
        book.save(out)
    except BaseException:
        _discard(sheet)
        raise
    role_label = d.ROLE_LABELS[d.Role(role)]
    record_export(
        session, exporter.login, f"工单 {count} 张（{role_label}）；{said}", address=exporter.address, at=when
    )
    stamp = china(when).strftime("%Y%m%d")
    return Exported(count, f"工单导出_{stamp}.xlsx", f"orders_{stamp}.xlsx", said)


def describe(session: Session, filters: service.OrderFilters) -> str:
    """The filters in Chinese: 受理时间 2021-06-01 至 2021-06-30；时限状态：超期；地区：成都市 …"""
    parts: list[str] = []
    if filters.since and filters.until:
        parts.append(f"受理时间 {filters.since.isoformat()} 至 {filters.until.isoformat()}")
    elif filters.since:
        parts.append(f"受理时间 {filters.since.isoformat()} 起")
    elif filters.until:
        parts.append(f"受理时间至 {filters.until.isoformat()}")
    f = filters
    named = (
        ("状态", f.state and d.STATE_LABELS[d.State(f.state)]),
        ("时限状态", f.sla and d.SLA_LABELS[d.Sla(f.sla)]),
        ("承办单位", f.unit and service.get_unit(session, f.unit).name),
        ("地区", f.region and find_region(f.region).name),
        ("诉求类型", f.type),
        ("分类", f.category and service.normalize_category(f.category)),
        ("渠道", f.channel and d.CHANNEL_LABELS[d.Channel(f.channel)]),
        # Masked: the title and the audit trail say whose orders were taken, never the whole number.
        ("来电号码", f.phone and mask_phone(service.check_phone(f.phone))),
        ("关键词", f.words),
    )
    parts += [f"{label}：{value}" for label, value in named if value]
    return "；".join(parts) if parts else "全部工单"


def _too_large(limit: int, total: int | None) -> InvalidInput:
    found = f"符合条件的工单有 {total} 张" if total is not None else f"符合条件的工单超过 {limit} 张"
    return InvalidInput(
        f"{found}，一次最多导出 {limit} 张，请缩小受理时间范围或增加筛选条件",
        code="export-too-large",
        limit=limit,
        count=total,
    )


def _write(
    session: Session,
    sheet: WriteOnlyWorksheet,
    query: Select[Order],
    wanted: d.Sla | None,
    role: str,
    day: date,
    limit: int,
) -> int:
    count = 0
    rows = session.scalars(
        query.options(selectinload(Order.parent))
        .order_by(Order.created_at, Order.number)
        .execution_options(yield_per=_BATCH)
    )
    for batch in rows.partitions():
        co_units = _co_units(session, [o.id for o in batch if o.child_count])
        for order in batch:
            if not service.matches_sla(session, order, wanted, day):
                continue
            if count >= limit:
                raise _too_large(limit, None)
            view = service.order_view(session, order, role, today=day)
            sheet.append(_row(sheet, view, co_units.get(order.id, ())))
            count += 1
    workbooks.filter_rows(sheet, len(COLUMNS), count)
    sheet.append([])
    sheet.append([f"共 {count} 张工单"])
    return count


def _made(role: str, exporter: Exporter, when: datetime) -> str:
    """The line under the title: who exported, as which role, when."""
    stamp = china(when).strftime("%Y-%m-%d %H:%M")
    role_label = d.ROLE_LABELS[d.Role(role)]
    return f"导出人：{exporter.name}；查看角色：{role_label}（来电人信息按该角色的权限显示）；导出时间：{stamp}（北京时间）"


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """Rows written before a failure (callers' data) are not left in openpyxl's temporary file, which it would
    remove only when the process ends."""
    writer = sheet._writer
    if writer is None or writer.out not in ALL_TEMP_FILES:
        return
    with suppress(Exception):  # whatever broke the writing may break closing it too
        if not sheet.closed:
            sheet.close()
    ALL_TEMP_FILES.remove(writer.out)
    Path(writer.out).unlink(missing_ok=True)


def _co_units(session: Session, lead_ids: Sequence[int]) -> dict[int, list[str]]:
    """The units co-handling each of LEAD_IDS (协办单位), one query per batch."""
    if not lead_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(Order.parent_id, Unit.name)
        .join(Unit, Order.lead_unit_id == Unit.id)
        .where(Order.parent_id.in_(lead_ids))
        .order_by(Order.number)
    )
    for parent_id, name in rows:
        if parent_id is not None:
            found.setdefault(parent_id, []).append(name)
    return found


def _row(sheet: WriteOnlyWorksheet, view: dict[str, Any], co_units: Sequence[str]) -> list[Any]:
    values: dict[str, Any] = {
        **view,
        "co_handling": "协办" if view["parent"] else "主办",
        "created_at": excel_time(view["created_at"]),
        "resolved_at": excel_time(view["resolved_at"]),
        "effective_due": date.fromisoformat(view["effective_due"]),
        "visit_due": date.fromisoformat(view["visit_due"]) if view["visit_due"] else "",
        "region": region_name(view["region_code"]),
        "confidential": "是" if view["confidential"] else "否",
        "lead_unit": view["lead_unit"]["name"] if view["lead_unit"] else "",
        "co_units": "、".join(co_units),
        "satisfaction": d.SATISFACTION_LABELS[d.Satisfaction(view["satisfaction"])] if view["satisfaction"] else "",
        "citizen_resolved": {True: "是", False: "否", None: ""}[view["citizen_resolved"]],
    }
    return [cell(sheet, values[field]) for _, _, field in COLUMNS]
