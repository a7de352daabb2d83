"""A real server (uvicorn, SQLite with demo data) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline import db
from tests.conftest import new_pg_database
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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module asking for `own_database` runs once per database `--db` names."""
    if "own_backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if choice == "both" else [choice]
        metafunc.parametrize("own_backend", backends, indirect=True, scope="module")


@pytest.fixture(scope="module")
def own_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def own_database(own_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of the module's own, for a server whose data must outlive the tests (the shared test
    databases are emptied between tests)."""
    if own_backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('own-db') / 'own.db'}"
        yield url
        db.get_engine(url).dispose()
        return
    with new_pg_database("hotline_web") as url:
        yield url


@pytest.fixture(scope="session")
def web_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared server's HOTLINE_DATA_DIR (where a test can put the files the platform reads)."""
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="session")
def web_server(web_data_dir: Path) -> Iterator[str]:
    data = web_data_dir
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
