"""Commands of accounts: `hotline accounts add|edit|list|passwd|disable|enable|token|revoke|log`.

Passwords are typed at a hidden prompt, or read from standard input with --password-stdin (for scripts), never
given as an argument, where they would stay in the shell history and the process list.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

import typer

from hotline.accounts import domain as d
from hotline.accounts import service
from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.timeutil import china

app = HotlineTyper(no_args_is_help=True, help="账号与登录：工作人员账号、角色、密码和系统接口令牌")

_ROLES_HELP = "角色，可重复：" + "、".join(f"{g.value}（{label}）" for g, label in d.GRANT_LABELS.items())


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码"))


@app.command(
    "add",
    help="新建账号\n\n工作人员账号需要密码；数据接入系统、SIP 代理、服务请求应用（Open311）等系统账号不设密码，"
    "用 token 命令签发接口令牌",
)
def add(
    login: str = typer.Argument(..., help="登录名（小写字母、数字、. _ -）"),
    name: str = typer.Option(..., "--name", help="姓名或系统名称"),
    roles: list[str] = typer.Option(..., "--role", help=_ROLES_HELP),
    bound_to: str | None = typer.Option(None, "--unit", help="承办单位代码（department）或数据来源代码（feed）"),
    no_password: bool = typer.Option(False, "--no-password", help="系统账号：不设密码，只用接口令牌"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取密码（一行）"),
) -> None:
    password = None if no_password else _password(password_stdin)
    with session_scope() as session:
        account = service.create_account(session, login, name, roles, bound_to=bound_to, password=password)
        view = service.account_view(account)
    typer.echo(f"已新建账号 {view['login']}（{view['name']}，{'、'.join(view['role_labels'])}）")


@app.command(
    "edit",
    help="修改账号的姓名、角色或绑定（登录名、密码和接口令牌不变）\n\n"
    '--role 可重复，给出的角色取代原有角色；未给出的项保持不变。--unit "" 取消绑定；'
    "不再有承办单位或数据接入角色时绑定随之取消。正在运行的服务最迟 10 秒内按新角色办理",
)
def edit(
    login: str = typer.Argument(..., help="登录名"),
    name: str | None = typer.Option(None, "--name", help="新的姓名或系统名称"),
    roles: list[str] | None = typer.Option(None, "--role", help=_ROLES_HELP + "（取代原有角色）"),
    bound_to: str | None = typer.Option(None, "--unit", help="承办单位代码或数据来源代码；空字符串取消绑定"),
) -> None:
    with session_scope() as session:
        edited = service.update_account(
            session, login, name=name, grants=roles or None, bound_to=... if bound_to is None else bound_to
        )
    if edited.changes:
        typer.echo(f"已修改账号 {login}：" + "；".join(edited.changes))
    else:
        typer.echo(f"账号 {login} 没有变化")


@app.command("list", help="列出账号")
def list_(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    with session_scope() as session:
        rows = service.list_accounts(session)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "停用" if not row["active"] else ("锁定至 " + row["locked_until"] if row["locked_until"] else "正常")
        bound = f" [{row['bound_to']}]" if row["bound_to"] else ""
        typer.echo(f"{row['login']}\t{row['name']}\t{'、'.join(row['role_labels'])}{bound}\t{state}")


@app.command("passwd", help="设置新密码（该账号已登录的网页会话随之失效，并解除锁定）")
def passwd(
    login: str = typer.Argument(..., help="登录名"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取密码（一行）"),
) -> None:
    password = _password(password_stdin)
    with session_scope() as session:
        service.set_password(session, login, password)
    typer.echo(f"账号 {login} 的密码已更新")


@app.command("disable", help="停用账号：立即注销其全部会话和接口令牌")
def disable(login: str = typer.Argument(..., help="登录名")) -> None:
    with session_scope() as session:
        service.set_active(session, login, False)
    typer.echo(f"账号 {login} 已停用")


@app.command("enable", help="重新启用账号（此前的会话和令牌不会恢复）")
def enable(login: str = typer.Argument(..., help="登录名")) -> None:
    with session_scope() as session:
        service.set_active(session, login, True)
    typer.echo(f"账号 {login} 已启用")


@app.command("token", help="为账号签发接口令牌（只显示这一次，平台只保存其摘要）")
def token(
    login: str = typer.Argument(..., help="登录名"),
    label: str = typer.Option("", "--label", help="用途说明，如“成都分中心数据接入”"),
    days: int = typer.Option(d.TOKEN_DAYS, "--days", help="有效天数"),
) -> None:
    with session_scope() as session:
        issued = service.issue_token(session, login, label=label, days=days)
    typer.echo(issued.token)
    use = (
        "Open311 请求时作为参数 api_key=<令牌>"
        if issued.identity.holds(d.Grant.OPEN311)
        else "请求时加请求头 Authorization: Bearer <令牌>"
    )
    typer.echo(f"有效期至 {china(issued.expires_at):%Y-%m-%d %H:%M}（北京时间）；{use}", err=True)


@app.command("revoke", help="注销账号的全部会话和接口令牌")
def revoke(login: str = typer.Argument(..., help="登录名")) -> None:
    with session_scope() as session:
        count = service.revoke_tokens(session, login)
    typer.echo(f"已注销账号 {login} 的 {count} 个会话或令牌")


@app.command("log", help="登录与账号变更记录（最新在前）")
def log(
    login: str | None = typer.Option(None, "--login", help="只看这个登录名"),
    limit: int = typer.Option(50, "--limit", help="最多显示条数"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    with session_scope() as session:
        rows = service.audit_log(session, login=login, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        at = china(datetime.fromisoformat(row["at"]))
        where = f"\t{row['address']}" if row["address"] else ""
        typer.echo(f"{at:%Y-%m-%d %H:%M:%S}\t{row['login']}\t{row['event_label']}\t{row['detail']}{where}")
