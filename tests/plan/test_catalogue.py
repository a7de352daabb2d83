"""The catalogue file against the seed (as read in mission.md): names, modes, units, milestones."""

from __future__ import annotations

from datetime import date

from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import Mode, Scope

# mission.md: number -> responsible provincial unit.
UNITS = {
    "12396": "科技厅", "12300": "省通信管理局", "12349": "民政厅", "12336": "自然资源厅", "12312": "商务厅",
    "12301": "文化和旅游厅", "12356": "省卫生健康委", "96119": "应急厅", "12330": "省市场监管局",
    "12331": "省市场监管局", "12358": "省市场监管局", "12365": "省市场监管局", "12322": "省地震局",
    "12348": "司法厅", "12333": "人力资源社会保障厅", "12369": "生态环境厅", "12319": "住房城乡建设厅",
    "12329": "住房城乡建设厅", "12328": "交通运输厅", "12316": "农业农村厅", "12318": "文化和旅游厅",
    "12320": "省卫生健康委", "12350": "应急厅", "12315": "省市场监管局", "12393": "省医保局",
    "12317": "省扶贫开发局", "12385": "省残联",
    "12360": "成都海关", "12366": "四川省税务局", "12313": "省烟草专卖局", "12367": "四川出入境边防检查总站",
    "12305": "省邮政管理局",
}  # fmt: skip

# The seed's milestone dates per (mode, scope).
MILESTONES = {
    ("full-merge", "national"): {"transition": (6, 1), "cancellation": (10, 1)},
    ("full-merge", "local"): {"transition": (5, 1), "cancellation": (8, 1)},
    ("parallel", "national"): {"systems-connected": (9, 30), "kb-shared": (10, 15), "transfer": (10, 16)},
    ("subcenter", "national"): {
        "transfer-mechanism": (3, 31), "supervision": (6, 30), "full-time": (8, 31), "data-connected": (10, 31),
    },
}  # fmt: skip


def test_every_seed_line_with_its_unit_and_a_chinese_name() -> None:
    cat = load_catalogue()
    assert len(cat.lines) == 32
    assert {line.number: line.units for line in cat.lines} == {n: (u,) for n, u in UNITS.items()}
    for line in cat.lines:
        assert line.scope is Scope.NATIONAL
        assert line.name and all(not ch.isascii() or ch.isdigit() for ch in line.name), line.name
    assert sum(1 for line in cat.lines if line.mode is Mode.FULL_MERGE) == 13
    assert sum(1 for line in cat.lines if line.mode is Mode.PARALLEL) == 14
    assert sum(1 for line in cat.lines if line.mode is Mode.SUBCENTER) == 5
    names = {line.number: line.name for line in cat.lines}
    assert names["12331"] == "全国统一食品药品监督举报服务电话"
    assert names["12366"] == "全国税务系统统一电话"


def test_platform_and_emergency_numbers() -> None:
    cat = load_catalogue()
    assert cat.platform.number == "12345" and cat.platform.mode is Mode.PLATFORM
    assert [e.number for e in cat.emergency] == ["110", "119", "120", "122"]
    assert all(e.mode is Mode.EMERGENCY for e in cat.emergency)


def test_milestones_per_mode_with_ids_and_dates() -> None:
    cat = load_catalogue()
    found: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for m in cat.milestones:
        found.setdefault((m.mode.value, m.scope.value), {})[m.id] = (m.month, m.day)
        assert m.title and m.description
    assert found == MILESTONES
    transition = cat.milestones_for(Mode.FULL_MERGE, Scope.NATIONAL)[0]
    assert transition.plan_date(2021) == date(2021, 6, 1)
    assert transition.plan_date(2024) == date(2024, 6, 1)
