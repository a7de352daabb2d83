"""Reading and writing article tables: CSV (UTF-8, with or without BOM; GB18030 accepted) and Excel.

Files are read by `hotline.tables.read_table` (python-calamine for .xlsx, .xls, .ods: title rows above the
header and an instructions sheet before the data are skipped) and written with openpyxl (.xlsx); dates may be
written 2024-03-01, 2024/3/1, 2024.3.1 or 2024年3月1日, or be Excel date cells.

Columns (Chinese header as exported; the English name is accepted on import too):

| 列 | English | content |
|---|---|---|
| 编号 | external_id | the article's id in the sending system (kept as external id) |
| 标题 | title | title (optional) |
| 正文 | body | Markdown text |
| 分类 | category | category |
| 责任单位 | owner_unit | owning unit (name or code) |
| 适用热线 | lines | hotline numbers, separated by 、 , ; or spaces |
| 适用地区 | regions | region codes or names, same separators |
| 关键词 | keywords | keywords, same separators |
| 生效日期 | effective_from | a date (YYYY-MM-DD, YYYY年M月D日, …) |
| 失效日期 | expires_on | a date |
| 状态 | status | exported only (草稿/待审核/已发布/已撤回/已过期) |
| 版本 | version | exported only |
| 更新时间 | updated_at | exported only (China time) |
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from hotline.errors import InvalidInput
from hotline.knowledge import domain
from hotline.knowledge.domain import ArticleInput
from hotline.tables import EXCEL_SUFFIXES as EXCEL_SUFFIXES
from hotline.tables import Row, column_key, parse_date, read_csv_bytes
from hotline.tables import Table as Table
from hotline.tables import read_table as read_table
from hotline.timeutil import china

COLUMNS: list[tuple[str, str]] = [
    ("编号", "external_id"),
    ("标题", "title"),
    ("正文", "body"),
    ("分类", "category"),
    ("责任单位", "owner_unit"),
    ("适用热线", "lines"),
    ("适用地区", "regions"),
    ("关键词", "keywords"),
    ("生效日期", "effective_from"),
    ("失效日期", "expires_on"),
    ("状态", "status"),
    ("版本", "version"),
    ("更新时间", "updated_at"),
]
_OPTIONAL = ("category", "owner_unit", "lines", "regions", "keywords", "effective_from", "expires_on")
MAX_ROWS = 1_000_000


def _find(header: Sequence[str], name: str) -> str | None:
    """The header that names field NAME (English or Chinese), if any."""
    chinese = {en: zh for zh, en in COLUMNS}[name]
    for h in header:
        if column_key(h) in (name, chinese):
            return h
    return None


def _date(value: str, row_no: int, label: str) -> date | None:
    if not value.strip():
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise InvalidInput(
            f"第 {row_no} 行{label}格式不正确：{value.strip()!r}（应为 YYYY-MM-DD 或 YYYY年M月D日）",
            code="invalid-date",
            row=row_no,
        ) from None


def records_from_rows(
    rows: Sequence[Row], *, id_column: str, body_column: str, title_column: str | None = None
) -> Iterator[tuple[str, ArticleInput]]:
    """(external id, validated content) for each row; a bad row stops the import with its row number."""
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"一次最多导入 {MAX_ROWS} 行", code="too-many-rows")
    header = rows.header if isinstance(rows, Table) else (list(rows[0].keys()) if rows else [])
    for name, label in ((id_column, "编号"), (body_column, "正文"), (title_column, "标题")):
        if name and rows and name not in header:
            raise InvalidInput(f"文件中没有{label}列“{name}”（现有列：{'、'.join(header)}）", code="missing-column")
    optional = {name: _find(header, name) for name in _OPTIONAL}
    numbers = rows.numbers if isinstance(rows, Table) else range(2, len(rows) + 2)  # else row 1 is the header
    for i, row in zip(numbers, rows, strict=True):
        external_id = row.get(id_column, "").strip()
        if not external_id:
            raise InvalidInput(f"第 {i} 行缺少编号", code="missing-id", row=i)
        fields: dict[str, Any] = {
            "title": row.get(title_column, "").strip() if title_column else "",
            "body": row.get(body_column, "").strip(),
        }
        for name, col in optional.items():
            raw = row.get(col, "") if col else ""
            if name in ("lines", "regions", "keywords"):
                fields[name] = domain.split_list(raw)
            elif name in ("effective_from", "expires_on"):
                fields[name] = _date(raw, i, "生效日期" if name == "effective_from" else "失效日期")
            else:
                fields[name] = raw.strip()
        try:
            data = ArticleInput(**fields).validate()
        except InvalidInput as exc:
            raise InvalidInput(f"第 {i} 行：{exc.message}", code=exc.code, row=i) from None
        yield external_id, data


def export_rows(articles: Sequence[dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = [[zh for zh, _ in COLUMNS]]
    for a in articles:
        row: list[Any] = []
        for _, name in COLUMNS:
            value = a.get(name)
            if name in ("lines", "regions", "keywords"):
                value = "、".join(value or [])
            elif name == "status":
                value = a.get("status_label", value)
            elif name == "updated_at" and value:
                value = china(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M:%S")
            row.append("" if value is None else value)
        rows.append(row)
    return rows


def write_table(path: Path, articles: Sequence[dict[str, Any]]) -> None:
    rows = export_rows(articles)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("知识库")
        for row in rows:
            sheet.append(row)
        book.save(path)
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(rows)
    else:
        raise InvalidInput(f"只能导出为 .csv 或 .xlsx，收到 {path.name}", code="unsupported-format")


def read_demo_rows() -> list[Row]:
    raw = resources.files("hotline.knowledge").joinpath("demo_articles.csv").read_bytes()
    return read_csv_bytes(raw)
