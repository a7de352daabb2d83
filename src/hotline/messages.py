"""Click's and Typer's own text (the usage line, error titles and messages such as "Missing option") in Chinese.

Both libraries pass their messages through `gettext` in its default domain, so a catalog for that domain makes
them Chinese without touching either library. Python's gettext reads catalogs only from `.mo` files, so the
catalog below is written once as one, in a folder named after its content (never stale, nothing to commit), and
the command line selects it (`LANGUAGE=zh_CN` unless the user chose a language). Must run before Typer is
imported: it reads its panel titles at import time.
"""

from __future__ import annotations

import gettext
import hashlib
import os
import re
import struct
import tempfile
from pathlib import Path

DOMAIN = "messages"
LANGUAGE = "zh_CN"

CATALOG = {
    # click.formatting, typer.rich_utils and typer.core
    "Usage:": "用法：",
    "Arguments": "参数",
    "Options": "选项",
    "Commands": "命令",
    "Error": "错误",
    "Aborted.": "已中止。",
    "Aborted!": "已中止！",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "(deprecated) ": "（已弃用）",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "required": "必填",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "Show this message and exit.": "显示本帮助信息并退出",
    # click.exceptions and click.core
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Missing command.": "缺少命令。",
    "unknown error": "未知错误",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    # click.types and click.parser
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的布尔值，可用：{states}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带取值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
}
# ngettext: (singular, plural) -> the one Chinese form
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): "多余的参数（{args}）",
    (
        "Option {name!r} requires an argument.",
        "Option {name!r} requires {nargs} arguments.",
    ): "选项 {name!r} 需要取值。",
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): "{value!r} 不是可选值之一：{choices}",
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): "（是否想用：{possibilities}？）",
}


def mo_bytes() -> bytes:
    """CATALOG and PLURALS as a GNU `.mo` file (the format `gettext.GNUTranslations` reads)."""
    entries = {"": "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n"}
    entries.update(CATALOG)
    pairs = sorted([(k.encode(), v.encode()) for k, v in entries.items()])
    pairs += [(f"{one}\0{many}".encode(), text.encode()) for (one, many), text in PLURALS.items()]
    pairs.sort()
    count = len(pairs)
    originals_at = 7 * 4
    translations_at = originals_at + 8 * count
    data_at = translations_at + 8 * count
    table_o, table_t, blob = [], [], b""
    for key, _ in pairs:
        table_o.append((len(key), data_at + len(blob)))
        blob += key + b"\0"
    for _, value in pairs:
        table_t.append((len(value), data_at + len(blob)))
        blob += value + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, 0)
    tables = b"".join(struct.pack("<2I", *pair) for pair in table_o + table_t)
    return header + tables + blob


_active = False  # install() chose Chinese for this process


def install() -> None:
    """Make Click and Typer speak Chinese in this process (and the commands it starts), unless LANGUAGE says
    otherwise. Quietly does nothing when no folder can be written (the text stays English)."""
    if os.environ.get("LANGUAGE", LANGUAGE).split(":")[0].split("_")[0] not in ("zh", ""):
        return
    data = mo_bytes()
    root = Path(tempfile.gettempdir()) / f"hotline-locale-{hashlib.sha256(data).hexdigest()[:12]}"
    target = root / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(data)
            partial.replace(target)  # atomic: a concurrent start never reads half a file
    except OSError:
        return
    global _active
    os.environ.setdefault("LANGUAGE", LANGUAGE)
    gettext.bindtextdomain(DOMAIN, str(root))
    _active = True


# The Click that Typer carries writes these messages as plain English (no gettext): said again in Chinese.
_USAGE_ERRORS = [
    (re.compile(r"Missing argument (.+)\.", re.S), "缺少参数 {0}。"),
    (re.compile(r"Missing option (.+)\.", re.S), "缺少选项 {0}。"),
    (re.compile(r"Missing parameter: (.+)", re.S), "缺少参数：{0}"),
    (re.compile(r"No such option: (\S+)(?: \(Possible options: (.+)\))?", re.S), "没有选项：{0}{1}"),
    (re.compile(r"Option (.+) does not take a value\.", re.S), "选项 {0} 不带取值。"),
    (re.compile(r"Option (.+) requires .+ arguments?\.", re.S), "选项 {0} 需要取值。"),
    (re.compile(r"Got unexpected extra argument\(s\) \((.+)\)", re.S), "多余的参数（{0}）"),
    (re.compile(r"Invalid value for (.+?): (.+)", re.S), "{0} 的取值无效：{1}"),
]


def usage_prefix() -> str | None:
    """The usage line's first word ("Usage: " when None)."""
    return "用法：" if _active else None


# What Typer says of a value it cannot convert (the end of "Invalid value for …: …").
_VALUE_ERRORS = {
    "Input should be a valid number, unable to parse string as a number": "应为数字",
    "Input should be a valid integer, unable to parse string as an integer": "应为整数",
    "Input should be a valid boolean, unable to interpret input": "应为 true 或 false",
}


def usage_error(text: str) -> str:
    """A command-line usage error in Chinese once `install` chose Chinese (the text unchanged if it is not one of
    the known messages)."""
    if not _active:
        return text
    for pattern, template in _USAGE_ERRORS:
        found = pattern.fullmatch(text)
        if found:
            parts = list(found.groups())
            if pattern.pattern.startswith("No such option"):
                parts[1] = f"（可能是：{parts[1]}）" if parts[1] else ""
            if pattern.pattern.startswith("Invalid value"):
                parts[1] = _VALUE_ERRORS.get(parts[1], parts[1])
            return template.format(*parts)
    return text
