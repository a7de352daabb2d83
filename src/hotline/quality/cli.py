"""Commands of 话务/工单质检: `hotline quality draw|pick|list|show|score|void|confirm|appeal|review|figures|sheet`."""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.plan.regions import find_region
from hotline.quality import domain as q
from hotline.quality import service
from hotline.supervision.service import KPI_DAYS, period_bounds, period_of

app = HotlineTyper(no_args_is_help=True, help="话务质检：抽检工单、评分、申诉与复核、质检统计")


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _by(actor: str) -> str:
    return actor.strip() or f"{getpass.getuser()}（命令行）"


def _result(i: dict[str, Any]) -> str:
    if i["total"] is None:
        return "未评分"
    first = f"（原 {i['first_total']} 分）" if i["first_total"] is not None else ""
    return f"{i['total']} 分 {i['result_label']}{first}"


def _line(i: dict[str, Any]) -> str:
    return f"#{i['id']}\t{i['order_number']}\t{i['taken_time']}\t{i['agent']}\t{i['status_label']}\t{_result(i)}"


@app.command("draw", help="随机抽检：从受理日期区间内话务员受理的工单中，每名话务员随机抽取若干张（已质检的除外）")
def draw(
    per_agent: int = typer.Option(..., "--per-agent", help="每名话务员抽取的工单数"),
    since: str = typer.Option("", "--since", help="受理日期起（含），默认最近 7 天"),
    until: str = typer.Option("", "--until", help="受理日期止（含），默认今天"),
    seed: int | None = typer.Option(None, "--seed", help="随机种子（默认随机生成；同一种子对同一批工单抽取结果相同）"),
    actor: str = typer.Option("", "--by", help="质检员（默认当前系统用户）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Draw orders at random per agent from a period: 待质检 tasks."""
    start, end = period_of(since or None, until or None, days=service.DRAW_DAYS)
    with session_scope() as session:
        done = service.draw(session, start, end, per_agent, seed=seed, actor=_by(actor))
    if as_json:
        _echo_json(done)
        return
    for i in done["inspections"]:
        typer.echo(_line(i))
    d = done["draw"]
    typer.echo(
        f"抽检 #{d['id']}：{d['since']} 至 {d['until']} 受理的 {d['candidates']} 张未质检工单中，"
        f"{d['agents']} 名话务员各抽 {d['per_agent']} 张，共 {d['drawn']} 张待质检（随机种子 {d['seed']}）"
    )


@app.command("pick", help="指定抽检：按工单编号把一张工单列入待质检")
def pick(
    number: str = typer.Argument(..., help="工单编号"),
    actor: str = typer.Option("", "--by", help="质检员（默认当前系统用户）"),
) -> None:
    """A 待质检 task on one order."""
    with session_scope() as session:
        made = service.pick(session, number, actor=_by(actor))
    typer.echo(f"已列入待质检：#{made['id']} 工单 {made['order_number']}（受理人 {made['agent']}）")


@app.command("list", help="列出质检任务与结果（默认待质检；来电人信息已脱敏）")
def list_(
    status: str = typer.Option(
        "pending", "--status", help="pending 待质检、done 已质检、appeals 申诉待复核、voided 已作废、all 全部"
    ),
    agent: str = typer.Option("", "--agent", help="只列该话务员的（登录名或姓名）"),
    limit: int = typer.Option(200, "--limit", help="最多列出的条数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 GET /api/quality/inspections 相同）"),
) -> None:
    """List inspections."""
    with session_scope() as session:
        found = service.list_inspections(session, status=status, agent=agent.strip() or None, limit=limit)
    if as_json:
        _echo_json(found)
        return
    for i in found["inspections"]:
        typer.echo(_line(i))
    typer.echo(f"共 {found['total']} 条")


@app.command("show", help="查看一条质检：工单、通话、评分明细和全部记录")
def show(
    inspection_id: int = typer.Argument(..., help="质检编号"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """One inspection in full."""
    with session_scope() as session:
        found = service.get_inspection(session, inspection_id)
    if as_json:
        _echo_json(found)
        return
    typer.echo(_line(found))
    order = found["order"]
    typer.echo(f"工单：{order['type']} {order['category']}：{order['content']}")
    call = found["call"]
    if call is None:
        typer.echo("通话：该工单不是从来电受理的")
    elif not call["found"]:
        typer.echo(f"通话：{call['call_id']}（平台没有该通话的记录）")
    else:
        typer.echo(f"通话：{call['time']} 拨打 {call['dialed']}，通话 {call['talk']}（平台不保存录音）")
    result = found["result"] or {}
    for d in result.get("deductions", []):
        typer.echo(f"  扣分：{d['item']} -{d['points']}：{d['note']}")
    if result.get("veto"):
        typer.echo(f"  一票否决：{result['veto']['item']}：{result['veto']['reason']}")
    if found["void_reason"]:
        typer.echo(f"已作废：{found['voided_by']} {found['voided_time']}：{found['void_reason']}（该工单不再抽检）")
    for s in found["history"]:
        typer.echo(f"{s['time']}\t{s['actor']}\t{s['action_label']}{'：' + s['note'] if s['note'] else ''}")


def _deductions(deduct: list[str] | None) -> list[q.Deduction]:
    return [q.parse_deduction(text) for text in deduct or []]


@app.command("score", help="评分：按质检标准逐项扣分（须写明扣分说明），或一票否决（须写明理由）")
def score(
    inspection_id: int = typer.Argument(..., help="质检编号"),
    deduct: list[str] = typer.Option(None, "--deduct", help="扣分：评分项=分值:说明（评分项可写名称或序号），可重复"),
    veto: str = typer.Option("", "--veto", help="一票否决：否决项:理由"),
    actor: str = typer.Option("", "--by", help="质检员（默认当前系统用户）"),
) -> None:
    """Score a 待质检 task."""
    with session_scope() as session:
        done = service.score(
            session, inspection_id, _deductions(deduct), veto=q.parse_veto(veto) if veto else None, actor=_by(actor)
        )
    typer.echo(f"已评分 #{done['id']}：{_result(done)}；话务员可在 {done['appeal_due']} 前确认或申诉")


@app.command("void", help="作废待质检任务（如测试来电、重复工单已并单、话务员已离职）：须写明原因，该工单不再抽检")
def void(
    inspection_id: int = typer.Argument(..., help="质检编号"),
    reason: str = typer.Option(..., "--reason", help="作废原因"),
    actor: str = typer.Option("", "--by", "--actor", help="质检员（默认当前系统用户）"),
) -> None:
    """Void a task still 待质检."""
    with session_scope() as session:
        done = service.void(session, inspection_id, reason, actor=_by(actor))
    typer.echo(f"已作废 #{done['id']}（工单 {done['order_number']}）：{done['void_reason']}；该工单不再抽检")


@app.command("confirm", help="话务员确认本人的质检结果（确认后不再申诉）")
def confirm(
    inspection_id: int = typer.Argument(..., help="质检编号"),
    actor: str = typer.Option(..., "--by", help="话务员本人（登录名或工单记录中的姓名）"),
) -> None:
    """The agent confirms their own result."""
    with session_scope() as session:
        done = service.confirm(session, inspection_id, agent=actor)
    typer.echo(f"已确认 #{done['id']}：{_result(done)}")


@app.command("appeal", help="话务员对本人的质检结果申诉（每个结果一次，须在评分后规定的工作日内）")
def appeal(
    inspection_id: int = typer.Argument(..., help="质检编号"),
    reason: str = typer.Option(..., "--reason", help="申诉理由"),
    actor: str = typer.Option(..., "--by", help="话务员本人（登录名或工单记录中的姓名）"),
) -> None:
    """The agent appeals their own result."""
    with session_scope() as session:
        done = service.appeal(session, inspection_id, reason, agent=actor)
    typer.echo(f"已申诉 #{done['id']}，待复核")


@app.command("review", help="复核申诉：keep 维持原结果，change 改分（重新填写扣分或一票否决）")
def review(
    inspection_id: int = typer.Argument(..., help="质检编号"),
    outcome: str = typer.Option(..., "--outcome", help="keep 维持原结果、change 改分"),
    note: str = typer.Option(..., "--note", help="复核意见"),
    deduct: list[str] = typer.Option(None, "--deduct", help="改分时的扣分：评分项=分值:说明，可重复"),
    veto: str = typer.Option("", "--veto", help="改分时的一票否决：否决项:理由"),
    actor: str = typer.Option("", "--by", help="复核人（默认当前系统用户）"),
) -> None:
    """Review an appeal."""
    with session_scope() as session:
        done = service.review(
            session,
            inspection_id,
            outcome,
            note,
            deductions=_deductions(deduct),
            veto=q.parse_veto(veto) if veto else None,
            actor=_by(actor),
        )
    typer.echo(f"已复核 #{done['id']}：{done['review_label']}，{_result(done)}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _figure_line(name: str, f: dict[str, Any]) -> str:
    average = "—" if f["average"] is None else f"{f['average']:.2f}"
    return (
        f"{name}\t质检 {f['inspected']}\t平均 {average}\t合格率 {_pct(f['pass_rate'])}\t"
        f"申诉 {f['appeals']}\t改分 {f['changed']}"
    )


@app.command(
    "figures", help="质检统计：按工单受理日期区间，全中心及每名话务员的质检数、平均得分、合格率、申诉数、改分数"
)
def figures(
    since: str = typer.Option("", "--since", help="受理日期起（含），默认最近 30 天"),
    until: str = typer.Option("", "--until", help="受理日期止（含），默认今天"),
    region: str = typer.Option("", "--region", help="地区：代码或名称"),
    agent: str = typer.Option("", "--agent", help="只看该话务员（登录名或姓名）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Figures of a period."""
    start, end = period_bounds(*period_of(since or None, until or None, days=KPI_DAYS))
    with session_scope() as session:
        code = find_region(region).code if region else None
        found = service.figures(session, start, end, region_code=code, agent=agent.strip() or None)
    if as_json:
        _echo_json(found)
        return
    for a in found["agents"]:
        typer.echo(_figure_line(a["agent"], a))
    typer.echo(_figure_line("全中心", found["centre"]) + f"\t待质检 {found['centre']['pending']}")
    typer.echo(f"合格线 {found['pass_line']} 分（本中心规定）")


@app.command("sheet", help="查看现行质检标准（管理员在质检标准页面或 PUT /api/quality/sheet 修改）")
def sheet(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """The sheet results are scored with now."""
    with session_scope() as session:
        found = service.sheet_view(session)
    if as_json:
        _echo_json(found)
        return
    for number, item in enumerate(found["items"], start=1):
        typer.echo(f"{number}. {item['label']}\t{item['points']} 分")
    typer.echo(f"一票否决：{'、'.join(found['vetoes']) or '无'}")
    typer.echo(f"合格线 {found['pass_line']} 分；评分后 {found['appeal_days']} 个工作日内可申诉")
