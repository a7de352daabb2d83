"""`hotline seats plan|forecast`: a planner's forecast file in, periods and shortfalls out."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli import mount
from hotline.errors import InvalidInput
from tests.staffing.calls import record_waits, set_up_routes

runner = CliRunner()


def _forecast(path: Path) -> Path:
    with path.open("w", encoding="gb18030", newline="") as fh:  # saved by Excel on a Chinese Windows
        w = csv.writer(fh)
        w.writerow(["号码", "时段", "来电量", "平均处理时长"])
        w.writerow(["12345", "10", "400", "240"])
        w.writerow(["12333", "10", "150", "300"])
    return path


def test_plan_prints_periods_and_the_shortfall(db_url: str, tmp_path: Path) -> None:
    path = _forecast(tmp_path / "forecast.csv")
    args = [
        "seats",
        "plan",
        "--forecast",
        str(path),
        "--region",
        "成都市",
        "--from",
        "2021-10-01",
        "--to",
        "2021-10-31",
    ]
    res = runner.invoke(mount(), [*args, "--available", "40"])
    assert res.exit_code == 0, res.output
    assert "2021-10-01 至 2021-10-15（15 天）" in res.output and "2021-10-16 至 2021-10-31（16 天）" in res.output
    assert "12333原热线座席" in res.output and "12333 专家座席" in res.output and "12345座席缺口" in res.output
    # The gap's consequence: 40 on the roster are 28 on the phones for a peak that needs more.
    assert "按现有 40 人排班（同时在线 28 人），工作日预计放弃率" in res.output and "预计放弃率" in res.output
    res = runner.invoke(mount(), [*args, "--json"])
    payload = json.loads(res.output)
    periods = payload["periods"]
    assert [p["days"] for p in periods] == [15, 16] and all(p["shortfall"] == 0 for p in periods)
    assert payload["patience"] == 60 and periods[1]["pools"][0]["workday"]["outcome"]["answered_within"] >= 0.8
    res = runner.invoke(mount(), [*args, "--available", "40", "--patience", "120", "--json"])
    gap = json.loads(res.output)["periods"][1]["pools"][0]["workday"]["at_available"]
    assert gap["agents"] == 28 and 0 < gap["abandoned"] < 1
    res = runner.invoke(mount(), [*args, "--patience", "0"])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "invalid-target"

    res = runner.invoke(mount(), [*args, "--service-level", "80"])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "invalid-target"
    res = runner.invoke(mount(), [*args[:-2], "--to", "2021-09-01"])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "invalid-period"


def test_forecast_from_calls_needs_calls(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "observed.csv"
    res = runner.invoke(
        mount(),
        ["seats", "forecast", "--from", "2021-06-01", "--to", "2021-06-30", "--region", "成都市", "--output", str(out)],
    )
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "no-calls"
    assert not out.exists()  # nothing half-written


def test_forecast_says_how_patient_the_callers_were(db_url: str, tmp_path: Path) -> None:
    set_up_routes()
    # Chengdu, Tuesday 2021-06-08: 36 callers hang up after 40 s, 100 are answered after 36 s.
    record_waits(datetime(2021, 6, 8, 9, 0), hung_up=[40] * 36, answered=[36] * 100)
    out = tmp_path / "observed.csv"
    args = [
        "seats",
        "forecast",
        "--from",
        "2021-06-07",
        "--to",
        "2021-06-13",
        "--region",
        "成都市",
        "--output",
        str(out),
    ]
    res = runner.invoke(mount(), args)
    assert res.exit_code == 0, res.output
    # (36 × 40 + 100 × 36) / 36 = 140 s.
    line = res.output.splitlines()[-1]
    assert line.startswith("实测来电人平均耐心 140 秒（排队 136 人，放弃 36 人；95% 区间 ")
    assert line.endswith(" 秒），测算时可用 --patience 140")
    res = runner.invoke(mount(), [*args, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert (summary["calls"], summary["measured"], summary["workdays"], summary["restdays"]) == (136, 100, 5, 2)
    patience = summary["patience"]
    assert (patience["waited"], patience["abandoned"], patience["mean_seconds"]) == (136, 36, 140.0)
    assert patience["trusted"] is True and patience["patience"] == 140.0
    low, high = patience["interval_seconds"]
    assert 90 < low < 140 < high < 220
    assert f"95% 区间 {low:.0f}–{high:.0f} 秒" in line
    # The week after, a few callers: too few hung up, the default stands.
    record_waits(datetime(2021, 6, 15, 9, 0), hung_up=[40] * 3, answered=[36] * 10)
    week = ["--from", "2021-06-14", "--to", "2021-06-20"]
    res = runner.invoke(mount(), [*args[:2], *week, *args[6:]])
    assert res.exit_code == 0, res.output
    assert "放弃不足 30 人，样本太少，不宜采用；测算仍按默认 60 秒" in res.output
    patience = json.loads(runner.invoke(mount(), [*args[:2], *week, *args[6:], "--json"]).output)["patience"]
    assert patience["abandoned"] == 3 and patience["trusted"] is False and patience["patience"] == 60
