"""The units the change-record tests start from: the province and the 市（州） centres, and two bureaus of Chengdu."""

from __future__ import annotations

from hotline.db import session_scope
from hotline.workorders import service

ZJJ, CGJ = "510100-zjj", "510100-cgj"
BUREAUS = {ZJJ: "成都市住房和城乡建设局", CGJ: "成都市城市管理局"}
SETUP = "准备"  # who the starting units are recorded as added by


def two_bureaus() -> None:
    with session_scope() as s:
        service.load_units(s, actor=SETUP)
        for code, name in BUREAUS.items():
            service.add_unit(s, code, name, "department", region_code="510100", parent="510100", actor=SETUP)
