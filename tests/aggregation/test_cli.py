"""`hotline feeds import|status`: a sub-centre's export file in, the connection states out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli import mount
from hotline.errors import InvalidInput

runner = CliRunner()


def _export(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as fh:  # saved by Excel on a Chinese Windows
        writer = csv.writer(fh)
        writer.writerow(["呼叫编号", "来电时间", "接通时间", "挂机时间"])
        writer.writerows(rows)
    return path


def test_import_then_status(db_url: str, tmp_path: Path) -> None:
    path = _export(
        tmp_path / "calls.csv", [["A1", "2021-11-01 09:00:00", "2021-11-01 09:00:06", "2021-11-01 09:04:00"]]
    )
    res = runner.invoke(mount(), ["feeds", "import", str(path), "--source", "12366", "--kind", "call"])
    assert res.exit_code == 0, res.output
    assert "12366：收到 1 条（新增 1" in res.output
    res = runner.invoke(mount(), ["feeds", "import", str(path), "--source", "12366", "--kind", "call"])
    assert "未变 1" in res.output

    res = runner.invoke(mount(), ["feeds", "status", "--json"])
    rows = {r["code"]: r for r in json.loads(res.output)["sources"]}
    assert rows["12366"]["batches"] == 2 and rows["12366"]["records"] == 2
    res = runner.invoke(mount(), ["feeds", "status"])
    assert "12366 税务分中心：实时" in res.output and "12367 移民管理分中心：未接入" in res.output


def test_a_bad_row_is_named_and_nothing_is_kept(db_url: str, tmp_path: Path) -> None:
    rows = [["A1", "2021-11-01 09:00:00", "", ""], ["A2", "2021-11-01 09:00:00", "2021-11-01 08:00:00", ""]]
    path = _export(tmp_path / "calls.csv", rows)
    res = runner.invoke(mount(), ["feeds", "import", str(path), "--source", "12366", "--kind", "call"])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "feed-invalid"
    assert res.exception.message.startswith("第 3 行有误：接通时间早于呼入时间")
    res = runner.invoke(mount(), ["feeds", "status", "--json"])
    assert {r["code"]: r for r in json.loads(res.output)["sources"]}["12366"]["records"] == 0
    res = runner.invoke(mount(), ["feeds", "import", str(path), "--source", "12366", "--kind", "sms"])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "feed-invalid-kind"


def test_send_refuses_an_empty_or_missing_token_file_before_publishing(tmp_path: Path) -> None:
    table = tmp_path / "calls.csv"
    table.write_text("呼叫编号,来电时间\nF1,2021-11-01 09:00:00\n", encoding="utf-8")
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    send = ["feeds", "send", str(table), "--source", "12366", "--kind", "call", "--url", "nats://127.0.0.1:1"]
    res = runner.invoke(mount(), [*send, "--token-file", str(tmp_path / "empty")])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "token-file-empty"
    res = runner.invoke(mount(), [*send, "--token-file", str(tmp_path / "missing")])
    assert isinstance(res.exception, InvalidInput) and res.exception.code == "file-not-found"


def test_nats_config_gives_each_source_and_unit_a_user_and_keeps_passwords_unshown(db_url: str, tmp_path: Path) -> None:
    from hotline.db import session_scope
    from hotline.queue_auth import parse_passwords
    from hotline.workorders import service as workorders

    with session_scope() as session:
        workorders.load_units(session)
    output, passwords = tmp_path / "nats-auth.conf", tmp_path / "nats-auth.conf.passwords"
    first = runner.invoke(mount(), ["feeds", "nats-config", "--output", str(output)])
    assert first.exit_code == 0, first.output
    assert "数据来源 40 个，承办单位系统 22 个" in first.output and "本次新生成 63 个" in first.output
    kept = parse_passwords(passwords.read_text(encoding="utf-8"), "passwords")
    config = output.read_text(encoding="utf-8")
    assert '"hotline.feeds.12366"' in config and '"_INBOX_feed-12366.>"' in config
    assert f'{{user: "feed-510100", password: "{kept["feed-510100"]}"' in config
    assert '"$JS.API.CONSUMER.CREATE.HOTLINE_UNITS.unit-510100.hotline.units.510100"' in config
    assert output.stat().st_mode & 0o777 == passwords.stat().st_mode & 0o777 == 0o600
    assert not any(password in first.output for password in kept.values())

    # A source's password handed out stays its own when the file is written again.
    again = runner.invoke(mount(), ["feeds", "nats-config", "--output", str(output)])
    assert again.exit_code == 0 and "本次新生成 0 个" in again.output
    assert parse_passwords(passwords.read_text(encoding="utf-8"), "passwords") == kept
    assert output.read_text(encoding="utf-8") == config

    passwords.write_text("feed-12366 short\n", encoding="utf-8")
    refused = runner.invoke(mount(), ["feeds", "nats-config", "--output", str(output)])
    assert isinstance(refused.exception, InvalidInput) and refused.exception.code == "queue-password-invalid"
    assert "第 1 行" in refused.exception.message and "short" not in refused.exception.message
