"""`hotline calls callbacks` and `hotline calls callback ID --outcome …` as a user runs them (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from hotline.cli import mount
from hotline.db import session_scope
from hotline.telephony import callbacks
from tests.telephony.missed_calls import MISSED, call, set_up_lines


def _run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(mount(), list(args))
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, error


def _missed_calls() -> tuple[int, int]:
    set_up_lines()
    call("m1", "13900002222", 0, MISSED)
    call("m2", "13900002222", 30, MISSED)
    call("m3", "13700003333", 60, MISSED, trunk="my-telecom")
    with session_scope() as s:
        found = callbacks.list_callbacks(s, mask=False)["callbacks"]
    return found[0]["id"], found[1]["id"]


def test_the_open_tasks_are_listed_oldest_first_masked_unless_asked(db_url: str) -> None:
    _missed_calls()
    code, out, error = _run("calls", "callbacks")
    assert code == 0, error
    lines = out.splitlines()
    assert "139****2222" in lines[0] and "漏话 2 次" in lines[0] and "超时" in lines[0]
    assert "137****3333" in lines[1] and "绵阳市" in lines[1]
    assert lines[-1].startswith("共 2 个回拨任务") and "24 小时" in lines[-1]
    assert "13900002222" not in out
    assert "13900002222" in _run("calls", "callbacks", "--full-number")[1]
    only = _run("calls", "callbacks", "--region", "绵阳市", "--json")[1]
    assert [c["caller"] for c in json.loads(only)["callbacks"]] == ["137****3333"]


def test_attempts_are_recorded_and_a_closing_one_moves_the_task_to_the_closed_list(db_url: str) -> None:
    first, second = _missed_calls()
    code, out, error = _run(
        "calls", "callback", str(first), "--outcome", "no-answer", "--note", "无人接听", "--by", "张敏"
    )
    assert code == 0, error
    assert out.strip() == f"已登记回拨 #{first}：未接通，任务继续待回拨"
    code, out, _ = _run("calls", "callback", str(second), "--outcome", "invalid-number", "--by", "张敏")
    assert out.strip() == f"已登记回拨 #{second}：号码无效，任务已结束：号码无效"
    closed = _run("calls", "callbacks", "--state", "closed")[1]
    assert "137****3333" in closed and "号码无效" in closed and "139****2222" not in closed
    with session_scope() as s:
        task = callbacks.get_callback(s, first)
    assert [(a["actor"], a["note"]) for a in task["attempts"]] == [("张敏", "无人接听")]


def test_a_refused_attempt_exits_2_with_a_chinese_message_and_writes_nothing(db_url: str) -> None:
    first, _ = _missed_calls()
    env = os.environ.copy()
    for args, code in [
        ((str(first), "--outcome", "busy"), "invalid-callback-outcome"),
        (("999999", "--outcome", "reached"), "callback-not-found"),
    ]:
        ran = subprocess.run(
            [sys.executable, "-m", "hotline", "calls", "callback", *args],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert ran.returncode == 2 and f"错误[{code}]：" in ran.stderr, ran.stderr
    with session_scope() as s:
        assert callbacks.get_callback(s, first)["attempts"] == []
