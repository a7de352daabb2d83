"""Fixtures of the work-order tests: the `hotline order …` command run in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_hotline(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> Ran:
    """`hotline ARGS…` run in-process through the real entry point (`hotline.cli.main`)."""
    from hotline.cli import main

    monkeypatch.setattr(sys, "argv", ["hotline", *args])
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return Ran(int(code or 0), out.out, out.err)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """`hotline order …` run in-process through the real entry point (`hotline.cli.main`)."""
    return partial(run_hotline, monkeypatch, capsys, "order")
