"""A real server (uvicorn, SQLite with demo data) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.platform_process import Platform

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("web")
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": f"sqlite:///{data / 'web.db'}"}
    hotline = [sys.executable, "-m", "hotline"]
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([*hotline, *command], env={**os.environ, **env}, check=True, capture_output=True)
    platform = Platform(env, log=data / "server.log")
    platform.start()
    yield platform.url
    platform.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, web_server: str) -> Iterator[object]:
    context = browser.new_context(base_url=web_server, locale="zh-CN")  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()
