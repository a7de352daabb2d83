"""Commands of hotline.workorders: `hotline order create|act|show|list|remind|lookup|lifecycle|...`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hotline.cli import HotlineTyper
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.timeutil import parse_instant
from hotline.workorders import domain, export, service
from hotline.workorders import units as units_service

app = HotlineTyper(no_args_is_help=True, help="工单：受理、派单、签收、办结、审核、回访、归档")
# Who changes to units, the catalogue and the limits are recorded as (`hotline settings changes`), as the calendar's.
SETTINGS_ACTOR = "admin"
ACTOR_HELP = "操作人（记入变更记录）"


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _summary(view: dict[str, Any]) -> str:
    unit = view["lead_unit"]["name"] if view.get("lead_unit") else "未派单"
    return (
        f"工单 {view['number']}（{view['type']}）：{view['state_label']}；承办单位：{unit}；"
        f"办理期限 {view['due']}（{view['sla_label']}）；版本 {view['version']}"
    )


@app.command("create", help="受理工单：登记诉求，输出工单编号与办理期限")
def create(
    type: str = typer.Option(..., "--type", help="咨询 求助 投诉 举报 意见建议 表扬 其他"),
    content: str = typer.Option(..., "--content", help="诉求内容"),
    phone: str = typer.Option(..., "--phone", help="来电号码"),
    region: str = typer.Option(..., "--region", help="地区代码或名称，如 510100、成都市"),
    at: str | None = typer.Option(None, "--at", help="受理时间 ISO 8601（导入历史工单），默认现在"),
    client_key: str | None = typer.Option(None, "--client-key", help="幂等键"),
    channel: str = typer.Option("phone", help="渠道：phone web sms app subcentre system"),
    name: str = typer.Option("", "--name", help="来电人姓名"),
    line: str = typer.Option("", "--line", help="市民拨打的号码"),
    call_id: str = typer.Option("", "--call-id", help="通话标识"),
    category: str = typer.Option("", "--category", help="分类，如 城乡建设/安全生产/事故处理"),
    place: str = typer.Option("", "--place", help="地点"),
    urgency: str = typer.Option("normal", "--urgency", help="紧急程度：normal 一般、urgent 紧急、critical 特急"),
    confidential: bool = typer.Option(False, "--confidential", help="来电人要求保密"),
    role: str = typer.Option("agent", "--role", help="操作角色"),
    actor: str = typer.Option("", "--actor", help="操作人"),
    advice: bool = typer.Option(True, "--advice/--no-advice", help="附上派单建议（需已训练分类模型）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Register a work order (受理) and print it with its number and due date."""
    when = parse_instant(at) if at else None
    with session_scope() as session:
        from hotline.workorders.advice import advise_for

        suggestion = (
            advise_for(session, text=content, region_code=region, line=line or None, phone=phone, place=place, at=when)
            if advice
            else None
        )
        order = service.create_order(
            session,
            type=type,
            content=content,
            phone=phone,
            region=region,
            at=when,
            client_key=client_key,
            channel=channel,
            caller_name=name,
            line=line,
            call_id=call_id,
            category=category,
            place=place,
            urgency=urgency,
            confidential=confidential,
            actor=actor,
            role=role,
        )
        view = service.order_view(session, order, role)
    if suggestion is not None:
        view["advice"] = suggestion
    if as_json:
        _dump(view)
    else:
        typer.echo(_summary(view))


@app.command(
    "import",
    help="导入原有热线系统的工单（按批提交，中断后可重新运行）\n\n"
    "每批作为一个事务提交；一批提交后才输出其工单编号，所以输出的编号都已入库。中断后重新运行不会重复导入。",
)
def import_cmd(
    path: str = typer.Argument(..., help="JSON Lines 文件，每行一张工单（字段同 create，须含 client_key）"),
    batch: int = typer.Option(200, "--batch", help="每个事务的工单数"),
) -> None:
    """Import orders from a legacy hotline. Each batch commits as a whole; a number is printed only after its
    batch is committed, so every number printed is stored. Run again after an interruption: nothing is doubled."""
    if batch < 1:
        raise InvalidInput("--batch 须为正整数", code="invalid-batch")
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise InvalidInput(f"无法读取文件：{path}（{exc.strerror}）", code="file-not-readable") from exc
    total = 0
    with handle:
        pending: list[tuple[int, dict[str, Any]]] = []
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"第 {line_no} 行不是合法 JSON：{exc.msg}", code="invalid-import-line") from exc
            if not isinstance(record, dict):
                raise InvalidInput(f"第 {line_no} 行须为 JSON 对象", code="invalid-import-line")
            pending.append((line_no, record))
            if len(pending) >= batch:
                total += _import_batch(pending)
                pending = []
        if pending:
            total += _import_batch(pending)
    typer.echo(f"导入完成：{total} 张工单", err=True)


def _import_batch(records: list[tuple[int, dict[str, Any]]]) -> int:
    with session_scope() as session:
        numbers = [o.number for o in service.import_orders(session, records)]
    for number in numbers:
        typer.echo(number)
    return len(numbers)


@app.command(
    "act",
    help="对工单执行一项流转操作，如派单、签收、办结、回访\n\n"
    "操作包括：派单、签收、退单、改派、延期、办结、审核、回访、重办、归档、催办、督办、并单。",
)
def act(
    number: str = typer.Argument(..., help="工单编号"),
    action: str = typer.Argument(..., help="操作，见 `hotline order lifecycle`"),
    role: str = typer.Option(
        ...,
        "--role",
        help="操作角色：agent 话务员、dispatcher 派单员、department 承办单位、supervisor 督办员、admin 管理员",
    ),
    unit: str = typer.Option("", "--unit", help="操作单位代码（承办单位必填）"),
    actor: str = typer.Option("", "--actor", help="操作人"),
    reason: str = typer.Option("", "--reason", help="原因/意见"),
    version: int | None = typer.Option(None, "--version", help="期望的当前版本号"),
    at: str | None = typer.Option(None, "--at", help="操作时间 ISO 8601（导入历史用），默认现在"),
    to_unit: str | None = typer.Option(
        None, "--to-unit", help="派单/改派/重办的承办单位（重办不指定时退回原承办单位，已停用的交其接替单位）"
    ),
    co_unit: list[str] = typer.Option([], "--co-unit", help="协办单位（可重复）"),
    days: int | None = typer.Option(None, "--days", help="申请延期的工作日数"),
    reply: str = typer.Option("", "--reply", help="办理结果/答复"),
    satisfaction: str | None = typer.Option(
        None, "--satisfaction", help="满意度：satisfied 满意、basic 基本满意、unsatisfied 不满意"
    ),
    resolved: bool | None = typer.Option(None, "--resolved/--not-resolved", help="回访：问题是否解决"),
    master: str | None = typer.Option(None, "--master", help="并单的主工单编号"),
    category: str | None = typer.Option(None, "--category", help="派单/改派时设置或更正分类"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Apply one lifecycle action (派单 签收 退单 改派 延期 办结 审核 回访 重办 归档 催办 督办 并单)."""
    with session_scope() as session:
        order = service.act(
            session,
            number,
            action,
            role=role,
            unit=unit,
            actor=actor,
            reason=reason,
            version=version,
            at=parse_instant(at) if at else None,
            target_unit=to_unit,
            co_units=co_unit,
            days=days,
            reply=reply,
            satisfaction=satisfaction,
            citizen_resolved=resolved,
            master=master,
            category=category,
        )
        view = service.order_view(session, order, role)
        view["children"] = service.children_view(session, order)
    if as_json:
        _dump(view)
    else:
        typer.echo(f"{domain.ACTION_LABELS[domain.Action(action)]}成功。" + _summary(view))
        for kid in view["children"]:
            typer.echo(f"  协办工单 {kid['number']}（{kid['unit']}）：{kid['state_label']}")


@app.command("show", help="查看一张工单及其流转记录")
def show(
    number: str = typer.Argument(..., help="工单编号"),
    role: str = typer.Option("dispatcher", "--role", help="以该角色查看（决定是否脱敏）"),
    unit: str | None = typer.Option(None, "--unit", help="承办单位代码（以承办单位身份查看时必填）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Show one order with its history."""
    with session_scope() as session:
        view = service.show_order(session, number, role, unit=unit)
    if as_json:
        _dump(view)
        return
    typer.echo(_summary(view))
    typer.echo(f"来电人：{view['caller_name']} {view['caller_phone']}；内容：{view['content']}")
    for h in view["history"]:
        typer.echo(
            f"  {h['seq']:>2}. {h['at']} {h['action_label']} [{h['role_label']} {h['actor']} {h['unit_name'] or ''}] {h['reason']}"
        )


@app.command("attach", help="上传附件：把文件（图片、PDF、Word、Excel、录音）附到工单，记入办理记录")
def attach(
    number: str = typer.Argument(..., help="工单编号"),
    file: Path = typer.Argument(..., help="附件文件；类型按内容识别"),
    role: str = typer.Option(..., "--role", help="操作角色：agent dispatcher supervisor department"),
    actor: str = typer.Option("", "--actor", help="操作人"),
    unit: str | None = typer.Option(None, "--unit", help="承办单位代码（以承办单位身份上传时必填）"),
    name: str | None = typer.Option(None, "--name", help="附件名称，默认为文件名"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Attach FILE to order NUMBER (hotline.attachments)."""
    from hotline.attachments import service as attachments

    try:
        with file.open("rb") as handle:
            data = handle.read(attachments.max_bytes() + 1)
    except OSError as exc:
        raise InvalidInput(f"无法读取文件 {file}：{exc.strerror}", code="file-not-readable") from exc
    with session_scope() as session:
        done = attachments.attach(session, number, data, name or file.name, role=role, actor=actor, unit=unit)
    if as_json:
        _dump(done)
        return
    typer.echo(f"已上传附件 {done['id']}：{done['name']}（{done['type_label']}，{done['size_label']}）到工单 {number}")


@app.command("attachments", help="列出工单的附件")
def list_attachments(
    number: str = typer.Argument(..., help="工单编号"),
    role: str = typer.Option("dispatcher", "--role", help="以该角色查看"),
    unit: str | None = typer.Option(None, "--unit", help="承办单位代码（以承办单位身份查看时必填）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """The files of order NUMBER, oldest first."""
    from hotline.attachments import service as attachments

    with session_scope() as session:
        found = attachments.list_attachments(session, number, role=role, unit=unit)
    if as_json:
        _dump(found)
        return
    if not found:
        typer.echo(f"工单 {number} 暂无附件")
    for f in found:
        who = f"{f['actor']}（{f['role_label']}{'，' + f['unit'] if f['unit'] else ''}）"
        typer.echo(f"  {f['id']:>4}. {f['name']}  {f['type_label']}  {f['size_label']}  {who}  {f['uploaded_at']}")


# The list's filters (`service.OrderFilters`), read the same way by `list` and `export`.
StateOpt = Annotated[str | None, typer.Option("--state", help="状态，如 handling")]
SlaOpt = Annotated[str | None, typer.Option("--sla", help="时限状态：on_time near_due overdue")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="地区代码或名称，如 510100、成都市")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="诉求类型，如 投诉")]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="分类或其前缀，如 城乡建设")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="渠道：phone web sms app subcentre system")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="受理日期起（北京时间，含当日），如 2021-06-01")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="受理日期止（北京时间，含当日）")]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="承办单位代码（以承办单位身份查看或导出时为本单位，必填）")]
PhoneOpt = Annotated[str | None, typer.Option("--phone", help="来电号码（来电人历史工单；督办审核员不可用）")]
WordsOpt = Annotated[str | None, typer.Option("--words", help="关键词：诉求内容或地点中含有的词，多个以空格分隔")]


@app.command("list", help="列出工单（先到期的在前），如用 --sla overdue 列出已超期的工单")
def list_cmd(
    state: StateOpt = None,
    sla: SlaOpt = None,
    unit: UnitOpt = None,
    region: RegionOpt = None,
    type: TypeOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    phone: PhoneOpt = None,
    words: WordsOpt = None,
    newest: bool = typer.Option(False, "--newest", help="最近受理的在前（默认先到期的在前）"),
    role: str = typer.Option("dispatcher", "--role", help="以该角色查看（决定是否脱敏）"),
    limit: int = typer.Option(50, "--limit", help="最多条数（1–1000）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List orders, e.g. `--sla overdue` for the overdue ones."""
    filters = service.OrderFilters.parse(
        state=state, sla=sla, unit=unit, region=region, type=type, category=category, channel=channel,
        since=since, until=until, phone=phone, words=words,
    )  # fmt: skip
    with session_scope() as session:
        rows = service.list_orders(session, filters, role=role, limit=limit, order="newest" if newest else "due")
    if as_json:
        _dump(rows)
        return
    for view in rows:
        typer.echo(_summary(view))
    typer.echo(f"共 {len(rows)} 张")


@app.command(
    "export",
    help="导出工单到 Excel：按角色脱敏，可按受理日期、状态、时限状态、单位、地区等筛选\n\n"
    f"一次最多 {export.MAX_ROWS} 张；每次导出记入审计日志（hotline accounts log）。",
)
def export_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="输出文件，如 工单导出.xlsx"),
    since: SinceOpt = None,
    until: UntilOpt = None,
    state: StateOpt = None,
    sla: SlaOpt = None,
    unit: UnitOpt = None,
    region: RegionOpt = None,
    type: TypeOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    phone: PhoneOpt = None,
    words: WordsOpt = None,
    role: str = typer.Option("dispatcher", "--role", help="以该角色导出（决定是否脱敏）"),
    actor: str = typer.Option("", "--actor", help="导出人（记入审计日志），默认当前系统用户"),
) -> None:
    """Export the orders a role sees (masked for it) to an .xlsx file, with the list's filters and a period of
    China dates; recorded in the accounts' audit trail."""
    if output.suffix.lower() != ".xlsx":
        raise InvalidInput(f"只能导出为 .xlsx 文件，收到 {output.name}", code="unsupported-format")
    login = actor or getpass.getuser()
    filters = service.OrderFilters.parse(
        state=state, sla=sla, unit=unit, region=region, type=type, category=category, channel=channel,
        since=since, until=until, phone=phone, words=words,
    )  # fmt: skip
    # Written beside OUTPUT and renamed once the audit record is committed: no file without its record.
    partial = output.with_name(f".{output.name}.part")
    try:
        with session_scope() as session:
            done = export.export_orders(
                session, partial, role=role, filters=filters, exporter=export.Exporter(login, f"{login}（命令行）")
            )
        partial.chmod(0o600)  # callers' names and phones: readable by the one who exported them
        partial.replace(output)
    except OSError as exc:
        raise InvalidInput(f"无法写入文件：{output}（{exc.strerror}）", code="file-not-writable") from exc
    finally:
        partial.unlink(missing_ok=True)
    typer.echo(f"已导出 {done.count} 张工单到 {output}（{done.filters}）")


@app.command(
    "remind",
    help="临期提醒、超期督办：催办未按时签收或一个工作日内到期的工单，督办已超期的工单\n\n"
    "每张工单每天最多提醒一次，可由定时任务每天（或每小时）执行",
)
def remind(
    at: str | None = typer.Option(None, "--at", help="按此时间判断（ISO 8601，默认现在）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Urge orders near their due date or not signed for in time; supervise overdue ones."""
    with session_scope() as session:
        done = service.remind_due(session, at=parse_instant(at) if at else None)
    if as_json:
        _dump(done)
        return
    for item in done:
        typer.echo(f"{item['action_label']} {item['number']} → {item['unit']}：{item['reason']}")
    typer.echo(f"共提醒 {len(done)} 张")


@app.command("lookup", help="市民查询本人工单时看到的内容（JSON）")
def lookup(
    number: str = typer.Argument(..., help="工单编号"),
    phone_last4: str = typer.Option(..., "--phone-last4", help="来电号码后四位"),
) -> None:
    """What a citizen sees of their order (JSON)."""
    with session_scope() as session:
        _dump(service.public_lookup(session, number, phone_last4))


@app.command("lifecycle", help="输出工单流转表：状态 × 操作 → 下一状态、可操作的角色")
def lifecycle(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """Print the lifecycle table: state × action → next state, roles."""
    rows = domain.lifecycle_rows()
    if as_json:
        _dump([r.__dict__ for r in rows])
        return
    for r in rows:
        typer.echo(f"{r.state_label}\t{r.action_label}（{r.action}）\t→ {r.target_label}\t{'、'.join(r.roles)}")


@app.command(
    "limits",
    help="查看或修改办理时限（工作日）\n\n不带参数时列出全部时限；修改一项如：hotline order limits 咨询 5",
)
def limits(
    key: str | None = typer.Argument(None, help="要修改的时限项（工单类型、签收、退单、回访）"),
    days: int | None = typer.Argument(None, help="工作日数"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """Show the time limits in working days, or set one: `hotline order limits 咨询 5`."""
    with session_scope() as session:
        if key is None:
            _dump(service.get_limits(session))
            return
        if days is None:
            raise InvalidInput("请给出工作日数", code="invalid-limit-days")
        _dump(service.set_limit(session, key, days, actor=actor))


@app.command("units", help="列出单位（JSON）")
def units(
    load: bool = typer.Option(False, "--load", help="先载入省、市（州）热线中心"),
    active: bool | None = typer.Option(None, "--active/--inactive", help="只列在用的 / 只列已停用的单位"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """List the units (JSON)."""
    with session_scope() as session:
        if load:
            service.load_units(session, actor=actor)
        _dump(service.list_units(session, active=active))


@app.command("unit-add", help="新增或更新单位")
def unit_add(
    code: str = typer.Argument(..., help="单位代码"),
    name: str = typer.Argument(..., help="单位名称"),
    kind: str = typer.Option(
        ..., "--kind", help="单位类别：province 省级、city 市级、county 县级、department 部门、subcentre 分中心"
    ),
    region: str = typer.Option(..., "--region", help="地区代码"),
    parent: str | None = typer.Option(None, "--parent", help="上级单位代码"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """Add or update a unit."""
    with session_scope() as session:
        unit = service.add_unit(session, code, name, kind, region_code=region, parent=parent, actor=actor)
        _dump(service.unit_view(unit))


@app.command(
    "unit-deactivate",
    help="停用单位（机构调整）\n\n接替单位承接其派单目录条目和下级单位；尚有办理中工单的单位须先改派。",
)
def unit_deactivate(
    code: str = typer.Argument(..., help="单位代码"),
    successor: str | None = typer.Option(None, "--successor", help="接替单位代码"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """Deactivate a unit; the successor takes over its catalogue entries and child units."""
    with session_scope() as session:
        done = units_service.deactivate_unit(session, code, successor=successor, actor=actor)
        typer.echo(f"已停用单位：{done.unit.code} {done.unit.name}")
        heir = f"{done.successor.name}（{done.successor.code}）" if done.successor else ""
        for entry in done.moved:
            typer.echo(
                f"  派单目录改由{heir}承办：{entry.category} {entry.region_code or '全省'} {entry.line or '全部号码'}"
            )
        for child in done.reparented:
            typer.echo(f"  下级单位改隶{heir}：{child.code} {child.name}")


@app.command("unit-activate", help="重新启用已停用的单位")
def unit_activate(
    code: str = typer.Argument(..., help="单位代码"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """Put a deactivated unit back in service."""
    with session_scope() as session:
        unit = units_service.activate_unit(session, code, actor=actor)
        typer.echo(f"已启用单位：{unit.code} {unit.name}")


@app.command("catalogue-set", help="登记一条派单目录")
def catalogue_set(
    category: str = typer.Argument(..., help="分类（一级名称或完整路径）"),
    unit: str = typer.Argument(..., help="承办单位代码"),
    region: str = typer.Option("", "--region", help="地区代码（空为全部）"),
    line: str = typer.Option("", "--line", help="拨打号码（空为全部）"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """Record a dispatch-catalogue (派单目录) entry."""
    with session_scope() as session:
        entry = service.set_catalogue_entry(session, category, unit, region_code=region, line=line, actor=actor)
        typer.echo(f"派单目录：{entry.category} {entry.region_code or '全省'} {entry.line or '全部号码'} → {unit}")


@app.command(
    "catalogue-remove",
    help="删除一条派单目录（记入变更记录）\n\n分类、地区、号码须与登记时相同，如：hotline order catalogue-remove 城乡建设 --region 510100",
)
def catalogue_remove(
    category: str = typer.Argument(..., help="分类（一级名称或完整路径）"),
    region: str = typer.Option("", "--region", help="地区代码（空为全省）"),
    line: str = typer.Option("", "--line", help="拨打号码（空为全部号码）"),
    actor: str = typer.Option(SETTINGS_ACTOR, "--actor", help=ACTOR_HELP),
) -> None:
    """Remove one dispatch-catalogue entry; lookups fall back to a less specific one."""
    with session_scope() as session:
        entry = service.remove_catalogue_entry(session, category, region_code=region, line=line, actor=actor)
        key = domain.entry_label(entry.category, entry.region_code, entry.line)
        typer.echo(f"已删除派单目录：{key}（原由{entry.unit.name}（{entry.unit.code}）承办）")


@app.command("catalogue-lookup", help="查询派单目录指定的承办单位（JSON；没有时为 null）")
def catalogue_lookup(
    category: str = typer.Argument(..., help="分类"),
    region: str = typer.Option("", "--region", help="地区代码"),
    line: str | None = typer.Option(None, "--line", help="拨打号码"),
) -> None:
    """Which unit the dispatch catalogue names (JSON, null when none)."""
    with session_scope() as session:
        unit = service.lookup_dispatch_catalogue(session, category, region, line)
        _dump(service.unit_view(unit) if unit else None)


@app.command("load-taxonomy", help="载入默认的三级分类目录（可重复执行）")
def load_taxonomy() -> None:
    """Load the default three-level category tree (idempotent)."""
    with session_scope() as session:
        added = service.load_taxonomy(session)
    typer.echo(f"分类目录已载入，新增 {added} 条")
