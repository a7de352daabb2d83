"""Commands of hotline.supervision: `hotline kpis export`, `hotline kpis hotspots`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.supervision import export, service
from hotline.supervision.hotspots import RISE_MIN, RISE_RATIO, change_label
from hotline.timeutil import parse_day

app = HotlineTyper(no_args_is_help=True, help="考核指标：导出考核报表；热点诉求")


@app.command(
    "export",
    help="导出一段时间的考核报表到 Excel（.xlsx）：总体指标、承办单位考核、超期工单\n\n"
    "与考核指标页面（/kpis）同一口径；只含指标数据、单位名称和超期工单编号，不含来电人信息。",
)
def export_cmd(
    since: str = typer.Option(..., "--since", help="受理日期起（北京时间，含当日），如 2021-06-01"),
    until: str = typer.Option(..., "--until", help="受理日期止（北京时间，含当日），如 2021-06-30"),
    region: str | None = typer.Option(None, "--region", help="地区：代码或名称，如 成都市；默认全部地区"),
    output: Path = typer.Option(..., "--output", "-o", help="输出文件，如 考核报表_2021-06.xlsx"),
) -> None:
    """Write the KPI report of a period (and region) to an .xlsx workbook."""
    if output.suffix.lower() != ".xlsx":
        raise InvalidInput(f"只能导出为 .xlsx 文件，收到 {output.name}", code="unsupported-format")
    by = f"{getpass.getuser()}（命令行）"
    with session_scope() as session:
        done = export.export_report(session, parse_day(since), parse_day(until), region=region, by=by)
    try:
        output.write_bytes(done.content)
    except OSError as exc:
        raise InvalidInput(f"无法写入文件：{output}（{exc.strerror}）", code="file-not-writable") from exc
    report = done.report
    typer.echo(
        f"已导出考核报表到 {output}（{report['since']} 至 {report['until']}）：受理诉求 {report['orders']} 件，"
        f"承办单位 {len(report['units'])} 个，超期工单 {len(report['overdue_orders'])} 张"
    )


@app.command(
    "hotspots",
    help="热点诉求：一段时间受理的工单按诉求分类计数并与上一期（同样天数）比较环比，列出上升明显的分类、热词和热点地点\n\n"
    "与热点诉求页面（/hotspots）同一口径：已并单的重复工单照计，协办工单不另计；"
    f"上升明显指较上期增加不少于 {RISE_RATIO:.0%} 且不少于 {RISE_MIN} 件。",
)
def hotspots_cmd(
    since: str | None = typer.Option(
        None, "--since", help="受理日期起（北京时间，含当日），如 2021-06-01；默认截止日期前 7 天"
    ),
    until: str | None = typer.Option(None, "--until", help="受理日期止（北京时间，含当日），如 2021-06-07；默认今天"),
    region: str | None = typer.Option(None, "--region", help="地区：代码或名称，如 成都市；默认全部地区"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 GET /api/supervision/hotspots 相同）"),
) -> None:
    """Print the hot topics of a period (and region) against the period of the same length just before."""
    start, end = service.period_of(since, until, days=service.HOTSPOT_DAYS)
    with session_scope() as session:
        report = service.hotspots(session, start, end, region=region or None)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for line in _hotspot_lines(report):
        typer.echo(line)


def _heat(item: dict[str, Any]) -> str:
    return f"{item['count']} 件（上期 {item['before']} 件，{change_label(item['count'], item['before'])}）"


def _hotspot_lines(report: dict[str, Any]) -> list[str]:
    previous = report["previous"]
    lines = [
        f"热点诉求：{report['since']} 至 {report['until']}（{report['region_name']}），"
        f"上期 {previous['since']} 至 {previous['until']}",
        f"受理工单 {_heat({'count': report['orders'], 'before': report['orders_before']})}",
        "",
        f"上升明显（较上期增加不少于 {RISE_RATIO:.0%} 且不少于 {RISE_MIN} 件）：",
    ]
    lines += [f"  {c['category'] or '未分类'}：{_heat(c)}" for c in report["rising"]] or ["  无"]
    lines += ["", "诉求分类："]
    for c in report["categories"]:
        lines.append(f"  {c['name']}：{_heat(c)}{' ↑' if c['rising'] else ''}")
        lines += [f"    {s['name']}：{_heat(s)}{' ↑' if s['rising'] else ''}" for s in c["children"]]
    if not report["categories"]:
        lines.append("  无")
    for title, items in (("热词", report["keywords"]), ("热点地点", report["places"])):
        lines += ["", f"{title}："]
        lines += [
            f"  {i:>2}. {item['name']}：{_heat(item)}，例：{'、'.join(item['examples'])}"
            for i, item in enumerate(items, 1)
        ] or ["  无"]
    return lines
