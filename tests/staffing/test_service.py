"""Seat planning over the real merge plan (SQLite and PostgreSQL): forecasts from files, periods cut at the
plan's milestones, merged and cancelled lines' calls on the 12345 queue, shortfalls, the HTTP resource."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.staffing import service
from hotline.staffing.domain import PatienceEstimate, Target, agents_needed
from hotline.telephony import service as telephony
from hotline.timeutil import CHINA_TZ
from tests.staffing.calls import record_waits, set_up_routes

# Chengdu, plan year 2021 (catalogue.toml): 12396 (整体并入) transition 06-01, cancelled 10-01; 12333 (双号并行)
# transferred to 12345 on 10-16; 12366 (设分中心) own seats on working days 09:00-17:00 until 7×24 from 08-31.
ROWS = [
    ["号码", "时段", "来电量", "平均处理时长", "日期类型"],
    ["12345", "10", "600", "240", ""],
    ["12396", "10:00-11:00", "60", "300", "每天"],
    ["12333", "10点", "200", "300", "工作日"],
    ["12333", "10", "40", "300", "休息日"],
    ["12366", "20", "30", "280", ""],
]


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["成都市12345来电预测（2021年）"])  # a title row above the header, as planners write them
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _plan(forecast: Any, **kw: Any) -> service.SeatPlan:
    with session_scope() as session:
        return service.plan_seats(session, forecast, region="成都市", target=Target(), **kw)


def test_calls_follow_the_plan_through_merge_cancellation_and_transfer(db_url: str, tmp_path: Path) -> None:
    forecast = service.read_forecast(_xlsx(tmp_path / "forecast.xlsx", ROWS))
    plan = _plan(forecast, first=date(2021, 5, 1), last=date(2021, 12, 31))
    starts = [p.first for p in plan.periods]
    # No new period at 12396's cancellation (10-01): its callers are told to dial 12345, so its calls stay on
    # the 12345 queue, where they have been since its transition, rather than vanishing from the plan.
    assert starts == [date(2021, 5, 1), date(2021, 6, 1), date(2021, 8, 31), date(2021, 10, 16)]
    may, june, october, transferred = plan.periods
    assert october.last == date(2021, 10, 15)
    assert may.workday is not None and june.workday is not None and october.workday is not None
    queue = "queue:510100"
    assert may.workday.pools["legacy:12396:510100"][10].calls == 60  # type: ignore[union-attr]
    assert "legacy:12396:510100" not in june.workday.pools
    assert june.workday.pools[queue][10].calls == 660  # type: ignore[union-attr]
    assert october.workday.pools[queue][10].calls == 660  # type: ignore[union-attr]
    # 12333's own seats until 10-16, then its expert group inside the 12345 queue.
    assert october.workday.pools["legacy:12333:510100"][10].calls == 200  # type: ignore[union-attr]
    assert transferred.workday is not None and transferred.restday is not None
    hour = transferred.workday.pools[queue][10]
    assert hour is not None and hour.calls == 860 and hour.experts == {"12333": agents_needed(200, 300, Target())}
    assert transferred.restday.pools[queue][10].calls == 700  # type: ignore[union-attr]
    # 20:00: the sub-centre is closed before 08-31, so its calls come to 12345; from 08-31 it answers them.
    assert may.workday.pools[queue][20].calls == 30  # type: ignore[union-attr]
    assert october.workday.pools["subcenter:12366:510100"][20].calls == 30  # type: ignore[union-attr]


def test_shortfall_and_defaults(db_url: str, tmp_path: Path) -> None:
    forecast = service.read_forecast(_xlsx(tmp_path / "f.xlsx", ROWS))
    plan = _plan(forecast, available=80)
    assert plan.periods[0].first == date(2021, 1, 1) and plan.periods[-1].last == date(2021, 12, 31)
    needs = [plan.platform_roster(p) for p in plan.periods]
    assert needs == sorted(needs) and needs[0] < needs[-1]  # the queue grows as lines merge
    shortfalls = [plan.shortfall(p) for p in plan.periods]
    assert shortfalls == [max(0, n - 80) for n in needs] and shortfalls[-1] > 0
    text = "\n".join(service.describe(plan))
    assert "12345座席缺口" in text and "12333 专家座席" in text and "12396原热线座席" in text
    payload = plan.to_dict()
    assert payload["periods"][-1]["shortfall"] == shortfalls[-1]
    assert len(payload["periods"][0]["pools"][0]["workday"]["hourly_agents"]) == 24


def test_what_callers_get_with_the_agents_planned_and_with_too_few(db_url: str, tmp_path: Path) -> None:
    forecast = service.read_forecast(_xlsx(tmp_path / "f.xlsx", ROWS))
    plan = _plan(forecast, available=80)
    payload = plan.to_dict()
    assert payload["patience"] == 60  # the default assumption, stated with the plan
    for period in payload["periods"]:
        for pool in period["pools"]:
            for kind in ("workday", "restday"):
                needs = pool[kind]
                if needs is None:
                    continue
                planned = needs["outcome"]
                # Erlang C's agents: the target met, few callers lost, every caller answered or gone.
                assert planned["answered_within"] >= 0.8 and planned["abandoned"] < 0.05
                assert planned["answered"] == pytest.approx(1 - planned["abandoned"], abs=1e-4)
                short = pool["pool"].startswith("queue:") and needs["roster"] > 80
                assert (needs["at_available"] is not None) == short
    last = payload["periods"][-1]["pools"][0]
    assert last["pool"] == "queue:510100" and last["workday"]["roster"] > 80
    gap = last["workday"]["at_available"]
    # 80 on the roster, 56 of them on the phones at once (30 % shrinkage), for a peak that needs more.
    assert (gap["roster"], gap["agents"]) == (80, 56) and last["workday"]["peak_agents"] > 56
    assert gap["abandoned"] > 2 * last["workday"]["outcome"]["abandoned"] and gap["answered_within"] < 0.8
    assert gap["worst_hour"] == 10 and gap["worst_hour_abandoned"] >= gap["abandoned"]
    text = "\n".join(service.describe(plan))
    assert "放弃率按来电者平均耐心 60 秒估算（Erlang A）" in text
    assert f"按现有 80 人排班（同时在线 56 人），工作日预计放弃率 {gap['abandoned']:.1%}，人工接通率" in text
    assert f"15 秒接通率 {gap['answered_within']:.1%}（最差时段 10 点" in text
    # More patient callers: fewer hang up with the same agents.
    patient = _plan(forecast, available=80, patience=300).to_dict()["periods"][-1]["pools"][0]["workday"]
    assert patient["at_available"]["abandoned"] < gap["abandoned"]
    # Enough agents: no consequence to show.
    assert all(
        p["workday"]["at_available"] is None for p in _plan(forecast, available=500).to_dict()["periods"][-1]["pools"]
    )
    with pytest.raises(InvalidInput) as err:
        _plan(forecast, patience=0)
    assert err.value.code == "invalid-target"


def test_bad_forecasts_are_refused_with_the_row(db_url: str, tmp_path: Path) -> None:
    english = tmp_path / "en.csv"
    english.write_text("line,hour,calls,handle_seconds\n12345,9,100,240\n", encoding="utf-8")
    assert service.read_forecast(english).lines == ("12345",)
    cases = [
        ([*ROWS[:2], ["12345", "25", "10", "240", ""]], "invalid-forecast", 4),
        ([*ROWS[:2], ["12345", "9", "很多", "240", ""]], "invalid-forecast", 4),
        ([*ROWS[:2], ["12345", "9", "10", "240", "周末"]], "invalid-forecast", 4),
        ([*ROWS[:2], ["12345", "10", "10", "240", ""]], "duplicate-forecast", None),
        ([["号码", "来电量"], ["12345", "10"]], "missing-column", None),
    ]
    for k, (rows, code, row) in enumerate(cases):
        with pytest.raises(InvalidInput) as err:
            service.read_forecast(_xlsx(tmp_path / f"bad{k}.xlsx", rows))
        assert err.value.code == code
        if row is not None:
            assert err.value.details["row"] == row and f"第 {row} 行" in err.value.message
    for number in ("99999", "110"):
        with pytest.raises(InvalidInput) as err:
            _plan(service.read_forecast(_xlsx(tmp_path / f"{number}.xlsx", [ROWS[0], [number, "9", "10", "200", ""]])))
        assert err.value.code == "unknown-line"


def test_http_seat_plan(db_url: str) -> None:
    client = TestClient(create_app())
    body = {
        "region": "510100",
        "first": "2021-10-01",
        "last": "2021-10-31",
        "available": 10,
        "forecast": [
            {"line": "12345", "hour": 10, "calls": 300, "handle_seconds": 240},
            {"line": "12333", "hour": 10, "calls": 100, "handle_seconds": 300, "day_kind": "workday"},
        ],
    }
    res = client.post("/api/seats/plan", json=body)
    assert res.status_code == 200, res.text
    periods = res.json()["periods"]
    assert [(p["first"], p["last"]) for p in periods] == [("2021-10-01", "2021-10-15"), ("2021-10-16", "2021-10-31")]
    assert periods[1]["pools"][0]["label"] == "12345话务队列（成都市）" and periods[1]["shortfall"] > 0
    at_ten = client.post("/api/seats/plan", json={**body, "patience": 120}).json()
    gap = at_ten["periods"][1]["pools"][0]["workday"]["at_available"]
    assert at_ten["patience"] == 120 and gap["agents"] == 7 and gap["abandoned"] > 0.2
    assert gap["abandoned"] < periods[1]["pools"][0]["workday"]["at_available"]["abandoned"]  # 60 s by default
    impatient = client.post("/api/seats/plan", json={**body, "patience": -5})
    assert impatient.status_code == 422 and impatient.json()["code"] == "invalid-target"
    bad = client.post("/api/seats/plan", json={**body, "service_level": 1.5})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-target"
    unknown = client.post(
        "/api/seats/plan", json={**body, "forecast": [{"line": "999", "hour": 1, "calls": 1, "handle_seconds": 1}]}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown-line"


def test_a_forecast_from_the_calls_the_platform_routed(db_url: str, tmp_path: Path) -> None:
    set_up_routes()
    # The week of 2021-06-07: Monday to Friday are working days, the 12th and 13th rest days.
    calls = [  # (call, number, trunk, China time, handling seconds reported)
        ("a", "12345", "cd-telecom", datetime(2021, 6, 7, 10, 5), 200.0),
        ("b", "12345", "cd-telecom", datetime(2021, 6, 8, 10, 40), None),
        ("c", "12345", "cd-telecom", datetime(2021, 6, 12, 10, 15), None),
        ("d", "12331", "cd-telecom", datetime(2021, 6, 9, 9, 30), 300.0),
        ("e", "99999", "cd-telecom", datetime(2021, 6, 9, 9, 31), None),  # not a hotline: rejected, not counted
        ("f", "12345", "my-telecom", datetime(2021, 6, 9, 9, 32), None),  # another region
        ("g", "12345", "cd-telecom", datetime(2021, 6, 14, 10, 0), None),  # after the period
    ]
    with session_scope() as s:
        for call_id, number, trunk, local, handled in calls:
            at = local.replace(tzinfo=CHINA_TZ)
            telephony.record_decision(s, telephony.route_call(s, number, "13800001111", trunk, call_id, None, at))
            if handled is not None:
                telephony.record_event(s, call_id, "answered", at + timedelta(seconds=10))
                telephony.record_event(s, call_id, "ended", at + timedelta(seconds=10 + handled))
    with session_scope() as s:
        observed = service.forecast_from_calls(s, region="成都市", first=date(2021, 6, 7), last=date(2021, 6, 13))
    assert (observed.calls, observed.measured, observed.days) == (4, 2, (5, 2))
    rows = {(d.line, d.hour, d.day_kind.value): (d.calls, d.handle_seconds) for d in observed.forecast.demands()}
    assert rows == {
        ("12345", 10, "workday"): (2 / 5, 200.0),
        ("12345", 10, "restday"): (1 / 2, 200.0),
        ("12331", 9, "workday"): (1 / 5, 300.0),
    }
    # Written as a table, it reads back as the same forecast, and plans.
    path = tmp_path / "observed.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(observed.rows())
    again = service.read_forecast(path)
    assert {(d.line, d.hour, d.day_kind.value): (round(d.calls, 2), d.handle_seconds) for d in again.demands()} == {
        k: (round(c, 2), h) for k, (c, h) in rows.items()
    }
    assert _plan(again, first=date(2021, 6, 7), last=date(2021, 6, 13)).periods
    with session_scope() as s, pytest.raises(InvalidInput) as err:
        service.forecast_from_calls(s, region="成都市", first=date(2020, 1, 1), last=date(2020, 1, 31))
    assert err.value.code == "no-calls"


def test_callers_patience_measured_from_the_calls_of_the_period_and_region(db_url: str) -> None:
    set_up_routes()
    # Chengdu, Tuesday 2021-06-08: 40 callers hang up after 20 to 59 s, 79 are answered after 30 s, 20 at once.
    record_waits(datetime(2021, 6, 8, 9, 0), hung_up=[20 + i for i in range(40)], answered=[30] * 79 + [0] * 20)
    record_waits(datetime(2021, 6, 9, 9, 0), hung_up=[5] * 10, trunk="my-telecom")  # Mianyang's callers
    record_waits(datetime(2021, 6, 14, 9, 0), hung_up=[5] * 10)  # the Monday after the period
    with session_scope() as s:
        # Hung up while the notice played, before the queue: not a wait for an agent.
        at = datetime(2021, 6, 10, 9, 0, tzinfo=CHINA_TZ)
        telephony.record_decision(s, telephony.route_call(s, "12331", "13800001111", "cd-telecom", "notice", None, at))
        telephony.record_event(s, "notice", "offered", at)
        telephony.record_event(s, "notice", "abandoned", at + timedelta(seconds=3))
    with session_scope() as s:
        estimate = service.measured_patience(s, region="成都市", first=date(2021, 6, 7), last=date(2021, 6, 13))
        observed = service.forecast_from_calls(s, region="成都市", first=date(2021, 6, 7), last=date(2021, 6, 13))
    # (20 + … + 59) + 79 × 30 = 1 580 + 2 370 seconds of waiting, over 40 who hung up.
    assert (estimate.waited, estimate.abandoned, estimate.waited_seconds) == (119, 40, 3950)
    assert estimate.trusted and estimate.patience == estimate.mean == 3950 / 40
    assert observed.patience == estimate and observed.calls == 140
    assert estimate.interval is not None
    low, high = (round(x) for x in estimate.interval)
    assert service.describe_patience(estimate) == (
        f"实测来电人平均耐心 99 秒（排队 119 人，放弃 40 人；95% 区间 {low}–{high} 秒），测算时可用 --patience 99"
    )
    # Planned with it: callers more patient than the default 60 s, fewer hang up with the same agents.
    forecast = service.forecast_from_records([{"line": "12345", "hour": 10, "calls": 400, "handle_seconds": 240}])
    week = {"first": date(2021, 6, 7), "last": date(2021, 6, 13), "available": 30}
    measured = _plan(forecast, patience=estimate.patience, **week).to_dict()["periods"][0]["pools"][0]["workday"]
    assumed = _plan(forecast, **week).to_dict()["periods"][0]["pools"][0]["workday"]
    assert measured["at_available"]["abandoned"] < assumed["at_available"]["abandoned"]

    with session_scope() as s:
        mianyang = service.measured_patience(s, region="绵阳市", first=date(2021, 6, 7), last=date(2021, 6, 13))
        nobody = service.measured_patience(s, region="成都市", first=date(2021, 5, 1), last=date(2021, 5, 31))
        with pytest.raises(InvalidInput) as err:
            service.measured_patience(s, region="成都市", first=date(2021, 6, 13), last=date(2021, 6, 7))
    assert err.value.code == "invalid-period"
    # Ten who hung up after 5 s: a mean of 5 s, too few to plan with.
    assert (mianyang.abandoned, mianyang.mean, mianyang.trusted, mianyang.patience) == (10, 5.0, False, 60.0)
    assert service.describe_patience(mianyang) == (
        "实测来电人平均耐心约 5 秒（排队 10 人，放弃 10 人；95% 区间 3–10 秒），放弃不足 30 人，样本太少，不宜采用；"
        "测算仍按默认 60 秒"
    )
    assert nobody.waited == 0 and nobody.mean is None
    assert (
        service.describe_patience(nobody) == "期间没有排队或放弃的话务记录，无法实测来电人平均耐心；测算仍按默认 60 秒"
    )
    assert service.describe_patience(PatienceEstimate(1204, 0, 30_000.0)) == (
        "实测来电人平均耐心：排队 1,204 人，无人放弃，无法估计；测算仍按默认 60 秒"
    )
