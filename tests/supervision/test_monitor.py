"""实时监控's figures (`supervision.monitor.live_board`) from calls routed by the platform's own lookup and the events
the ACD reported, and from work orders taken in and worked on: SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hotline.db import session_scope
from hotline.supervision import monitor
from hotline.telephony import service as telephony
from hotline.workorders import service as orders
from tests.conftest import query_plan
from tests.telephony.missed_calls import ANSWERED, ENDED_UNANSWERED, MISSED, T0, call, report, set_up_lines

AT = T0 + timedelta(minutes=30)  # 10:30 China time on 2021-06-01
QUEUED_ONLY = (("offered", 0), ("queued", 2))
ANSWERED_LATE = (("offered", 0), ("queued", 2), ("answered", 20), ("ended", 100))  # waited 18 s


@pytest.fixture
def calls(db_url: str) -> None:
    """At 10:30: two callers waiting (成都市 since 10:20:02, 绵阳市 since 10:25:02); one waiting since 07:00 (stale);
    answered in 10 s and in 18 s, one abandoned, one ended unanswered; yesterday's call still queued."""
    set_up_lines()
    call("yesterday", "13800000000", -24 * 60, QUEUED_ONLY)
    call("stale", "13800000001", -3 * 60, QUEUED_ONLY)
    call("answered", "13800000002", 0, ANSWERED)
    call("abandoned", "13800000003", 5, MISSED, dialed="12331", trunk="my-telecom")
    call("ended", "13800000004", 8, ENDED_UNANSWERED)
    call("waiting", "13800000005", 20, QUEUED_ONLY)
    call("late", "13800000006", 20, ANSWERED_LATE)
    call("waiting-my", "13800000007", 25, QUEUED_ONLY, trunk="my-telecom")


def _board(at: datetime = AT, region: str | None = None) -> dict[str, Any]:
    with session_scope() as session:
        return monitor.live_board(session, at, region=region)


def test_the_board_counts_the_callers_waiting_now_and_the_days_calls(calls: None) -> None:
    board = _board()
    assert board["day"] == "2021-06-01" and board["at"] == "2021-06-01T10:30:00+08:00"
    # Queued and nothing since: 10:20:02 and 10:25:02; 07:00's is stale, yesterday's is yesterday's.
    assert board["waiting"] == 2
    assert board["longest_wait_seconds"] == 598.0
    today = board["today"]
    assert (today["offered"], today["requested"], today["answered"], today["abandoned"]) == (7, 7, 2, 1)
    assert (today["answered_within"], today["within_rate"]) == (1, 0.5)  # 10 s within 15 s, 18 s not
    assert today["connection_rate"] == pytest.approx(2 / 7)
    assert today["average_wait_seconds"] == pytest.approx(14.0)
    # The last 15 minutes: the calls routed from 10:15.
    recent = board["recent"]
    assert (recent["offered"], recent["answered"], recent["answered_within"]) == (3, 1, 0)
    assert recent["average_wait_seconds"] == pytest.approx(18.0)
    assert board["routed"] == 7

    regions = {r["code"]: r for r in board["regions"]}
    assert list(regions) == ["510100", "510700"]
    assert regions["510100"]["name"] == "成都市" and regions["510700"]["name"] == "绵阳市"
    assert (regions["510100"]["waiting"], regions["510700"]["waiting"]) == (1, 1)
    assert regions["510700"]["longest_wait_seconds"] == 298.0
    assert (regions["510100"]["today"]["offered"], regions["510700"]["today"]["offered"]) == (5, 2)
    lines = {line["dialed"]: line for line in board["lines"]}
    assert [line["dialed"] for line in board["lines"]] == ["12345", "12331"]  # the busiest first
    assert (lines["12345"]["routed"], lines["12345"]["waiting"], lines["12331"]["today"]["abandoned"]) == (6, 2, 1)
    assert lines["12345"]["name"] == "12345热线"


def test_the_days_figures_are_those_of_the_calls_page(calls: None) -> None:
    """话务记录's day figures up to the board's instant (`day_report`) are the board's today, to the rounding."""
    board = _board()
    with session_scope() as session:
        kpis = telephony.day_report(session, monitor.day_start(AT), AT + timedelta(microseconds=1)).kpis.to_dict()
    for name, value in kpis.items():
        assert board["today"][name] == (pytest.approx(value) if isinstance(value, float) else value), name


def test_a_queued_call_waits_until_answered_abandoned_or_ended(calls: None) -> None:
    report("waiting", 20, (("answered", 40),))
    assert (_board()["waiting"], _board()["longest_wait_seconds"]) == (1, 298.0)
    report("waiting-my", 25, (("abandoned", 60),))
    board = _board()
    assert (board["waiting"], board["longest_wait_seconds"]) == (0, None)
    assert (board["today"]["answered"], board["today"]["abandoned"]) == (3, 2)
    report("stale", -3 * 60, (("ended", 30),))  # nothing changes: it was not counted waiting
    assert _board()["waiting"] == 0


def test_an_ended_call_no_longer_waits(calls: None) -> None:
    report("waiting", 20, (("ended", 400),))
    assert _board()["waiting"] == 1


def test_yesterdays_calls_do_not_count_today(calls: None) -> None:
    """Just after midnight only what was routed since counts today; a caller queued before midnight still waits."""
    midnight = monitor.day_start(AT) + timedelta(days=1)
    call("before-midnight", "13800000008", (midnight - T0).total_seconds() / 60 - 5, QUEUED_ONLY)
    board = _board(midnight + timedelta(minutes=1))
    assert board["day"] == "2021-06-02"
    assert (board["routed"], board["today"]["offered"]) == (0, 0)
    assert board["waiting"] == 1  # since 23:55:02
    assert [(r["code"], r["waiting"], r["routed"]) for r in board["regions"]] == [("510100", 1, 0)]
    assert board["longest_wait_seconds"] == 358.0
    assert board["today"]["connection_rate"] is None and board["today"]["average_wait_seconds"] is None


def test_a_region_shows_its_own_calls_only(calls: None) -> None:
    board = _board(region="绵阳市")
    assert (board["region"], board["region_name"]) == ("510700", "绵阳市")
    assert (board["waiting"], board["longest_wait_seconds"]) == (1, 298.0)
    assert (board["today"]["offered"], board["today"]["abandoned"], board["today"]["answered"]) == (2, 1, 0)
    assert [r["code"] for r in board["regions"]] == ["510700"]
    assert [line["dialed"] for line in board["lines"]] == ["12331", "12345"]


def test_an_unknown_region_is_refused(calls: None) -> None:
    from hotline.errors import NotFound

    with pytest.raises(NotFound) as refused:
        _board(region="火星")
    assert refused.value.code == "region-not-found"


def test_no_callers_number_is_in_the_board(calls: None) -> None:
    assert "138000000" not in repr(_board())


def test_work_orders_taken_in_waiting_for_dispatch_answered_and_overdue(db_url: str) -> None:
    def create(at: datetime, region: str = "510100") -> str:
        with session_scope() as session:
            number = orders.create_order(
                session, type="求助", content="路灯不亮", phone="13812341234", region=region, at=at
            ).number
            session.flush()
            return number

    with session_scope() as session:
        orders.load_units(session)
    create(AT - timedelta(days=60))  # long past its deadline, still waiting for dispatch
    create(AT - timedelta(days=1))  # yesterday's
    create(AT - timedelta(minutes=5), region="510700")
    answered = create(AT - timedelta(minutes=20))
    with session_scope() as session:
        orders.act(
            session, answered, "direct_resolve", role="agent", reply="已告知维修电话", at=AT - timedelta(minutes=10)
        )
    assert _board()["orders"] == {"received_today": 2, "to_dispatch": 3, "resolved_today": 1, "overdue": 1}
    assert _board(region="510700")["orders"] == {
        "received_today": 1, "to_dispatch": 1, "resolved_today": 0, "overdue": 0,
    }  # fmt: skip


def test_todays_answered_orders_are_counted_through_their_index(db_url: str) -> None:
    """今日办结 is read every few seconds by each board's stream: an index on 办结时间 serves it (migration 0028),
    rather than a read of every order ever taken."""
    plan = query_plan(db_url, lambda s: monitor.order_figures(s, AT, None), wanted="SELECT count(*)")
    assert "ix_wo_orders_resolved_at" in plan, plan


def test_overdue_orders_are_those_the_lists_overdue_filter_counts(db_url: str) -> None:
    """Paused (待市民补充: the deadline moves by the working days paused), waiting for a callback past the 回访时限,
    being handled past due, on time: 已超期 is the order list's 超期 count, region by region."""
    zjj = "510100-zjj"

    def create(days_ago: int, *steps: tuple[str, dict[str, Any]], region: str = "510100") -> None:
        at = AT - timedelta(days=days_ago)
        with session_scope() as session:
            number = orders.create_order(
                session, type="投诉", content="噪音扰民", phone="13812341234", region=region, at=at
            ).number
            for i, (action, kw) in enumerate(steps):
                orders.act(session, number, action, at=at + timedelta(hours=i + 1), **kw)

    with session_scope() as session:
        orders.load_units(session)
        orders.add_unit(session, zjj, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
    dispatch = ("dispatch", {"role": "dispatcher", "target_unit": zjj})
    accept = ("accept", {"role": "department", "unit": zjj})
    pause = ("await_citizen", {"role": "department", "unit": zjj, "reason": "请市民补充具体楼栋"})
    answer = ("direct_resolve", {"role": "agent", "reply": "已告知处理结果"})
    for days_ago in (40, 20, 12, 3):
        create(days_ago, dispatch, accept)
        create(days_ago, dispatch, accept, pause)
        create(days_ago, answer)
        create(days_ago, region="510700")
    for region in (None, "510100", "510700"):
        listed = orders.OrderFilters(sla="overdue", region=region)
        with session_scope() as session:
            wanted = orders.count_orders(session, listed, role="supervisor", today=AT.date())
        assert _board(region=region)["orders"]["overdue"] == wanted, region
    assert _board()["orders"]["overdue"] > 0


def test_the_board_shows_the_agents_state_now_and_their_day(calls: None) -> None:
    """座席: the states the ACD reported (示忙 split by reason), how long each has lasted, the day's hours and the calls
    answered (the `answered` events naming the agent: two today, one yesterday)."""
    from hotline.accounts import service as accounts
    from hotline.telephony import agent_states

    def t(minutes: float) -> str:
        return (T0 + timedelta(minutes=minutes)).isoformat()  # T0 is 10:00 China time

    with session_scope() as session:
        accounts.create_account(session, "a007", "王芳", ["agent"])
        for call_id, minutes in (("a7-1", 1), ("a7-2", 15), ("a7-old", -24 * 60)):
            telephony.record_event(session, call_id, "answered", T0 + timedelta(minutes=minutes), "A007")
        agent_states.record_states(
            session,
            [
                {"agent": "A007", "state": "ready", "at": t(-60)},
                {"agent": "A007", "state": "busy", "at": t(0)},
                {"agent": "A007", "state": "wrap_up", "at": t(10)},
                {"agent": "A007", "state": "ready", "at": t(20)},
                {"agent": "A008", "state": "not_ready", "at": t(-30), "reason": "培训"},
                {"agent": "A009", "state": "not_ready", "at": t(25), "reason": "小休"},
                {"agent": "A010", "state": "busy", "at": t(-13 * 60)},  # 21:00 yesterday, no report since: signed out
            ],
        )
    agents = _board()["agents"]
    counts = agents["counts"]
    assert (counts["signed_in"], counts["ready"], counts["busy"], counts["not_ready"]) == (3, 1, 0, 2)
    assert counts["not_ready_reasons"] == [{"reason": "培训", "agents": 1}, {"reason": "小休", "agents": 1}]
    rows = {r["agent"]: r for r in agents["rows"]}
    assert list(rows) == ["A007", "A008", "A009", "A010"]
    a7 = rows["A007"]
    assert (a7["name"], a7["label"], a7["state_seconds"], a7["answered"]) == ("王芳", "空闲", 600.0, 2)
    assert (a7["signed_in_seconds"], a7["busy_seconds"], a7["wrap_up_seconds"]) == (5400.0, 600.0, 600.0)
    assert a7["utilization"] == pytest.approx(1200 / 5400)
    assert (rows["A008"]["label"], rows["A008"]["not_ready_seconds"]) == ("示忙（培训）", 3600.0)
    a10 = rows["A010"]  # signed in until 09:00 today (12 h after its last report)
    assert (a10["state"], a10["busy_seconds"], a10["since"]) == ("logged_out", 9 * 3600.0, "2021-06-01T09:00:00+08:00")
    assert _board(region="510700")["agents"] == agents  # the whole centre's, whatever the region
