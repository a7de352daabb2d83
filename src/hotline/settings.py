"""One place for configuration: every setting comes from an environment variable with a default."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"环境变量 {name} 必须是整数，当前为 {raw!r}") from exc


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SystemExit(f"环境变量 {name} 必须是正整数，当前为 {value}")
    return value


def _switch(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "on", "true", "yes"}:
        return True
    if raw in {"0", "off", "false", "no"}:
        return False
    raise SystemExit(f"环境变量 {name} 只能是 on 或 off，当前为 {raw!r}")


def _networks(name: str, default: str) -> str:
    raw = os.environ.get(name, default)
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SystemExit(f"环境变量 {name} 须为逗号分隔的网段（如 10.0.0.0/8），{part!r} 不是") from None
    return raw


def _inbox(name: str, default: str) -> str:
    raw = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*", raw):
        raise SystemExit(f"环境变量 {name} 须为不含通配符的 NATS 主题前缀（如 _INBOX_hotline），当前为 {raw!r}")
    return raw


# `scheme://user:password@` or `scheme://token@` in a URL (HOTLINE_NATS_URL), wherever it stands in a text.
_USERINFO = re.compile(r"([a-z][a-z0-9+.-]*://)(?:([^/@\s:]*):)?[^/@\s]+@", re.IGNORECASE)


def without_secrets(text: str) -> str:
    """TEXT with the password or token of every URL in it replaced by *** (the user name stays, to tell which
    account is meant): for whatever shows a queue URL or a message naming one, on a page, in a log or a file."""
    return _USERINFO.sub(lambda m: f"{m[1]}{m[2] + ':' if m[2] is not None else ''}***@", text)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    plan_year: int
    # Tests inject "now" through this; production leaves it unset so the header/flag is ignored.
    allow_time_override: bool
    http_host: str
    http_port: int
    # The message queue sub-centres and cities publish their batches to (NATS JetStream).
    # The URL may carry the platform's NATS user and password (nats://user:password@host:4222) or a token
    # (nats://token@host:4222); never shown whole (`without_secrets`).
    nats_url: str = "nats://127.0.0.1:4222"
    # A NATS credentials file (a user JWT and its NKey seed), for servers whose accounts are managed with JWTs.
    nats_creds: str = ""
    # Replies (acknowledgements, fetched messages) come to subjects under this prefix, which the platform's NATS
    # user alone may subscribe to (`queue_auth`): under the usual shared `_INBOX` anyone could read them.
    nats_inbox: str = "_INBOX_hotline"
    feeds_stream: str = "HOTLINE_FEEDS"
    feeds_subject: str = "hotline.feeds"
    # Where work-order events for units' own systems are published (`<subject>.<unit code>`).
    push_stream: str = "HOTLINE_UNITS"
    push_subject: str = "hotline.units"
    # Deprecated: Open311 apps are accounts with the `open311` grant whose API token is the `api_key`. Keys named
    # here ("name=key,name=key") are still accepted while apps move to tokens (docs/open311.md).
    open311_keys: str = ""
    # Sign-in (accounts): on unless HOTLINE_AUTH=off, which trusts the role each request names (tests, or a
    # gateway that has already authenticated the caller).
    auth_required: bool = True
    # Where the SIP proxy may ask for routes without a token (comma-separated networks).
    proxy_networks: str = "127.0.0.1/32,::1/128"
    # `hotline serve` also runs the message-queue workers (`feeds listen`, `push run`) unless HOTLINE_QUEUE_WORKERS=off.
    queue_workers: bool = True
    # 漏话回拨 (国办函〔2025〕66号: missed calls are called back): a missed call is to be called back within this many
    # hours of the caller's (first) missed call (the centre's own choice, said so on the /callbacks page), and its task
    # closes as 多次回拨未接通 after this many callback attempts no one answered.
    callback_hours: int = 24
    callback_max_attempts: int = 3
    # 短信通知 (hotline.sms): the SMS gateway texts are posted to (none: texts wait as 待发送), its bearer token, where
    # the texts tell citizens to follow their order (the public /track page's address), the tries a text gets
    # while the gateway cannot take it, and how long one try waits for the gateway (seconds).
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_track_url: str = ""
    sms_max_attempts: int = 5
    sms_timeout: int = 10
    # 短信回访: the 办结告知 asks the citizen for a rating (reply 1/2/3), and how many hours after it was sent a reply
    # still answers it.
    sms_survey: bool = True
    sms_survey_hours: int = 72
    # 工单附件 (hotline.attachments): the largest file attached to an order, in MB.
    attachment_max_mb: int = 10

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("HOTLINE_DATA_DIR", "var")).resolve()
        url = os.environ.get("HOTLINE_DATABASE_URL") or f"sqlite:///{data_dir / 'hotline.db'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            plan_year=_int("HOTLINE_PLAN_YEAR", 2021),
            allow_time_override=os.environ.get("HOTLINE_ALLOW_TIME_OVERRIDE", "") in {"1", "true", "yes"},
            http_host=os.environ.get("HOTLINE_HOST", "127.0.0.1"),
            http_port=_int("HOTLINE_PORT", 8000),
            attachment_max_mb=_positive("HOTLINE_ATTACHMENT_MAX_MB", 10),
            nats_url=os.environ.get("HOTLINE_NATS_URL") or "nats://127.0.0.1:4222",
            nats_creds=os.environ.get("HOTLINE_NATS_CREDS", "").strip(),
            nats_inbox=_inbox("HOTLINE_NATS_INBOX", "_INBOX_hotline"),
            feeds_stream=os.environ.get("HOTLINE_FEEDS_STREAM") or "HOTLINE_FEEDS",
            feeds_subject=os.environ.get("HOTLINE_FEEDS_SUBJECT") or "hotline.feeds",
            push_stream=os.environ.get("HOTLINE_PUSH_STREAM") or "HOTLINE_UNITS",
            push_subject=os.environ.get("HOTLINE_PUSH_SUBJECT") or "hotline.units",
            open311_keys=os.environ.get("HOTLINE_OPEN311_KEYS", ""),
            auth_required=_switch("HOTLINE_AUTH", True),
            proxy_networks=_networks("HOTLINE_PROXY_NETWORKS", "127.0.0.1/32,::1/128"),
            queue_workers=_switch("HOTLINE_QUEUE_WORKERS", True),
            callback_hours=_positive("HOTLINE_CALLBACK_HOURS", 24),
            callback_max_attempts=_positive("HOTLINE_CALLBACK_MAX_ATTEMPTS", 3),
            sms_gateway_url=os.environ.get("HOTLINE_SMS_GATEWAY_URL", "").strip(),
            sms_gateway_token=os.environ.get("HOTLINE_SMS_GATEWAY_TOKEN", "").strip(),
            sms_track_url=os.environ.get("HOTLINE_SMS_TRACK_URL", "").strip(),
            sms_max_attempts=_positive("HOTLINE_SMS_MAX_ATTEMPTS", 5),
            sms_timeout=_positive("HOTLINE_SMS_TIMEOUT", 10),
            sms_survey=_switch("HOTLINE_SMS_SURVEY", True),
            sms_survey_hours=_positive("HOTLINE_SMS_SURVEY_HOURS", 72),
        )


_VARIABLES = (
    "HOTLINE_DATA_DIR",
    "HOTLINE_DATABASE_URL",
    "HOTLINE_PLAN_YEAR",
    "HOTLINE_ALLOW_TIME_OVERRIDE",
    "HOTLINE_HOST",
    "HOTLINE_PORT",
    "HOTLINE_ATTACHMENT_MAX_MB",
    "HOTLINE_NATS_URL",
    "HOTLINE_NATS_CREDS",
    "HOTLINE_NATS_INBOX",
    "HOTLINE_FEEDS_STREAM",
    "HOTLINE_FEEDS_SUBJECT",
    "HOTLINE_PUSH_STREAM",
    "HOTLINE_PUSH_SUBJECT",
    "HOTLINE_OPEN311_KEYS",
    "HOTLINE_AUTH",
    "HOTLINE_PROXY_NETWORKS",
    "HOTLINE_QUEUE_WORKERS",
    "HOTLINE_CALLBACK_HOURS",
    "HOTLINE_CALLBACK_MAX_ATTEMPTS",
    "HOTLINE_SMS_GATEWAY_URL",
    "HOTLINE_SMS_GATEWAY_TOKEN",
    "HOTLINE_SMS_TRACK_URL",
    "HOTLINE_SMS_MAX_ATTEMPTS",
    "HOTLINE_SMS_TIMEOUT",
    "HOTLINE_SMS_SURVEY",
    "HOTLINE_SMS_SURVEY_HOURS",
)
_cache: tuple[tuple[str | None, ...], str, Settings] | None = None


def get_settings() -> Settings:
    """The settings for the current environment.

    Tests and the CLI change HOTLINE_* variables between calls, so the cache is keyed by them (and the working
    folder, which a relative HOTLINE_DATA_DIR depends on); building Settings resolves a path, which is slow
    enough to show in the routing latency.
    """
    global _cache
    key = tuple(os.environ.get(name) for name in _VARIABLES)
    cwd = os.getcwd()
    if _cache is None or _cache[0] != key or _cache[1] != cwd:
        _cache = (key, cwd, Settings.from_env())
    return _cache[2]
