"""Click's and Typer's own text in Chinese: the catalog file, the usage errors, and what a user sees."""

from __future__ import annotations

import gettext
import io
import os
import subprocess
import sys

import pytest

from hotline import messages


def test_the_catalog_file_is_read_by_gettext() -> None:
    catalog = gettext.GNUTranslations(io.BytesIO(messages.mo_bytes()))
    assert catalog.gettext("Error") == "错误"
    assert catalog.gettext("[required]") == "[必填]"
    assert catalog.gettext("not in the catalog") == "not in the catalog"
    singular, plural = "Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"
    assert catalog.ngettext(singular, plural, 1) == catalog.ngettext(singular, plural, 3) == "多余的参数（{args}）"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Missing argument 'path'.", "缺少参数 'path'。"),
        ("Missing option '--kind'.", "缺少选项 '--kind'。"),
        ("No such option: --bogus", "没有选项：--bogus"),
        ("No such option: --sourc (Possible options: --source)", "没有选项：--sourc（可能是：--source）"),
        ("Got unexpected extra argument(s) (a b)", "多余的参数（a b）"),
        (
            "Invalid value for '--available': Input should be a valid integer, unable to parse string as an integer",
            "'--available' 的取值无效：应为整数",
        ),
        ("Invalid value for '--x': something new", "'--x' 的取值无效：something new"),
        ("A message nobody has translated", "A message nobody has translated"),
    ],
)
def test_usage_errors_are_said_in_chinese(english: str, chinese: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages, "_active", True)
    assert messages.usage_error(english) == chinese


def _hotline(*args: str, language: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LANGUAGE"}
    if language:
        env["LANGUAGE"] = language
    return subprocess.run([sys.executable, "-m", "hotline", *args], capture_output=True, text=True, env=env,
                          check=False)  # fmt: skip


def test_a_user_sees_command_line_mistakes_in_chinese() -> None:
    missing = _hotline("feeds", "import")
    assert missing.returncode == 2 and "错误" in missing.stderr and "缺少参数 'path'。" in missing.stderr
    assert "查看帮助" in missing.stderr
    unknown = _hotline("seats", "plan", "--forecast", "f.csv", "--available", "many")
    assert "'--available' 的取值无效：应为整数" in unknown.stderr
    helped = _hotline("feeds", "import", "--help").stdout
    assert "用法：" in helped and "feeds import" in helped and "[必填]" in helped


def test_a_user_who_chose_another_language_keeps_it() -> None:
    english = _hotline("feeds", "import", language="en")
    assert "Missing argument 'path'." in english.stderr and "Usage: " in english.stderr
    assert "错误" not in english.stderr
