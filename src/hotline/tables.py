"""Tables as users send them: CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it on a Chinese
Windows) and Excel (.xlsx, .xls, .ods, read with python-calamine), header found below title rows and after an
instructions sheet, rows keyed by the header, with the row numbers the file shows for error messages."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hotline import textfile
from hotline.errors import InvalidInput

Row = dict[str, str]


# Files as departments send them: a title row or two above the header, an instructions sheet before the data.
HEADER_SCAN = 20
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


class Table(list[Row]):
    """The data rows of a file, keyed by its header; `numbers` are their row numbers as the file shows them."""

    def __init__(self, rows: list[Row], header: list[str], numbers: list[int], sheet: str = "") -> None:
        super().__init__(rows)
        self.header = header
        self.numbers = numbers
        self.sheet = sheet


def column_key(name: str) -> str:
    """A header cell as compared with a requested column: full-width forms folded, white space removed."""
    return "".join(unicodedata.normalize("NFKC", name).split()).lower()


def read_table(path: Path, needed: Sequence[str] = ()) -> Table:
    """The rows of a .csv or Excel (.xlsx, .xls, .ods) file as dicts of text keyed by the header row.

    The header is the first row, within the first HEADER_SCAN rows of the first sheet that has one, naming every
    column in NEEDED (compared by `column_key`; the rows are then keyed by the names as NEEDED spells them);
    without NEEDED, or if no sheet names them all, the first non-empty row of the first non-empty sheet.
    """
    if not path.exists():
        raise InvalidInput(f"文件不存在：{path}", code="file-not-found")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        with closing(_excel_sheets(path)) as sheets:
            return table_from_sheets(sheets, needed)
    if suffix in (".csv", ".txt"):
        return table_from_sheets([("", _csv_grid(path.read_bytes()))], needed)
    raise InvalidInput(f"只支持 CSV 或 Excel（xlsx、xls）文件，收到 {path.name}", code="unsupported-format")


def read_csv_bytes(raw: bytes) -> Table:
    return table_from_sheets([("", _csv_grid(raw))])


def table_from_sheets(sheets: Iterable[tuple[str, list[list[str]]]], needed: Sequence[str] = ()) -> Table:
    wanted = {column_key(n): n for n in needed if n}
    fallback: tuple[str, list[list[str]], int] | None = None
    for name, grid in sheets:
        for i, cells in enumerate(grid[:HEADER_SCAN]):
            keys = {column_key(c) for c in cells if c.strip()}
            if not keys:
                continue
            if fallback is None:
                fallback = (name, grid, i)
            if keys >= wanted.keys():
                return _table(name, grid, i, wanted)
    if fallback is None:
        raise InvalidInput("文件没有表头", code="no-header")
    return _table(*fallback, wanted)


def _table(sheet: str, grid: list[list[str]], at: int, wanted: dict[str, str]) -> Table:
    header = [wanted.get(column_key(c), c.strip()) for c in grid[at]]
    rows: list[Row] = []
    numbers: list[int] = []
    for number, cells in enumerate(grid[at + 1 :], start=at + 2):
        if all(not c.strip() for c in cells):
            continue
        row: Row = {}
        for name, value in zip(header, cells, strict=False):
            if name and name not in row:  # a repeated header name: the first column counts
                row[name] = value
        rows.append(row)
        numbers.append(number)
    return Table(rows, [h for h in header if h], numbers, sheet)


def _csv_grid(raw: bytes) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(textfile.decode(raw), newline="")))
    except csv.Error as exc:
        raise InvalidInput(f"CSV 文件格式不正确：{exc}", code="bad-csv") from exc


def _excel_sheets(path: Path) -> Generator[tuple[str, list[list[str]]], None, None]:
    """The sheets of an Excel file one at a time (the search for the header stops at the first that has it)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # whatever a damaged or mislabelled file raises
        raise InvalidInput(f"无法读取 Excel 文件：{exc}", code="bad-xlsx") from exc
    try:
        for name in book.sheet_names:
            try:
                cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as exc:
                raise InvalidInput(f"无法读取 Excel 文件的工作表「{name}」：{exc}", code="bad-xlsx") from exc
            yield name, [[_cell_text(v) for v in row] for row in cells]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@contextmanager
def uploaded(filename: str, content: bytes) -> Iterator[Path]:
    """An uploaded table (CSV or Excel, told by FILENAME's suffix) as a temporary file, for `read_table`."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", *EXCEL_SUFFIXES):
        raise InvalidInput("只支持 CSV 或 Excel（xlsx、xls）文件", code="unsupported-format")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        yield path


# Excel stores a date as days since 1899-12-30; a date cell formatted as a number reads as such a count.
_EXCEL_EPOCH = date(1899, 12, 30)
# 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日 (a time after it is ignored), 20240301.
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?:[\sT].*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def whole_number(text: str) -> int | None:
    """A whole number as a person types it in a form or a cell (spaces around it, full-width digits: `int` reads
    those), None for anything else. Not `str.isdigit`, which also takes ² and ①, that `int` refuses."""
    raw = text.strip()
    return int(raw) if raw.isdecimal() else None


def parse_date(value: str) -> date:
    """A date cell as departments write it; ValueError if VALUE is none."""
    value = value.strip()
    found = _DATE.fullmatch(value) or _COMPACT_DATE.fullmatch(value)
    if found:
        y, m, d = (int(g) for g in found.groups())
        return date(y, m, d)
    if value.isdigit() and 20_000 <= int(value) <= 80_000:  # an Excel day count (1954-2119)
        return _EXCEL_EPOCH + timedelta(days=int(value))
    raise ValueError(value)
