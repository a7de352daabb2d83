"""Commands of push: `hotline push run|status`."""

from __future__ import annotations

import json

import typer

from hotline import queue
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.push import service

app = HotlineTyper(no_args_is_help=True, help="工单推送：把派单、催办、督办等事件推送到承办单位、分中心的业务系统")


@app.command("run", help="持续读取工单流转记录，按承办单位推送到消息队列")
def run(
    url: str | None = typer.Option(None, "--url", help="消息队列地址（默认 HOTLINE_NATS_URL）"),
    idle_exit: float | None = typer.Option(None, "--idle-exit", help="连续这么多秒无新事件即退出（默认一直运行）"),
) -> None:
    """Publish each unit's work-order events to the message queue."""
    from hotline.push import stream

    def show(delivery: service.Delivery) -> None:
        payload = delivery.payload
        typer.echo(f"[{delivery.history_id}] {payload['event_label']} {payload['order']['number']} → {delivery.unit}")

    published = queue.run_until_signalled(
        lambda stop: stream.relay(url=url, idle_exit=idle_exit, on_delivery=show, stop=stop)
    )
    typer.echo(f"已推送 {published} 条事件")


@app.command(
    "skip",
    help="从现在起推送：跳过已有的流转记录\n\n在已运行的平台上首次启用推送时使用，否则会把历史上的派单、催办等全部推送一遍",
)
def skip() -> None:
    """Deliver only events from now on: move past the history already written."""
    with session_scope() as session:
        skipped = service.skip_history(session)
    typer.echo(f"已跳过 {skipped} 条流转记录，今后的事件将被推送")


@app.command("status", help="推送进度：已推送到的流转记录、待推送数量")
def status(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    """How far the relay has read the work-order history."""
    with session_scope() as session:
        found = service.status(session)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"已推送至流转记录 {found['last_id']}，待推送 {found['backlog']} 条，等待中的空缺 {found['holes']} 个"
        f"（更新于 {found['updated_at'] or '从未运行'}）"
    )
