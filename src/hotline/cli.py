"""The `hotline` command: mounts each capability's commands. Commands parse, call a service, render."""

from __future__ import annotations

import sys

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


def _mount() -> None:
    # Imported here so one capability's optional heavy imports stay out of the others' start-up.
    from hotline.calendar import cli as calendar_cli
    from hotline.dispatch import cli as dispatch_cli
    from hotline.knowledge import cli as knowledge_cli
    from hotline.plan import cli as plan_cli
    from hotline.routing import cli as routing_cli
    from hotline.telephony import cli as telephony_cli
    from hotline.workorders import cli as workorders_cli

    app.command("route")(routing_cli.route)
    app.add_typer(plan_cli.app, name="plan")
    app.add_typer(calendar_cli.app, name="calendar")
    app.add_typer(workorders_cli.app, name="order")
    app.add_typer(knowledge_cli.app, name="kb")
    app.add_typer(dispatch_cli.app, name="dispatch")
    app.add_typer(telephony_cli.prompts_app, name="prompts")
    app.add_typer(telephony_cli.app, name="telephony")


_mount()


def main() -> None:
    try:
        app()
    except HotlineError as exc:
        typer.echo(f"错误[{exc.code}]：{exc.message}", err=True)
        sys.exit(2)
