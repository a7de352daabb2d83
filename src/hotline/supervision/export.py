"""考核报表: a period's KPI report (`service.report`) as an Excel workbook, for the monthly reports supervisors
hand to the centre's leaders and to each handling unit.

Four sheets, each with a title row (period, region), a line saying when and by whom it was made, a frozen
header and set column widths:

- 总体指标: each call and work-order KPI with its numerator, denominator, rate, target and a short definition;
- 承办单位考核: one row per unit with every figure the /kpis page shows, numbers as numbers under a filter, so
  the sheet sorts by any column;
- 超期工单: the period's orders counted overdue, by unit, so each unit sees its own.
- 话务质检: each agent's 质检数, 平均得分, 合格率, 申诉数 and 改分数 on the orders they took in over the period, and
  the centre's.

A rate whose denominator is empty is an empty cell, not 0 %. Rates are percentage cells (`0.0%`; `0.000%` for
a KPI whose target is finer than 0.1 %, 超期率 ≤ 0.01 %, where one decimal would hide whether it is met).

No citizen's personal data: KPI figures, unit names, agents' names with their quality figures and, for an overdue
order, its number, category and dates; never the caller or what the citizen said. So an export is not recorded in the audit trail as the orders' export is.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from hotline import workbooks
from hotline.plan.regions import find_region, region_name
from hotline.supervision import service
from hotline.supervision.domain import LABELS, LOWER_IS_BETTER, UNIT_KEYS
from hotline.timeutil import china, china_day, now
from hotline.workbooks import cell, excel_time

SHEETS = ("总体指标", "承办单位考核", "超期工单", "话务质检")
HEADER_ROW = workbooks.HEADER_ROW
PERCENT, FINE_PERCENT = "0.0%", "0.000%"
_MISSED = Font(color="C00000")

# What each KPI counts, as docs/supervision.md defines it: numerator / denominator.
DEFINITIONS = {
    "connection_rate": "接通的来电 / 请求人工服务的来电（全省所有来电，不分地区）",
    "within_rate": "在时限内接通的来电 / 接通的来电",
    "missed_call_callback": "已登记回拨或该号码再次来电并接通的漏话任务 / 首次漏话在本期的漏话任务（同一号码回拨前的多次漏话计为一个）",
    "missed_call_timely": "在回拨时限内首次回拨的漏话任务 / 已回拨或时限已过的漏话任务（时限内再次来电接通的不计）",
    "on_time_accept": "主办工单每次交办（派单、改派、重办）均按时签收的诉求 / 已判定签收的诉求",
    "on_time_resolve": "在办理期限内办结（含直接办结）的诉求 / 已办结的诉求",
    "overdue": "超期办结或超期未办结（等待市民补充期间除外）的诉求 / 受理的诉求",
    "direct": "通话中直接答复办结的诉求 / 受理的诉求",
    "knowledge": "引用知识库文章答复的直接办结 / 直接办结的诉求",
    "callback": "已回访的诉求 / 已办结的诉求",
    "on_time_visit": "在回访时限内完成回访的诉求 / 已回访且有回访时限的诉求（回访时限为本中心规定：审核通过或直接办结后若干工作日，见派单设置）",
    "satisfaction": "满意或基本满意 / 已回访的诉求",
    "resolution": "市民表示已解决 / 回访时回答了是否解决的诉求",
    "return": "主办工单被退单至少一次的诉求 / 已派单的诉求",
    "reopen": "重办至少一次的诉求 / 重办或已办结的诉求",
}
# A unit's numerator and denominator, named as its row counts them (签收 and 退单 per giving, docs/supervision.md).
UNIT_PARTS = {
    "on_time_accept": ("按时签收（次）", "已判定的交办（次）"),
    "on_time_resolve": ("按时办结（件）", "已办结（件）"),
    "overdue": ("超期（件）", "承办工单（件）"),
    "satisfaction": ("满意（件）", "已回访（件）"),
    "return": ("退单（次）", "交办（次）"),
}

KPI_COLUMNS = (("类别", 8), ("指标", 14), ("分子", 10), ("分母", 10), ("比率", 10), ("目标", 10), ("是否达标", 10),
               ("口径说明", 70))  # fmt: skip
# Each of a unit's rates, then its numerator and denominator: every figure of its row on the page.
UNIT_COLUMNS = (("承办单位", 30), ("单位代码", 16), ("承办工单", 10), ("其中协办", 10), ("在办超期", 10),
                *((name, 13) for key in UNIT_KEYS for name in (LABELS[key], *UNIT_PARTS[key])))  # fmt: skip
OVERDUE_COLUMNS = (("工单编号", 22), ("主办/协办", 9), ("主办工单", 22), ("承办单位", 30), ("受理时间", 17),
                   ("地区", 12), ("诉求类型", 9), ("分类", 30), ("办理期限", 12), ("办结时间", 17),
                   ("超期天数（自然日）", 12), ("当前状态", 16))  # fmt: skip
QUALITY_COLUMNS = (("话务员", 30), ("账号", 14), ("质检数", 10), ("平均得分", 10), ("合格数", 10), ("合格率", 10),
                   ("申诉数", 10), ("改分数", 10))  # fmt: skip


@dataclass(frozen=True)
class Exported:
    content: bytes  # the .xlsx file
    filename: str  # 考核报表_2021-06-01_2021-06-30.xlsx
    ascii_filename: str  # kpi_report_2021-06-01_2021-06-30.xlsx, for clients that cannot read filename*
    report: dict[str, Any]


def export_report(
    session: Session,
    since: date,
    until: date,
    *,
    region: str | None = None,
    by: str,
    at: datetime | None = None,
    quality_agents: bool = True,
) -> Exported:
    """The report of SINCE to UNTIL (China dates, both included; in REGION) as an .xlsx file, made BY someone AT
    an instant (default now, which is also the day open orders are judged on). Raises the report's errors
    (`invalid-period`, `region-not-found`)."""
    when = at or now()
    report = service.report(
        session, since, until, region=region, today=china_day(when), overdue_orders=True, quality_agents=quality_agents
    )
    # Written in memory (a few hundred KB for a province's month): a file that cannot be written then fails
    # before openpyxl has begun, leaving neither a partial file nor its temporary ones.
    out = io.BytesIO()
    write_report(report, out, by=by, at=when)
    stem = f"{since.isoformat()}_{until.isoformat()}"
    return Exported(out.getvalue(), f"考核报表_{stem}.xlsx", f"kpi_report_{stem}.xlsx", report)


def write_report(report: dict[str, Any], out: Path | IO[bytes], *, by: str, at: datetime) -> None:
    """REPORT (`service.report` with its overdue orders) as the workbook's three sheets."""
    region = find_region(report["region"]).name if report["region"] else "全部地区"
    said = f"{report['since']} 至 {report['until']}（{region}）"
    made = (
        f"统计区间：{report['since']} 至 {report['until']}（受理日期，北京时间）；地区：{region}；"
        f"生成时间：{china(at).strftime('%Y-%m-%d %H:%M')}（北京时间）；生成人：{by}"
    )
    book = Workbook(write_only=True)

    def sheet(name: str, columns: Sequence[tuple[str, int]]) -> WriteOnlyWorksheet:
        return _sheet(book, name, columns, f"考核报表 · {name}：{said}", made)

    _kpis(sheet(SHEETS[0], KPI_COLUMNS), report)
    _units(sheet(SHEETS[1], UNIT_COLUMNS), report["units"])
    _overdue(sheet(SHEETS[2], OVERDUE_COLUMNS), report["overdue_orders"])
    _quality(sheet(SHEETS[3], QUALITY_COLUMNS), report["quality"])
    book.save(out)


def _sheet(book: Workbook, name: str, columns: Sequence[tuple[str, int]], title: str, made: str) -> WriteOnlyWorksheet:
    sheet: WriteOnlyWorksheet = book.create_sheet(name)
    workbooks.head(sheet, columns, title, made)
    return sheet


def _kpis(sheet: WriteOnlyWorksheet, report: dict[str, Any]) -> None:
    calls = report["call_kpis"]
    seconds = calls["threshold_seconds"]
    missed = report["missed_call_kpis"]
    rows = [
        ("话务", "人工接通率", calls["answered"], calls["requested"], None, None, "connection_rate"),
        ("话务", f"{seconds}秒接通率", calls["answered_within"], calls["answered"], None, None, "within_rate"),
        ("漏话回拨", "回拨率", missed["called_back"], missed["tasks"], None, None, "missed_call_callback"),
        ("漏话回拨", "及时回拨率", missed["timely"], missed["judged"], None, None, "missed_call_timely"),
        *(("工单", k["label"], k["numerator"], k["denominator"], k["target"], k["meets_target"], k["key"])
          for k in report["order_kpis"]),
    ]  # fmt: skip
    for kind, label, numerator, denominator, target, met, key in rows:
        sheet.append([
            cell(sheet, kind), cell(sheet, label), numerator, denominator,
            _rate(sheet, numerator, denominator, target, missed=met is False),
            cell(sheet, _target(target, key not in LOWER_IS_BETTER) if target is not None else None),
            cell(sheet, {True: "达标", False: "未达标", None: None}[met]),
            cell(sheet, DEFINITIONS[key]),
        ])  # fmt: skip
    workbooks.filter_rows(sheet, len(KPI_COLUMNS), len(rows))
    co_handling = (
        f"；另有协办工单 {report['co_handling_orders']} 件，计入承办单位考核" if report["co_handling_orders"] else ""
    )
    _notes(sheet, [
        f"受理诉求 {report['orders']} 件{co_handling}。",
        f"呼入 {calls['offered']} 通，请求人工 {calls['requested']} 通，放弃 {calls['abandoned']} 通；话务指标统计全省所有来电。",
        "按市民诉求统计：协办工单随主办工单计为一件诉求，已并单的重复工单随主工单不另计。",
        "分母为 0 的比率不计算，单元格留空（不是 0%）。",
    ])  # fmt: skip


def _units(sheet: WriteOnlyWorksheet, units: Sequence[dict[str, Any]]) -> None:
    for unit in units:
        rates = {k["key"]: k for k in unit["kpis"]}
        row: list[Any] = [cell(sheet, unit["name"]), cell(sheet, unit["unit"]), unit["orders"], unit["co_handling"],
                          unit["open_overdue"]]  # fmt: skip
        for key in UNIT_KEYS:
            k = rates[key]
            missed = k["meets_target"] is False
            row += [_rate(sheet, k["numerator"], k["denominator"], k["target"], missed=missed), k["numerator"],
                    k["denominator"]]  # fmt: skip
        sheet.append(row)
    workbooks.filter_rows(sheet, len(UNIT_COLUMNS), len(units))
    _notes(sheet, [
        "本期没有交办到承办单位的工单。" if not units else f"共 {len(units)} 个承办单位。",
        "办结、超期按单位现承办的工单统计（含协办工单）；满意按其主办工单的回访统计。",
        "签收、退单按每次交办给该单位统计（派单、改派、重办，以及协办工单的交办和随主办重办，含已转由其他单位承办的工单）。",
    ])  # fmt: skip


def _overdue(sheet: WriteOnlyWorksheet, orders: Sequence[dict[str, Any]]) -> None:
    for o in orders:
        sheet.append([
            cell(sheet, o["number"]), cell(sheet, "协办" if o["parent"] else "主办"), cell(sheet, o["parent"] or ""),
            cell(sheet, o["unit_name"]), cell(sheet, excel_time(o["created_at"]), fmt="yyyy-mm-dd hh:mm"),
            cell(sheet, region_name(o["region"])), cell(sheet, o["type"]), cell(sheet, o["category"]),
            cell(sheet, date.fromisoformat(o["due"]), fmt="yyyy-mm-dd"),
            cell(sheet, excel_time(o["resolved_at"]), fmt="yyyy-mm-dd hh:mm"), o["days_overdue"],
            cell(sheet, o["state_label"]),
        ])  # fmt: skip
    workbooks.filter_rows(sheet, len(OVERDUE_COLUMNS), len(orders))
    _notes(sheet, [
        f"共 {len(orders)} 张超期工单（本期受理的诉求及其协办工单）。" if orders else "本期没有超期工单。",
        "超期：办结晚于办理期限，或生成时仍未办结且已过办理期限（等待市民补充期间除外）。不含来电人信息和诉求内容。",
    ])  # fmt: skip


AGENTS_HIDDEN = "逐人质检结果仅质检主管和管理员可见，此处只列全中心合计。"


def _quality(sheet: WriteOnlyWorksheet, quality: dict[str, Any]) -> None:
    rows = [(a["agent"], a["agent_key"], a) for a in quality["agents"]]
    for name, key, f in [*rows, ("全中心", None, quality["centre"])]:
        sheet.append([
            cell(sheet, name), cell(sheet, key if key != name else None), f["inspected"],
            cell(sheet, f["average"], fmt="0.00") if f["average"] is not None else None, f["passed"],
            _rate(sheet, f["passed"], f["inspected"], None, missed=False), f["appeals"], f["changed"],
        ])  # fmt: skip
    workbooks.filter_rows(sheet, len(QUALITY_COLUMNS), len(rows))
    _notes(sheet, [
        AGENTS_HIDDEN if quality.get("agents_hidden")
        else f"共 {len(rows)} 名话务员有质检结果；本期另有待质检 {quality['centre']['pending']} 张未计入。" if rows
        else "本期受理的工单没有质检结果。",
        "按被质检工单的受理日期统计；得分以申诉复核后的结果为准；改分数为复核改分的结果。",
        f"合格率 = 合格 / 质检数；合格线 {quality['pass_line']} 分为本中心规定（质检标准）。",
    ])  # fmt: skip


def _rate(sheet: WriteOnlyWorksheet, numerator: int, denominator: int, target: float | None, *, missed: bool) -> Any:
    """A percentage cell, empty when the denominator is (no orders is not a 0 % service level); red when the
    rate misses its target, as on the page."""
    if not denominator:
        return None
    fine = target is not None and target < 0.001
    return cell(sheet, numerator / denominator, fmt=FINE_PERCENT if fine else PERCENT, font=_MISSED if missed else None)


def _target(target: float, higher_is_better: bool) -> str:
    return f"{'≥' if higher_is_better else '≤'} {target * 100:g}%"


def _notes(sheet: WriteOnlyWorksheet, lines: Iterable[str]) -> None:
    sheet.append([])
    for line in lines:
        sheet.append([cell(sheet, line)])
