"""Commands of hotline.routing: `hotline route`."""

from __future__ import annotations

import json

import typer

from hotline.db import session_scope
from hotline.plan.regions import PROVINCE
from hotline.routing.domain import ACTION_LABELS
from hotline.routing.service import decide
from hotline.timeutil import now, parse_instant

# The help of `hotline route` (mounted as one command by hotline.cli).
HELP = (
    "查询来电去向：某一时刻在某地区拨打某号码\n\n"
    "依据整合归并计划与已登记的里程碑，给出处理方式、去向、语音提示与技能组。"
)


def route(
    number: str = typer.Argument(..., help="被叫号码，如 12331"),
    at: str | None = typer.Option(None, "--at", help="时刻（ISO 8601；不带时区按北京时间），默认现在"),
    region: str = typer.Option(PROVINCE.name, "--region", help="来电地区：代码、名称或别名，默认省本级"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
) -> None:
    """Where a call to NUMBER goes at an instant, in a region (plan and recorded milestones)."""
    instant = parse_instant(at) if at is not None else now()
    with session_scope() as session:
        decision = decide(session, number, region, instant)
    if as_json:
        typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False))
        return
    typer.echo(f"处理：{ACTION_LABELS[decision.action]}（{decision.action.value}）")
    typer.echo(f"去向：{decision.target or '无'}")
    typer.echo(f"语音提示：{decision.prompt or '无'}")
    typer.echo(f"技能组：{decision.skill or '无'}")
    typer.echo(f"说明：{decision.reason}")
