"""Commands of hotline.calendar: `hotline calendar add-workdays DATE N`, `hotline calendar set DATE KIND`."""

from __future__ import annotations

import json

import typer

from hotline.calendar import service
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.timeutil import parse_day

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
        service.set_override(session, parsed, kind, note=note, actor=actor)
    typer.echo(f"{parsed.isoformat()} 已设为{'工作日' if kind == 'workday' else '休息日'}")


@app.command("show", help="查询某天是否为工作日：按官方日历及按本地调整后（JSON）")
def show(day: str = typer.Argument(..., help="日期 YYYY-MM-DD")) -> None:
    """Whether DAY is a working day, officially and after overrides (JSON)."""
    parsed = parse_day(day)
    with session_scope() as session:
        typer.echo(json.dumps(service.describe_day(session, parsed), ensure_ascii=False))
