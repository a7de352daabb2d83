"""Commands of hotline.calendar: `hotline calendar add-workdays DATE N`, `set DATE KIND`, `clear DATE`,
`import FILE` (a year's holiday arrangement) and `check` (years the deadlines reach that nobody entered)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import typer

from hotline.calendar import service
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.tables import read_table
from hotline.timeutil import china_day, now, parse_day
from hotline.workorders import service as orders
from hotline.workorders.domain import redated_text

app = HotlineTyper(no_args_is_help=True, help="工作日历（法定节假日、调休与本地调整）")


@app.command("add-workdays", help="计算 DAY 之后第 N 个工作日的日期")
def add_workdays(
    day: str = typer.Argument(..., help="起始日期 YYYY-MM-DD"),
    n: int = typer.Argument(..., help="工作日数"),
) -> None:
    """Print the date N working days after DAY."""
    if n < 0:
        raise InvalidInput("工作日数不能为负数", code="invalid-workdays")
    start = parse_day(day)
    with session_scope() as session:
        typer.echo(service.load_calendar(session).add_workdays(start, n).isoformat())


@app.command("set", help="把某天设为休息日或工作日（覆盖官方日历）")
def set_day(
    day: str = typer.Argument(..., help="日期 YYYY-MM-DD"),
    kind: str = typer.Argument(..., help="holiday（休息日）或 workday（工作日）"),
    note: str = typer.Option("", help="说明"),
    actor: str = typer.Option("admin", help="操作人"),
) -> None:
    """Record DAY as a holiday or a working day, overriding the official calendar."""
    parsed = parse_day(day)
    with session_scope() as session:
        _, moved = orders.change_calendar(
            session, partial(service.set_override, session, parsed, kind, note=note, actor=actor), actor=actor
        )
    typer.echo(f"{parsed.isoformat()} 已设为{'工作日' if kind == 'workday' else '休息日'}" + _redated(moved))


@app.command("show", help="查询某天是否为工作日：按官方日历及按本地调整后（JSON）")
def show(day: str = typer.Argument(..., help="日期 YYYY-MM-DD")) -> None:
    """Whether DAY is a working day, officially and after overrides (JSON)."""
    parsed = parse_day(day)
    with session_scope() as session:
        typer.echo(json.dumps(service.describe_day(session, parsed), ensure_ascii=False))


@app.command("clear", help="取消某天的本地调整，恢复按官方日历")
def clear_day(
    day: str = typer.Argument(..., help="日期 YYYY-MM-DD"), actor: str = typer.Option("admin", help="操作人")
) -> None:
    parsed = parse_day(day)
    with session_scope() as session:
        clear = partial(service.clear_override, session, parsed, actor=actor)
        cleared, moved = orders.change_calendar(session, clear, actor=actor)
    typer.echo(f"{parsed.isoformat()} {'已恢复按官方日历' if cleared else '没有本地调整，无需恢复'}" + _redated(moved))


@app.command("import", help="导入一年的放假安排（CSV 或 Excel：日期、类型、说明）")
def import_file(
    path: Path = typer.Argument(
        ..., help="CSV 或 Excel 文件：日期（可写 2027-02-06至2027-02-12）、类型（放假/上班）、说明"
    ),
    actor: str = typer.Option("admin", help="操作人"),
) -> None:
    """Record every day of FILE as a holiday or a working day; a wrong row writes nothing."""
    table = read_table(path, needed=service.IMPORT_COLUMNS)
    with session_scope() as session:
        done, moved = orders.change_calendar(
            session, partial(service.import_days, session, table, actor=actor), actor=actor
        )
    summary = f"已导入 {done.days} 天（{done.first} 至 {done.last}）：放假 {done.holidays} 天，上班 {done.workdays} 天"
    typer.echo(summary + _redated(moved))


def _redated(moved: list[orders.Redated]) -> str:
    said = redated_text(orders.redated_counts(moved))
    return f"；{said}" if said else ""


@app.command("check", help="检查办理时限将涉及的年份是否已有放假安排；缺少时退出码为 1")
def check() -> None:
    with session_scope() as session:
        missing = service.unentered_years(session, china_day(now()))
    if missing:
        years = "、".join(f"{y}年" for y in missing)
        typer.echo(f"{years}的放假安排尚未录入：这些日期暂按周一至周五计算工作日，请按国务院办公厅通知导入", err=True)
        raise typer.Exit(1)
    typer.echo("办理时限涉及的年份都有放假安排")
