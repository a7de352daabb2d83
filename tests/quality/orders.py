"""Orders for the 质检 tests: taken in by named agents (as the history names a signed-in account) on days of June
2021, and the units a dispatch with a co-handling unit needs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders

ZHANG, LI, WANG = "张敏（zhangmin）", "李娜（lina）", "王芳（wangfang）"  # two agents and a supervisor
ZJJ, CGJ = "510100-zjj", "510107-cgj"
JUNE = date(2021, 6, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def take(agent: str, day: date = JUNE, *, role: str = "agent", **more: Any) -> str:
    """An order taken in by AGENT on DAY (China time); its number."""
    fields: dict[str, Any] = {"type": "咨询", "content": "公积金怎么提取？", "phone": "13812341234", "region": "510100"}
    with session_scope() as s:
        order = workorders.create_order(s, at=at(day), actor=agent, role=role, **{**fields, **more})
        s.flush()
        return order.number


def take_many(agent: str, count: int, first: date = JUNE) -> list[str]:
    return [take(agent, first + timedelta(days=i % 20)) for i in range(count)]


def units() -> None:
    with session_scope() as s:
        workorders.load_units(s)
        workorders.add_unit(s, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        workorders.add_unit(s, "510107", "武侯区", "county", region_code="510107", parent="510100")
        workorders.add_unit(s, CGJ, "武侯区综合行政执法局", "department", region_code="510107", parent="510107")


def dispatch_with_co_handling(number: str) -> str:
    """Dispatch NUMBER to ZJJ with CGJ co-handling; the co-handling order's number."""
    with session_scope() as s:
        workorders.act(s, number, "dispatch", role="dispatcher", actor="李华（lihua）", target_unit=ZJJ, co_units=[CGJ])
    return f"{number}-01"
