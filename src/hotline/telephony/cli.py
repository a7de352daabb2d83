"""Commands of hotline.telephony: `hotline prompts …` (voice notices), `hotline telephony …` and `hotline calls …`
(漏话回拨: the callback tasks of missed calls)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.telephony import agent_states, callbacks, service
from hotline.telephony.domain import EVENT_LABELS, CallEventType
from hotline.telephony.kamailio import ProxySite, check_config, render_config
from hotline.timeutil import china, parse_day, parse_instant

app = HotlineTyper(no_args_is_help=True, help="话务接入：SIP 代理配置、中继、呼叫记录、转接")
prompts_app = HotlineTyper(no_args_is_help=True, help="语音提示")
calls_app = HotlineTyper(no_args_is_help=True, help="来电：漏话回拨")


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


# --- hotline prompts --------------------------------------------------------------------------------


def _prompt_line(p: dict[str, Any]) -> str:
    state = "已生成" if p["built"] else "未生成"
    source = "录音" if p["source"] == "recording" else ("自定义文本" if p["custom_text"] else "默认文本")
    return f"{p['prompt_id']:<22}{p['kind_label']:<10}{p['line']:<12}{source:<6} {state}  {p['text']}"


@prompts_app.command("list", help="列出各热线各阶段的语音提示：文本、来源及音频是否已生成")
def prompts_list(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """Every notice of every line and phase, its text and whether its audio is built."""
    with session_scope() as session:
        found = service.list_prompts(session)
    if as_json:
        _echo_json(found)
        return
    for p in found:
        typer.echo(_prompt_line(p))
    typer.echo(f"共 {len(found)} 条语音提示，已生成 {sum(1 for p in found if p['built'])} 条")


@prompts_app.command("build", help="为尚无音频的语音提示生成音频（8 kHz 单声道 WAV 与 G.711 μ律）")
def prompts_build(
    prompt_ids: list[str] = typer.Argument(None, help="只生成这些提示音（如 transition:12331），默认全部"),
    force: bool = typer.Option(False, "--force", help="已生成的也重新生成"),
) -> None:
    """Make the audio (8 kHz mono WAV and G.711 μ-law) of every notice that has none yet."""
    with session_scope() as session:
        built = service.build_prompts(session, prompt_ids or None, force)
    for p in built:
        typer.echo(f"{p['prompt_id']:<22}{p['wav']}")
    typer.echo(f"已生成 {len(built)} 条语音提示（目录 {Path(built[0]['wav']).parent if built else '-'}）")


@prompts_app.command("set-text", help="修改语音提示的文本，并重新生成音频")
def prompts_set_text(
    prompt_id: str = typer.Argument(..., help="提示音编号，如 transition:12331"),
    text: str = typer.Argument(..., help="新的提示文本（号码请逐位书写，1 读作幺）"),
    actor: str = typer.Option("", "--by", help="修改人"),
) -> None:
    """Change a notice's text; its audio is made again."""
    with session_scope() as session:
        p = service.set_prompt_text(session, prompt_id, text, actor)
    typer.echo(_prompt_line(p))


@prompts_app.command("upload", help="用录音文件代替合成语音")
def prompts_upload(
    prompt_id: str = typer.Argument(..., help="提示音编号"),
    file: Path = typer.Argument(..., help="录音文件（WAV）"),
    actor: str = typer.Option("", "--by", help="上传人"),
) -> None:
    """Use a recorded file instead of synthesis."""
    if not file.is_file():
        raise InvalidInput(f"找不到录音文件：{file}", code="file-not-found")
    with session_scope() as session:
        p = service.upload_recording(session, prompt_id, file.read_bytes(), actor)
    typer.echo(_prompt_line(p))


@prompts_app.command("reset", help="恢复默认文本与合成语音")
def prompts_reset(prompt_id: str = typer.Argument(..., help="提示音编号")) -> None:
    """Back to the default text and synthesised audio."""
    with session_scope() as session:
        p = service.reset_prompt(session, prompt_id)
    typer.echo(_prompt_line(p))


# --- hotline telephony ------------------------------------------------------------------------------


@app.command(
    "kamailio-config",
    help="生成本站点的 Kamailio 配置（SIP 代理）\n\n即 deploy/kamailio/kamailio.cfg；写入文件时用 kamailio -c 检查。",
)
def kamailio_config(
    listen: str = typer.Option("udp:127.0.0.1:5060", help="Kamailio 监听地址"),
    router: str = typer.Option(
        "http://127.0.0.1:8000", help="平台地址（不带路径）；代理不在受信网络时带令牌：http://proxy:<令牌>@主机:端口"
    ),
    fallback: str = typer.Option("sip:12345@127.0.0.1:5070", help="平台无法应答时的 12345 话务队列"),
    children: int = typer.Option(8, help="SIP 工作进程数"),
    output: Path | None = typer.Option(None, "-o", "--output", help="写入文件（默认输出到屏幕）"),
) -> None:
    """Render deploy/kamailio/kamailio.cfg for a site (checked with kamailio -c when written to a file)."""
    text = render_config(ProxySite(listen=listen, router_url=router, fallback_uri=fallback, children=children))
    if output is None:
        typer.echo(text, nl=False)
        return
    if urlsplit(router).password:
        # The file then holds the proxy's API token: readable by its owner (Kamailio's user) only.
        output.touch(mode=0o600)
        output.chmod(0o600)
    output.write_text(text, encoding="utf-8")
    check_config(output)
    typer.echo(f"已写入 {output}")


@app.command("trunk-set", help="设置中继对应的来电地区")
def trunk_set(
    trunk: str = typer.Argument(..., help="中继名（INVITE 的 tgrp 参数或来源 IP）"),
    region: str = typer.Argument(..., help="地区：代码、名称或别名"),
    note: str = typer.Option("", "--note", help="备注"),
) -> None:
    """Map a trunk to the region whose calls arrive on it."""
    with session_scope() as session:
        row = service.set_trunk(session, trunk, region, note)
    typer.echo(f"中继 {row['trunk']} → {row['region']}（{row['region_code']}）")


@app.command("trunks", help="列出中继与地区的对应关系")
def trunks() -> None:
    """List trunk-to-region mappings."""
    with session_scope() as session:
        rows = service.list_trunks(session)
    for row in rows:
        typer.echo(f"{row['trunk']:<24}{row['region_code']}  {row['region']}  {row['note']}")
    typer.echo(f"共 {len(rows)} 条中继（未配置的中继：名称是地区代码或名称时按该地区，否则按省本级）")


@app.command("endpoint-set", help="设置 SIP 代理把逻辑目标转发到的 SIP 地址")
def endpoint_set(
    pattern: str = typer.Argument(..., help="目标模式：queue:*、queue:510100、legacy:12331:510100、announcement:*…"),
    uri: str = typer.Argument(..., help="SIP 地址模板，可用 {kind} {number} {region} {dialed}"),
) -> None:
    """Set the SIP address the proxy relays a logical target to."""
    with session_scope() as session:
        row = service.set_endpoint(session, pattern, uri)
    typer.echo(f"{row['pattern']} → {row['uri']}")


@app.command("endpoints", help="列出各逻辑目标的 SIP 地址")
def endpoints() -> None:
    """List the SIP addresses of logical targets."""
    with session_scope() as session:
        rows = service.list_endpoints(session)
    for row in rows:
        typer.echo(f"{row['pattern']:<28}{row['uri']}")
    typer.echo(f"共 {len(rows)} 个 SIP 目标")


@app.command("calls", help="列出最近的来电路由结果（来电号码已脱敏）")
def calls(
    limit: int = typer.Option(20, help="条数"), as_json: bool = typer.Option(False, "--json", help="输出 JSON")
) -> None:
    """The latest routing decisions (caller's number masked)."""
    with session_scope() as session:
        rows = service.list_calls(session, limit=limit)
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        when = china(parse_instant(r["decided_at"])).strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(
            f"{when}  {r['call_id']:<28}{r['dialed']:<8}{r['caller'] or '-':<14}{r['region']:<8}"
            f"{r['decision']:<10}{r['target'] or r['sip_code'] or '-'}  {r['prompt'] or ''}"
        )


def _hms(seconds: float | None) -> str:
    """Seconds as 时:分:秒 (— when none)."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@app.command("agents", help="座席状态：各座席当日的签入、通话、话后、示忙时长、利用率与接听量")
def agents(
    day: str = typer.Option("", "--day", help="日期 YYYY-MM-DD（北京时间，默认今天）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """The per-agent table of a China day (today by default: up to now)."""
    with session_scope() as session:
        table = agent_states.day_table(session, parse_day(day) if day else None)
    if as_json:
        _echo_json(table)
        return
    typer.echo(f"{table['day']} 座席状态（截至 {table['until'][:19].replace('T', ' ')}）")
    typer.echo("工号      姓名        当前状态          签入时长  通话时长  话后时长  示忙时长  利用率  接听量")
    for r in table["rows"]:
        rate = "—" if r["utilization"] is None else f"{r['utilization'] * 100:.1f}%"
        typer.echo(
            f"{r['agent']:<10}{r['name']:<10}{r['label']:<14}{_hms(r['signed_in_seconds']):>10}"
            f"{_hms(r['busy_seconds']):>10}{_hms(r['wrap_up_seconds']):>10}{_hms(r['not_ready_seconds']):>10}"
            f"{rate:>8}{r['answered']:>8}"
        )
    typer.echo(f"共 {len(table['rows'])} 名座席")


@app.command("call", help="查看一次呼叫的路由结果与呼叫事件")
def call(call_id: str = typer.Argument(..., help="通话标识（SIP Call-ID）")) -> None:
    """A call's routing decision and events."""
    with session_scope() as session:
        _echo_json(service.get_call(session, call_id))


@app.command("event", help="记录一个呼叫事件（同一呼叫的同一事件只记录一次）")
def event(
    call_id: str = typer.Argument(..., help="通话标识（SIP Call-ID）"),
    kind: str = typer.Argument(
        ..., help="事件：offered 呼入、queued 排队、answered 接听、abandoned 放弃、transferred 转接、ended 结束"
    ),
    at: str | None = typer.Option(None, "--at", help="时刻（ISO 8601），默认现在"),
    agent: str = typer.Option("", "--agent", help="座席工号"),
) -> None:
    """Record one call event (idempotent by call id and event)."""
    with session_scope() as session:
        result = service.record_event(session, call_id, kind, parse_instant(at) if at else None, agent)
    label = EVENT_LABELS[CallEventType(result.event["event"])]
    typer.echo(f"{'已记录' if result.created else '已存在（未重复记录）'}：{call_id} {label}")


@app.command(
    "transfer",
    help="把呼叫从 12345 转出：三方转接分中心或一键转接 110\n\n记为该呼叫的转接（transferred）事件。",
)
def transfer(
    call_id: str = typer.Argument(..., help="通话标识（SIP Call-ID）"),
    kind: str = typer.Argument(..., help="subcenter（三方转接分中心）或 police（一键转接110）"),
    number: str | None = typer.Option(None, "--number", help="分中心号码"),
    agent: str = typer.Option("", "--agent", help="座席工号"),
) -> None:
    """Transfer a call from 12345 (recorded as the call's `transferred` event)."""
    with session_scope() as session:
        result = service.transfer_call(session, call_id, kind, number, agent)
    data = result["transferred"]["data"]
    typer.echo(
        f"已转接：{call_id} → {data['to']}（{'三方转接' if data['mode'] == 'three-way' else '一键转接'}）"
        f"{'' if result['created'] else '（此前已转接）'}"
    )


@app.command("kpis", help="统计一段时间内呼入电话的人工接通率与 15 秒接通率")
def kpis(
    since: str = typer.Option(..., "--since", help="开始时刻（含）"),
    until: str = typer.Option(..., "--until", help="结束时刻（不含）"),
    threshold: int = typer.Option(15, "--threshold", help="接通时限（秒）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Connection rate and 15-second answer rate of the calls offered in a period."""
    with session_scope() as session:
        k = service.kpi_report(session, parse_instant(since), parse_instant(until), threshold)
    if as_json:
        _echo_json(k.to_dict())
        return

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v * 100:.1f}%"

    typer.echo(f"呼入 {k.offered}，请求人工 {k.requested}，人工接通 {k.answered}，放弃 {k.abandoned}")
    typer.echo(f"人工接通率 {pct(k.connection_rate)}；{k.threshold_seconds}秒接通率 {pct(k.within_rate)}")


# --- hotline calls ----------------------------------------------------------------------------------------------


def _callback_line(c: dict[str, Any]) -> str:
    late = "  超时" if c["late"] else ""
    state = "" if c["open"] else f"  {c['state_label']}（{c['closed_time']}）"
    line = f"{c['dialed']}（{c['line_name']}）" if c["line_name"] else c["dialed"]
    return (
        f"#{c['id']:<6}{c['last_time']}  {c['caller']:<14}{line:<16}{c['region']:<8}漏话 {c['missed_count']} 次  "
        f"回拨时限 {c['due_time']}{late}  已回拨 {len(c['attempts'])} 次{state}"
    )


@calls_app.command(
    "callbacks",
    help="列出漏话回拨任务（默认待回拨，漏话最早的在前；来电号码已脱敏）\n\n"
    "同一号码在回拨前的多次漏话合为一个任务；该号码此后再次来电并接通时任务自动结束（已再次来电接通）。",
)
def callbacks_list(
    state: str = typer.Option("open", "--state", help="open 待回拨、closed 已处理、all 全部"),
    region: str = typer.Option("", "--region", help="地区：代码或名称"),
    overdue: bool = typer.Option(False, "--overdue", help="只列超时的"),
    full: bool = typer.Option(False, "--full-number", help="显示完整来电号码（回拨时使用）"),
    limit: int = typer.Option(200, "--limit", help="最多列出的条数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 GET /api/callbacks 相同）"),
) -> None:
    """List the callback tasks of missed calls (open ones by default, oldest first; callers' numbers masked)."""
    with session_scope() as session:
        found = callbacks.list_callbacks(
            session, state=state, region=region, overdue=overdue, mask=not full, limit=limit
        )
    if as_json:
        _echo_json(found)
        return
    for c in found["callbacks"]:
        typer.echo(_callback_line(c))
    typer.echo(
        f"共 {found['total']} 个回拨任务（回拨时限：首次漏话后 {found['hours']} 小时内，本中心设定；"
        f"未接通 {found['max_attempts']} 次后结束为多次回拨未接通）"
    )


@calls_app.command(
    "callback",
    help="登记一次回拨：reached 回拨接通、no-answer 未接通、invalid-number 号码无效、not-needed 来电人表示无需办理",
)
def callback_attempt(
    callback_id: int = typer.Argument(..., help="回拨任务编号"),
    outcome: str = typer.Option(..., "--outcome", help="reached、no-answer、invalid-number 或 not-needed"),
    note: str = typer.Option("", "--note", help="备注"),
    order: str = typer.Option("", "--order", help="回拨接通后受理的工单编号"),
    actor: str = typer.Option("", "--by", help="回拨人（默认当前系统用户）"),
) -> None:
    """Record a callback attempt on a task."""
    with session_scope() as session:
        c = callbacks.record_attempt(
            session, callback_id, outcome, note=note, order=order, actor=actor or f"{getpass.getuser()}（命令行）"
        )
    attempt = c["attempts"][-1]
    after = "，任务继续待回拨" if c["open"] else f"，任务已结束：{c['state_label']}"
    order_text = f"，工单 {attempt['order_number']}" if attempt["order_number"] else ""
    typer.echo(f"已登记回拨 #{c['id']}：{attempt['outcome_label']}{order_text}{after}")
