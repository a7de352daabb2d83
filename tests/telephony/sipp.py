"""SIPp on loopback for the telephony tests: answering endpoints and one-call callers.

The answering endpoints run the scenarios shipped in deploy/kamailio/sipp/ (they echo the X-Hotline-*
headers they received in an X-Got header of their 200 OK). A caller scenario is written per call: it
checks the X-Got header with <ereg check_it="true">, or the final SIP code, so SIPp's exit code is the
assertion.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "deploy" / "kamailio" / "sipp"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sipp_binary() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("sipp not found: run scripts/setup.sh --test (Debian package sip-tester)")
    return path


@dataclass
class Endpoint:
    """A SIPp UAS answering on 127.0.0.1:port until stopped."""

    name: str
    port: int
    scenario: str = "endpoint_uas.xml"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return f"sip:{self.name}@127.0.0.1:{self.port}"

    def start(self, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sipp_binary(),
                "-sf",
                str(SCENARIOS / self.scenario),
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-key",
                "endpoint",
                self.name,
                "-nostdin",
                "-trace_err",
                "-buff_size",
                "2097152",
                "-error_file",
                str(workdir / f"{self.name}-errors.log"),
            ],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)


def _hdr_lines(headers: dict[str, str]) -> str:
    return "".join(f"      {k}: {escape(v)}\n" for k, v in headers.items())


def caller_scenario(
    *,
    dialed: str,
    tgrp: str | None = None,
    headers: dict[str, str] | None = None,
    expect_got: dict[str, str] | None = None,
    expect_code: int = 200,
    released_by_callee: bool = False,
    pause_ms: int = 50,
    caller: str = "13800001111",
) -> str:
    """One call from CALLER: INVITE, then either check the answer's X-Got fields or expect the final code."""
    ruri = f"sip:{dialed}@[remote_ip]:[remote_port]" + (f";tgrp={tgrp}" if tgrp else "")
    invite = f"""
  <nop><action><log message="Call-ID: [call_id]"/></action></nop>
  <send retrans="500">
    <![CDATA[

      INVITE {ruri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "citizen" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      To: <sip:{dialed}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
{_hdr_lines(headers or {})}      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
"""
    if expect_code != 200:
        body = f"""
  <recv response="{expect_code}"/>
  <send>
    <![CDATA[

      ACK {ruri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-5]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""
    else:
        checks = "".join(
            f'      <ereg regexp={quoteattr(f"[ ;=]{key}={re.escape(value)} ")} search_in="hdr" header="X-Got:" '
            f'check_it="true" assign_to="g{i}"/>\n'
            for i, (key, value) in enumerate((expect_got or {}).items())
        )
        log_refs = "".join(f" [$g{i}]" for i in range(len(expect_got or {})))
        ack = """
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""
        if released_by_callee:
            ending = """
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""
        else:
            ending = f"""
  <pause milliseconds="{pause_ms}"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""
        body = f"""
  <recv response="200" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="X-Got:" check_it="true" assign_to="got"/>
{checks}      <log message="X-Got: [$got]{log_refs}"/>
    </action>
  </recv>
{ack}{ending}"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="hotline caller">
{invite}{body}
</scenario>
"""


@dataclass
class CallResult:
    returncode: int
    got: str
    log: str
    call_id: str = ""


def place_call(
    proxy_port: int, workdir: Path, name: str, scenario: str, timeout: float = 10.0, extra: tuple[str, ...] = ()
) -> CallResult:
    """Place one call through the proxy; SIPp's exit code says whether every check passed (EXTRA: more
    SIPp options, e.g. -cid_str for a Call-ID of another form)."""
    xml = workdir / f"{name}.xml"
    xml.write_text(scenario, encoding="utf-8")
    log = workdir / f"{name}.log"
    errors = workdir / f"{name}-errors.log"
    for path in (log, errors):
        path.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            sipp_binary(),
            f"127.0.0.1:{proxy_port}",
            "-sf",
            str(xml),
            "-i",
            "127.0.0.1",
            "-p",
            str(free_udp_port()),
            "-m",
            "1",
            "-l",
            "1",
            "-nostdin",
            "-timeout",
            f"{int(timeout)}s",
            "-timeout_error",
            "-trace_logs",
            "-log_file",
            str(log),
            "-trace_err",
            "-error_file",
            str(errors),
            *extra,
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout + 10,
    )
    got = ""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    match = re.search(r"X-Got: (.*)", text)
    if match:
        got = match.group(1)
    call_id = re.search(r"Call-ID: (\S+)", text)
    err = errors.read_text(encoding="utf-8", errors="replace") if errors.exists() else ""
    return CallResult(proc.returncode, got, err[-3000:], call_id.group(1) if call_id else "")


def wait_udp_listening(port: int, timeout: float = 5.0) -> None:
    """Wait until something is bound to 127.0.0.1:port over UDP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on udp 127.0.0.1:{port}")
