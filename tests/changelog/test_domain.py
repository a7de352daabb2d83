"""设置变更记录 (changelog.domain): each kind of change says in one Chinese line what changed from what to what, keeps
its before and after, and a change that changes nothing is no change at all."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.changelog.domain import (
    DayState,
    Holder,
    Kind,
    UnitState,
    calendar_change,
    catalogue_change,
    limit_change,
    parse_kind,
    unit_change,
)
from hotline.errors import HotlineError

ZJJ = Holder("510100-zjj", "成都市住房和城乡建设局")
CGJ = Holder("510100-cgj", "成都市城市管理局")
CENTRE = UnitState("锦江区水务局", "department", "510104", "510100", True, "成都市12345热线中心")


def test_a_catalogue_entry_given_to_another_unit() -> None:
    change = catalogue_change("城乡建设", "510100", "", ZJJ, CGJ)
    assert change is not None and change.kind is Kind.CATALOGUE and change.kind_label == "派单目录"
    assert change.summary == "派单目录 城乡建设（成都市，全部号码）：成都市住房和城乡建设局 → 成都市城市管理局"
    assert change.key == "城乡建设|510100|"
    assert change.before == {"unit": ZJJ.code, "unit_name": ZJJ.name}
    assert change.after == {"unit": CGJ.code, "unit_name": CGJ.name}


def test_a_catalogue_entry_added_removed_and_moved_by_a_deactivation() -> None:
    added = catalogue_change("经济管理", "", "12366", None, ZJJ)
    assert added is not None and added.before is None
    assert added.summary == "派单目录 经济管理（全省，12366）：新增，由成都市住房和城乡建设局承办"
    removed = catalogue_change("城乡建设", "510107", "", ZJJ, None)
    assert removed is not None and removed.after is None and removed.key == "城乡建设|510107|"
    assert removed.summary == "派单目录 城乡建设（成都市 510107，全部号码）：删除（原由成都市住房和城乡建设局承办）"
    moved = catalogue_change("城乡建设", "510100", "", ZJJ, CGJ, because="成都市住房和城乡建设局（510100-zjj）停用")
    assert moved is not None and moved.summary.endswith(
        "→ 成都市城市管理局（成都市住房和城乡建设局（510100-zjj）停用）"
    )


def test_the_same_unit_again_is_no_change() -> None:
    renamed = Holder(ZJJ.code, "另一个名字")  # the unit decides, not how it was named at the time
    assert catalogue_change("城乡建设", "510100", "", ZJJ, renamed) is None


def test_a_time_limit() -> None:
    change = limit_change("投诉", 15, 10)
    assert change is not None and (change.kind, change.key) == (Kind.LIMIT, "投诉")
    assert change.summary == "办理时限 投诉：15 → 10 个工作日"
    assert (change.before, change.after) == ({"days": 15}, {"days": 10})
    assert limit_change("投诉", 10, 10) is None


def test_a_unit_added_then_changed() -> None:
    added = unit_change("510104-sw", None, CENTRE)
    assert added is not None and added.before is None and added.after is not None
    assert (
        added.summary
        == "单位 锦江区水务局（510104-sw）：新增，部门，成都市 510104，上级单位 成都市12345热线中心（510100）"
    )
    assert added.after["parent"] == "510100" and added.after["active"] is True

    moved = UnitState("成都市锦江区水务局", "department", "510100", None, True)
    changed = unit_change("510104-sw", CENTRE, moved)
    assert changed is not None and changed.summary == (
        "单位 成都市锦江区水务局（510104-sw）：名称 锦江区水务局 → 成都市锦江区水务局；地区 成都市 510104 → 成都市；"
        "上级单位 成都市12345热线中心（510100） → 无"
    )
    # the same again is no change; its parent's name is said, not kept as the unit's own
    renamed_parent = UnitState("锦江区水务局", "department", "510104", "510100", True, "另一个名字")
    assert unit_change("510104-sw", CENTRE, renamed_parent) is None


def test_a_unit_out_of_service_and_back() -> None:
    out = UnitState(CENTRE.name, CENTRE.kind, CENTRE.region_code, CENTRE.parent, False, CENTRE.parent_name)
    stopped = unit_change("510104-sw", CENTRE, out, because="接替单位：成都市水务局（510100-sw）")
    assert stopped is not None
    assert stopped.summary == "单位 锦江区水务局（510104-sw）：停用（接替单位：成都市水务局（510100-sw））"
    back = unit_change("510104-sw", out, CENTRE)
    assert back is not None and back.summary == "单位 锦江区水务局（510104-sw）：启用"


def test_a_calendar_day_set_changed_and_cleared() -> None:
    monday = date(2021, 10, 11)  # a working day officially
    stop = DayState(False, "暴雨停工")
    set_ = calendar_change(monday, None, stop)
    assert set_ is not None and (set_.kind, set_.key, set_.before) == (Kind.CALENDAR, "2021-10-11", None)
    assert set_.summary == "工作日历 2021-10-11（星期一）：按官方日历（工作日） → 休息日（暴雨停工）"
    assert set_.after == {"is_workday": False, "note": "暴雨停工"}
    noted = calendar_change(monday, stop, DayState(False, "暴雨停工，市政府通知"))
    assert noted is not None and noted.summary.endswith("休息日（暴雨停工） → 休息日（暴雨停工，市政府通知）")
    cleared = calendar_change(monday, stop, None)
    assert cleared is not None and cleared.after is None
    assert cleared.summary == "工作日历 2021-10-11（星期一）：休息日（暴雨停工） → 按官方日历（工作日）"
    assert calendar_change(monday, stop, DayState(False, "暴雨停工")) is None
    assert calendar_change(monday, None, None) is None
    imported = calendar_change(date(2021, 10, 9), None, DayState(True), because="导入放假安排")
    assert imported is not None
    assert imported.summary == "工作日历 2021-10-09（星期六）：按官方日历（工作日） → 工作日（导入放假安排）"


@pytest.mark.parametrize(("text", "kind"), [("", None), ("catalogue", Kind.CATALOGUE), ("工作日历", Kind.CALENDAR)])
def test_a_kind_by_code_or_label(text: str, kind: Kind | None) -> None:
    assert parse_kind(text) is kind


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(HotlineError) as refused:
        parse_kind("账号")
    assert refused.value.code == "invalid-change-kind" and "派单目录" in refused.value.message
