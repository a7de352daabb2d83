"""`hotline kpis export`: the KPI report of a period written to an .xlsx file."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from hotline.cli import HotlineTyper
from hotline.errors import InvalidInput
from hotline.supervision.cli import app
from tests.supervision.test_service import loop as loop  # the fixtures: three demands in June
from tests.supervision.test_service import units as units

runner = CliRunner()
# As `hotline` mounts it (hotline.cli._CAPABILITIES): the group `kpis`.
hotline = HotlineTyper()
hotline.add_typer(app, name="kpis")


def test_export_writes_the_report_of_the_period(loop: None, tmp_path: Path) -> None:
    out = tmp_path / "考核报表_2021-06.xlsx"
    args = ["export", "--since", "2021-06-01", "--until", "2021-06-30", "--region", "成都市", "--output", str(out)]
    res = runner.invoke(hotline, ["kpis", *args])
    assert res.exit_code == 0, res.output
    assert f"已导出考核报表到 {out}（2021-06-01 至 2021-06-30）：受理诉求 3 件，承办单位 2 个" in res.output
    book = load_workbook(out)
    assert book.sheetnames == ["总体指标", "承办单位考核", "超期工单"]
    title = book["总体指标"]["A1"].value
    assert title == "考核报表 · 总体指标：2021-06-01 至 2021-06-30（成都市）"
    assert "（命令行）" in book["总体指标"]["A2"].value  # who made it: the system user, from the command line


def test_export_refuses_what_it_cannot_write(loop: None, tmp_path: Path) -> None:
    period = ["--since", "2021-06-01", "--until", "2021-06-30"]
    res = runner.invoke(hotline, ["kpis", "export", *period, "--output", str(tmp_path / "report.csv")])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "unsupported-format"
    res = runner.invoke(hotline, ["kpis", "export", *period, "--output", str(tmp_path / "missing" / "report.xlsx")])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "file-not-writable"
    backwards = ["--since", "2021-06-30", "--until", "2021-06-01", "--output", str(tmp_path / "r.xlsx")]
    res = runner.invoke(hotline, ["kpis", "export", *backwards])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "invalid-period"
    assert not (tmp_path / "r.xlsx").exists()
