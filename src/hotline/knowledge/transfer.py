"""Reading and writing article tables: CSV (UTF-8, with or without BOM; GB18030 accepted) and Excel (.xlsx).

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
| 生效日期 | effective_from | YYYY-MM-DD |
| 失效日期 | expires_on | YYYY-MM-DD |
| 状态 | status | exported only (草稿/待审核/已发布/已撤回/已过期) |
| 版本 | version | exported only |
| 更新时间 | updated_at | exported only (China time) |
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from hotline.errors import InvalidInput
from hotline.knowledge import domain
from hotline.knowledge.domain import ArticleInput
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

Row = dict[str, str]


def read_table(path: Path) -> list[Row]:
    """Rows of a .csv or .xlsx file as dicts of text keyed by the header row."""
    if not path.exists():
        raise InvalidInput(f"文件不存在：{path}", code="file-not-found")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return read_csv_bytes(path.read_bytes())
    raise InvalidInput(f"只支持 CSV 或 XLSX 文件，收到 {path.name}", code="unsupported-format")


def read_csv_bytes(raw: bytes) -> list[Row]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InvalidInput("无法识别文件编码，请保存为 UTF-8", code="bad-encoding")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise InvalidInput("文件没有表头", code="no-header")
    return [{k.strip(): (v or "") for k, v in row.items() if k is not None} for row in reader]


def _read_xlsx(path: Path) -> list[Row]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"无法读取 Excel 文件：{exc}", code="bad-xlsx") from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise InvalidInput("文件没有表头", code="no-header")
        names = [str(h).strip() if h is not None else "" for h in header]
        out: list[Row] = []
        for values in rows:
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            out.append({n: _cell_text(v) for n, v in zip(names, values, strict=False) if n})
        return out
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _find(header: Sequence[str], name: str) -> str | None:
    """The header that names field NAME (English or Chinese), if any."""
    chinese = {en: zh for zh, en in COLUMNS}[name]
    for h in header:
        if h in (name, chinese):
            return h
    return None


def _date(value: str, row_no: int, label: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value.replace("/", "-")[:10])
    except ValueError:
        raise InvalidInput(
            f"第 {row_no} 行{label}格式不正确：{value!r}（应为 YYYY-MM-DD）", code="invalid-date", row=row_no
        ) from None


def records_from_rows(
    rows: Sequence[Row], *, id_column: str, body_column: str, title_column: str | None = None
) -> Iterator[tuple[str, ArticleInput]]:
    """(external id, validated content) for each row; a bad row stops the import with its row number."""
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"一次最多导入 {MAX_ROWS} 行", code="too-many-rows")
    header = list(rows[0].keys()) if rows else []
    for name, label in ((id_column, "编号"), (body_column, "正文"), (title_column, "标题")):
        if name and rows and name not in header:
            raise InvalidInput(f"文件中没有{label}列“{name}”（现有列：{'、'.join(header)}）", code="missing-column")
    optional = {name: _find(header, name) for name in _OPTIONAL}
    for i, row in enumerate(rows, start=2):  # row 1 is the header
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
