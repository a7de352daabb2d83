"""Batches through a real NATS JetStream server: stored once acknowledged, kept while the platform is down,
refused batches terminated and explained, database failures redelivered; with sign-in on, taken only with an API
token of the source's own feed account."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import nats
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from hotline.accounts import service as accounts
from hotline.accounts.store import Token
from hotline.aggregation import service, stream
from hotline.aggregation.store import FeedCallRow, FeedRejection
from hotline.db import session_scope
from hotline.timeutil import china_day, now
from tests.queue_support import NATS_URL, own_stream, run, stopped_by_sigterm

pytestmark = pytest.mark.queue

CALLS = {
    "records": [
        {"kind": "call", "id": "Q1", "started_at": "2021-11-01T09:00:00", "answered_at": "2021-11-01T09:00:07"},
        {"kind": "call", "id": "Q2", "started_at": "2021-11-01T09:01:00"},
    ]
}


@pytest.fixture
def queue(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A stream and subject of this test's own on the NATS server (deleted afterwards)."""
    yield from own_stream(monkeypatch, "HOTLINE_FEEDS_STREAM", "HOTLINE_FEEDS_SUBJECT")


def publish(source: str, payload: object, token: str | None = None) -> int:
    return run(stream.publish(source, payload, token=token))


def drain() -> tuple[stream.Tally, list[stream.Handled]]:
    seen: list[stream.Handled] = []
    tally = run(stream.listen(idle_exit=1.0, on_outcome=seen.append))
    return tally, seen


def calls_kept() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FeedCallRow.external_id)))


def test_batches_published_while_the_platform_is_down_are_stored_when_it_listens(queue: str) -> None:
    first = publish("12366", CALLS)
    bad = publish("12366", {"records": [{"kind": "call", "id": "Q3"}]})
    publish("99999", CALLS)

    async def raw() -> None:
        nc = await nats.connect(NATS_URL)
        await nc.jetstream().publish(f"{queue}.510100", b"\xff not json")
        await nc.close()

    run(raw())
    assert calls_kept() == []  # nothing is read until the listener runs

    tally, seen = drain()
    assert (tally.stored, tally.rejected, tally.retried) == (1, 3, 0)
    assert seen[0].seq == first and seen[0].result is not None and seen[0].result.inserted == 2
    assert calls_kept() == ["Q1", "Q2"]
    with session_scope() as session:
        refused = {(r.source, r.stream_seq, r.code) for r in session.scalars(select(FeedRejection))}
    # The unknown source's batch is refused too, but has no feed to be listed under.
    assert refused == {("12366", bad, "feed-invalid"), ("510100", bad + 2, "feed-invalid")}
    assert [o.error.code for o in seen[1:] if o.error] == ["feed-invalid", "feed-source-not-found", "feed-invalid"]

    # Acknowledged batches are not read again; a resent batch is stored once.
    publish("12366", CALLS)
    tally, seen = drain()
    assert tally.stored == 1 and seen[0].result is not None and seen[0].result.unchanged == 2
    assert calls_kept() == ["Q1", "Q2"]


def test_a_database_failure_leaves_the_batch_to_be_redelivered(queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = service.ingest
    failures = []

    def flaky(*args: object, **kwargs: object) -> service.IngestResult:
        if not failures:
            failures.append(1)
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "ingest", flaky)
    monkeypatch.setattr(stream, "RETRY_DELAY", 0.2)
    seq = publish("12366", CALLS)
    tally, seen = drain()
    assert (tally.retried, tally.stored) == (1, 1)
    assert [o.seq for o in seen] == [seq, seq] and seen[0].retry and seen[1].result is not None
    assert calls_kept() == ["Q1", "Q2"]


def test_publishing_to_an_unreachable_queue_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(stream.HotlineError) as caught:
        run(stream.publish("12366", CALLS, url=f"nats://127.0.0.1:{port}"))
    assert caught.value.code == "queue-unreachable"


def test_the_commands_send_a_table_and_listen(queue: str, db_url: str, tmp_path: Path) -> None:
    table = tmp_path / "calls.csv"
    table.write_text("呼叫编号,来电时间,接通时间\nF1,2021-11-01 09:00:00,2021-11-01 09:00:04\n", encoding="utf-8")
    hotline = [sys.executable, "-m", "hotline", "feeds"]
    sent = subprocess.run([*hotline, "send", str(table), "--source", "12366", "--kind", "call"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "已发布 1 条记录到消息队列" in sent.stdout
    heard = subprocess.run([*hotline, "listen", "--idle-exit", "1"], capture_output=True, text=True, check=False)
    assert heard.returncode == 0, heard.stderr
    assert "12366：收到 1 条（新增 1" in heard.stdout and "入库 1 批，拒收 0 批" in heard.stdout
    assert calls_kept() == ["F1"]


def test_the_listener_stops_cleanly_on_sigterm(queue: str) -> None:
    listener = stopped_by_sigterm(
        ["feeds", "listen"], done=lambda: bool(calls_kept()), then=lambda: publish("12366", CALLS)
    )
    assert listener.returncode == 0, listener.stderr
    assert "入库 1 批，拒收 0 批" in listener.stdout and calls_kept() == ["Q1", "Q2"]


# -- sign-in on: a source publishes with its feed account's API token --------------------------------------------
def batch(call_id: str) -> dict[str, object]:
    return {"records": [{"kind": "call", "id": call_id, "started_at": "2021-11-01T09:00:00"}]}


def token_of(login: str, roles: list[str], bound_to: str | None = None, **issue: object) -> str:
    with session_scope() as session:
        accounts.create_account(session, login, login, roles, bound_to=bound_to)
        return accounts.issue_token(session, login, **issue).token  # type: ignore[arg-type]


def rejections_listed(source: str) -> list[tuple[int, str, str]]:
    """The refused batches a supervisor sees on the source's page: stream sequence, code, transport."""
    with session_scope() as session:
        day = china_day(now())
        found = service.report(session, source, day, day)["rejections"]
    return sorted((r["stream_seq"], r["code"], r["transport"]) for r in found)


def test_signed_in_only_the_sources_own_token_gets_a_batch_stored(queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    own = token_of("feed-12366", ["feed"], "12366")
    other = token_of("feed-510100", ["feed"], "510100")
    revoked = token_of("old-feed-12366", ["feed"], "12366")
    expired = token_of("late-feed-12366", ["feed"], "12366", days=1, at=now() - timedelta(days=2))
    agent = token_of("zhangmin", ["agent"])
    with session_scope() as session:
        accounts.revoke_tokens(session, "old-feed-12366")

    stored = publish("12366", batch("OK"), own)
    refused = {
        publish("12366", batch("NONE")): "login-required",
        publish("12366", batch("WRONG"), "not-a-token-of-anyone"): "login-required",
        publish("12366", batch("REVOKED"), revoked): "login-required",
        publish("12366", batch("EXPIRED"), expired): "session-expired",
        publish("12366", batch("OTHER"), other): "source-not-granted",
        publish("12366", batch("AGENT"), agent): "role-not-granted",
    }

    # Checked before the content: a stranger's junk is refused for who sent it, not for what it is.
    async def junk() -> None:
        nc = await nats.connect(NATS_URL)
        ack = await nc.jetstream().publish(f"{queue}.12366", b"\xff not json")
        refused[ack.seq] = "login-required"
        await nc.close()

    run(junk())
    tally, seen = drain()

    assert (tally.stored, tally.rejected, tally.retried) == (1, len(refused), 0)
    assert calls_kept() == ["OK"]
    assert {o.seq: o.error.code for o in seen if o.error} == refused
    assert rejections_listed("12366") == sorted((seq, code, "queue") for seq, code in refused.items())
    assert next(o for o in seen if o.seq == stored).result is not None
    with session_scope() as session:  # the token's last use is recorded, as when it is used over HTTP
        used = session.scalars(select(Token.last_used_at).where(Token.digest == accounts.token_digest(own))).one()
    assert used is not None

    # Refused batches are terminated: nothing waits to be delivered again.
    async def waiting() -> tuple[int, int]:
        nc = await nats.connect(NATS_URL)
        try:
            info = await nc.jetstream().consumer_info(os.environ["HOTLINE_FEEDS_STREAM"], stream.DURABLE)
            return info.num_ack_pending, info.num_pending
        finally:
            await nc.close()

    assert run(waiting()) == (0, 0)


def test_batches_without_the_sources_token_do_not_make_it_look_live(
    queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    other = token_of("feed-510100", ["feed"], "510100")
    own = token_of("feed-12366", ["feed"], "12366")
    spoofed = [publish("12367", {"records": []}), publish("12367", {"records": []}, other)]
    bad = publish("12366", {"records": [{"kind": "call", "id": "Q3"}]}, own)  # its own system, a bad record
    drain()
    with session_scope() as session:
        rows = {r["code"]: r for r in service.overview(session)["sources"]}
    assert rows["12367"]["freshness"] == "never"  # 未接入: nobody with its token has sent anything
    assert rejections_listed("12367") == [(spoofed[0], "login-required", "queue"),
                                          (spoofed[1], "source-not-granted", "queue")]  # fmt: skip
    assert rows["12366"]["freshness"] == "live" and rows["12366"]["rejected"] == 1
    assert rejections_listed("12366") == [(bad, "feed-invalid", "queue")]


def test_sign_in_off_needs_no_token(queue: str) -> None:
    publish("12366", batch("A"))
    publish("12366", batch("B"), "whatever")  # not looked at: a gateway in front vouches for the sender
    tally, _ = drain()
    assert (tally.stored, tally.rejected) == (2, 0)
    assert calls_kept() == ["A", "B"]


def test_the_send_command_publishes_with_the_token_from_a_file_or_the_environment(
    queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    token = token_of("feed-12366", ["feed"], "12366")
    (tmp_path / "token").write_text(token + "\n", encoding="utf-8")
    hotline = [sys.executable, "-m", "hotline", "feeds"]

    def send(call_id: str, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        table = tmp_path / f"{call_id}.csv"
        table.write_text(f"呼叫编号,来电时间\n{call_id},2021-11-01 09:00:00\n", encoding="utf-8")
        command = [*hotline, "send", str(table), "--source", "12366", "--kind", "call", *options]
        sent = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        assert sent.returncode == 0, sent.stderr
        return sent

    send("FILE", "--token-file", str(tmp_path / "token"))
    send("ENV", env={**os.environ, "HOTLINE_FEED_TOKEN": token})
    unsigned = send("NONE")
    assert "未提供接口令牌" in unsigned.stderr  # the sender is told before the platform refuses it
    heard = subprocess.run([*hotline, "listen", "--idle-exit", "1"], capture_output=True, text=True, check=False)
    assert heard.returncode == 0, heard.stderr
    assert "入库 2 批，拒收 1 批" in heard.stdout
    assert "12366：已拒收[login-required]：消息未携带接口令牌" in heard.stderr
    assert calls_kept() == ["ENV", "FILE"]
