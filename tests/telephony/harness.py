"""Processes for the real-SIP tests and the benchmark: the platform (uvicorn) and Kamailio on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hotline.telephony.kamailio import ProxySite, kamailio_command, render_config
from tests.platform_process import stop_process as _stop
from tests.telephony.sipp import wait_udp_listening


def recorded_decision(
    base_url: str, call_id: str, *, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """The platform's decision for a call; a call served from the proxy's cache is reported a moment after."""
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(f"{base_url}/telephony/calls/{quote(call_id, safe='')}", headers=headers)
        if r.status_code == 200 and r.json()["decision"] is not None:
            return dict(r.json()["decision"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no decision recorded for {call_id}: {r.status_code} {r.text}")
        time.sleep(0.2)


def require(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        raise RuntimeError(f"{binary} not found: run scripts/setup.sh --test")
    return path


class Kamailio:
    """The shipped deploy/kamailio/kamailio.cfg, rendered for loopback ports, in the foreground."""

    def __init__(
        self,
        workdir: Path,
        router_url: str,
        fallback_uri: str,
        children: int = 4,
        port: int | None = None,
        static_route: bool = False,
        no_cache: bool = False,
        log_level: int = 1,
    ) -> None:
        from tests.telephony.sipp import free_udp_port

        self.workdir = workdir
        self.port = port or free_udp_port()
        self.site = ProxySite(
            listen=f"udp:127.0.0.1:{self.port}",
            router_url=router_url,
            fallback_uri=fallback_uri,
            children=children,
            log_level=log_level,
        )
        self.static_route = static_route
        self.no_cache = no_cache
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        require("kamailio")
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "kamailio.cfg"
        cfg.write_text(render_config(self.site), encoding="utf-8")
        log = (self.workdir / "kamailio.log").open("ab")
        self.proc = subprocess.Popen(
            kamailio_command(cfg, self.workdir, static_route=self.static_route, no_cache=self.no_cache),
            stdout=log,
            stderr=log,
        )
        wait_udp_listening(self.port, timeout=10)
        time.sleep(0.2)  # workers fork after the socket is bound
        if self.proc.poll() is not None:
            raise RuntimeError(f"kamailio exited: {(self.workdir / 'kamailio.log').read_text()[-2000:]}")

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        """Wait until Kamailio's log holds TEXT (the proxy's own lines at L_INFO need log_level >= 2)."""
        log = self.workdir / "kamailio.log"
        deadline = time.monotonic() + timeout
        while text not in log.read_text(encoding="utf-8", errors="replace"):
            if time.monotonic() > deadline:
                raise AssertionError(f"Kamailio did not log {text!r} within {timeout} s")
            time.sleep(0.05)


class SilentServer:
    """Accepts TCP connections and never answers: a platform that hangs."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.conns: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


class GarbageServer(SilentServer):
    """Answers every request with 200 OK and a body that is not a routing decision."""

    def __init__(self, port: int, body: bytes = b"<html>maintenance</html>") -> None:
        self.body = body
        super().__init__(port)

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self._stop:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + str(len(self.body)).encode()
                        + b"\r\n\r\n"
                        + self.body
                    )
        except OSError:
            return
