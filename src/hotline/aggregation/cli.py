"""Commands of aggregation: `hotline feeds status|import|send|listen`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import typer

from hotline import queue
from hotline.aggregation import service
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.tables import read_table

app = HotlineTyper(no_args_is_help=True, help="数据汇聚：分中心、市（州）热线数据实时归集")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@app.command("status", help="各数据来源的接入状态与今日数据")
def status(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    """Every source's connection state and today's figures."""
    with session_scope() as session:
        found = service.overview(session)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for row in found["sources"]:
        milestone = row["milestone"]
        plan = f" · {milestone['title']} {milestone['status_label']}" if milestone else ""
        typer.echo(
            f"{row['code']:<7}{row['name']}：{row['freshness_label']}"
            f"（最近接收 {row['last_seen_at'] or '无'}）今日来电 {row['calls_today']}，"
            f"接通率 {_percent(row['connection_rate_today'])}，今日工单 {row['orders_today']}，"
            f"在办超期 {row['open_overdue']}，拒收批次 {row['rejected']}{plan}"
        )


def _summary(result: service.IngestResult) -> str:
    return (
        f"{result.source}：收到 {result.received} 条（新增 {result.inserted}，更新 {result.updated}，"
        f"未变 {result.unchanged}，过期未采用 {result.stale}）"
    )


@app.command(
    "import", help="导入分中心、市（州）导出的话务或工单表（CSV/Excel）\n\n一个文件一种记录；整表校验，有误则一条不存"
)
def import_file(
    path: Path = typer.Argument(..., help="CSV 或 Excel 文件，首行为表头（中文表头或字段名）"),
    source: str = typer.Option(..., "--source", help="数据来源：分中心热线号码（如 12366）或市州地区代码"),
    kind: str = typer.Option(..., "--kind", help="记录类型：call 话务、workorder 工单"),
) -> None:
    """Store a CSV or Excel export of a source's records (the same checks as a live feed)."""
    table = read_table(path)
    with session_scope() as session:
        result = service.import_table(session, source, table, kind)
    typer.echo(_summary(result))


TOKEN_VARIABLE = "HOTLINE_FEED_TOKEN"


def _token(path: str | None) -> str | None:
    """The feed account's API token, which signs each batch and is never sent: the first line of PATH (- for
    standard input), else $HOTLINE_FEED_TOKEN. Never an argument, where it would stay in the shell history and the
    process list."""
    if path is None:
        return os.environ.get(TOKEN_VARIABLE, "").strip() or None
    try:
        text = sys.stdin.readline() if path == "-" else Path(path).read_text(encoding="utf-8").partition("\n")[0]
    except FileNotFoundError:
        raise InvalidInput(f"文件不存在：{path}", code="file-not-found") from None
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(f"无法读取令牌文件：{path}", code="token-file-unreadable") from None
    token = text.strip()
    if not token:
        raise InvalidInput(f"令牌文件 {path} 是空的", code="token-file-empty")
    return token


@app.command("send", help="把一个表（CSV/Excel）作为一批数据发布到消息队列\n\n供分中心、市（州）系统对接与联调使用")
def send(
    path: Path = typer.Argument(..., help="CSV 或 Excel 文件，首行为表头"),
    source: str = typer.Option(..., "--source", help="数据来源：分中心热线号码或市州地区代码"),
    kind: str = typer.Option(..., "--kind", help="记录类型：call 话务、workorder 工单"),
    url: str | None = typer.Option(None, "--url", help="消息队列地址（默认 HOTLINE_NATS_URL）"),
    token_file: str | None = typer.Option(
        None,
        "--token-file",
        help=f"从文件读取本来源数据接入账号的接口令牌，用于给本批签名，令牌本身不发送（- 为标准输入；默认环境变量 {TOKEN_VARIABLE}）",
    ),
) -> None:
    """Publish a table's records as one batch to the message queue, signed with the feed account's API token."""
    from hotline.aggregation import stream

    token = _token(token_file)
    records = service.records_from_table(read_table(path), kind)
    if token is None:
        typer.echo(f"未提供接口令牌（--token-file 或 {TOKEN_VARIABLE}），本批未签名：平台要求登录时将拒收", err=True)
    seq = asyncio.run(stream.publish(source, {"records": records}, url=url, token=token))
    typer.echo(f"已发布 {len(records)} 条记录到消息队列（消息序号 {seq}）")


@app.command("listen", help="从消息队列接收各来源的数据并入库（持续运行）")
def listen(
    url: str | None = typer.Option(None, "--url", help="消息队列地址（默认 HOTLINE_NATS_URL）"),
    idle_exit: float | None = typer.Option(None, "--idle-exit", help="连续这么多秒无新数据即退出（默认一直运行）"),
) -> None:
    """Store every batch sources publish to the message queue."""
    from hotline.aggregation import stream

    def show(outcome: stream.Handled) -> None:
        if outcome.result is not None:
            typer.echo(f"[{outcome.seq}] {_summary(outcome.result)}")
        elif outcome.error is not None:
            error = outcome.error
            typer.echo(f"[{outcome.seq}] {outcome.source}：已拒收[{error.code}]：{error.message}", err=True)
        else:
            typer.echo(f"[{outcome.seq}] {outcome.source}：入库失败，稍后重试", err=True)

    tally = queue.run_until_signalled(
        lambda stop: stream.listen(url=url, idle_exit=idle_exit, on_outcome=show, stop=stop)
    )
    typer.echo(f"入库 {tally.stored} 批，拒收 {tally.rejected} 批，待重试 {tally.retried} 批")
