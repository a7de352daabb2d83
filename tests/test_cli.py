"""`hotline --help` and the help of every group and command are in Simplified Chinese.

A command's docstring is its English code doc; what users read is its help="…". Typer's own texts on the help
pages (the --help option, the panel titles) are Chinese too, and a flag is not shown with a type as if it took one.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from hotline.cli import HELP_OPTION_HELP, mount

CJK = re.compile(r"[\u4e00-\u9fff]")
runner = CliRunner()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, click command) of COMMAND and of every group and command under it."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _docstrings(app: typer.Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, English docstring) of every command registered on APP and its sub-apps."""
    for info in app.registered_commands:
        assert info.callback is not None and isinstance(info.name, str)
        doc = inspect.getdoc(info.callback)
        if doc:
            yield (*path, info.name), doc
    for group in app.registered_groups:
        assert group.typer_instance is not None and isinstance(group.name, str)
        yield from _docstrings(group.typer_instance, (*path, group.name))


def _start(doc: str) -> str:
    """The first words of a docstring: enough to recognise it in a help page, short enough not to be wrapped."""
    return " ".join(doc.split()[:3])


def _help_page(path: tuple[str, ...]) -> str:
    result = runner.invoke(mount(), [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_group_and_command_has_chinese_help() -> None:
    found = list(_commands(typer.main.get_command(mount())))
    assert len(found) > 50  # the root, its groups and every command
    no_chinese = [" ".join(("hotline", *path)) for path, command in found if not CJK.search(command.help or "")]
    assert no_chinese == []


def test_docstrings_are_not_the_help() -> None:
    root = typer.main.get_command(mount())
    by_path = dict(_commands(root))
    docs = dict(_docstrings(mount()))
    assert set(docs) - set(by_path) == set()
    assert len(docs) > 45
    shown = {path: doc for path, doc in docs.items() if _start(doc) in (by_path[path].help or "")}
    assert shown == {}


def test_help_pages_show_no_english_docstring() -> None:
    docs = dict(_docstrings(mount()))
    groups = sorted({path[:-1] for path in docs})
    assert () in groups
    for group in groups:  # `hotline --help` and each group's list of commands
        page = _help_page(group)
        listed = [path for path in docs if path[:-1] == group and _start(docs[path]) in page]
        assert listed == [], page
    for path, doc in docs.items():
        assert _start(doc) not in _help_page(path)


def test_help_option_and_panels_are_chinese_and_flags_show_no_type() -> None:
    pages = {path: _help_page(path) for path in [(), ("order",), ("order", "create"), ("kb", "search"), ("route",)]}
    for path, page in pages.items():
        assert HELP_OPTION_HELP in page, path
        assert "Show this message" not in page, path
        assert "<bool>" not in page, path
        assert "选项" in page and "Options" not in page, path
    assert "命令" in pages[()] and "Commands" not in pages[()]
    assert "参数" in pages[("kb", "search")] and "Arguments" not in pages[("kb", "search")]
    assert "--json" in pages[("kb", "search")] and "--no-advice" in pages[("order", "create")]


def test_every_help_option_is_chinese() -> None:
    root = typer.main.get_command(mount())
    for path, command in _commands(root):
        with typer.Context(command, info_name=" ".join(("hotline", *path))) as ctx:
            option = command.get_help_option(ctx)
        assert option is not None and option.help == HELP_OPTION_HELP, path
