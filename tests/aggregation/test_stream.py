"""Batches through a real NATS JetStream server: stored once acknowledged, kept while the platform is down,
refused batches terminated and explained, database failures redelivered; with sign-in on, taken only when signed
with an API token of the source's own feed account, which never travels and so is never kept in the stream."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import nats
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from hotline import queue as hotline_queue
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


# -- sign-in on: a source signs its batches with its feed account's API token ---------------------------------------
DOCS = Path(__file__).resolve().parents[2] / "docs" / "aggregation.md"


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


def raw(subject: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    """Publish a message as any NATS client would, headers as given; its stream sequence."""

    async def go() -> int:
        nc = await nats.connect(NATS_URL)
        try:
            return int((await nc.jetstream().publish(subject, body, headers=headers, timeout=10)).seq)
        finally:
            await nc.close()

    return run(go())


def signed(token: str, subject: str, body: bytes, **at: float) -> dict[str, str]:
    found = stream.headers(token, subject, body, **at)
    assert found is not None
    return found


def kept_in_stream(seq: int) -> tuple[dict[str, str], bytes]:
    """A message as the stream keeps it for 30 days, for whoever may read the stream: headers and body."""

    async def go() -> tuple[dict[str, str], bytes]:
        nc = await nats.connect(NATS_URL)
        try:
            msg = await nc.jetstream().get_msg(os.environ["HOTLINE_FEEDS_STREAM"], seq)
            return dict(msg.headers or {}), msg.data or b""
        finally:
            await nc.close()

    return run(go())


def assert_no_credential_kept(seq: int, *tokens: str) -> None:
    found, body = kept_in_stream(seq)
    kept = json.dumps(found) + body.decode()
    assert set(found) == {stream.SIGNATURE, stream.TIMESTAMP}
    for token in tokens:  # neither the token nor the key it signs with (what the platform keeps of it)
        assert token not in kept and accounts.token_digest(token) not in kept


def last_used(token: str) -> object:
    with session_scope() as session:
        return session.scalars(select(Token.last_used_at).where(Token.digest == accounts.token_digest(token))).one()


def test_signed_in_only_a_signature_with_the_sources_own_token_gets_a_batch_stored(
    queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    own = token_of("feed-12366", ["feed"], "12366")
    admin = token_of("admin", ["admin"])
    other = token_of("feed-510100", ["feed"], "510100")
    revoked = token_of("old-feed-12366", ["feed"], "12366")
    expired = token_of("late-feed-12366", ["feed"], "12366", days=1, at=now() - timedelta(days=2))
    agent = token_of("zhangmin", ["agent"])
    with session_scope() as session:
        accounts.revoke_tokens(session, "old-feed-12366")
    here, there = f"{queue}.12366", f"{queue}.12367"
    body, changed = json.dumps(batch("MOVED")).encode(), json.dumps(batch("CHANGED")).encode()

    stored = {publish("12366", batch("OK"), own): "OK", publish("12366", batch("ADMIN"), admin): "ADMIN"}
    refused = {
        publish("12366", batch("NONE")): "login-required",
        publish("12366", batch("WRONG"), "not-a-token-of-anyone"): "login-required",
        publish("12366", batch("REVOKED"), revoked): "login-required",
        publish("12366", batch("EXPIRED"), expired): "session-expired",
        publish("12366", batch("OTHER"), other): "source-not-granted",
        publish("12366", batch("AGENT"), agent): "role-not-granted",
        # Signed for another source's subject, by an administrator who may deliver for both: not moved here.
        raw(here, body, signed(admin, there, body)): "login-required",
        raw(here, changed, signed(own, here, body)): "login-required",  # the body changed after signing
        # Signed ten minutes before it was stored: a copy of an old message published again.
        raw(here, changed, signed(own, here, changed, at=time.time() - 600)): "login-required",
        # Signed, but with the token itself in the header: it now sits in the stream, the sender must be told.
        raw(here, changed, {**signed(own, here, changed), "Authorization": f"Bearer {own}"}): "login-required",
        raw(here, b"\xff not json"): "login-required",  # checked before the content: refused for who sent it
        # Malformed: refused, never left to be redelivered for ever.
        raw(here, changed, {stream.TIMESTAMP: "9" * 5000, stream.SIGNATURE: "v1=00"}): "login-required",
        raw(here, changed, {**signed(own, here, changed), stream.SIGNATURE: "v2=00"}): "login-required",
    }
    tally, seen = drain()

    assert (tally.stored, tally.rejected, tally.retried) == (2, len(refused), 0)
    assert calls_kept() == ["ADMIN", "OK"]
    assert {o.seq for o in seen if o.result is not None} == set(stored)
    assert {o.seq: o.error.code for o in seen if o.error} == refused
    assert rejections_listed("12366") == sorted((seq, code, "queue") for seq, code in refused.items())
    said = " ".join(o.error.message for o in seen if o.error)
    assert "超过 300 秒" in said and "消息头不得携带接口令牌" in said and "消息未签名" in said
    # The tokens' last use is recorded, as when they are used over HTTP.
    assert last_used(own) is not None and last_used(admin) is not None and last_used(agent) is not None

    # Refused batches are terminated: nothing waits to be delivered again.
    async def waiting() -> tuple[int, int]:
        nc = await nats.connect(NATS_URL)
        try:
            info = await nc.jetstream().consumer_info(os.environ["HOTLINE_FEEDS_STREAM"], stream.DURABLE)
            return info.num_ack_pending, info.num_pending
        finally:
            await nc.close()

    assert run(waiting()) == (0, 0)

    # Whoever reads the stream finds no credential to deliver with, over the queue or HTTP.
    for seq in stored:
        assert_no_credential_kept(seq, own, admin)
    # They may publish a stored message again as it is: within minutes it is taken, and changes nothing.
    ok = next(seq for seq, name in stored.items() if name == "OK")
    copy_headers, copy_body = kept_in_stream(ok)
    raw(here, copy_body, copy_headers)
    tally, seen = drain()
    assert tally.stored == 1 and seen[0].result is not None and seen[0].result.unchanged == 1


def test_batches_without_the_sources_signature_do_not_make_it_look_live(
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


def test_sign_in_off_needs_no_signature(queue: str) -> None:
    publish("12366", batch("A"))
    publish("12366", batch("B"), "whatever")  # not looked at: a gateway in front vouches for the sender
    tally, _ = drain()
    assert (tally.stored, tally.rejected) == (2, 0)
    assert calls_kept() == ["A", "B"]


def test_the_send_command_signs_with_the_token_from_a_file_or_the_environment(
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

    sent = [
        send("FILE", "--token-file", str(tmp_path / "token")),
        send("ENV", env={**os.environ, "HOTLINE_FEED_TOKEN": token}),
    ]
    unsigned = send("NONE")
    assert "未提供接口令牌" in unsigned.stderr  # the sender is told before the platform refuses it
    heard = subprocess.run([*hotline, "listen", "--idle-exit", "1"], capture_output=True, text=True, check=False)
    assert heard.returncode == 0, heard.stderr
    assert "入库 2 批，拒收 1 批" in heard.stdout
    assert "12366：已拒收[login-required]：消息未签名" in heard.stderr
    assert calls_kept() == ["ENV", "FILE"]
    for done in sent:
        found = re.search(r"消息序号 (\d+)", done.stdout)
        assert found is not None
        assert_no_credential_kept(int(found[1]), token)


def _documented(language: str, containing: str) -> str:
    """The code block of docs/aggregation.md in LANGUAGE that holds CONTAINING, unindented."""
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^\1```", DOCS.read_text(encoding="utf-8"), re.M | re.S)
    (code,) = [re.sub(rf"^{indent}", "", block, flags=re.M) for indent, block in blocks if containing in block]
    return code


def test_the_documented_ways_to_sign_are_the_listeners(
    queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a sub-centre's developers are told (docs/aggregation.md, "Who may deliver") gets their batches in."""
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    text = DOCS.read_text(encoding="utf-8")
    # The worked example, for checking an implementation in another language.
    example = "example-token-not-a-real-one"
    signed_string = stream.signed_string("1700000000", "hotline.feeds.510100", b'{"records": []}')
    assert signed_string.decode() in re.sub(r"\n +", "\n", text)
    assert f"v1={stream.signature(accounts.token_digest(example), signed_string)}" in text
    assert accounts.token_digest(example) in text

    token = token_of("chengdu-feed", ["feed"], "510100")
    subject = f"{queue}.510100"

    async def platform_ready() -> None:  # the stream, as the platform's listener makes it on its first start
        nc, js = await hotline_queue.connect(NATS_URL)
        try:
            await hotline_queue.ensure_stream(js, os.environ["HOTLINE_FEEDS_STREAM"], queue)
        finally:
            await nc.close()

    run(platform_ready())
    functions: dict[str, object] = {}
    exec(_documented("python", "async def publish_batch"), functions)  # the docs' own example, as given
    by_python = run(functions["publish_batch"](NATS_URL, subject, token, batch("PYTHON")))  # type: ignore[operator]
    seqs = [by_python]
    if shutil.which("openssl"):
        (tmp_path / "chengdu-feed.token").write_text(token + "\n", encoding="utf-8")
        body = json.dumps(batch("SHELL"), ensure_ascii=False).encode()
        (tmp_path / "batch.json").write_bytes(body)
        script = _documented("sh", "openssl dgst").replace("subject=hotline.feeds.510100", f"subject={subject}")
        out = subprocess.run(["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
        headers = dict(line.split(": ", 1) for line in out.splitlines())
        seqs.append(raw(subject, body, headers))
    _, seen = drain()
    assert [(o.seq, o.error) for o in seen] == [(seq, None) for seq in seqs]
    assert calls_kept() == sorted(["PYTHON", "SHELL"][: len(seqs)])
    assert_no_credential_kept(by_python, token)
