"""Commands of 短信通知: `hotline sms list|relay|send|retry`, and of 短信回访 `hotline sms reply|replies` (numbers
masked)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.sms import sender, service

app = HotlineTyper(
    no_args_is_help=True,
    help="短信通知：受理回执、办结告知的发送记录、生成、发送与重新发送；短信回访的市民回复（号码已脱敏）",
)


def _line(m: dict[str, Any]) -> str:
    why = f"（{m['skip_reason_label']}）" if m["skip_reason_label"] else ""
    error = f"\t{m['last_error']}" if m["state"] == "failed" and m["last_error"] else ""
    return f"#{m['id']}\t{m['order_number']}\t{m['kind_label']}\t{m['phone']}\t{m['state_label']}{why}{error}"


@app.command("list", help="列出短信（最新在前；号码已脱敏）")
def list_(
    state: str = typer.Option("", "--state", help="pending 待发送、sent 已发送、failed 发送失败、skipped 不发送"),
    order: str = typer.Option("", "--order", help="工单编号"),
    limit: int = typer.Option(200, "--limit", help="最多列出条数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 GET /api/sms 的 messages 相同）"),
) -> None:
    """List texts."""
    with session_scope() as session:
        found = service.list_messages(session, state=state or None, order=order or None, limit=limit)
        counts = service.state_counts(session)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for m in found:
        typer.echo(_line(m))
    typer.echo(
        f"共 {len(found)} 条（全部：待发送 {counts['pending']}，已发送 {counts['sent']}，"
        f"发送失败 {counts['failed']}，不发送 {counts['skipped']}）"
    )


@app.command("relay", help="读取工单流转记录，生成受理回执、办结告知（后台任务也会自动执行）")
def relay() -> None:
    """Write the texts of the history not read yet."""
    counts = sender.relay_all()
    typer.echo(
        f"已读取流转记录 {counts['read']} 条，新增待发送短信 {counts['written']} 条、不发送 {counts['skipped']} 条"
    )


@app.command("send", help="立即发送到期的短信（需配置 HOTLINE_SMS_GATEWAY_URL；后台任务也会自动执行）")
def send() -> None:
    """One sender round."""
    gateway = sender.configured()
    if gateway is None:
        raise InvalidInput(
            "未配置短信网关（HOTLINE_SMS_GATEWAY_URL），短信保持待发送", code="sms-gateway-not-configured"
        )
    counts = sender.send_now(gateway)
    typer.echo(
        f"已发送 {counts['sent']} 条，发送失败 {counts['failed']} 条，稍后重试 {counts['retry']} 条"
        + (f"，超过 24 小时未发出不再发送 {counts['stale']} 条" if counts["stale"] else "")
    )


@app.command("retry", help="重新发送一条发送失败的短信")
def retry(
    message_id: int = typer.Argument(..., help="短信编号"),
    actor: str = typer.Option("", "--actor", help="操作人（默认当前系统用户）"),
) -> None:
    """A failed text back to 待发送."""
    with session_scope() as session:
        found = service.retry(session, message_id, actor.strip() or f"{getpass.getuser()}（命令行）")
    typer.echo(f"短信 #{found['id']}（工单 {found['order_number']} {found['kind_label']}）已改为待发送")


def _reply_line(r: dict[str, Any]) -> str:
    rated = f"（{r['rating_label']}）" if r["rating_label"] else ""
    waits = "\t待电话回访" if r["awaits_call"] else ""
    return f"#{r['id']}\t{r['received_at']}\t{r['phone']}\t{r['text']!r}{rated}\t{r['outcome_label']}\t{r['order_number'] or '—'}{waits}"


@app.command("reply", help="登记一条经其他途径收到的市民短信回复（1 满意、2 基本满意、3 不满意）")
def reply(
    sender: str = typer.Option(..., "--from", help="发送回复的手机号码"),
    text: str = typer.Option(..., "--text", help="回复内容"),
    at: str = typer.Option("", "--at", help="收到回复的时间（ISO 8601；默认现在）"),
    gateway_id: str = typer.Option("", "--id", help="短信网关的回复编号（同一编号只记一次）"),
) -> None:
    """Record a citizen's reply."""
    with session_scope() as session:
        found = service.receive_reply(
            session, phone=sender, text=text, received_at=at or None, gateway_id=gateway_id or None
        )
    typer.echo(f"回复 #{found['reply_id']}：{found['outcome_label']}")


@app.command("replies", help="列出市民的短信回复（最新在前；号码已脱敏）")
def replies(
    outcome: str = typer.Option(
        "",
        "--outcome",
        help="recorded 已记为回访、unsatisfied 不满意、unrecognized 无法识别、no_survey 无待评价短信、"
        "already_visited 工单已回访、already_answered 已评价过",
    ),
    awaiting: bool = typer.Option(False, "--awaiting", help="只列出不满意、工单仍待电话回访的"),
    limit: int = typer.Option(200, "--limit", help="最多列出条数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 GET /api/sms/replies 的 replies 相同）"),
) -> None:
    """List citizens' replies."""
    with session_scope() as session:
        found = service.list_replies(session, outcome=outcome or None, awaiting=awaiting, limit=limit)
        waiting = service.awaiting_calls(session)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for r in found:
        typer.echo(_reply_line(r))
    typer.echo(f"共 {len(found)} 条；短信评价不满意、待电话回访的工单 {waiting} 件")
