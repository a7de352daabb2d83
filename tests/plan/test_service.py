"""Plan use cases on both databases: local lines, recording progress, status and overdue, demo data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hotline.db import session_scope
from hotline.errors import Conflict, HotlineError, InvalidInput, NotFound
from hotline.plan import service
from hotline.plan.domain import Mode, Scope, Status
from hotline.timeutil import china_day, now


def codes(call: object) -> str:
    assert callable(call)
    with pytest.raises(HotlineError) as err:
        call()
    return err.value.code


def test_catalogue_lines_and_local_line(db_url: str) -> None:
    with session_scope() as session:
        numbers = [line.number for line in service.list_lines(session)]
        assert len(numbers) == 1 + 32 + 4 and numbers[0] == "12345"
        line = service.add_local_line(
            session, "96128", " 城市管理热线 ", units=["成都市城管委"], note="", actor="admin"
        )
        assert (line.mode, line.scope, line.local, line.name) == (Mode.FULL_MERGE, Scope.LOCAL, True, "城市管理热线")
    with session_scope() as session:
        stored = service.get_line(session, "96128")
        assert stored.units == ("成都市城管委",)
        assert "96128" in [x.number for x in service.list_lines(session)]
        assert service.effective_date(session, "96128", "transition", "510100") == date(2021, 5, 1)
        assert service.effective_date(session, "96128", "cancellation", "省本级") == date(2021, 8, 1)
        default_units = service.add_local_line(session, "96129", "另一热线")
        assert default_units.units == ("省直有关部门（单位）",)


def test_local_line_refusals_leave_nothing_behind(db_url: str) -> None:
    with session_scope() as session:
        assert codes(lambda: service.add_local_line(session, "12331", "重复")) == "line-exists"
        assert codes(lambda: service.add_local_line(session, "110", "重复")) == "line-exists"
        assert codes(lambda: service.add_local_line(session, "12a45", "坏号码")) == "invalid-number"
        assert codes(lambda: service.add_local_line(session, "96128", "  ")) == "invalid-name"
        service.add_local_line(session, "96128", "热线")
    with session_scope() as session, pytest.raises(Conflict):
        service.add_local_line(session, "96128", "热线")
    with session_scope() as session:
        assert len(service.list_lines(session)) == 38


def test_record_refusals(db_url: str) -> None:
    tomorrow = china_day(now()) + timedelta(days=1)
    d = date(2021, 1, 1)
    refused: list[tuple[tuple[str, str, str], dict[str, date], str]] = [
        (("99999", "transition", "成都市"), {"done": d}, "line-not-found"),
        (("12331", "transfer", "成都市"), {"done": d}, "milestone-not-found"),
        (("12331", "transition", "火星"), {"done": d}, "region-not-found"),
        (("12345", "transition", "成都市"), {"done": d}, "line-not-in-plan"),
        (("12331", "transition", "成都市"), {}, "record-kind-required"),
        (("12331", "transition", "成都市"), {"done": d, "postpone": date(2021, 7, 1)}, "record-kind-required"),
        (("12331", "transition", "成都市"), {"done": tomorrow}, "done-in-future"),
        (("12331", "transition", "成都市"), {"postpone": date(2021, 6, 1)}, "postpone-not-later"),
    ]
    with session_scope() as session:
        for args, dates, code in refused:
            assert codes(lambda a=args, k=dates: service.record_milestone(session, *a, **k)) == code, code
        service.record_milestone(session, "12331", "transition", "成都市", done=date(2021, 5, 30))
        with pytest.raises(Conflict) as err:
            service.record_milestone(session, "12331", "transition", "成都市", postpone=date(2021, 7, 1))
        assert err.value.code == "milestone-already-done"
    with session_scope() as session:
        assert len(service.history(session)) == 1
        with pytest.raises(NotFound):
            service.effective_date(session, "12331", "kb-shared", "成都市")


def test_status_and_overdue_per_unit(db_url: str) -> None:
    with session_scope() as session:
        service.record_milestone(session, "12331", "transition", "成都市", done=date(2021, 5, 30))
        service.record_milestone(session, "12358", "transition", "成都市", postpone=date(2021, 6, 20))
    with session_scope() as session:
        items = {(i.line.number, i.milestone.id): i for i in service.status(session, "成都市", date(2021, 6, 10))}
        assert items["12331", "transition"].status is Status.DONE
        assert items["12358", "transition"].status is Status.DUE
        assert items["12365", "transition"].status is Status.OVERDUE
        assert items["12333", "transfer"].status is Status.DUE
        by_unit = service.overdue(session, date(2021, 6, 10), "成都市")
        # A page that already read the statuses passes them and gets the same grouping.
        assert service.overdue(session, statuses=list(items.values())) == by_unit
    # 省市场监管局 answers for 12330, 12331, 12358, 12365: two of them are on track in Chengdu.
    market = sorted(i.line.number for i in by_unit["省市场监管局"])
    assert market == ["12330", "12365"]
    assert "12331" not in [i.line.number for i in by_unit["成都市人民政府"]]
    # 11 full-merge transitions and the 5 sub-centres' transfer mechanisms (03-31).
    assert len(by_unit["成都市人民政府"]) == 13 - 2 + 5
    # Sub-centres' transfer-mechanism (03-31) is overdue too.
    assert set(by_unit) == {
        "科技厅", "省通信管理局", "民政厅", "自然资源厅", "商务厅", "文化和旅游厅", "省卫生健康委", "应急厅",
        "省市场监管局", "省地震局", "成都市人民政府", "四川省税务局", "成都海关", "省烟草专卖局",
        "四川出入境边防检查总站", "省邮政管理局",
    }  # fmt: skip
    with session_scope() as session:
        all_regions = service.overdue(session, date(2021, 6, 10))
    assert len(all_regions["省市场监管局"]) == 4 * 22 - 1 - 1


def test_load_demo_is_idempotent(db_url: str) -> None:
    with session_scope() as session:
        first = service.load_demo(session)
    with session_scope() as session:
        second = service.load_demo(session)
        records = service.history(session)
        assert service.get_line(session, "96128").local
    assert "6" in first and "0" in second
    assert len(records) == 6
    assert {r.kind.value for r in records} == {"done", "postpone"}


def test_effective_date_validates(db_url: str) -> None:
    with session_scope() as session:
        assert service.effective_date(session, "12366", "full-time", "510100") == date(2021, 8, 31)
        assert service.effective_date(session, "12366", "full-time", "省本级") == date(2021, 8, 31)
        with pytest.raises(InvalidInput) as err:
            service.parse_time_of_day("9点")
        assert err.value.code == "invalid-time"
