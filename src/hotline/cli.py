"""The `hotline` command: mounts each capability's commands. Commands parse, call a service, render."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

from hotline import messages

messages.install()  # before Typer is imported: it reads its panel titles when imported

import typer  # noqa: E402
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption  # noqa: E402
from typer.models import CommandFunctionType  # noqa: E402

from hotline import db  # noqa: E402
from hotline.errors import HotlineError  # noqa: E402

try:  # Typer 0.16 and later carry their own Click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

# Help is for Chinese users: each command passes help="…" in Chinese (its docstring stays the English code doc), and
# every capability builds its Typers with HotlineTyper, whose classes put Chinese on what Typer writes itself: the
# --help option and the panel titles. The rest of Typer's own text comes in Chinese from `hotline.messages`: its
# hints ("[required]", "Try … for help") through a gettext catalog, the usage line and usage errors of the Click
# it carries (plain English there) said again by `format_usage` and `parse_args` below.
HELP_OPTION_HELP = "显示本帮助信息并退出"
_ARGUMENTS_PANEL, _OPTIONS_PANEL, _COMMANDS_PANEL = "参数", "选项", "命令"


def _localise_params(params: list[Any]) -> None:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # Typer's rich help would print a flag's type, "<bool>", as if it took a value
        if isinstance(param, (TyperArgument, TyperOption)) and not param.rich_help_panel:
            param.rich_help_panel = _ARGUMENTS_PANEL if isinstance(param, TyperArgument) else _OPTIONS_PANEL


def _in_chinese(error: UsageError) -> UsageError:
    if isinstance(error, NoArgsIsHelpError):
        return error  # prints the help, not a message
    translated = UsageError(messages.usage_error(error.format_message()), error.ctx)
    translated.__cause__ = error
    return translated


def _localise_help_option(option: TyperOption | None) -> TyperOption | None:
    if option is not None:
        option.help = HELP_OPTION_HELP
        _localise_params([option])
    return option


class _ChineseUsage:
    """The usage line and usage errors in Chinese, for commands and groups alike (listed before their Typer base)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except UsageError as error:
            raise _in_chinese(error) from error

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), messages.usage_prefix())


class HotlineCommand(_ChineseUsage, TyperCommand):
    """A command whose help shows no flag types and has Chinese panel titles and --help text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _localise_params(self.params)

    def get_help_option(self, ctx: Any) -> TyperOption | None:  # ctx: the click Context inside Typer
        return _localise_help_option(super().get_help_option(ctx))


class HotlineGroup(_ChineseUsage, TyperGroup):
    """A group of commands, localised as `HotlineCommand`; its commands are listed under a Chinese title."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _localise_params(self.params)
        for command in self.commands.values():
            # (Typer leaves a placeholder, not None, when a command names no panel)
            if isinstance(command, (TyperCommand, TyperGroup)) and not command.rich_help_panel:
                command.rich_help_panel = _COMMANDS_PANEL

    def get_help_option(self, ctx: Any) -> TyperOption | None:  # ctx: the click Context inside Typer
        return _localise_help_option(super().get_help_option(ctx))


class HotlineTyper(typer.Typer):
    """`typer.Typer` whose groups and commands are `HotlineGroup` and `HotlineCommand` (unless given another cls)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", HotlineGroup)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", HotlineCommand)
        return super().command(*args, **kwargs)


app = HotlineTyper(
    help="12345 政务服务便民热线平台", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)

db_app = HotlineTyper(help="数据库迁移", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade", help="把数据库迁移到最新结构（或指定的 REVISION）")
def db_upgrade(revision: str = typer.Argument("head", help="目标版本，默认 head（最新）")) -> None:
    """Migrate the database to the newest schema (or REVISION)."""
    db.upgrade(revision=revision)
    typer.echo(f"数据库已迁移到 {revision}")


@db_app.command("downgrade", help="把数据库回退到指定的 REVISION（base 表示回到空库）")
def db_downgrade(revision: str = typer.Argument(..., help="目标版本；base 表示空库")) -> None:
    """Undo migrations down to REVISION (use 'base' for an empty database)."""
    db.downgrade(revision=revision)
    typer.echo(f"数据库已回退到 {revision}")


@app.command("serve", help="启动 HTTP 接口与网页服务")
def serve(
    host: str | None = typer.Option(None, help="监听地址（默认 HOTLINE_HOST 或 127.0.0.1）"),
    port: int | None = typer.Option(None, help="端口（默认 HOTLINE_PORT 或 8000）"),
    workers: int = typer.Option(1, help="进程数"),
    queue_workers: bool | None = typer.Option(
        None,
        "--queue-workers/--no-queue-workers",
        help="同时运行消息队列工作进程：接收分中心数据、推送工单事件（默认 HOTLINE_QUEUE_WORKERS，即开启）",
    ),
) -> None:
    """Start the HTTP API and web pages, and (unless turned off) the message-queue workers beside them."""
    import contextlib
    import os

    import uvicorn

    from hotline.settings import get_settings
    from hotline.workers import beside_the_web

    settings = get_settings()
    if not settings.auth_required:
        typer.echo(
            "警告：登录已关闭（HOTLINE_AUTH=off），平台信任每个请求自报的角色，只应部署在已认证用户的网关之后", err=True
        )
    from hotline.open311.service import legacy_keys_notice

    if notice := legacy_keys_notice():
        typer.echo(notice, err=True)
    beside: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    run_workers = settings.queue_workers if queue_workers is None else queue_workers
    # The web's processes read the choice from the environment (the 数据汇聚 page tells "not started with the
    # platform" from "stopped"), so the command line's choice is passed on to them there.
    os.environ["HOTLINE_QUEUE_WORKERS"] = "on" if run_workers else "off"
    if run_workers:
        beside = beside_the_web()
    else:
        typer.echo(
            "消息队列工作进程未启动：分中心数据需另行运行 hotline feeds listen 接收，工单事件需 hotline push run 推送",
            err=True,
        )
    with beside:
        uvicorn.run(
            "hotline.app:create_app",
            factory=True,
            host=host or settings.http_host,
            port=port or settings.http_port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )


@app.command("demo", help="向数据库载入演示数据（可重复执行）")
def demo(action: str = typer.Argument("load", help="load: 载入演示数据（可重复执行）")) -> None:
    """Load demo data into the database (idempotent)."""
    from hotline import demo as demo_data

    if action != "load":
        raise typer.BadParameter("只支持 load")
    for line in demo_data.load():
        typer.echo(line)


# Each capability's commands: name -> (module, attribute, a command (its help is the module's HELP) or a group of
# commands). A run imports only the capability it names (the others' imports, such as SQLAlchemy models or NumPy
# indexes, cost start-up time).
_CAPABILITIES: dict[str, tuple[str, str, bool]] = {
    "route": ("hotline.routing.cli", "route", False),
    "plan": ("hotline.plan.cli", "app", True),
    "calendar": ("hotline.calendar.cli", "app", True),
    "order": ("hotline.workorders.cli", "app", True),
    "kb": ("hotline.knowledge.cli", "app", True),
    "dispatch": ("hotline.dispatch.cli", "app", True),
    "prompts": ("hotline.telephony.cli", "prompts_app", True),
    "telephony": ("hotline.telephony.cli", "app", True),
    "calls": ("hotline.telephony.cli", "calls_app", True),
    "seats": ("hotline.staffing.cli", "app", True),
    "kpis": ("hotline.supervision.cli", "app", True),
    "feeds": ("hotline.aggregation.cli", "app", True),
    "push": ("hotline.push.cli", "app", True),
    "accounts": ("hotline.accounts.cli", "app", True),
    "settings": ("hotline.changelog.cli", "app", True),
    "quality": ("hotline.quality.cli", "app", True),
    "nuisance": ("hotline.nuisance.cli", "app", True),
    "sms": ("hotline.sms.cli", "app", True),
}
_mounted: set[str] = set()


def mount(names: Iterable[str] | None = None) -> typer.Typer:
    """`app` with the commands of NAMES (default: every capability) added; returns `app`."""
    for name in names if names is not None else _CAPABILITIES:
        if name in _mounted:
            continue
        module, attribute, group = _CAPABILITIES[name]
        imported = importlib.import_module(module)
        found = getattr(imported, attribute)
        if group:
            app.add_typer(found, name=name)
        else:
            app.command(name, help=getattr(imported, "HELP", None))(found)
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
