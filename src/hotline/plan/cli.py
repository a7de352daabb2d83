"""Commands of hotline.plan: the catalogue, the plan's status, recording progress, local lines, hours."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.plan import service
from hotline.plan.domain import KIND_LABELS, MODE_LABELS, STATUS_LABELS, MilestoneStatus, Status
from hotline.timeutil import china, parse_day

app = HotlineTyper(no_args_is_help=True, help="热线目录与整合归并计划")


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("lines", help="列出全部号码：12345、整合归并计划中的热线、本地热线、紧急号码")
def lines(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """List every number: 12345, the plan's lines, local lines, emergency numbers."""
    with session_scope() as session:
        found = service.list_lines(session)
    if as_json:
        _echo_json([line.to_dict() for line in found])
        return
    for line in found:
        scope = f"/{line.scope.value}" if line.scope else ""
        units = "、".join(line.units)
        typer.echo(f"{line.number:<8}{MODE_LABELS[line.mode]}{scope:<10}{line.name}  {units}")


@app.command("add-line", help="登记省级部门或市（州）自行设立的热线（整体并入，按本地时间节点）")
def add_line(
    number: str = typer.Argument(..., help="号码（3至20位数字）"),
    name: str = typer.Argument(..., help="热线名称"),
    unit: list[str] = typer.Option([], "--unit", help="责任单位（可重复）"),
    note: str = typer.Option("", "--note", help="备注"),
    actor: str = typer.Option("", "--by", help="登记人（默认当前系统用户）"),
) -> None:
    """Register a line set up by a provincial department or a city (整体并入, local dates)."""
    with session_scope() as session:
        line = service.add_local_line(session, number, name, units=unit, note=note, actor=actor)
    typer.echo(f"已登记本地热线 {line.number}（{line.name}），按省内自行设立热线的时间节点整体并入12345")


@app.command("record", help="登记某条热线在某地区的里程碑完成日期，或延期")
def record(
    line: str = typer.Argument(..., help="热线号码"),
    milestone: str = typer.Argument(..., help="里程碑编号，如 transition"),
    region: str = typer.Option(..., "--region", help="地区：代码、名称或别名"),
    done: str | None = typer.Option(None, "--done", help="完成日期 YYYY-MM-DD"),
    postpone: str | None = typer.Option(None, "--postpone", help="延期至 YYYY-MM-DD"),
    note: str = typer.Option("", "--note", help="说明（原因）"),
    actor: str = typer.Option("", "--by", help="登记人（默认当前系统用户）"),
) -> None:
    """Record a milestone as done on a date, or postpone it, for one line in one region."""
    done_day = parse_day(done) if done is not None else None
    postpone_day = parse_day(postpone) if postpone is not None else None
    with session_scope() as session:
        rec = service.record_milestone(
            session, line, milestone, region, done=done_day, postpone=postpone_day, note=note, actor=actor
        )
    typer.echo(f"已登记：{rec.line} {rec.milestone} {rec.region} {KIND_LABELS[rec.kind]} {rec.day.isoformat()}")


def _cell(item: MilestoneStatus) -> str:
    label = STATUS_LABELS[item.status]
    if item.status is Status.DONE:
        return f"{item.milestone.id} {label} {item.effective_date.isoformat()}"
    moved = f"，原计划 {item.plan_date.isoformat()}" if item.effective_date != item.plan_date else ""
    return f"{item.milestone.id} {label}（期限 {item.effective_date.isoformat()}{moved}）"


@app.command(
    "status",
    help="各热线各里程碑的完成情况：已完成、未到期、已逾期\n\n指定地区时逐条列出；不指定时汇总全部地区。",
)
def status(
    region: str | None = typer.Option(None, "--region", help="地区；不指定时汇总全部22个地区"),
    at: str | None = typer.Option(None, "--at", help="按哪一天评估 YYYY-MM-DD，默认今天"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Lines × milestones with done / due / overdue, for one region or summed over all regions."""
    on = parse_day(at) if at is not None else None
    with session_scope() as session:
        items = service.status(session, region, on)
    if as_json:
        _echo_json([item.to_dict() for item in items])
        return
    rows: dict[str, list[MilestoneStatus]] = defaultdict(list)
    for item in items:
        rows[item.line.number].append(item)
    if region is not None:
        typer.echo(f"地区：{items[0].region.name if items else region}")
        for group in rows.values():
            line = group[0].line
            typer.echo(f"{line.number:<8}{line.short_name or line.name}：" + " | ".join(_cell(i) for i in group))
        return
    typer.echo("全部地区汇总（已完成/未到期/已逾期）")
    for group in rows.values():
        line = group[0].line
        per_milestone: dict[str, Counter[Status]] = defaultdict(Counter)
        for i in group:
            per_milestone[i.milestone.id][i.status] += 1
        cells = " | ".join(
            f"{mid} {c[Status.DONE]}/{c[Status.DUE]}/{c[Status.OVERDUE]}" for mid, c in per_milestone.items()
        )
        typer.echo(f"{line.number:<8}{line.short_name or line.name}：{cells}")


@app.command("overdue", help="按责任单位列出逾期的里程碑（已过期限且未登记完成）")
def overdue(
    region: str | None = typer.Option(None, "--region", help="只看一个地区"),
    at: str | None = typer.Option(None, "--at", help="按哪一天评估 YYYY-MM-DD，默认今天"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Overdue milestones (deadline passed, not recorded done), per responsible unit."""
    on = parse_day(at) if at is not None else None
    with session_scope() as session:
        by_unit = service.overdue(session, on, region)
    if as_json:
        _echo_json({unit: [i.to_dict() for i in items] for unit, items in by_unit.items()})
        return
    if not by_unit:
        typer.echo("没有逾期事项")
    for unit, items in by_unit.items():
        typer.echo(f"{unit}：逾期 {len(items)} 项")
        for i in items:
            typer.echo(
                f"  {i.region.name} {i.line.number} {i.milestone.title}（{i.milestone.id}）期限 {i.effective_date}"
            )


@app.command("history", help="按时间先后列出全部完成与延期登记（登记人、时间、原因）")
def history(
    line: str | None = typer.Option(None, "--line", help="热线号码"),
    region: str | None = typer.Option(None, "--region", help="地区"),
) -> None:
    """Every recorded completion and postponement (who, when, why), oldest first."""
    with session_scope() as session:
        records = service.history(session, line, region)
    if not records:
        typer.echo("没有登记记录")
    for r in records:
        typer.echo(
            f"{china(r.recorded_at):%Y-%m-%d %H:%M} {r.recorded_by} {r.line} {r.milestone} {r.region} "
            f"{KIND_LABELS[r.kind]} {r.day.isoformat()} {r.note}"
        )


@app.command("hours", help="设置分中心实现 7×24 小时服务前的服务时间（默认工作日 09:00-17:00）")
def hours(
    number: str = typer.Argument(..., help="分中心热线号码"),
    opens: str = typer.Option(..., "--opens", help="开始时间 HH:MM"),
    closes: str = typer.Option(..., "--closes", help="结束时间 HH:MM"),
    region: str | None = typer.Option(None, "--region", help="地区；不指定时适用于全部地区"),
    every_day: bool = typer.Option(False, "--every-day", help="每天服务（默认仅工作日）"),
    actor: str = typer.Option("", "--by", help="设置人"),
) -> None:
    """Set a sub-centre's service hours before it reaches 7×24 (default: working days 09:00-17:00)."""
    with session_scope() as session:
        result = service.set_subcenter_hours(
            session,
            number,
            service.parse_time_of_day(opens),
            service.parse_time_of_day(closes),
            region_code=region,
            workdays_only=not every_day,
            actor=actor,
        )
    typer.echo(f"已设置 {number} 分中心服务时间：{result.describe()}（{region or '全部地区'}）")
