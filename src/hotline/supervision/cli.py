"""Commands of hotline.supervision: `hotline kpis export`."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.supervision import export
from hotline.timeutil import parse_day

app = HotlineTyper(no_args_is_help=True, help="考核指标：导出考核报表")


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
