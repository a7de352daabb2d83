"""The `hotline plan` and `hotline route` commands through the real entry point `hotline.cli.main`.

Most cases run it in this process (starting a fresh interpreter costs seconds on a shared machine); one
test runs the installed command in a separate process, as a user does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from hotline.cli import main


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


Run = Callable[..., Done]


@pytest.fixture
def hotline(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def run(*args: str) -> Done:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["hotline", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


def route(hotline: Run, number: str, at: str, region: str | None = None) -> dict[str, str | None]:
    args = ["route", number, "--at", at, "--json"] + (["--region", region] if region else [])
    done = hotline(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_record_then_route_in_one_region_only(db_url: str, hotline: Run) -> None:
    before = route(hotline, "12331", "2021-05-25T10:00", "成都市")
    assert before == {
        "action": "legacy",
        "prompt": None,
        "skill": None,
        "target": "legacy:12331:510100",
        "reason": before["reason"],
    }
    done = hotline(
        "plan", "record", "12331", "transition", "--region", "成都市", "--done", "2021-05-20", "--note", "提前"
    )
    assert done.returncode == 0, done.stderr
    assert "12331" in done.stdout
    after = route(hotline, "12331", "2021-05-25T10:00", "成都市")
    assert (after["action"], after["prompt"], after["skill"], after["target"]) == (
        "queue",
        "transition:12331",
        "12331",
        "queue:510100",
    )
    # Default region is the provincial centre, still on plan.
    assert route(hotline, "12331", "2021-05-25T10:00")["target"] == "legacy:12331:510000"
    status = json.loads(hotline("plan", "status", "--region", "510100", "--at", "2021-05-25", "--json").stdout)
    mine = [s for s in status if s["line"] == "12331" and s["milestone"] == "transition"]
    assert mine[0]["status"] == "done" and mine[0]["latest"]["note"] == "提前"


def test_add_line_lines_overdue_and_status_text(db_url: str, hotline: Run) -> None:
    added = hotline("plan", "add-line", "96128", "城市管理热线", "--unit", "成都市城管委")
    assert added.returncode == 0, added.stderr
    lines = json.loads(hotline("plan", "lines", "--json").stdout)
    assert [x["number"] for x in lines if x["local"]] == ["96128"]
    assert route(hotline, "96128", "2021-08-01T00:00", "成都市")["action"] == "cancelled"
    overdue = json.loads(hotline("plan", "overdue", "--region", "成都市", "--at", "2021-05-03", "--json").stdout)
    assert [i["line"] for i in overdue["成都市城管委"]] == ["96128"]
    text = hotline("plan", "status", "--at", "2021-05-03")
    assert text.returncode == 0 and "96128" in text.stdout and "transition 0/0/22" in text.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["plan", "record", "99999", "transition", "--region", "成都市", "--done", "2021-05-20"], "line-not-found"),
        (["plan", "record", "12331", "transition", "--region", "火星", "--done", "2021-05-20"], "region-not-found"),
        (["plan", "record", "12331", "launch", "--region", "成都市", "--done", "2021-05-20"], "milestone-not-found"),
        (["plan", "record", "12331", "transition", "--region", "成都市", "--done", "2021-5-32"], "invalid-date"),
        (["plan", "record", "12331", "transition", "--region", "成都市"], "record-kind-required"),
        (["plan", "status", "--region", "北京市"], "region-not-found"),
        (["plan", "status", "--at", "tomorrow"], "invalid-date"),
        (["plan", "add-line", "12345", "重复"], "line-exists"),
        (["route", "12331", "--at", "2021-13-01T10:00"], "invalid-time"),
        (["route", "12331", "--region", "火星"], "region-not-found"),
    ],
)
def test_bad_input_exits_2_with_one_line(db_url: str, hotline: Run, args: list[str], code: str) -> None:
    done = hotline(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert f"[{code}]" in done.stderr


def test_unknown_number_is_routed_as_reject_not_an_error(db_url: str, hotline: Run) -> None:
    assert route(hotline, "12399", "2021-06-01T10:00")["action"] == "reject"
    assert route(hotline, "110", "2021-06-01T10:00", "成都市")["action"] == "reject"


def test_installed_command_in_a_separate_process(db_url: str) -> None:
    # One real process (start-up costs seconds on a shared machine); bad input is covered through main() above.
    ok = subprocess.run(
        [sys.executable, "-m", "hotline", "route", "12333", "--at", "2021-10-16", "--region", "成都市", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["target"] == "queue:510100"
