"""Commands of hotline.staffing: `hotline seats plan`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.plan.regions import PROVINCE
from hotline.staffing import service
from hotline.staffing.domain import DEFAULT_PATIENCE, Target
from hotline.timeutil import parse_day

app = HotlineTyper(no_args_is_help=True, help="座席测算：按整合归并计划逐日测算所需座席")


@app.command(
    "plan",
    help="测算整合归并各时期所需座席\n\n按来电预测与整合归并计划，逐日逐时测算12345话务队列及原热线、分中心所需座席（Erlang C），预计放弃率与接通率（Erlang A），并提示缺口及其后果",
)
def plan(
    forecast: Path = typer.Option(
        ..., "--forecast", help="来电预测（CSV/XLSX）：号码、时段、来电量、平均处理时长[、日期类型]"
    ),
    region: str = typer.Option(PROVINCE.name, "--region", help="地区：代码、名称或别名，默认省本级"),
    first: str | None = typer.Option(None, "--from", help="开始日期 YYYY-MM-DD（默认计划年度 1 月 1 日）"),
    last: str | None = typer.Option(None, "--to", help="结束日期 YYYY-MM-DD（默认计划年度 12 月 31 日）"),
    answer_within: float = typer.Option(15, "--answer-within", help="接通时限（秒）"),
    service_level: float = typer.Option(0.8, "--service-level", help="时限内接通的比例"),
    max_occupancy: float = typer.Option(0.85, "--max-occupancy", help="最高占用率"),
    shrinkage: float = typer.Option(0.3, "--shrinkage", help="非在线比例（休息、培训、请假等）"),
    available: int | None = typer.Option(
        None, "--available", help="现有12345可排班座席数，用于提示缺口及按现有人数预计放弃率"
    ),
    patience: float = typer.Option(
        DEFAULT_PATIENCE, "--patience", help="来电者平均耐心时长（秒）：排队平均愿等多久，用于估算放弃率"
    ),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """Seats needed, period by period, on the 12345 queue and on the lines' own seats."""
    target = Target(answer_within, service_level, max_occupancy, shrinkage)
    demands = service.read_forecast(forecast)
    with session_scope() as session:
        result = service.plan_seats(
            session,
            demands,
            region=region,
            first=parse_day(first) if first else None,
            last=parse_day(last) if last else None,
            target=target,
            available=available,
            patience=patience,
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    for line in service.describe(result):
        typer.echo(line)


@app.command(
    "forecast",
    help="由话务记录生成来电预测表\n\n按平台路由的来电及其接通、结束事件，统计各号码工作日、休息日各时段来电量与平均处理时长，供 seats plan 使用；并由排队、接通、放弃事件实测来电人平均耐心（seats plan 的 --patience）",
)
def forecast(
    first: str = typer.Option(..., "--from", help="开始日期 YYYY-MM-DD"),
    last: str = typer.Option(..., "--to", help="结束日期 YYYY-MM-DD（含）"),
    region: str = typer.Option(PROVINCE.name, "--region", help="地区：代码、名称或别名，默认省本级"),
    output: Path = typer.Option(..., "--output", help="输出 CSV（UTF-8 带 BOM，Excel 可直接打开）"),
    handle_seconds: float = typer.Option(240, "--handle-seconds", help="未测得处理时长的号码按此秒数计"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出统计结果（预测表仍写入 --output）"),
) -> None:
    """Write a call forecast made from the calls the platform routed in a period, and say how patient their
    callers were."""
    with session_scope() as session:
        observed = service.forecast_from_calls(
            session, region=region, first=parse_day(first), last=parse_day(last), default_handle=handle_seconds
        )
    with output.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(observed.rows())
    workdays, restdays = observed.days
    if as_json:
        summary = {
            "output": str(output),
            "calls": observed.calls,
            "measured": observed.measured,
            "workdays": workdays,
            "restdays": restdays,
            "patience": observed.patience.to_dict(),
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"已由 {observed.calls} 通来电（{workdays} 个工作日、{restdays} 个休息日；{observed.measured} 通测得处理时长）"
        f"生成来电预测 {output}"
    )
    typer.echo(service.describe_patience(observed.patience))
