"""话务/工单质检 as plain Python: the scoring sheet (质检标准), a result from its deductions or a 一票否决, the steps an
inspection goes through (抽检 → 评分 → 确认 or 申诉 → 复核), the appeal window in working days, the reproducible
draw, the figures per agent, and a change to the sheet as a 设置变更记录.

Nothing here touches a database or the web: `quality.service` loads what these functions need."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from hotline.accounts.domain import Grant, actor_login
from hotline.calendar.domain import WorkCalendar
from hotline.changelog.domain import Change, Kind
from hotline.errors import Conflict, Forbidden, InvalidInput
from hotline.tables import whole_number

FULL_MARKS = 100
DEFAULT_PASS_LINE = 80  # a local rule: the administrator may change it with the sheet
DEFAULT_APPEAL_DAYS = 3  # working days after the result; a local rule too
MAX_APPEAL_DAYS = 30
MAX_LABEL = 40
MAX_NOTE = 500
MAX_PER_AGENT = 50
MAX_SEED = 10**12


class Status(StrEnum):
    PENDING = "pending"  # 待质检: drawn or picked, not scored yet
    SCORED = "scored"  # the agent may confirm it or appeal within the window
    CONFIRMED = "confirmed"
    APPEALED = "appealed"
    REVIEWED = "reviewed"
    # 作废 while 待质检 (a test call, a duplicate merged away...): never scored, the order not drawn again
    VOIDED = "voided"


STATUS_LABELS = {
    Status.PENDING: "待质检",
    Status.SCORED: "待确认",
    Status.CONFIRMED: "已确认",
    Status.APPEALED: "申诉待复核",
    Status.REVIEWED: "已复核",
    Status.VOIDED: "已作废",
}
SETTLED_LABEL = "已生效（未申诉）"  # scored, and the window passed without a confirmation or an appeal
RESULTS = frozenset({Status.SCORED, Status.CONFIRMED, Status.APPEALED, Status.REVIEWED})


class Outcome(StrEnum):
    """What a review (复核) of an appeal comes to."""

    KEEP = "keep"
    CHANGE = "change"


OUTCOME_LABELS = {Outcome.KEEP: "维持原结果", Outcome.CHANGE: "改分"}


class Action(StrEnum):
    """A step of an inspection's history."""

    DRAWN = "drawn"
    PICKED = "picked"
    SCORED = "scored"
    CONFIRMED = "confirmed"
    APPEALED = "appealed"
    REVIEWED = "reviewed"
    VOIDED = "voided"


ACTION_LABELS = {
    Action.DRAWN: "随机抽检",
    Action.PICKED: "指定抽检",
    Action.SCORED: "评分",
    Action.CONFIRMED: "确认结果",
    Action.APPEALED: "申诉",
    Action.REVIEWED: "复核",
    Action.VOIDED: "作废",
}


def parse_enum(kind: type[Any], text: str, labels: Mapping[Any, str], what: str, code: str) -> Any:
    """A value of KIND by its code or its Chinese label."""
    raw = (text or "").strip()
    found = next((k for k in kind if raw in (k.value, labels[k])), None)
    if found is None:
        names = "、".join(f"{k.value}（{labels[k]}）" for k in kind)
        raise InvalidInput(f"{what}不正确：{raw!r}（可选：{names}）", code=code)
    return found


# -- 质检标准 ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    label: str
    points: int


@dataclass(frozen=True)
class Sheet:
    """The scoring sheet: items whose points sum to FULL_MARKS, the 一票否决 items (each makes a result 0 and 不合格),
    the pass line (合格线) and the working days an agent has to appeal a result."""

    items: tuple[Item, ...]
    vetoes: tuple[str, ...]
    pass_line: int = DEFAULT_PASS_LINE
    appeal_days: int = DEFAULT_APPEAL_DAYS

    def item(self, name: str) -> Item:
        """An item by its label or its number on the sheet (1 for the first)."""
        raw, number = name.strip(), whole_number(name)
        if number is not None and 1 <= number <= len(self.items):
            return self.items[number - 1]
        found = next((i for i in self.items if i.label == raw), None)
        if found is None:
            said = "、".join(i.label for i in self.items)
            raise InvalidInput(
                f"质检标准中没有评分项「{raw}」（评分项：{said}）", code="quality-unknown-item", item=raw
            )
        return found

    def veto(self, name: str) -> str:
        raw, number = name.strip(), whole_number(name)
        if number is not None and 1 <= number <= len(self.vetoes):
            return self.vetoes[number - 1]
        if raw not in self.vetoes:
            said = "、".join(self.vetoes) or "无"
            raise InvalidInput(f"质检标准中没有一票否决项「{raw}」（否决项：{said}）", code="quality-unknown-veto")
        return raw

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [{"label": i.label, "points": i.points} for i in self.items],
            "vetoes": list(self.vetoes),
            "pass_line": self.pass_line,
            "appeal_days": self.appeal_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sheet:
        return cls(
            tuple(Item(str(i["label"]), int(i["points"])) for i in data["items"]),
            tuple(str(v) for v in data["vetoes"]),
            int(data["pass_line"]),
            int(data["appeal_days"]),
        )


DEFAULT_SHEET = Sheet(
    (
        Item("服务用语规范", 15),
        Item("诉求记录完整准确", 25),
        Item("政策解答准确", 20),
        Item("分类与派单正确", 20),
        Item("工单填写规范", 10),
        Item("办理时效（受理及时）", 10),
    ),
    ("泄露来电人信息", "与群众发生争执、态度恶劣"),
)


def _invalid_sheet(message: str) -> InvalidInput:
    return InvalidInput(message, code="quality-invalid-sheet")


def check_sheet(sheet: Sheet) -> Sheet:
    """SHEET if it may be scored with (`quality-invalid-sheet` otherwise), its labels trimmed."""
    items = tuple(Item(i.label.strip(), i.points) for i in sheet.items)
    vetoes = tuple(v.strip() for v in sheet.vetoes)
    if not items:
        raise _invalid_sheet("质检标准至少要有一个评分项")
    for label in [i.label for i in items] + list(vetoes):
        if not label:
            raise _invalid_sheet("评分项和一票否决项须有名称")
        if len(label) > MAX_LABEL:
            raise _invalid_sheet(f"名称不超过 {MAX_LABEL} 字：{label}")
        if label.isdigit():
            raise _invalid_sheet(f"名称不能只是数字（数字用来按序号指评分项）：{label}")
    labels = [i.label for i in items]
    for names, what in ((labels, "评分项"), (list(vetoes), "一票否决项")):
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise _invalid_sheet(f"{what}重名：{'、'.join(twice)}")
    for i in items:
        if not 1 <= i.points <= FULL_MARKS:
            raise _invalid_sheet(f"评分项「{i.label}」的分值须为 1 至 {FULL_MARKS} 分")
    total = sum(i.points for i in items)
    if total != FULL_MARKS:
        raise _invalid_sheet(f"评分项分值合计须为 {FULL_MARKS} 分（现为 {total} 分）")
    if not 1 <= sheet.pass_line <= FULL_MARKS:
        raise _invalid_sheet(f"合格线须为 1 至 {FULL_MARKS} 分")
    if not 1 <= sheet.appeal_days <= MAX_APPEAL_DAYS:
        raise _invalid_sheet(f"申诉时限须为 1 至 {MAX_APPEAL_DAYS} 个工作日")
    return Sheet(items, vetoes, sheet.pass_line, sheet.appeal_days)


_ITEM_LINE = re.compile(r"^(.+?)\s*(?:[=＝：:]\s*|\s+)(\d+)\s*分?$")


def parse_items(text: str) -> tuple[Item, ...]:
    """Items written one a line as people type them: `服务用语规范 15`, `服务用语规范=15` or `服务用语规范：15分`."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _ITEM_LINE.match(line.strip())
        if found is None:
            raise _invalid_sheet(f"第 {number} 行应为「名称 分值」，如「服务用语规范 15」：{line.strip()}")
        items.append(Item(found[1].strip(), int(found[2])))
    return tuple(items)


def parse_lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def items_text(sheet: Sheet) -> str:
    """The items as `parse_items` reads them back (the form's text)."""
    return "\n".join(f"{i.label} {i.points}" for i in sheet.items)


def sheet_change(before: Sheet, after: Sheet) -> Change | None:
    """A change to the sheet as a 设置变更记录 saying each difference; None when nothing changed."""
    if before == after:
        return None
    was = {i.label: i.points for i in before.items}
    now = {i.label: i.points for i in after.items}
    parts = []
    for label, points in now.items():
        if label not in was:
            parts.append(f"新增评分项 {label} {points} 分")
        elif was[label] != points:
            parts.append(f"评分项 {label} {was[label]} → {points} 分")
    parts += [f"删除评分项 {label}（原 {points} 分）" for label, points in was.items() if label not in now]
    if not parts and list(was) != list(now):
        parts.append("评分项顺序调整")
    vetoes = [f"新增一票否决项 {v}" for v in after.vetoes if v not in before.vetoes]
    vetoes += [f"删除一票否决项 {v}" for v in before.vetoes if v not in after.vetoes]
    if not vetoes and before.vetoes != after.vetoes:
        vetoes.append("一票否决项顺序调整")
    parts += vetoes
    if before.pass_line != after.pass_line:
        parts.append(f"合格线 {before.pass_line} → {after.pass_line} 分")
    if before.appeal_days != after.appeal_days:
        parts.append(f"申诉时限 {before.appeal_days} → {after.appeal_days} 个工作日")
    return Change(Kind.QUALITY, "sheet", before.to_dict(), after.to_dict(), "质检标准：" + "；".join(parts))


# -- a result ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deduction:
    item: str
    points: int
    note: str


@dataclass(frozen=True)
class Veto:
    item: str
    reason: str


@dataclass(frozen=True)
class Result:
    total: int
    passed: bool
    deductions: tuple[Deduction, ...]
    veto: Veto | None

    @property
    def label(self) -> str:
        return "合格" if self.passed else "不合格"

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "passed": self.passed,
            "result_label": self.label,
            "deductions": [{"item": d.item, "points": d.points, "note": d.note} for d in self.deductions],
            "veto": {"item": self.veto.item, "reason": self.veto.reason} if self.veto else None,
        }


def parse_points(text: str | int, item: str = "") -> int:
    """Points deducted as typed: blank is none."""
    if isinstance(text, int):
        return text
    raw = text.strip()
    if not raw:
        return 0
    points = whole_number(raw)
    if points is None:
        where = f"「{item}」" if item else ""
        raise InvalidInput(f"扣分{where}须为不小于 0 的整数：{raw}", code="quality-invalid-deduction")
    return points


def required_text(text: str, what: str, code: str) -> str:
    note = text.strip()
    if not note:
        raise InvalidInput(f"请填写{what}", code=code)
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"{what}不超过 {MAX_NOTE} 字", code="quality-note-too-long")
    return note


_DEDUCTION = re.compile(r"^(.+?)\s*[=＝]\s*(-?\d+)\s*分?\s*(?:[:：]\s*(.*))?$", re.S)
_VETO = re.compile(r"^(.+?)\s*[:：]\s*(.*)$", re.S)


def parse_deduction(text: str) -> Deduction:
    """A deduction written `项=分:说明` (the item by its label or number): `诉求记录完整准确=5:未记录地点`."""
    found = _DEDUCTION.match(text.strip())
    if found is None:
        raise InvalidInput(
            f"扣分应写作「评分项=分值:说明」，如「政策解答准确=5:解答有误」：{text}", code="quality-invalid-deduction"
        )
    return Deduction(found[1].strip(), int(found[2]), (found[3] or "").strip())


def parse_veto(text: str) -> Veto:
    """A 一票否决 written `项:理由`."""
    found = _VETO.match(text.strip())
    if found is None:
        return Veto(text.strip(), "")
    return Veto(found[1].strip(), found[2].strip())


def score(sheet: Sheet, deductions: Iterable[Deduction], veto: Veto | None = None) -> Result:
    """The result of SHEET with DEDUCTIONS (an item by label or number; 0 points: none) or a VETO: the full marks
    less the deductions, or 0 and 不合格 under a 一票否决; 合格 at or above the pass line. Each deduction needs a
    note and at most its item's points, each item once (`quality-deduction-too-large`, `quality-note-required`,
    `quality-duplicate-item`, `quality-unknown-item`); a veto needs a reason (`quality-reason-required`)."""
    kept: list[Deduction] = []
    seen: set[str] = set()
    for d in deductions:
        item = sheet.item(d.item)
        if d.points < 0:
            raise InvalidInput(f"扣分「{item.label}」不能为负数", code="quality-invalid-deduction")
        if d.points == 0:
            continue
        if item.label in seen:
            raise InvalidInput(f"评分项「{item.label}」重复扣分", code="quality-duplicate-item", item=item.label)
        seen.add(item.label)
        if d.points > item.points:
            raise InvalidInput(
                f"评分项「{item.label}」满分 {item.points} 分，扣分不能超过 {item.points} 分（填的是 {d.points} 分）",
                code="quality-deduction-too-large",
                item=item.label,
                points=item.points,
            )
        note = required_text(d.note, f"「{item.label}」扣分说明", "quality-note-required")
        kept.append(Deduction(item.label, d.points, note))
    vetoed = None
    if veto is not None:
        vetoed = Veto(sheet.veto(veto.item), required_text(veto.reason, "一票否决的理由", "quality-reason-required"))
    if vetoed is not None:
        return Result(0, False, tuple(kept), vetoed)
    total = sum(i.points for i in sheet.items) - sum(d.points for d in kept)
    return Result(total, total >= sheet.pass_line, tuple(kept), None)


# -- whose result: the agent who took the order in ----------------------------------------------------------------
INSPECTORS = frozenset({Grant.SUPERVISOR, Grant.ADMIN})


def sees_agents(grants: Iterable[Grant] | None) -> bool:
    """Whether an account holding GRANTS (None: sign-in is off, a gateway in front decides) may read the 质检
    results of each agent by name: those who inspect (supervisors, administrators). The other roles that read the
    KPIs (dispatchers, themselves inspected) see the centre's figures only."""
    return grants is None or bool(set(grants) & INSPECTORS)


def agent_key(actor: str) -> str:
    """Who an actor is, for matching a result to its agent: the login of a signed-in account (`actor_login`), else
    the name as written."""
    return actor_login(actor) or actor.strip()


def check_not_own(inspector: str, agent: str) -> None:
    if agent_key(inspector) == agent_key(agent):
        raise Forbidden("不能对自己受理的工单质检或复核", code="quality-own-order")


def check_own(viewer: str, agent: str) -> None:
    """An agent acts on their own results only (`quality-not-own`)."""
    if agent_key(viewer) != agent_key(agent):
        raise Forbidden("只能查看和申诉本人的质检结果", code="quality-not-own")


# -- steps -------------------------------------------------------------------------------------------------------
def _voided(status: Status, what: str) -> None:
    if status is Status.VOIDED:
        raise Conflict(f"该质检任务已作废，不能{what}", code="quality-task-voided", status=status.value)


def check_score(status: Status) -> None:
    _voided(status, "评分")
    if status is not Status.PENDING:
        raise Conflict(
            f"该质检任务已评分（{STATUS_LABELS[status]}），不能再评分",
            code="quality-already-scored",
            status=status.value,
        )


def appeal_deadline(scored_on: date, calendar: WorkCalendar, days: int) -> date:
    """The last China day an agent may appeal a result given on SCORED_ON: DAYS working days after it."""
    return calendar.add_workdays(scored_on, days)


def check_appeal(status: Status, deadline: date | None, today: date) -> None:
    """Once, within the window, and not after confirming (`quality-appeal-closed`); not before a result
    (`quality-not-scored`); a voided task has none (`quality-task-voided`)."""
    _voided(status, "申诉")
    if status is Status.PENDING or deadline is None:
        raise Conflict("该工单尚未评分，没有可申诉的结果", code="quality-not-scored")
    if status in (Status.APPEALED, Status.REVIEWED):
        raise Conflict("每个质检结果只能申诉一次，已申诉过", code="quality-appeal-closed", status=status.value)
    if status is Status.CONFIRMED:
        raise Conflict("已确认质检结果，不能再申诉", code="quality-appeal-closed", status=status.value)
    if today > deadline:
        raise Conflict(
            f"申诉期已过（截止 {deadline.isoformat()}），质检结果已生效",
            code="quality-appeal-closed",
            deadline=deadline.isoformat(),
        )


def check_confirm(status: Status, deadline: date | None, today: date) -> None:
    """A result waiting on its agent (待确认, within the window) may be confirmed (`quality-not-confirmable`)."""
    _voided(status, "确认")
    if status is Status.PENDING or deadline is None:
        raise Conflict("该工单尚未评分，没有可确认的结果", code="quality-not-scored")
    if status is not Status.SCORED or today > deadline:
        label = STATUS_LABELS[status] if status is not Status.SCORED else SETTLED_LABEL
        raise Conflict(f"该质检结果不在待确认状态（{label}）", code="quality-not-confirmable", status=status.value)


def check_review(status: Status) -> None:
    _voided(status, "复核")
    if status is not Status.APPEALED:
        raise Conflict(
            f"该质检结果没有待复核的申诉（{STATUS_LABELS[status]}）", code="quality-not-appealed", status=status.value
        )


def check_void(status: Status) -> None:
    """Only a task still 待质检 may be voided: a result given stands, and is corrected by appeal and review
    (`quality-not-voidable`); voiding twice is refused too (`quality-task-voided`)."""
    _voided(status, "再次作废")
    if status is not Status.PENDING:
        raise Conflict(
            f"该质检任务已评分（{STATUS_LABELS[status]}），不能作废；对结果有异议的，由话务员申诉、质检员复核",
            code="quality-not-voidable",
            status=status.value,
        )


def open_for_agent(status: Status, deadline: date | None, today: date) -> bool:
    """Whether the agent may still confirm or appeal (质检结果待确认/可申诉)."""
    return status is Status.SCORED and deadline is not None and today <= deadline


def status_label(status: Status, deadline: date | None, today: date) -> str:
    if status is Status.SCORED and deadline is not None and today > deadline:
        return SETTLED_LABEL
    return STATUS_LABELS[status]


# -- 抽检 -----------------------------------------------------------------------------------------------------------
def check_per_agent(count: int) -> int:
    if not 1 <= count <= MAX_PER_AGENT:
        raise InvalidInput(f"每名话务员抽取 1 至 {MAX_PER_AGENT} 张工单", code="quality-invalid-count")
    return count


def check_seed(seed: int) -> int:
    if not 0 <= seed < MAX_SEED:
        raise InvalidInput(f"随机种子须为 0 至 {MAX_SEED - 1} 的整数", code="quality-invalid-seed")
    return seed


def draw(candidates: Mapping[str, Iterable[str]], per_agent: int, seed: int) -> dict[str, list[str]]:
    """Up to PER_AGENT order numbers of each agent's CANDIDATES, at random but the same again for the same seed
    and candidates: each agent's draw depends on the seed, the agent and that agent's candidates alone (so adding
    another agent's orders changes no one else's draw). Agents without candidates are left out."""
    check_per_agent(per_agent)
    check_seed(seed)
    drawn: dict[str, list[str]] = {}
    for agent in sorted(candidates):
        pool = sorted(set(candidates[agent]))
        if pool:
            # A string seed is hashed with SHA-512 by `random`: the same in every process, whatever PYTHONHASHSEED.
            picked = random.Random(f"{seed}:{agent}").sample(pool, min(per_agent, len(pool)))
            drawn[agent] = sorted(picked)
    return drawn


# -- figures -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scored:
    """One result as the figures count it: its current total (after a 改分, the new one)."""

    total: int
    passed: bool
    appealed: bool
    changed: bool  # reviewed with 改分


@dataclass(frozen=True)
class Figures:
    """质检数, 平均得分, 合格率, 申诉数 and 改分数 of a set of results; the rates None when nothing was scored."""

    inspected: int = 0
    points: int = 0
    passed: int = 0
    appeals: int = 0
    changed: int = 0

    @property
    def average(self) -> float | None:
        return self.points / self.inspected if self.inspected else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.inspected if self.inspected else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "inspected": self.inspected,
            "average": round(self.average, 2) if self.average is not None else None,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "appeals": self.appeals,
            "changed": self.changed,
        }


def figures(results: Iterable[Scored]) -> Figures:
    found = list(results)
    return Figures(
        inspected=len(found),
        points=sum(r.total for r in found),
        passed=sum(1 for r in found if r.passed),
        appeals=sum(1 for r in found if r.appealed),
        changed=sum(1 for r in found if r.changed),
    )


def by_agent(results: Iterable[tuple[str, Scored]]) -> dict[str, Figures]:
    grouped: dict[str, list[Scored]] = {}
    for agent, result in results:
        grouped.setdefault(agent, []).append(result)
    return {agent: figures(found) for agent, found in sorted(grouped.items())}


def talk_seconds(answered: str | None, ended: str | None) -> int | None:
    """Seconds between two ISO instants of a call (answered, ended), if both are known."""
    if not answered or not ended:
        return None
    return max(0, round((datetime.fromisoformat(ended) - datetime.fromisoformat(answered)).total_seconds()))


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} 分 {rest} 秒" if minutes else f"{rest} 秒"
