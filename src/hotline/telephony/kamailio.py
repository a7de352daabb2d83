"""The shipped Kamailio configuration (deploy/kamailio/kamailio.cfg) and how to run it.

The configuration names its site values in `#!substdef` lines (listen address, the platform's base URL,
the 12345 queue used when the platform cannot answer, worker count, log level). `render_config` rewrites
those lines for a site or a test; everything else in the file is used as shipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import InvalidInput, NotFound

DEPLOY_DIR = Path(__file__).resolve().parents[3] / "deploy" / "kamailio"


@dataclass(frozen=True)
class ProxySite:
    listen: str = "udp:127.0.0.1:5060"
    router_url: str = "http://127.0.0.1:8000"
    fallback_uri: str = "sip:12345@127.0.0.1:5070"
    children: int = 8
    log_level: int = 1

    def values(self) -> dict[str, str]:
        return {
            "HOTLINE_LISTEN": self.listen,
            "HOTLINE_ROUTER_URL": self.router_url.rstrip("/"),
            "HOTLINE_FALLBACK_URI": self.fallback_uri,
            "HOTLINE_CHILDREN": str(self.children),
            "HOTLINE_LOG_LEVEL": str(self.log_level),
        }


_SUBSTDEF = re.compile(r'^#!substdef "!(?P<name>HOTLINE_[A-Z_]+)!(?P<value>[^!]*)!g"$', re.MULTILINE)


def template_path() -> Path:
    path = DEPLOY_DIR / "kamailio.cfg"
    if not path.exists():
        raise NotFound(f"找不到 Kamailio 配置模板：{path}", code="kamailio-config-not-found")
    return path


def render_config(site: ProxySite, template: str | None = None) -> str:
    """The shipped configuration with the site's values in its substdef lines."""
    text = template if template is not None else template_path().read_text(encoding="utf-8")
    values = site.values()
    for name, value in values.items():
        if "!" in value or "\n" in value or '"' in value:
            raise InvalidInput(f"配置值不能包含 ! 或引号：{name}={value}", code="invalid-proxy-setting")
    seen: set[str] = set()

    def _sub(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in values:
            return match.group(0)
        seen.add(name)
        return f'#!substdef "!{name}!{values[name]}!g"'

    rendered = _SUBSTDEF.sub(_sub, text)
    missing = set(values) - seen
    if missing:
        raise InvalidInput(f"模板缺少设置项：{', '.join(sorted(missing))}", code="invalid-proxy-template")
    return rendered


def kamailio_command(
    cfg: Path, run_dir: Path, shm_mb: int = 256, static_route: bool = False, no_cache: bool = False
) -> list[str]:
    """Foreground Kamailio with its workers (-DD), logging to stderr, pid and control files in run_dir.

    static_route: every call to the fallback queue without the lookup (-A HOTLINE_STATIC_ROUTE).
    no_cache: ask the platform for every call, keep no answers (-A HOTLINE_NO_CACHE).
    """
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    command = [
        binary,
        "-DD",
        "-E",
        "-m",
        str(shm_mb),
        "-f",
        str(cfg),
        "-P",
        str(run_dir / "kamailio.pid"),
        "-Y",
        str(run_dir),
    ]
    if static_route:
        command += ["-A", "HOTLINE_STATIC_ROUTE"]
    if no_cache:
        command += ["-A", "HOTLINE_NO_CACHE"]
    return command


def check_config(cfg: Path) -> None:
    """Let Kamailio parse the file (kamailio -c); raises with its message when it does not parse."""
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    proc = subprocess.run([binary, "-c", "-f", str(cfg)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InvalidInput(f"Kamailio 配置无法解析：{proc.stderr.strip()[-500:]}", code="invalid-proxy-config")
