"""The NATS JetStream servers the message-queue tests use (the machine's shared one, or one of a test's own with
users and permissions), and running their async client from sync tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import nats
import pytest

from tests.platform_process import free_tcp_port, stop_process

NATS_URL = os.environ.get("HOTLINE_TEST_NATS_URL", "nats://127.0.0.1:4222")
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def require_nats() -> None:
    """Skip when no NATS server answers (fail under CI=true, as for PostgreSQL)."""
    target = urlparse(NATS_URL)
    try:
        socket.create_connection((target.hostname or "127.0.0.1", target.port or 4222), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS unreachable at {NATS_URL}: {exc}")
        pytest.skip(f"NATS unreachable at {NATS_URL}: {exc}")


def own_stream(monkeypatch: pytest.MonkeyPatch, stream_variable: str, subject_variable: str) -> Iterator[str]:
    """Point the platform at a stream and subject of this test's own (deleted afterwards); yields the subject."""
    require_nats()
    name = f"TEST_{uuid.uuid4().hex[:10].upper()}"
    subject = f"test.{name.lower()}"
    monkeypatch.setenv("HOTLINE_NATS_URL", NATS_URL)
    monkeypatch.setenv(stream_variable, name)
    monkeypatch.setenv(subject_variable, subject)
    yield subject

    async def drop() -> None:
        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(name)
        finally:
            await nc.close()

    run(drop())


def stopped_by_sigterm(
    args: list[str], done: Callable[[], bool], *, then: Callable[[], None] | None = None, wait: float = 20
) -> subprocess.CompletedProcess[str]:
    """Start the long-running `hotline ARGS`, call THEN, wait until DONE() (at most WAIT seconds), send SIGTERM
    as a service manager would, and return how it ended."""
    command = [sys.executable, "-m", "hotline", *args]
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if then is not None:
            then()
        deadline = time.monotonic() + wait
        while not done() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=10)
    finally:
        worker.kill()
    return subprocess.CompletedProcess(command, worker.returncode, out, err)


class Proxy:
    """A TCP relay to the NATS server on a port of its own, which a test closes to cut the platform off the
    queue (the shared server itself stays up for the other tests). `close` drops the live connections and stops
    listening, so the client's reconnects are refused."""

    def __init__(self) -> None:
        target = urlparse(NATS_URL)
        self._target = (target.hostname or "127.0.0.1", target.port or 4222)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"nats://127.0.0.1:{self._server.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self._open:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                return
            upstream = socket.create_connection(self._target)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._open = False
        with contextlib.suppress(OSError):  # wakes the accepting thread: close alone leaves it listening
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def nats_server_binary() -> str:
    """The nats-server program; skips the test when it is not installed (fails with CI=true)."""
    found = shutil.which("nats-server") or next((p for p in ["/usr/sbin/nats-server"] if Path(p).exists()), None)
    if found is None:
        message = "nats-server is not installed (Debian package nats-server, installed by scripts/setup.sh --test)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextlib.contextmanager
def own_nats_server(folder: Path, included: str, *, jetstream: bool = True) -> Iterator[str]:
    """A nats-server of the test's own (the machine's shared one is left alone) on a free loopback port, JetStream
    on (unless not JETSTREAM) with its store in FOLDER, with INCLUDED (an `authorization` block, say) in its
    configuration; yields `127.0.0.1:<port>` once it accepts connections."""
    binary = nats_server_binary()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_tcp_port()
    (folder / "included.conf").write_text(included, encoding="utf-8")
    config = folder / "server.conf"
    store = f"jetstream {{ store_dir: {json.dumps(str(folder / 'jetstream'))} }}\n" if jetstream else ""
    config.write_text(f'listen: "127.0.0.1:{port}"\n{store}include "included.conf"\n')
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if server.poll() is not None:
                raise AssertionError(f"nats-server stopped: {(folder / 'server.log').read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(server)
        log.close()
