"""`hotline accounts …` as an administrator runs it (a separate process: the prompt, stdin and exit codes)."""

from __future__ import annotations

import os
import subprocess
import sys

from hotline.accounts import service
from hotline.accounts.domain import Grant
from hotline.db import session_scope


def _hotline(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", "accounts", *args], input=stdin, capture_output=True, text=True,
        env=os.environ.copy(), timeout=120,
    )  # fmt: skip


def test_an_administrator_keeps_accounts_from_the_command_line(db_url: str) -> None:
    added = _hotline("add", "lihua", "--name", "李华", "--role", "dispatcher", "--role", "supervisor",
                     "--password-stdin", stdin="Hotline2021\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "已新建账号 lihua（李华，派单员、督办审核员）" in added.stdout
    with session_scope() as session:
        assert service.sign_in(session, "lihua", "Hotline2021").identity.name == "李华"

    listed = _hotline("list")
    assert "lihua\t李华\t派单员、督办审核员\t正常" in listed.stdout

    assert _hotline("passwd", "lihua", "--password-stdin", stdin="Another2022\n").returncode == 0
    with session_scope() as session:
        assert service.sign_in(session, "lihua", "Another2022").identity.login == "lihua"

    assert _hotline("disable", "lihua").returncode == 0
    assert "lihua\t李华\t派单员、督办审核员\t停用" in _hotline("list").stdout
    log = _hotline("log", "--login", "lihua").stdout.splitlines()
    assert [line.split("\t")[2] for line in log] == ["停用账号", "登录", "修改密码", "登录", "新建账号"]  # newest first


def test_a_system_account_gets_a_token_printed_once(db_url: str) -> None:
    assert _hotline("add", "sipproxy", "--name", "SIP 代理", "--role", "proxy", "--no-password").returncode == 0
    issued = _hotline("token", "sipproxy", "--label", "Kamailio 1", "--days", "30")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert "有效期至" in issued.stderr and "Authorization: Bearer" in issued.stderr  # the advice, not the token
    with session_scope() as session:
        assert service.identify(session, token).login == "sipproxy"
    revoked = _hotline("revoke", "sipproxy")
    assert "已注销账号 sipproxy 的 1 个会话或令牌" in revoked.stdout


def test_an_open311_app_is_added_and_told_its_token_is_the_api_key(db_url: str) -> None:
    added = _hotline("add", "tianfu", "--name", "天府通办", "--role", "open311", "--no-password")
    assert added.returncode == 0, added.stderr
    assert "已新建账号 tianfu（天府通办，服务请求应用）" in added.stdout
    assert "tianfu\t天府通办\t服务请求应用\t正常" in _hotline("list").stdout
    issued = _hotline("token", "tianfu", "--label", "天府通办 Open311")
    assert issued.returncode == 0, issued.stderr
    assert "api_key=<令牌>" in issued.stderr and "Authorization" not in issued.stderr
    with session_scope() as session:
        assert service.identify(session, issued.stdout.strip()).grants == (Grant.OPEN311,)


def test_bad_input_is_refused_in_chinese_and_changes_nothing(db_url: str) -> None:
    weak = _hotline("add", "lihua", "--name", "李华", "--role", "dispatcher", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "错误[weak-password]：密码至少 8 位" in weak.stderr
    unknown = _hotline("add", "boss", "--name", "老板", "--role", "boss", "--no-password")
    assert unknown.returncode == 2 and "错误[unknown-role]" in unknown.stderr
    unbound = _hotline("add", "cb", "--name", "承办", "--role", "department", "--no-password")
    assert unbound.returncode == 2 and "错误[binding-required]" in unbound.stderr
    missing = _hotline("passwd", "nobody", "--password-stdin", stdin="Hotline2021\n")
    assert missing.returncode == 2 and "错误[account-not-found]" in missing.stderr
    with session_scope() as session:
        assert service.list_accounts(session) == []


def test_an_agent_is_promoted_and_renamed_keeping_the_login(db_url: str) -> None:
    assert _hotline("add", "zhangmin", "--name", "张敏", "--role", "agent", "--password-stdin",
                    stdin="Hotline2021\n").returncode == 0  # fmt: skip
    promoted = _hotline("edit", "zhangmin", "--role", "agent", "--role", "dispatcher")
    assert promoted.returncode == 0, promoted.stderr
    assert promoted.stdout.strip() == "已修改账号 zhangmin：角色：话务员 → 话务员、派单员"
    assert "zhangmin\t张敏\t话务员、派单员\t正常" in _hotline("list").stdout
    renamed = _hotline("edit", "zhangmin", "--name", "张敏华")
    assert renamed.stdout.strip() == "已修改账号 zhangmin：姓名：张敏 → 张敏华"
    assert _hotline("edit", "zhangmin", "--name", "张敏华").stdout.strip() == "账号 zhangmin 没有变化"
    with session_scope() as session:
        signed = service.sign_in(session, "zhangmin", "Hotline2021")  # the same password
    assert signed.identity.actor == "张敏华（zhangmin）" and signed.identity.grants == (Grant.AGENT, Grant.DISPATCHER)
    log = _hotline("log", "--login", "zhangmin").stdout.splitlines()
    assert [line.split("\t")[2:4] for line in log if "修改账号" in line] == [
        ["修改账号", "姓名：张敏 → 张敏华"],
        ["修改账号", "角色：话务员 → 话务员、派单员"],
    ]


def test_an_edit_is_refused_by_the_rules_and_the_last_administrator_keeps_the_role(db_url: str) -> None:
    assert _hotline("add", "admin", "--name", "管理员", "--role", "admin", "--no-password").returncode == 0
    assert (
        _hotline("add", "tax", "--name", "税务", "--role", "feed", "--unit", "12366", "--no-password").returncode == 0
    )
    last = _hotline("edit", "admin", "--role", "supervisor")
    assert last.returncode == 2 and "错误[last-admin]" in last.stderr
    disable = _hotline("disable", "admin")
    assert disable.returncode == 2 and "错误[last-admin]" in disable.stderr
    unbound = _hotline("edit", "tax", "--unit", "")
    assert unbound.returncode == 2 and "错误[binding-required]" in unbound.stderr
    missing = _hotline("edit", "nobody", "--name", "某")
    assert missing.returncode == 2 and "错误[account-not-found]" in missing.stderr
    # The feed becomes a proxy: the source binding goes with the feed role.
    moved = _hotline("edit", "tax", "--role", "proxy", "--name", "SIP 代理")
    assert moved.returncode == 0, moved.stderr
    assert (
        moved.stdout.strip() == "已修改账号 tax：姓名：税务 → SIP 代理；角色：数据接入系统 → SIP 代理；绑定：12366 → 无"
    )
    with session_scope() as session:
        assert [(r["login"], r["roles"], r["active"]) for r in service.list_accounts(session)] == [
            ("admin", ["admin"], True), ("tax", ["proxy"], True),
        ]  # fmt: skip
