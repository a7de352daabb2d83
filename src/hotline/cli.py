"""The `hotline` command: mounts each capability's commands. Commands parse, call a service, render."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

import typer

from hotline import db
from hotline.errors import HotlineError

app = typer.Typer(
    help="12345 政务服务便民热线平台", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)

db_app = typer.Typer(help="数据库迁移", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database to the newest schema (or REVISION)."""
    db.upgrade(revision=revision)
    typer.echo(f"数据库已迁移到 {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(...)) -> None:
    """Undo migrations down to REVISION (use 'base' for an empty database)."""
    db.downgrade(revision=revision)
    typer.echo(f"数据库已回退到 {revision}")


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="监听地址（默认 HOTLINE_HOST 或 127.0.0.1）"),
    port: int | None = typer.Option(None, help="端口（默认 HOTLINE_PORT 或 8000）"),
    workers: int = typer.Option(1, help="进程数"),
) -> None:
    """Start the HTTP API and web pages."""
    import uvicorn

    from hotline.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        "hotline.app:create_app",
        factory=True,
        host=host or settings.http_host,
        port=port or settings.http_port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@app.command("demo")
def demo(action: str = typer.Argument("load", help="load: 载入演示数据（可重复执行）")) -> None:
    """Load demo data into the database (idempotent)."""
    from hotline import demo as demo_data

    if action != "load":
        raise typer.BadParameter("只支持 load")
    for line in demo_data.load():
        typer.echo(line)


# Each capability's commands: name -> (module, attribute, a command or a group of commands). A run imports only
# the capability it names (the others' imports, such as SQLAlchemy models or NumPy indexes, cost start-up time).
_CAPABILITIES: dict[str, tuple[str, str, bool]] = {
    "route": ("hotline.routing.cli", "route", False),
    "plan": ("hotline.plan.cli", "app", True),
    "calendar": ("hotline.calendar.cli", "app", True),
    "order": ("hotline.workorders.cli", "app", True),
    "kb": ("hotline.knowledge.cli", "app", True),
    "dispatch": ("hotline.dispatch.cli", "app", True),
    "prompts": ("hotline.telephony.cli", "prompts_app", True),
    "telephony": ("hotline.telephony.cli", "app", True),
}
_mounted: set[str] = set()


def mount(names: Iterable[str] | None = None) -> typer.Typer:
    """`app` with the commands of NAMES (default: every capability) added; returns `app`."""
    for name in names if names is not None else _CAPABILITIES:
        if name in _mounted:
            continue
        module, attribute, group = _CAPABILITIES[name]
        found = getattr(importlib.import_module(module), attribute)
        if group:
            app.add_typer(found, name=name)
        else:
            app.command(name)(found)
        _mounted.add(name)
    return app


def main() -> None:
    named = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    mount([named] if named in _CAPABILITIES else None)
    try:
        app()
    except HotlineError as exc:
        typer.echo(f"错误[{exc.code}]：{exc.message}", err=True)
        sys.exit(2)
