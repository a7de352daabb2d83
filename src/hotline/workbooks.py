"""What every Excel export of the platform shares: cells that keep citizens' text as text, times as Excel keeps
them, and the headers a download is handed out with.

Exports are streamed by openpyxl's write-only workbooks; their cells are made here so that no export can let a
citizen's "=HYPERLINK(…)" become a formula (OWASP's CSV injection: openpyxl stores a string starting with "=" as
a formula, "#N/A" as an error value), nor fail on the control characters a web form lets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# What Excel, LibreOffice and WPS may take for the start of a formula (OWASP's list for CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW = 3  # below the title and the line saying who made it, and when
TITLE_FONT, HEADER_FONT = Font(bold=True, size=14), Font(bold=True)


def cell(sheet: WriteOnlyWorksheet, value: Any, *, fmt: str | None = None, font: Font | None = None) -> Any:
    """VALUE as a cell of SHEET (None for nothing). Text is always a string cell, without the control characters
    an .xlsx cannot hold; text Excel could read as a formula or an error value also gets Excel's quote prefix,
    so it stays text when someone edits the cell. Other values are left to openpyxl unless FMT or FONT is set."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        made = WriteOnlyCell(sheet, value)
        made.data_type = "s"
        if value.startswith(FORMULA_START) or value in ERROR_CODES:
            made.quotePrefix = True
    elif fmt is None and font is None:
        return value
    else:
        made = WriteOnlyCell(sheet, value)
    if fmt:
        made.number_format = fmt
    if font:
        made.font = font
    return made


def head(sheet: WriteOnlyWorksheet, columns: Sequence[tuple[str, int]], title: str, made: str) -> None:
    """Start SHEET as every export does: COLUMNS (header, width in characters) sized, the TITLE row, the MADE line
    (who, when), and the header at HEADER_ROW, which stays in view with the first column (what a row is)."""
    for i, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = f"B{HEADER_ROW + 1}"
    sheet.append([cell(sheet, title, font=TITLE_FONT)])
    sheet.append([cell(sheet, made)])
    sheet.append([cell(sheet, header, font=HEADER_FONT) for header, _ in columns])


def filter_rows(sheet: WriteOnlyWorksheet, columns: int, rows: int) -> None:
    """A filter on the header over ROWS rows of COLUMNS columns: Excel, WPS and LibreOffice sort and filter them
    by any column from it."""
    if rows:
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(columns)}{HEADER_ROW + rows}"


def excel_time(iso: str | None) -> datetime | None:
    """A China-time ISO instant as Excel keeps times: without an offset."""
    return datetime.fromisoformat(iso).replace(tzinfo=None) if iso else None


def download_headers(filename: str, fallback: str, *, inline: bool = False) -> dict[str, str]:
    """Headers handing out a download named FILENAME (RFC 6266 with RFC 5987's `filename*` for Chinese; FALLBACK,
    in ASCII, for clients that cannot read it), never kept by a cache (exports hold personal data or figures
    of a moment). INLINE: shown in the browser (an image) rather than saved."""
    kind = "inline" if inline else "attachment"
    disposition = f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return {"Content-Disposition": disposition, "Cache-Control": "no-store"}
