"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

`db_url` gives a migrated, empty database and points HOTLINE_DATABASE_URL at it. PostgreSQL tests use a
database created for this run (so parallel runs do not collide) and dropped at the end. When CI=true and
PostgreSQL cannot be reached, the run fails rather than skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.exc import OperationalError

from hotline import db

PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["both", "sqlite", "postgresql"],
        default="both",
        help="which databases the store tests run on",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if choice == "both" else [choice]
        metafunc.parametrize("database_url", backends, indirect=True, scope="session")


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Files the platform writes (prompts, models, indexes) go to a temporary folder, not the checkout."""
    path = tmp_path_factory.mktemp("hotline-data")
    old = os.environ.get("HOTLINE_DATA_DIR")
    os.environ["HOTLINE_DATA_DIR"] = str(path)
    # Most tests name the role a request acts in, as a gateway-authenticated deployment does; the accounts
    # tests (and the browser's sign-in test) turn sign-in on for themselves.
    os.environ["HOTLINE_AUTH"] = "off"
    os.environ.setdefault("HOTLINE_DATABASE_URL", f"sqlite:///{path / 'default.db'}")
    yield path
    if old is None:
        os.environ.pop("HOTLINE_DATA_DIR", None)
    else:
        os.environ["HOTLINE_DATA_DIR"] = old


@contextmanager
def new_pg_database(prefix: str = "hotline_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped at the end; skips (fails with CI=true) if PostgreSQL
    cannot be reached."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as DATABASE_URL's (for migration tests that start from nothing)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        with new_pg_database("hotline_mig") as url:
            yield url


def query_plan(url: str, work: Callable[[Any], object], wanted: str = "SELECT") -> str:
    """The plan the database at URL has for the last statement starting with WANTED that WORK(session) sends
    (SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN with sequential scans off: an empty table is read
    whole by any plan, and what matters is whether an index serves the query), one line per node."""
    from hotline.db import get_engine, session_scope

    sent: list[tuple[str, Any]] = []
    engine = get_engine(url)

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        with session_scope() as session:
            work(session)
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    statement, parameters = next((s, p) for s, p in reversed(sent) if s.lstrip().upper().startswith(wanted.upper()))
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if not sqlite:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
        return "\n".join(str(row[-1] if sqlite else row[0]) for row in rows)


def bearer(login: str, roles: list[str], name: str = "", bound_to: str | None = None) -> dict[str, str]:
    """A new account holding ROLES, as the header of a token of its own: a request made as that account."""
    from hotline.accounts import service
    from hotline.db import session_scope

    with session_scope() as session:
        service.create_account(session, login, name or login, roles, bound_to=bound_to)
        return {"Authorization": f"Bearer {service.issue_token(session, login).token}"}


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    with new_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'hotline.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    db.upgrade(url)
    return url


_TABLES: dict[str, MetaData] = {}


def _clear(url: str) -> None:
    from hotline.nuisance import service as nuisance

    nuisance.forget()  # the routing lookup's copy of the 骚扰号码名单 (re-read at most every 0.5 s) of the last test
    meta = _TABLES.get(url)
    engine = db.get_engine(url)
    if meta is None:
        meta = MetaData()
        meta.reflect(engine)
        _TABLES[url] = meta
    with engine.begin() as conn:
        # An FTS5 table keeps its index in shadow tables (`<name>_data`, …): emptied through the table itself.
        virtual = [str(name) for name in conn.scalars(text("SELECT name FROM sqlite_master WHERE sql LIKE "
                                                           "'CREATE VIRTUAL TABLE%'"))] if engine.dialect.name == "sqlite" else []  # fmt: skip
        for table in reversed(meta.sorted_tables):
            if table.name != "alembic_version" and not any(table.name.startswith(f"{v}_") for v in virtual):
                conn.execute(table.delete())


@pytest.fixture
def db_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database (SQLite and PostgreSQL), also set as HOTLINE_DATABASE_URL."""
    _clear(database_url)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    yield database_url
    _clear(database_url)
