"""Reading article tables as departments send them: title rows, an instructions sheet, .xls, dates as written."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from hotline.errors import InvalidInput
from hotline.knowledge import transfer

DATA = Path(__file__).parent / "data"
NEEDED = ["编号", "问题", "答复口径"]


def department_xlsx(path: Path) -> Path:
    """The same content as data/department.xls, as an .xlsx a department would make in Excel or WPS."""
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "填表说明"
    notes.append(["填表说明：每行一条知识；编号不得重复；生效日期可留空。"])
    sheet = book.create_sheet("知识库")
    sheet.append(["某市医疗保障局 12345 热线知识库（2024 年版）"])
    sheet.merge_cells("A1:F1")
    sheet.append([])
    sheet.append(["编 号", "问题", "答复口径", "责任单位", "生效日期", "关键词"])  # a space typed into a header
    sheet.append(
        [
            1001,
            "医保卡丢失怎么补办",
            "可携带身份证到就近的医保经办网点补办，也可在“天府市民云”App 线上申请补办。",
            "市医疗保障局",
            datetime(2024, 3, 1),
            "医保卡、补办",
        ]
    )
    sheet.append(
        [
            1002.0,
            "异地就医备案怎么办理",
            "参保人可通过国家医保服务平台 App 办理异地就医备案。",
            "市医疗保障局",
            "2024年3月15日",
            "异地就医、备案",
        ]
    )
    sheet.append([])
    sheet.append(
        [
            "YB-3",
            "门诊共济报销比例",
            "职工医保普通门诊费用起付线以上部分按规定比例报销。",
            "市医疗保障局",
            "2024.4.1",
            None,
        ]
    )
    book.save(path)
    return path


@pytest.mark.parametrize("source", ["xls", "xlsx"])
def test_header_below_a_title_on_the_second_sheet_is_found(source: str, tmp_path: Path) -> None:
    path = DATA / "department.xls" if source == "xls" else department_xlsx(tmp_path / "department.xlsx")
    table = transfer.read_table(path, needed=NEEDED)
    assert table.sheet == "知识库"
    assert table.header[:3] == NEEDED  # keyed as the caller spelled the columns
    assert [r["编号"] for r in table] == ["1001", "1002", "YB-3"]
    assert table.numbers == [4, 5, 7]  # as the sheet shows them: title, blank, header, 2 rows, blank, 1 row
    records = dict(transfer.records_from_rows(table, id_column="编号", body_column="答复口径", title_column="问题"))
    assert records["1001"].title == "医保卡丢失怎么补办"
    assert [records[k].effective_from for k in ("1001", "1002", "YB-3")] == [
        date(2024, 3, 1),
        date(2024, 3, 15),
        date(2024, 4, 1),
    ]
    assert records["1001"].owner_unit == "市医疗保障局" and records["1002"].keywords == ["异地就医", "备案"]


def test_a_bad_row_is_reported_with_the_row_number_the_sheet_shows(tmp_path: Path) -> None:
    path = department_xlsx(tmp_path / "department.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["知识库"]["E7"] = "下个月"
    book.save(path)
    table = transfer.read_table(path, needed=NEEDED)
    with pytest.raises(InvalidInput) as err:
        list(transfer.records_from_rows(table, id_column="编号", body_column="答复口径", title_column="问题"))
    assert err.value.code == "invalid-date" and "第 7 行" in err.value.message


def test_without_the_named_columns_the_first_row_is_the_header_and_the_error_lists_it(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("id,text\nA,内容一\n", encoding="utf-8")
    table = transfer.read_table(path, needed=["编号", "正文"])
    assert table.header == ["id", "text"] and table.numbers == [2]
    with pytest.raises(InvalidInput) as err:
        list(transfer.records_from_rows(table, id_column="编号", body_column="正文"))
    assert err.value.code == "missing-column" and "id、text" in err.value.message


def test_csv_with_a_title_line_and_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "dept.csv"
    path.write_bytes("市住建局知识库导出\n编号,标题,正文\nJ-1,物业费,物业服务收费实行政府指导价\n".encode("gb18030"))
    table = transfer.read_table(path, needed=["编号", "正文"])
    assert [(r["编号"], r["标题"]) for r in table] == [("J-1", "物业费")] and table.numbers == [3]


def test_a_file_that_is_not_excel_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.xls"
    path.write_text("这不是 Excel 文件", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        transfer.read_table(path)
    assert err.value.code == "bad-xlsx"
    with pytest.raises(InvalidInput) as err:
        transfer.read_table(tmp_path / "kb.pdf")
    assert err.value.code == "file-not-found"
    (tmp_path / "kb.pdf").write_bytes(b"%PDF")
    with pytest.raises(InvalidInput) as err:
        transfer.read_table(tmp_path / "kb.pdf")
    assert err.value.code == "unsupported-format"
