"""`hotline prompts …` and `hotline telephony …` as a user runs them (separate process)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli import mount
from hotline.errors import HotlineError
from hotline.telephony.kamailio import ProxySite, render_config


def _process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=120
    )


@dataclass
class Ran:
    returncode: int
    stdout: str
    error: BaseException | None


def _run(*args: str) -> Ran:
    """In-process (the interpreter starts once); errors surface as the HotlineError `hotline` maps to exit 2."""
    result = CliRunner().invoke(mount(), list(args))
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return Ran(result.exit_code, result.stdout, error)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by scripts/setup.sh --test")
def test_prompts_list_and_build(db_url: str) -> None:
    listed = _run("prompts", "list")
    assert listed.returncode == 0, listed.error
    assert "transition:12331" in listed.stdout and "after-hours:12366" in listed.stdout
    assert "cancellation:12333" not in listed.stdout  # parallel lines have no notice
    built = _run("prompts", "build", "cancellation:12331")
    assert built.returncode == 0, built.error
    wav = Path(built.stdout.split()[1])
    assert wav.exists() and wav.with_name(wav.name.replace(".wav", ".ulaw.wav")).exists()
    again = _run("prompts", "list")
    assert any(line.startswith("cancellation:12331") and "已生成" in line for line in again.stdout.splitlines())


def test_cli_errors_exit_2_with_a_chinese_message(db_url: str) -> None:
    bad = _process("telephony", "event", "c1", "ringing")
    assert bad.returncode == 2 and "错误[invalid-call-event]：未知的话务事件" in bad.stderr
    for args, code in (
        (("prompts", "build", "welcome:1"), "invalid-prompt"),
        (("telephony", "trunk-set", "cd", "火星"), "region-not-found"),
    ):
        ran = _run(*args)
        assert isinstance(ran.error, HotlineError) and ran.error.code == code


def test_trunks_endpoints_events_transfer_kpis(db_url: str) -> None:
    assert _run("telephony", "trunk-set", "cd-telecom", "成都市").returncode == 0
    assert "510100" in _run("telephony", "trunks").stdout
    assert _run("telephony", "endpoint-set", "police:*", "sip:110@10.0.0.5").returncode == 0
    assert "sip:110@10.0.0.5" in _run("telephony", "endpoints").stdout
    assert "已记录" in _run("telephony", "event", "c1", "offered", "--at", "2021-06-01T10:00").stdout
    assert "已存在" in _run("telephony", "event", "c1", "offered").stdout
    _run("telephony", "event", "c1", "queued", "--at", "2021-06-01T10:00:01")
    _run("telephony", "event", "c1", "answered", "--at", "2021-06-01T10:00:30")
    out = _run("telephony", "kpis", "--since", "2021-06-01", "--until", "2021-06-02").stdout
    assert "人工接通率 100.0%" in out and "15秒接通率 0.0%" in out
    moved = _run("telephony", "transfer", "c1", "police", "--agent", "A001")
    assert moved.returncode == 0 and "110" in moved.stdout


def test_render_config_sets_site_values_only() -> None:
    site = ProxySite(listen="udp:10.0.0.9:5080", router_url="http://10.0.0.8:8000/", fallback_uri="sip:q@10.0.0.7")
    text = render_config(site)
    assert '#!substdef "!HOTLINE_LISTEN!udp:10.0.0.9:5080!g"' in text
    assert '#!substdef "!HOTLINE_ROUTER_URL!http://10.0.0.8:8000!g"' in text  # no path: http_client adds "/"
    assert '#!substdef "!HOTLINE_FALLBACK_URI!sip:q@10.0.0.7!g"' in text
    assert 'modparam("http_client", "httpcon", "router=>HOTLINE_ROUTER_URL")' in text


@pytest.mark.telephony
def test_rendered_config_parses_in_kamailio(tmp_path: Path) -> None:
    out = tmp_path / "k.cfg"
    r = _run("telephony", "kamailio-config", "--listen", "udp:127.0.0.1:15999", "-o", str(out))
    assert r.returncode == 0, r.error
    check = subprocess.run(["kamailio", "-c", "-f", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.telephony
def test_a_config_holding_the_proxys_token_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    signed = tmp_path / "signed.cfg"
    r = _run("telephony", "kamailio-config", "--router", "http://proxy:s3cret-token@127.0.0.1:8000", "-o", str(signed))
    assert r.returncode == 0, r.error
    assert "proxy:s3cret-token@127.0.0.1:8000" in signed.read_text(encoding="utf-8")
    assert signed.stat().st_mode & 0o777 == 0o600
