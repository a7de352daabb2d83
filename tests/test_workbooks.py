"""The cells and download headers every Excel export shares: citizens' text stays text."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook, load_workbook

from hotline.workbooks import XLSX, cell, download_headers, excel_time


def _round_trip(values: list[object]) -> list[object]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    sheet.append([cell(sheet, v, fmt="0.0%" if isinstance(v, float) else None) for v in values])
    out = io.BytesIO()
    book.save(out)
    read = load_workbook(io.BytesIO(out.getvalue()))["s"]
    return [(c.value, c.data_type, c.quotePrefix, c.number_format) for c in read[1]]


def test_text_that_looks_like_a_formula_or_an_error_stays_text() -> None:
    got = _round_trip(['=HYPERLINK("http://x","点此")', "+86 138", "@SUM(A1)", "#N/A", "路灯不亮"])
    assert [v for v, *_ in got] == ['=HYPERLINK("http://x","点此")', "+86 138", "@SUM(A1)", "#N/A", "路灯不亮"]
    assert all(kind == "s" for _, kind, _, _ in got)
    assert [prefixed for _, _, prefixed, _ in got] == [True, True, True, True, False]


def test_control_characters_are_dropped_and_numbers_keep_their_format() -> None:
    [text, rate] = _round_trip(["噪音\x07扰民", 0.875])
    assert text[0] == "噪音扰民"
    assert rate[0] == 0.875 and rate[1] == "n" and rate[3] == "0.0%"


def test_nothing_is_an_empty_cell() -> None:
    sheet = Workbook(write_only=True).create_sheet("s")
    assert cell(sheet, None) is None and cell(sheet, "") is None
    assert cell(sheet, 3) == 3  # a plain number is left to openpyxl


def test_china_time_as_excel_keeps_it() -> None:
    assert excel_time("2021-06-01T09:30:00+08:00") == datetime(2021, 6, 1, 9, 30)
    assert excel_time(None) is None


def test_a_chinese_file_name_is_offered_with_an_ascii_fallback() -> None:
    headers = download_headers("工单导出_20261129.xlsx", "orders_20261129.xlsx")
    assert headers["Content-Disposition"] == (
        'attachment; filename="orders_20261129.xlsx"; '
        "filename*=UTF-8''%E5%B7%A5%E5%8D%95%E5%AF%BC%E5%87%BA_20261129.xlsx"
    )
    assert headers["Cache-Control"] == "no-store"
    assert XLSX.endswith("spreadsheetml.sheet")
