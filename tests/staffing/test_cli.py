"""`hotline seats plan|forecast`: a planner's forecast file in, periods and shortfalls out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli import mount
from hotline.errors import InvalidInput

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
