"""`hotline sms …` as operators run it (SQLite and PostgreSQL): relay, send through the configured gateway, list with
masked numbers, resend a failed text; without a gateway `send` says so, exits 2 and sends nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from hotline.cli import mount
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.sms import service
from hotline.sms.store import Message
from hotline.timeutil import now
from tests.sms.conftest import Answer, Gateway, take


def _run(*args: str) -> tuple[int, str]:
    """Exit code and output as `hotline` gives them: a refusal exits 2 with its code and message (`cli.main`)."""
    result = CliRunner().invoke(mount(), ["sms", *args])
    if isinstance(result.exception, HotlineError):
        return 2, f"错误[{result.exception.code}]：{result.exception.message}"
    return result.exit_code, result.output


def _all_due() -> None:
    """Whatever the hour the test runs at, the texts written are due (not held over the quiet hours)."""
    with session_scope() as s:
        s.execute(update(Message).values(next_try_at=now() - timedelta(minutes=1)))


def test_relay_send_list_and_retry(db_url: str, gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    number = take(now())
    take(now(), type="举报")
    assert _run("relay") == (0, "已读取流转记录 2 条，新增待发送短信 1 条、不发送 1 条\n")
    _all_due()
    code, out = _run("send")
    assert code == 2 and "错误[sms-gateway-not-configured]：未配置短信网关" in out
    assert gateway.received == []

    monkeypatch.setenv("HOTLINE_SMS_GATEWAY_URL", gateway.url)
    gateway.answers.append(Answer(400, {}))
    assert _run("send") == (0, "已发送 0 条，发送失败 1 条，稍后重试 0 条\n")
    code, out = _run("list", "--state", "failed")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("#") and f"\t{number}\t受理回执\t138****5678\t发送失败\t" in lines[0]
    assert "13812345678" not in out
    assert lines[-1] == "共 1 条（全部：待发送 0，已发送 0，发送失败 1，不发送 1）"
    message_id = lines[0].split("\t")[0].lstrip("#")
    code, out = _run("retry", message_id, "--actor", "王芳")
    assert code == 0 and out.startswith(f"短信 #{message_id}（工单 {number} 受理回执）已改为待发送")
    code, out = _run("retry", message_id)
    assert code == 2 and out.startswith("错误[sms-not-failed]：只有发送失败的短信可以重新发送")
    with session_scope() as s:
        assert service.state_counts(s)["pending"] == 1


def test_a_reply_delivered_otherwise_is_recorded_and_listed(db_url: str, gateway: Gateway) -> None:
    from tests.sms.test_service import send

    number = take(now() - timedelta(hours=1), direct=True)
    with session_scope() as s:
        service.relay_once(s, at=now() - timedelta(hours=1))
    send(gateway, now() - timedelta(minutes=50))
    code, out = _run("reply", "--from", "13812345678", "--text", "满意")
    assert (code, out) == (0, f"回复 {_last()}：已记为回访\n")
    code, out = _run("reply", "--from", "13812345678", "--text", "1", "--at", "昨天")
    assert code == 2 and out.startswith("错误[sms-invalid-reply]")
    code, out = _run("replies")
    lines = out.splitlines()
    assert code == 0 and "\t138****5678\t'满意'（满意）\t已记为回访\t" + number in lines[0]
    assert "13812345678" not in out and lines[-1] == "共 1 条；短信评价不满意、待电话回访的工单 0 件"
    code, out = _run("replies", "--outcome", "unsatisfied", "--json")
    assert (code, out.strip()) == (0, "[]")


def _last() -> str:
    from sqlalchemy import func, select

    from hotline.sms.store import CitizenReply

    with session_scope() as s:
        return f"#{s.scalar(select(func.max(CitizenReply.id)))}"
