"""`hotline kpis export`: the KPI report of a period written to an .xlsx file; `hotline kpis hotspots`: 热点诉求."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hotline.cli import HotlineTyper
from hotline.errors import InvalidInput, NotFound
from hotline.supervision.cli import app
from tests.supervision.test_service import loop as loop  # the fixtures: three demands in June
from tests.supervision.test_service import units as units
from tests.supervision.test_service_hotspots import week as week  # orders around 2021-06-01 to 06-07

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
    assert book.sheetnames == ["总体指标", "承办单位考核", "超期工单", "话务质检"]
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


# -- hotline kpis hotspots -------------------------------------------------------------------------------------------
def test_hotspots_prints_the_weeks_hot_topics_in_chinese(week: dict[str, str]) -> None:
    res = runner.invoke(hotline, ["kpis", "hotspots", "--since", "2021-06-01", "--until", "2021-06-07"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "热点诉求：2021-06-01 至 2021-06-07（全部地区），上期 2021-05-25 至 2021-05-31"
    assert lines[1] == "受理工单 9 件（上期 2 件，+350%）"
    assert "上升明显（较上期增加不少于 50% 且不少于 5 件）：" in lines
    assert "  城乡建设：6 件（上期 0 件，新出现）" in lines  # rising
    assert (
        "  城乡建设：6 件（上期 0 件，新出现） ↑" in lines
        and "    住房保障与房地产：6 件（上期 0 件，新出现） ↑" in lines
    )
    assert "  环境保护：2 件（上期 2 件，0%）" in lines and "  未分类：1 件（上期 0 件，新出现）" in lines
    newest = "、".join([week["last"], week["more3"], week["more2"]])
    assert f"   1. 锦江区某小区：6 件（上期 0 件，新出现），例：{newest}" in lines
    assert any(line.endswith(f"物业：6 件（上期 0 件，新出现），例：{newest}") for line in lines)


def test_hotspots_as_json_for_a_region(week: dict[str, str]) -> None:
    args = ["kpis", "hotspots", "--since", "2021-06-01", "--until", "2021-06-07", "--region", "成都市", "--json"]
    res = runner.invoke(hotline, args)
    assert res.exit_code == 0, res.output
    answer = json.loads(res.output)
    assert (answer["region"], answer["orders"], answer["orders_before"]) == ("510100", 8, 2)
    assert answer["places"][0]["name"] == "锦江区某小区"


def test_hotspots_of_nothing_says_so(db_url: str) -> None:
    res = runner.invoke(hotline, ["kpis", "hotspots", "--since", "2021-06-01", "--until", "2021-06-07"])
    assert res.exit_code == 0, res.output
    assert "受理工单 0 件（上期 0 件，—）" in res.output and res.output.count("  无") == 4


def test_hotspots_refuses_bad_input(db_url: str) -> None:
    for args, error, code in [
        (["--since", "2021-06-31"], InvalidInput, "invalid-date"),
        (["--since", "2021-06-07", "--until", "2021-06-01"], InvalidInput, "invalid-period"),
        (["--since", "2020-01-01", "--until", "2021-06-01"], InvalidInput, "invalid-period"),
        (["--region", "火星"], NotFound, "region-not-found"),
    ]:
        res = runner.invoke(hotline, ["kpis", "hotspots", *args])
        assert isinstance(res.exception, error) and res.exception.code == code, args


def test_the_hotline_command_exits_2_with_the_message_in_chinese(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline import cli

    monkeypatch.setattr("sys.argv", ["hotline", "kpis", "hotspots", "--since", "2021-06-07", "--until", "2021-06-01"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 2
    assert capsys.readouterr().err.strip() == "错误[invalid-period]：结束日期不能早于开始日期"
