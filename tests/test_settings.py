"""Settings from the environment: a mistyped value stops the platform with a Chinese message, at start-up."""

from __future__ import annotations

import pytest

from hotline.settings import Settings, without_secrets


@pytest.mark.parametrize(("name", "value"), [
    ("HOTLINE_AUTH", "maybe"),
    ("HOTLINE_PROXY_NETWORKS", "10.0.0.0/33"),
    ("HOTLINE_PROXY_NETWORKS", "127.0.0.1/32,kamailio.local"),
    ("HOTLINE_PORT", "eighty"),
    ("HOTLINE_QUEUE_WORKERS", "sometimes"),
    ("HOTLINE_CALLBACK_HOURS", "0"),
    ("HOTLINE_CALLBACK_HOURS", "一天"),
    ("HOTLINE_CALLBACK_MAX_ATTEMPTS", "-1"),
])  # fmt: skip
def test_a_mistyped_setting_stops_with_its_name(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert f"环境变量 {name}" in str(stopped.value.code)


@pytest.mark.parametrize(("value", "required"), [("", True), ("on", True), ("OFF", False), ("0", False)])
def test_sign_in_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch, value: str, required: bool) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", value)
    assert Settings.from_env().auth_required is required


def test_the_proxy_networks_may_be_emptied_to_require_a_token_from_every_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_PROXY_NETWORKS", "")
    assert Settings.from_env().proxy_networks == ""


@pytest.mark.parametrize(("value", "running"), [("", True), ("on", True), ("off", False), ("no", False)])
def test_serve_runs_the_queue_workers_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch, value: str, running: bool
) -> None:
    monkeypatch.setenv("HOTLINE_QUEUE_WORKERS", value)
    assert Settings.from_env().queue_workers is running


@pytest.mark.parametrize(("shown", "expected"), [
    ("nats://hotline:s3cret-pass@10.0.0.5:4222", "nats://hotline:***@10.0.0.5:4222"),
    ("nats://s3cret-token@10.0.0.5:4222", "nats://***@10.0.0.5:4222"),
    ("无法连接消息队列 nats://hotline:s3cret@q:4222：refused", "无法连接消息队列 nats://hotline:***@q:4222：refused"),
    ("tls://a:s3cret@q1:4222 nats://b:s3cret@q2:4222", "tls://a:***@q1:4222 nats://b:***@q2:4222"),
    ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
])  # fmt: skip
def test_a_queue_url_is_shown_without_its_password_or_token(shown: str, expected: str) -> None:
    assert without_secrets(shown) == expected


def test_the_platform_replies_come_under_its_own_inbox_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_NATS_INBOX", raising=False)
    assert Settings.from_env().nats_inbox == "_INBOX_hotline"
    monkeypatch.setenv("HOTLINE_NATS_INBOX", "_INBOX_feed-12366")
    assert Settings.from_env().nats_inbox == "_INBOX_feed-12366"
    monkeypatch.setenv("HOTLINE_NATS_INBOX", "_INBOX.>")
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "HOTLINE_NATS_INBOX" in str(stopped.value.code)
