"""Commands of aggregation: `hotline feeds status|import|send|listen|nats-config`."""

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


def _write_private(path: Path, text: str) -> None:
    """Write TEXT to PATH readable by its owner alone, whole or not at all (it holds passwords)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InvalidInput(f"无法写入 {path}：{exc.strerror or exc}", code="file-not-writable") from None


@app.command(
    "nats-config",
    help="生成消息队列（NATS）服务器的用户与权限配置\n\n"
    "平台、每个数据来源、每个承办单位系统各一个用户，各自只能收发自己的主题；"
    "密码沿用密码文件中已有的，缺少的新生成并写回该文件，不在屏幕上显示",
)
def nats_config(
    output: Path = typer.Option(..., "--output", help="写入的授权配置（nats-server 配置中用 include 引入）"),
    passwords: Path | None = typer.Option(
        None, "--passwords", help="密码文件，每行“用户名 密码”（默认为输出文件名加 .passwords）"
    ),
) -> None:
    """Write the NATS server's `authorization` block: the platform, each feed source and each unit's system."""
    from hotline import queue_auth
    from hotline.aggregation import stream
    from hotline.settings import get_settings
    from hotline.workorders import service as workorders

    settings = get_settings()
    passwords = passwords or output.with_name(f"{output.name}.passwords")
    with session_scope() as session:
        sources = service.list_sources(session)
        units = [unit for unit in workorders.list_units(session) if unit["active"]]
    feeds = {"feeds_stream": settings.feeds_stream, "feeds_subject": settings.feeds_subject}
    push = {"push_stream": settings.push_stream, "push_subject": settings.push_subject}
    usable = [s for s in sources if queue_auth.is_subject_token(s.code)]
    users = [
        queue_auth.platform_user(**feeds, **push, durable=stream.DURABLE),
        *(queue_auth.feed_user(s.code, s.name, **feeds) for s in usable),
        *(queue_auth.unit_user(u["code"], u["name"], **push) for u in units),
    ]
    try:
        known = queue_auth.parse_passwords(passwords.read_text(encoding="utf-8"), str(passwords))
    except FileNotFoundError:
        known = {}
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(f"无法读取密码文件：{passwords}", code="file-unreadable") from None
    everything, made = queue_auth.with_passwords(users, known)
    if made:  # first, so that no configuration ever holds a password its file lacks
        _write_private(passwords, queue_auth.format_passwords(everything))
    _write_private(output, queue_auth.render(users, everything, note=f"Passwords: {passwords.resolve()}"))

    for source in sources:
        if source not in usable:
            typer.echo(f"数据来源代码 {source.code} 含有消息主题中不能用的字符，未为其生成用户", err=True)
    platform_inbox = queue_auth.inbox(queue_auth.PLATFORM_USER)
    typer.echo(f"已写入 NATS 授权配置 {output}：平台 1 个用户，数据来源 {len(usable)} 个，承办单位系统 {len(units)} 个")
    typer.echo(f"密码保存在 {passwords}（本次新生成 {len(made)} 个；此处不显示密码）")
    typer.echo(
        f'在 nats-server 的配置中加入 include "{output.name}"（并开启 JetStream），'
        "然后重新加载：systemctl reload nats-server 或 nats-server --signal reload"
    )
    typer.echo(
        f"平台：HOTLINE_NATS_URL=nats://{queue_auth.PLATFORM_USER}:<密码>@<主机>:4222，"
        f"收件前缀 HOTLINE_NATS_INBOX={platform_inbox}（默认值）"
    )
    typer.echo(
        f"数据来源：以 feed-<来源代码> 登录，只能发布到 {settings.feeds_subject}.<来源代码>，"
        f"收件前缀 {queue_auth.inbox('feed-<来源代码>')}"
    )
    typer.echo(
        f"承办单位系统：以 unit-<单位代码> 登录，用同名的持久拉取消费者读取 {settings.push_subject}.<单位代码>，"
        f"收件前缀 {queue_auth.inbox('unit-<单位代码>')}"
    )
    if settings.nats_inbox != platform_inbox:
        typer.echo(f"注意：本机 HOTLINE_NATS_INBOX 为 {settings.nats_inbox}，平台用户只能用 {platform_inbox}", err=True)
