"""设置变更记录 from the command line: the settings commands record their `--actor` (admin unless named), and
`hotline settings changes` lists the records newest first (by kind, older pages with --before, or JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import pytest

from tests.changelog.chengdu import CGJ, SETUP, ZJJ, two_bureaus
from tests.workorders.conftest import Ran, run_hotline


@pytest.fixture
def hotline(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """`hotline …` run in-process through the real entry point, on a database with Chengdu's two bureaus."""
    two_bureaus()
    return partial(run_hotline, monkeypatch, capsys)


def test_the_commands_record_their_actor_and_changes_lists_them(hotline: Callable[..., Ran]) -> None:
    steps = (
        ("order", "catalogue-set", "城乡建设", ZJJ, "--region", "510100", "--actor", "张三"),
        ("order", "catalogue-set", "城乡建设", CGJ, "--region", "510100"),
        ("order", "limits", "投诉", "10"),
        ("order", "unit-deactivate", ZJJ),
        ("calendar", "set", "2099-01-05", "holiday", "--note", "停工"),
        ("calendar", "clear", "2099-01-05", "--actor", "李四"),
    )
    for step in steps:
        assert hotline(*step).returncode == 0, step
    listed = hotline("settings", "changes", "--limit", "6")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [line[2:] for line in lines[:6]] == [
        ["李四", "工作日历", "工作日历 2099-01-05（星期一）：休息日（停工） → 按官方日历（工作日）"],
        ["admin", "工作日历", "工作日历 2099-01-05（星期一）：按官方日历（工作日） → 休息日（停工）"],
        ["admin", "单位", "单位 成都市住房和城乡建设局（510100-zjj）：停用"],
        ["admin", "办理时限", "办理时限 投诉：15 → 10 个工作日"],
        ["admin", "派单目录", "派单目录 城乡建设（成都市，全部号码）：成都市住房和城乡建设局 → 成都市城市管理局"],
        ["张三", "派单目录", "派单目录 城乡建设（成都市，全部号码）：新增，由成都市住房和城乡建设局承办"],
    ]
    assert lines[-1] == [f"更早的记录：hotline settings changes --before {lines[5][0]}"]

    catalogue = hotline("settings", "changes", "--kind", "派单目录", "--json")
    data = json.loads(catalogue.stdout)
    assert [c["actor"] for c in data["changes"]] == ["admin", "张三"] and data["earlier"] is None
    older = hotline("settings", "changes", "--before", lines[5][0])
    assert "张三" not in older.stdout and older.stdout.splitlines()[0].split("\t")[2] == SETUP


def test_an_unknown_kind_is_refused(hotline: Callable[..., Ran]) -> None:
    refused = hotline("settings", "changes", "--kind", "账号")
    assert refused.returncode == 2 and "错误[invalid-change-kind]" in refused.stderr
