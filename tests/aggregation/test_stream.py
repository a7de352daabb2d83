"""Batches through a real NATS JetStream server: stored once acknowledged, kept while the platform is down,
refused batches terminated and explained, database failures redelivered."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from hotline.aggregation import service, stream
from hotline.aggregation.store import FeedCallRow, FeedRejection
from hotline.db import session_scope
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


def publish(source: str, payload: object) -> int:
    return run(stream.publish(source, payload))


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
