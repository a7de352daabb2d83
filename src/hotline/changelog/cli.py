"""Commands of 设置变更记录: `hotline settings changes [--kind 派单目录] [--before N]`."""

from __future__ import annotations

import json

import typer

from hotline.changelog import service
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.timeutil import china

app = HotlineTyper(no_args_is_help=True, help="设置：单位、派单目录、办理时限、工作日历、质检标准的变更记录")


@app.command("changes", help="列出设置变更记录（最新的在前）：谁在何时把什么从什么改成了什么")
def changes(
    kind: str = typer.Option(
        "",
        "--kind",
        help="类型：单位、派单目录、办理时限、工作日历、质检标准（或 unit catalogue limit calendar quality）",
    ),
    before: int | None = typer.Option(None, "--before", help="只列此编号之前（更早）的记录"),
    limit: int = typer.Option(service.PAGE_SIZE, "--limit", help="条数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """The changes to the settings, newest first."""
    with session_scope() as session:
        listed = service.list_changes(session, kind=kind, before=before, limit=limit)
        if as_json:
            typer.echo(json.dumps(service.listed_view(listed), ensure_ascii=False, indent=2))
            return
        for row in listed.changes:
            at = china(row.at).strftime("%Y-%m-%d %H:%M:%S")
            view = service.change_view(row)
            typer.echo(f"{row.id}\t{at}\t{row.actor or '未署名'}\t{view['kind_label']}\t{row.summary}")
    if not listed.changes:
        typer.echo("没有变更记录")
    elif listed.earlier:
        more = ["hotline", "settings", "changes", *(["--kind", kind] if kind else []), "--before", str(listed.earlier)]
        typer.echo(f"更早的记录：{' '.join(more)}")
