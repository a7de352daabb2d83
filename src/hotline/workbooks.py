"""What every Excel export of the platform shares: cells that keep citizens' text as text, times as Excel keeps
them, and the headers a download is handed out with.

Exports are streamed by openpyxl's write-only workbooks; their cells are made here so that no export can let a
citizen's "=HYPERLINK(…)" become a formula (OWASP's CSV injection: openpyxl stores a string starting with "=" as
a formula, "#N/A" as an error value), nor fail on the control characters a web form lets through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# What Excel, LibreOffice and WPS may take for the start of a formula (OWASP's list for CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def excel_time(iso: str | None) -> datetime | None:
    """A China-time ISO instant as Excel keeps times: without an offset."""
    return datetime.fromisoformat(iso).replace(tzinfo=None) if iso else None


def download_headers(filename: str, fallback: str) -> dict[str, str]:
    """Headers handing out a download named FILENAME (RFC 6266 with RFC 5987's `filename*` for Chinese; FALLBACK,
    in ASCII, for clients that cannot read it), never kept by a cache (exports hold personal data or figures
    of a moment)."""
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return {"Content-Disposition": disposition, "Cache-Control": "no-store"}
