"""机构调整: a handling unit abolished or merged is taken out of service (停用), its work handed to a successor
(接替单位), and can be put back in service (启用).

A unit still leading orders being worked on cannot be deactivated (they are 改派 first); its dispatch-catalogue
entries and its child units move to the successor in the same transaction, and without a successor a unit the
catalogue names or that heads units in service is refused. The answer lists every entry moved and every unit
re-parented, and each is a change record of its own (`changelog`), as the 停用 itself is. Orders it handled keep naming it; accounts bound to
it are left as they are (the settings page says how many). Deactivated, a unit is offered nowhere new work is
given (派单, 改派, 重办, catalogue entries, parent of a unit): `service.require_active`; an order of its reopened
(重办) with no unit named, and an answered co-handling order of its when its lead is, goes to the successor its 停用
named (`service.successor_in_service`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.changelog import service as changelog
from hotline.changelog.domain import catalogue_change, unit_change
from hotline.errors import Conflict, InvalidInput
from hotline.workorders.domain import OPEN_STATES, entry_label
from hotline.workorders.service import get_unit, holder, unit_lineage, unit_state, unit_view
from hotline.workorders.store import CatalogueEntry, Order, Unit

MAX_LISTED = 5  # entries or units named in a refusal's message (its details name them all)


@dataclass(frozen=True)
class Ties:
    """What keeps UNIT in service: the orders it leads still being worked on, the catalogue entries naming it,
    its child units in service."""

    unit: Unit
    open_orders: int
    entries: list[CatalogueEntry]
    children: list[Unit]


@dataclass(frozen=True)
class Deactivation:
    unit: Unit
    successor: Unit | None
    moved: list[CatalogueEntry]  # now the successor's
    reparented: list[Unit]  # now under the successor


def ties(session: Session, code: str, *, lock: bool = False) -> Ties:
    """What keeps the unit CODE in service; with LOCK, counted once its row is locked for update (`deactivate_unit`:
    an order being given to it, which holds a share lock, is then counted; `service.require_active`)."""
    unit = get_unit(session, code)
    if lock:
        session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    open_orders = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.lead_unit_id == unit.id, Order.state.in_([s.value for s in OPEN_STATES]))
    )
    order = (CatalogueEntry.category, CatalogueEntry.region_code, CatalogueEntry.line)
    entries = list(session.scalars(select(CatalogueEntry).where(CatalogueEntry.unit_id == unit.id).order_by(*order)))
    return Ties(unit, int(open_orders or 0), entries, [u for u in _children(session, unit) if u.active])


def _children(session: Session, unit: Unit) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code)))


def successor_choices(session: Session, code: str) -> list[Unit]:
    """The units that may take over from CODE: in service, neither it nor one of its descendants."""
    unit = get_unit(session, code)
    units = session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)).all()
    return [u for u in units if unit not in unit_lineage(u)]


def entry_key(entry: CatalogueEntry) -> dict[str, str]:
    return {"category": entry.category, "region_code": entry.region_code, "line": entry.line}


def _named(items: list[str]) -> str:
    more = f" 等 {len(items)} 项" if len(items) > MAX_LISTED else ""
    return "、".join(items[:MAX_LISTED]) + more


def _entry_text(entry: CatalogueEntry) -> str:
    return entry_label(entry.category, entry.region_code, entry.line)


def deactivate_unit(session: Session, code: str, *, successor: str | None = None, actor: str = "") -> Deactivation:
    """停用 the unit CODE, SUCCESSOR taking over its catalogue entries and child units, each move and the 停用
    recorded as ACTOR's changes (`changelog`). Refused, nothing is written: `invalid-successor` (not another unit
    in service outside CODE's subtree), `unit-has-open-orders`, and without a successor `unit-in-catalogue` and
    `unit-has-children`."""
    held = ties(session, code, lock=True)
    unit = held.unit
    heir: Unit | None = None
    if successor:
        heir = get_unit(session, successor)
        if not heir.active or unit in unit_lineage(heir):
            raise InvalidInput(
                f"接替单位须是在用的另一单位，且不能是本单位的下级单位：{heir.name}（{heir.code}）",
                code="invalid-successor",
                successor=heir.code,
            )
    if held.open_orders:
        raise Conflict(
            f"{unit.name}尚有 {held.open_orders} 张工单正在办理，请先改派给其他单位后再停用",
            code="unit-has-open-orders",
            unit=unit.code,
            count=held.open_orders,
        )
    if heir is None and held.entries:
        raise Conflict(
            f"{unit.name}仍是派单目录 {len(held.entries)} 条的承办单位（{_named([_entry_text(e) for e in held.entries])}），"
            "请指定接替单位，或先修改派单目录",
            code="unit-in-catalogue",
            unit=unit.code,
            entries=[entry_key(e) for e in held.entries],
        )
    if heir is None and held.children:
        raise Conflict(
            f"{unit.name}还有 {len(held.children)} 个在用的下级单位（{_named([u.name for u in held.children])}），"
            "请指定接替单位",
            code="unit-has-children",
            unit=unit.code,
            children=[u.code for u in held.children],
        )
    reparented: list[Unit] = []
    was = unit_state(unit)
    if heir is not None:
        gone = f"{unit.name}（{unit.code}）停用"
        for entry in held.entries:
            moved = catalogue_change(entry.category, entry.region_code, entry.line, holder(unit), holder(heir),
                                     because=gone)  # fmt: skip
            changelog.record(session, moved, actor=actor)
            entry.unit = heir
        reparented = _children(session, unit)  # those out of service too: the tree keeps to units in service
        for child in reparented:
            before = unit_state(child)
            child.parent = heir
            changelog.record(session, unit_change(child.code, before, unit_state(child), because=gone), actor=actor)
    unit.active = False
    unit.successor = heir
    because = f"接替单位：{heir.name}（{heir.code}）" if heir is not None else ""
    changelog.record(session, unit_change(unit.code, was, unit_state(unit), because=because), actor=actor)
    session.flush()
    return Deactivation(unit, heir, held.entries, reparented)


def successor_named(session: Session, code: str) -> Unit | None:
    """The 接替单位 the 停用 of the unit CODE named (what moved to it then stays with it when CODE is put back in
    service), None when it named none or CODE is in service."""
    return get_unit(session, code).successor


def activate_unit(session: Session, code: str, *, actor: str = "") -> Unit:
    """启用 the unit CODE again, as ACTOR's change (`changelog`) if it was out of service: only its flag; what moved
    to a successor stays there."""
    unit = get_unit(session, code)
    was = unit_state(unit)
    unit.active = True
    unit.successor = None
    changelog.record(session, unit_change(unit.code, was, unit_state(unit)), actor=actor)
    session.flush()
    return unit


def deactivation_view(done: Deactivation) -> dict[str, object]:
    return {
        "unit": unit_view(done.unit),
        "successor": unit_view(done.successor) if done.successor else None,
        "moved_entries": [entry_key(e) for e in done.moved],
        "reparented": [u.code for u in done.reparented],
    }
