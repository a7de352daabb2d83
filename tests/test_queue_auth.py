"""The NATS users and permissions `hotline feeds nats-config` writes, enforced by a nats-server of the test's own:
the platform connects with its password, a source publishes to its own subject only and reads nothing, a unit's
system reads its own events only, and a wrong password is refused without being shown."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nkeys
import pytest
from nats.errors import TimeoutError as NatsTimeout
from sqlalchemy import select
from typer.testing import CliRunner

from hotline import queue
from hotline.aggregation import stream
from hotline.aggregation.store import FeedCallRow, FeedRejection
from hotline.cli import mount
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.push import stream as push_stream
from hotline.queue_auth import inbox, parse_passwords
from hotline.workorders import service as workorders
from tests.push.test_stream import TAX, ZJJ, dispatched
from tests.queue_support import own_nats_server, run

pytestmark = pytest.mark.queue

CALLS = {"records": [{"kind": "call", "id": "S1", "started_at": "2021-11-01T09:00:00"}]}


@dataclass
class Secured:
    """The test's own server, with the users the command wrote; `be` makes the platform's settings those of a user."""

    address: str
    passwords: dict[str, str]
    monkeypatch: pytest.MonkeyPatch

    def url(self, user: str, password: str | None = None) -> str:
        return f"nats://{user}:{password or self.passwords[user]}@{self.address}"

    def be(self, user: str) -> None:
        self.monkeypatch.setenv("HOTLINE_NATS_URL", self.url(user))
        self.monkeypatch.setenv("HOTLINE_NATS_INBOX", inbox(user))


@pytest.fixture
def secured(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Secured]:
    for name in ("HOTLINE_FEEDS_STREAM", "HOTLINE_FEEDS_SUBJECT", "HOTLINE_PUSH_STREAM", "HOTLINE_PUSH_SUBJECT"):
        monkeypatch.delenv(name, raising=False)
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        workorders.add_unit(session, TAX, "国家税务总局四川省税务局（12366分中心）", "subcentre", region_code="510000")
    written = CliRunner().invoke(mount(), ["feeds", "nats-config", "--output", str(tmp_path / "nats-auth.conf")])
    assert written.exit_code == 0, written.output
    passwords = parse_passwords((tmp_path / "nats-auth.conf.passwords").read_text(encoding="utf-8"), "passwords")
    with own_nats_server(tmp_path / "nats", (tmp_path / "nats-auth.conf").read_text(encoding="utf-8")) as address:
        server = Secured(address, passwords, monkeypatch)
        server.be("hotline")
        run(stream.listen(idle_exit=0))  # the platform runs first: its stream and consumer exist
        yield server


def drain() -> stream.Tally:
    return run(stream.listen(idle_exit=0.5))


def calls_kept() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FeedCallRow.external_id)))


def test_a_source_publishing_with_its_own_credentials_reaches_the_platform(secured: Secured) -> None:
    secured.be("feed-12366")
    seq = run(stream.publish("12366", CALLS))
    secured.be("hotline")
    tally = drain()
    assert (tally.stored, tally.rejected, tally.retried) == (1, 0, 0)
    assert calls_kept() == ["S1"] and seq == 1


def test_a_source_publishing_for_another_is_refused_by_the_server_and_nothing_is_kept(secured: Secured) -> None:
    secured.be("feed-12366")
    with pytest.raises(HotlineError) as refused:
        run(stream.publish("510100", CALLS))
    assert refused.value.code == "queue-permission-denied"
    assert 'permissions violation for publish to "hotline.feeds.510100"' in refused.value.message

    secured.be("hotline")
    tally = drain()
    assert (tally.stored, tally.rejected, tally.retried) == (0, 0, 0) and calls_kept() == []

    async def messages() -> int:
        nc, js = await queue.connect()
        try:
            return int((await js.stream_info("HOTLINE_FEEDS")).state.messages)
        finally:
            await nc.close()

    assert run(messages()) == 0
    with session_scope() as session:
        assert session.scalars(select(FeedRejection)).all() == []


@pytest.mark.parametrize("subject", ["hotline.feeds.>", "hotline.feeds.510100", "_INBOX_hotline.>", "_INBOX.>"])
def test_a_source_cannot_read_the_stream_nor_the_platform_s_replies(secured: Secured, subject: str) -> None:
    secured.be("feed-12366")

    async def listen_in() -> None:
        nc, _ = await queue.connect()
        try:
            await nc.subscribe(subject)
            with contextlib.suppress(TimeoutError):  # the refusal comes on its own, not as an answer
                await asyncio.wait_for(nc.refused.wait(), 5)
            queue.check(nc)
        finally:
            await nc.close()

    with pytest.raises(HotlineError) as refused:
        run(listen_in())
    assert f'permissions violation for subscription to "{subject.lower()}"' in refused.value.message


def test_a_source_cannot_read_the_stream_through_a_consumer(secured: Secured) -> None:
    secured.be("feed-12366")

    async def consume() -> None:
        nc, js = await queue.connect()
        try:
            await queue.unrefused(nc, js.pull_subscribe("hotline.feeds.*", durable="spy", stream="HOTLINE_FEEDS"))
        finally:
            await nc.close()

    with pytest.raises(HotlineError) as refused:
        run(consume())
    assert (
        refused.value.code == "queue-permission-denied"
        and "$js.api.consumer.info.hotline_feeds.spy" in refused.value.message
    )


def read_events(consumer: str, unit: str) -> list[str]:
    """What a unit's system reads with its durable CONSUMER filtered on UNIT's subject (acknowledged)."""

    async def read() -> list[str]:
        nc, js = await queue.connect()
        try:
            sub = await queue.unrefused(
                nc, js.pull_subscribe(f"hotline.units.{unit}", durable=consumer, stream="HOTLINE_UNITS")
            )
            try:
                got = await queue.unrefused(nc, sub.fetch(10, timeout=2))
            except (NatsTimeout, TimeoutError):  # nothing (more) for it
                return []
            for msg in got:
                await queue.unrefused(nc, msg.ack_sync())
            return [json.loads(msg.data)["order"]["number"] for msg in got]
        finally:
            await nc.close()

    return run(read())


def test_a_unit_s_system_reads_its_own_events_only(secured: Secured) -> None:
    housing = dispatched(ZJJ, "小区电梯长期故障")
    dispatched(TAX, "个税专项附加扣除怎么填")
    assert run(push_stream.relay(idle_exit=0.5)) == 2  # the platform publishes to every unit's subject

    secured.be(f"unit-{ZJJ}")
    for consumer, unit in [(f"unit-{ZJJ}", TAX), (f"unit-{TAX}", TAX), ("orders", ZJJ)]:
        with pytest.raises(HotlineError) as refused:
            read_events(consumer, unit)
        assert refused.value.code == "queue-permission-denied", (consumer, unit)
    assert read_events(f"unit-{ZJJ}", ZJJ) == [housing]
    assert read_events(f"unit-{ZJJ}", ZJJ) == []  # acknowledged: its consumer has moved past it


@pytest.mark.parametrize("password", ["not-the-password-42", None])
def test_a_wrong_password_is_refused_without_showing_it(
    secured: Secured, monkeypatch: pytest.MonkeyPatch, password: str | None
) -> None:
    url = secured.url("hotline", password) if password else f"nats://{secured.address}"
    monkeypatch.setenv("HOTLINE_NATS_URL", url)
    with pytest.raises(HotlineError) as refused:
        run(stream.listen(idle_exit=0))
    assert refused.value.code == "queue-unreachable"
    assert "拒绝登录" in refused.value.message
    if password:
        assert password not in refused.value.message
        assert f"nats://hotline:***@{secured.address}" in refused.value.message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, object], signer: nkeys.KeyPair) -> str:
    """A NATS JWT (what `nsc` writes) of CLAIMS, issued and signed by SIGNER."""
    claims = {"iat": int(time.time()), "iss": signer.public_key.decode(), **claims}
    claims["jti"] = base64.b32encode(hashlib.sha256(json.dumps(claims).encode()).digest()).decode().rstrip("=")
    signed = f"{_b64(json.dumps({'typ': 'JWT', 'alg': 'ed25519-nkey'}).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signed}.{_b64(signer.sign(signed.encode()))}"


def test_the_platform_connects_with_a_credentials_file_where_accounts_are_jwts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator, account, user = (
        nkeys.from_seed(nkeys.encode_seed(os.urandom(32), prefix))
        for prefix in (nkeys.PREFIX_BYTE_OPERATOR, nkeys.PREFIX_BYTE_ACCOUNT, nkeys.PREFIX_BYTE_USER)
    )
    unlimited = {"subs": -1, "data": -1, "payload": -1}
    account_jwt = _jwt({"sub": account.public_key.decode(), "name": "hotline", "nats": {
        "type": "account", "version": 2,
        "limits": {**unlimited, "imports": -1, "exports": -1, "wildcards": True, "conn": -1, "leaf": -1},
    }}, operator)  # fmt: skip
    user_jwt = _jwt({"sub": user.public_key.decode(), "name": "hotline", "nats": {
        "type": "user", "version": 2, "pub": {}, "sub": {}, **unlimited,
    }}, account)  # fmt: skip
    operator_jwt = _jwt({"sub": operator.public_key.decode(), "name": "op", "nats": {"type": "operator", "version": 2}},
                        operator)  # fmt: skip
    creds = tmp_path / "hotline.creds"
    creds.write_text(
        f"-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n"
        f"-----BEGIN USER NKEY SEED-----\n{user.seed.decode()}\n------END USER NKEY SEED------\n"
    )
    trusted = f'operator: "{operator_jwt}"\nresolver: MEMORY\nresolver_preload: {{ {account.public_key.decode()}: "{account_jwt}" }}\n'

    async def connected() -> bool:
        nc, _ = await queue.connect()
        try:
            return bool(nc.is_connected)
        finally:
            await nc.close()

    # Without a system account JetStream does not start in this mode; connecting is what is shown here.
    with own_nats_server(tmp_path / "nats", trusted, jetstream=False) as address:
        monkeypatch.setenv("HOTLINE_NATS_URL", f"nats://{address}")
        monkeypatch.setenv("HOTLINE_NATS_CREDS", str(creds))
        assert run(connected())
        monkeypatch.setenv("HOTLINE_NATS_CREDS", str(tmp_path / "missing.creds"))
        with pytest.raises(HotlineError) as unreadable:
            run(connected())
        assert unreadable.value.code == "queue-unreachable" and "HOTLINE_NATS_CREDS" in unreadable.value.message
        monkeypatch.delenv("HOTLINE_NATS_CREDS")
        with pytest.raises(HotlineError) as refused:
            run(connected())
        assert refused.value.code == "queue-unreachable" and "拒绝登录" in refused.value.message


def test_what_a_source_can_still_put_on_another_s_subject_is_refused_by_the_listener(
    secured: Secured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nats-server does not check a publish's reply subject against the publisher's permissions: a source can have
    the server's acknowledgement of its own batch stored under another source's subject. That is no batch of its
    making, and with sign-in on it carries no signature of that source: refused, and not taken as that source
    being heard from."""
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    secured.be("feed-12366")

    async def misdirect() -> None:
        nc, _ = await queue.connect()
        try:
            await nc.publish("hotline.feeds.12366", b'{"records": []}', reply="hotline.feeds.510100")
            await nc.flush()
        finally:
            await nc.close()

    run(misdirect())
    secured.be("hotline")
    tally = drain()
    assert (tally.stored, tally.rejected) == (0, 2)  # its own batch is unsigned too
    with session_scope() as session:
        refused = {(r.source, r.code) for r in session.scalars(select(FeedRejection))}
    assert refused == {("12366", "login-required"), ("510100", "login-required")}
