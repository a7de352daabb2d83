"""`hotline nuisance …` as staff run it (SQLite and PostgreSQL): propose from a call or a number, approve, reject, lift,
list and show with masked numbers; a refusal exits 2 with its code and a Chinese message and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from hotline.cli import mount
from hotline.db import session_scope
from hotline.nuisance import service
from tests.nuisance.sources import CALLER, call


def _run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(mount(), ["nuisance", *args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, error


def _id(out: str) -> str:
    return out.split("#")[1].split("：")[0]


def test_propose_approve_lift_list_and_show(db_url: str) -> None:
    call_id = call(caller="+86" + CALLER)
    code, out, error = _run("propose", "--call", call_id, "--role", "agent", "--reason", "反复辱骂", "--by", "张敏")
    assert code == 0, error
    entry = _id(out)
    assert out.strip() == f"已申请 #{entry}：138****1111（提示后转骚扰专席，7 天），待审核"
    code, out, error = _run("approve", entry, "--note", "属实", "--by", "王芳")
    assert code == 0, error
    assert out.startswith(f"已审核通过 #{entry}：138****1111 提示后转骚扰专席，至 ")
    listed = _run("list", "--state", "active")[1].splitlines()
    assert listed[0].startswith(f"#{entry}\t138****1111\t生效中\t提示后转骚扰专席\t至 ") and listed[-1] == "共 1 条"
    code, out, error = _run("lift", entry, "--reason", "来电人已致歉", "--by", "王芳")
    assert (code, out.strip()) == (0, f"已解除 #{entry}：138****1111 的来电恢复正常接入"), error
    shown = _run("show", entry)[1]
    assert f"来源/证据：{call_id}" in shown and CALLER not in shown
    assert [line.split("\t")[2] for line in shown.splitlines()[2:]] == [
        "申请列入：反复辱骂", "审核通过：属实", "解除：来电人已致歉"
    ]  # fmt: skip
    data = json.loads(_run("show", entry, "--json")[1])
    assert data["state"] == "lifted" and data["number"] == "138****1111"


def test_a_supervisor_types_a_number_and_rejects(db_url: str) -> None:
    code, out, error = _run("propose", "--number", "0086 139 0000 2222", "--treatment", "release", "--days", "3",
                            "--reason", "恶意占线")  # fmt: skip
    assert code == 0, error
    entry = _id(out)
    assert "139****2222（提示后挂断，3 天）" in out
    code, out, error = _run("reject", entry, "--reason", "证据不足")
    assert (code, out.strip()) == (0, f"已驳回 #{entry}：证据不足"), error
    assert json.loads(_run("list", "--json")[1])[0]["state_label"] == "已驳回"


def test_a_refusal_exits_2_with_its_code_and_writes_nothing(db_url: str) -> None:
    with session_scope() as s:
        entry = str(service.propose(s, actor="王芳", role="supervisor", number=CALLER, reason="x")["id"])
    for args, code in [
        (("propose", "--number", CALLER, "--role", "agent", "--reason", "x"), "nuisance-number-not-allowed"),
        (("propose", "--number", CALLER, "--reason", "x"), "nuisance-already-listed"),
        (("propose", "--number", "13900002222", "--days", "31", "--reason", "x"), "nuisance-invalid-days"),
        (("propose", "--call", "nobody@pbx", "--reason", "x"), "nuisance-source-not-found"),
        (("lift", entry, "--reason", "x"), "nuisance-transition-not-allowed"),
        (("reject", entry, "--reason", " "), "nuisance-reason-required"),
        (("show", "999999"), "nuisance-not-found"),
    ]:
        ran = subprocess.run(
            [sys.executable, "-m", "hotline", "nuisance", *args],
            capture_output=True, text=True, env=os.environ.copy(), timeout=120,
        )  # fmt: skip
        assert ran.returncode == 2 and f"错误[{code}]：" in ran.stderr, (args, ran.stderr)
    with session_scope() as s:
        assert [e["state"] for e in service.list_entries(s)] == ["pending"]
        assert len(service.get_entry(s, int(entry))["history"]) == 1
