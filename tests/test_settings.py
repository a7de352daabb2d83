"""Settings from the environment: a mistyped value stops the platform with a Chinese message, at start-up."""

from __future__ import annotations

import pytest

from hotline.settings import Settings


@pytest.mark.parametrize(("name", "value"), [
    ("HOTLINE_AUTH", "maybe"),
    ("HOTLINE_PROXY_NETWORKS", "10.0.0.0/33"),
    ("HOTLINE_PROXY_NETWORKS", "127.0.0.1/32,kamailio.local"),
    ("HOTLINE_PORT", "eighty"),
    ("HOTLINE_QUEUE_WORKERS", "sometimes"),
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
