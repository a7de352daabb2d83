"""`hotline quality …` as a supervisor and an agent run it (SQLite and PostgreSQL): draw, pick, list, show, score,
appeal, review, confirm, figures and the sheet; a refusal exits 2 with its code and a Chinese message."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from hotline.cli import mount
from hotline.db import session_scope
from hotline.quality import service
from tests.quality.orders import LI, ZHANG, take, take_many


def _run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(mount(), ["quality", *args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, error


def test_a_draw_and_its_tasks(db_url: str) -> None:
    take_many(ZHANG, 5)
    take(LI)
    code, out, error = _run("draw", "--per-agent", "2", "--since", "2021-06-01", "--until", "2021-06-30", "--seed", "9")
    assert code == 0, error
    lines = out.splitlines()
    assert lines[-1].endswith("6 张未质检工单中，2 名话务员各抽 2 张，共 3 张待质检（随机种子 9）")
    assert sum(ZHANG in line for line in lines[:-1]) == 2 and sum(LI in line for line in lines[:-1]) == 1
    listed = json.loads(_run("list", "--json")[1])
    assert listed["total"] == 3 and {i["status"] for i in listed["inspections"]} == {"pending"}
    assert _run("list", "--agent", "lina")[1].splitlines()[-1] == "共 1 条"


def test_score_appeal_review_and_figures(db_url: str) -> None:
    number = take(ZHANG)
    code, out, error = _run("pick", number, "--by", "王芳（wangfang）")
    assert code == 0, error
    task = out.split("#")[1].split()[0]
    code, out, error = _run(
        "score",
        task,
        "--deduct",
        "诉求记录完整准确=15:未记录地点",
        "--deduct",
        "4=10:分类错误",
        "--by",
        "王芳（wangfang）",
    )
    assert code == 0, error
    assert out.startswith(f"已评分 #{task}：75 分 不合格；话务员可在 ")
    code, out, error = _run("appeal", task, "--reason", "地点已记录", "--by", "zhangmin")
    assert (code, out.strip()) == (0, f"已申诉 #{task}，待复核"), error
    code, out, error = _run(
        "review",
        task,
        "--outcome",
        "change",
        "--note",
        "地点已记录",
        "--deduct",
        "4=10:分类错误",
        "--by",
        "王芳（wangfang）",
    )
    assert (code, out.strip()) == (0, f"已复核 #{task}：改分，90 分 合格（原 75 分）"), error
    shown = _run("show", task)[1]
    assert "分类与派单正确 -10：分类错误" in shown and "申诉" in shown and "复核" in shown
    assert "通话：该工单不是从来电受理的" in shown
    figures = _run("figures", "--since", "2021-06-01", "--until", "2021-06-30")[1].splitlines()
    assert figures[0] == f"{ZHANG}\t质检 1\t平均 90.00\t合格率 100.00%\t申诉 1\t改分 1"
    assert figures[-1] == "合格线 80 分（本中心规定）"
    assert _run("sheet")[1].splitlines()[0] == "1. 服务用语规范\t15 分"


def test_an_agent_confirms_their_result(db_url: str) -> None:
    with session_scope() as s:
        task = service.pick(s, take(ZHANG), actor="王芳（wangfang）")["id"]
        service.score(s, task, [], actor="王芳（wangfang）")
    code, out, error = _run("confirm", str(task), "--by", "张敏（zhangmin）")
    assert (code, out.strip()) == (0, f"已确认 #{task}：100 分 合格"), error


def test_a_refusal_exits_2_with_its_code_and_writes_nothing(db_url: str) -> None:
    number = take(ZHANG)
    with session_scope() as s:
        task = service.pick(s, number, actor="王芳（wangfang）")["id"]
    for args, code in [
        (("score", str(task), "--deduct", "服务用语规范=16:多扣"), "quality-deduction-too-large"),
        (("score", str(task), "--deduct", "服务用语规范"), "quality-invalid-deduction"),
        (("appeal", str(task), "--reason", "x", "--by", "zhangmin"), "quality-not-scored"),
        (("pick", number), "quality-already-inspected"),
        (("void", str(task), "--reason", " "), "quality-reason-required"),
        (("show", "999999"), "quality-task-not-found"),
    ]:
        ran = subprocess.run(
            [sys.executable, "-m", "hotline", "quality", *args],
            capture_output=True, text=True, env=os.environ.copy(), timeout=120,
        )  # fmt: skip
        assert ran.returncode == 2 and f"错误[{code}]：" in ran.stderr, (args, ran.stderr)
    with session_scope() as s:
        assert service.get_inspection(s, task)["status"] == "pending"


def test_a_supervisor_voids_a_pending_task_with_a_reason(db_url: str) -> None:
    number = take(ZHANG)
    with session_scope() as s:
        task = service.pick(s, number, actor="王芳（wangfang）")["id"]
    code, out, error = _run("void", str(task), "--reason", "测试来电", "--actor", "王芳（wangfang）")
    assert code == 0, error
    assert out.strip() == f"已作废 #{task}（工单 {number}）：测试来电；该工单不再抽检"
    assert _run("list")[1].splitlines()[-1] == "共 0 条"
    listed = _run("list", "--status", "voided")[1].splitlines()
    assert "已作废" in listed[0] and listed[-1] == "共 1 条"
    assert "已作废：王芳（wangfang）" in _run("show", str(task))[1]
    for args, refused in [(("void", str(task), "--reason", "再作废"), "quality-task-voided"),
                          (("score", str(task)), "quality-task-voided")]:  # fmt: skip
        assert getattr(_run(*args)[2], "code", None) == refused  # the entry point prints it and exits 2
