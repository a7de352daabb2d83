"""Commands of the 骚扰号码名单: `hotline nuisance list|show|propose|approve|reject|lift` (numbers masked)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer

from hotline.accounts.domain import Grant
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.nuisance import domain as n
from hotline.nuisance import service

app = HotlineTyper(no_args_is_help=True, help="骚扰号码名单：申请、审核、驳回、解除（号码已脱敏）")


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _by(actor: str) -> str:
    return actor.strip() or f"{getpass.getuser()}（命令行）"


def _until(e: dict[str, Any]) -> str:
    if e["state"] == n.EntryState.LIFTED.value:
        return f"{e['lifted_time']} 解除"
    return f"至 {e['active_until_time']}" if e["active_until_time"] else f"{e['days']} 天"


def _line(e: dict[str, Any]) -> str:
    return f"#{e['id']}\t{e['number']}\t{e['state_label']}\t{e['treatment_label']}\t{_until(e)}\t{e['reason']}"


@app.command("list", help="列出名单（默认全部；号码已脱敏）")
def list_(
    state: str = typer.Option(
        "", "--state", help="pending 待审核、active 生效中、expired 已到期、lifted 已解除、rejected 已驳回"
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 GET /api/nuisance 的 entries 相同）"),
) -> None:
    """List entries."""
    with session_scope() as session:
        found = service.list_entries(session, state=state or None)
    if as_json:
        _echo_json(found)
        return
    for e in found:
        typer.echo(_line(e))
    typer.echo(f"共 {len(found)} 条")


@app.command("show", help="查看一条名单记录及其全部操作记录")
def show(
    entry_id: int = typer.Argument(..., help="名单记录编号"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """One entry with its history."""
    with session_scope() as session:
        found = service.get_entry(session, entry_id)
    if as_json:
        _echo_json(found)
        return
    typer.echo(_line(found))
    if found["evidence"]:
        typer.echo(f"来源/证据：{found['evidence']}")
    for s in found["history"]:
        typer.echo(f"{s['time']}\t{s['actor']}\t{s['action_label']}{'：' + s['note'] if s['note'] else ''}")


@app.command("propose", help="申请列入骚扰号码名单：按来电编号或工单编号（班长、管理员也可直接填写号码），待审核")
def propose(
    reason: str = typer.Option(..., "--reason", help="申请理由"),
    call_id: str = typer.Option("", "--call", help="来电编号（SIP Call-ID）"),
    order: str = typer.Option("", "--order", help="工单编号"),
    number: str = typer.Option("", "--number", help="号码（仅班长、管理员）"),
    treatment: str = typer.Option("warn", "--treatment", help="warn 提示后转骚扰专席、release 提示后挂断"),
    days: int = typer.Option(n.DEFAULT_DAYS, "--days", help=f"限制天数 1..{n.MAX_DAYS}"),
    evidence: str = typer.Option("", "--evidence", help="证据说明"),
    role: str = typer.Option(Grant.SUPERVISOR.value, "--role", help="申请人角色：agent、dispatcher、supervisor、admin"),
    actor: str = typer.Option("", "--by", help="申请人（默认当前系统用户）"),
) -> None:
    """Apply to list a caller."""
    with session_scope() as session:
        made = service.propose(
            session,
            actor=_by(actor),
            role=role,
            call_id=call_id,
            order=order,
            number=number,
            treatment=treatment,
            days=days,
            reason=reason,
            evidence=evidence,
        )
    typer.echo(f"已申请 #{made['id']}：{made['number']}（{made['treatment_label']}，{made['days']} 天），待审核")


@app.command("approve", help="审核通过：自即刻起按申请的天数生效")
def approve(
    entry_id: int = typer.Argument(..., help="名单记录编号"),
    note: str = typer.Option("", "--note", help="审核意见"),
    actor: str = typer.Option("", "--by", help="审核人（默认当前系统用户）"),
) -> None:
    """Approve an application."""
    with session_scope() as session:
        done = service.approve(session, entry_id, actor=_by(actor), note=note)
    typer.echo(f"已审核通过 #{done['id']}：{done['number']} {done['treatment_label']}，至 {done['active_until_time']}")


@app.command("reject", help="驳回申请（须写明理由）")
def reject(
    entry_id: int = typer.Argument(..., help="名单记录编号"),
    reason: str = typer.Option(..., "--reason", help="驳回理由"),
    actor: str = typer.Option("", "--by", help="审核人（默认当前系统用户）"),
) -> None:
    """Reject an application."""
    with session_scope() as session:
        done = service.reject(session, entry_id, actor=_by(actor), reason=reason)
    typer.echo(f"已驳回 #{done['id']}：{done['decision_note']}")


@app.command("lift", help="提前解除生效中的记录（须写明理由）：该号码的来电恢复正常接入")
def lift(
    entry_id: int = typer.Argument(..., help="名单记录编号"),
    reason: str = typer.Option(..., "--reason", help="解除理由"),
    actor: str = typer.Option("", "--by", help="操作人（默认当前系统用户）"),
) -> None:
    """Lift an entry in force."""
    with session_scope() as session:
        done = service.lift(session, entry_id, actor=_by(actor), reason=reason)
    typer.echo(f"已解除 #{done['id']}：{done['number']} 的来电恢复正常接入")
