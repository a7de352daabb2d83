"""Taking in sources' batches (SQLite and PostgreSQL): all or nothing, redelivery harmless, latest version
kept, and the figures supervisors read."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.aggregation import service
from hotline.aggregation.schema import MAX_BATCH
from hotline.aggregation.store import FeedCallRow, FeedOrderRow, FeedRejection, FeedState
from hotline.db import get_engine, session_scope
from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.tables import Table

NOW = datetime(2021, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 China time, 2021-11-10


def call(i: int, *, answered: bool = True, minutes: int = 0, **extra: Any) -> dict[str, Any]:
    started = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
    record: dict[str, Any] = {"kind": "call", "id": f"C{i}", "started_at": started.isoformat()}
    if answered:
        record["answered_at"] = (started + timedelta(seconds=10 + i)).isoformat()
    record["ended_at"] = (started + timedelta(minutes=3)).isoformat()
    return {**record, **extra}


def order(i: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "workorder", "id": f"W{i}", "created_at": "2021-11-01T09:00:00", "due": "2021-11-05", **extra}


def ingest(records: list[dict[str, Any]], source: str = "12366", at: datetime = NOW) -> service.IngestResult:
    with session_scope() as session:
        return service.ingest(session, source, {"records": records}, at=at)


def count(model: type) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_is_kept_and_its_redelivery_changes_nothing(db_url: str) -> None:
    batch = [call(1), call(2, answered=False), order(1)]
    assert ingest(batch).to_dict() == {
        "source": "12366", "received": 3, "inserted": 3, "updated": 0, "unchanged": 0, "stale": 0
    }  # fmt: skip
    again = ingest(batch, at=NOW + timedelta(minutes=1))
    assert (again.inserted, again.unchanged) == (0, 3)
    assert count(FeedCallRow) == 2 and count(FeedOrderRow) == 1
    with session_scope() as session:
        state = session.get(FeedState, "12366")
        assert state is not None and (state.batches, state.records) == (2, 6)
        assert state.last_seen_at == NOW + timedelta(minutes=1) and state.last_changed_at == NOW


def test_the_latest_version_wins_whatever_order_they_arrive_in(db_url: str) -> None:
    ingest([order(1, updated_at="2021-11-02T10:00:00")])
    resolved = order(1, updated_at="2021-11-04T10:00:00", resolved_at="2021-11-04T10:00:00", satisfaction="满意")
    assert ingest([resolved]).updated == 1
    late_old = order(1, updated_at="2021-11-03T10:00:00", category="旧版本")
    assert ingest([late_old]).stale == 1
    with session_scope() as session:
        row = session.scalars(select(FeedOrderRow)).one()
        assert row.satisfaction == "satisfied" and row.category is None
        assert row.resolved_at == datetime(2021, 11, 4, 2, 0, tzinfo=UTC)  # naive times are China time


def test_one_bad_record_refuses_the_whole_batch_and_names_every_error(db_url: str) -> None:
    bad = [call(1), {"kind": "call", "id": "C2"}, order(3, due="2021-10-01"), {"id": "X"}]
    with pytest.raises(InvalidInput) as caught:
        ingest(bad)
    assert caught.value.code == "feed-invalid"
    errors = caught.value.details["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, "started_at"), (2, None), (3, None)]
    assert "呼入时间" in errors[0]["message"] and "办理期限早于受理日期" in errors[1]["message"]
    assert count(FeedCallRow) == 0 and count(FeedState) == 0


def test_unknown_sources_and_oversized_batches_are_refused(db_url: str) -> None:
    with pytest.raises(NotFound) as missing:
        ingest([call(1)], source="99999")
    assert missing.value.code == "feed-source-not-found"
    with pytest.raises(InvalidInput) as large:
        ingest([call(i) for i in range(MAX_BATCH + 1)])
    assert large.value.code == "feed-batch-too-large"
    assert count(FeedCallRow) == 0


def test_an_empty_batch_is_a_heartbeat(db_url: str) -> None:
    assert ingest([]).received == 0
    with session_scope() as session:
        rows = {r["code"]: r for r in service.overview(session, at=NOW + timedelta(minutes=2))["sources"]}
        assert rows["12366"]["freshness"] == "live" and rows["12366"]["last_changed_at"] is None
        assert rows["12360"]["freshness"] == "never"
        silent = {r["code"]: r for r in service.overview(session, at=NOW + timedelta(hours=1))["sources"]}
        assert silent["12366"]["freshness_label"] == "中断"


def test_overview_counts_today_and_open_overdue_orders(db_url: str) -> None:
    yesterday = call(9, minutes=-24 * 60)
    ingest([call(1), call(2), call(3, answered=False), yesterday, order(1), order(2, resolved_at="2021-11-04")])
    ingest([call(1)], source="510100")
    with session_scope() as session:
        found = service.overview(session, at=NOW)
    rows = {r["code"]: r for r in found["sources"]}
    tax = rows["12366"]
    assert (tax["calls_today"], tax["answered_today"], tax["orders_today"]) == (3, 2, 0)
    assert tax["connection_rate_today"] == pytest.approx(2 / 3)
    assert tax["open_overdue"] == 1  # W1 is open past 11-05; W2 was resolved
    assert tax["milestone"]["title"] == "数据实时归集" and tax["milestone"]["effective_date"] == "2021-10-31"
    assert rows["510100"]["calls_today"] == 1 and rows["510100"]["milestone"] is None
    assert rows["12333"]["kind_label"] == "双号并行热线" and rows["12333"]["milestone"]["title"] == "系统对接"
    assert rows["12333"]["milestone"]["effective_date"] == "2021-09-30"
    assert found["today"] == "2021-11-10" and len(rows) == 5 + 14 + 21


def test_report_computes_the_platforms_own_kpis(db_url: str) -> None:
    ingest(
        [
            call(1),  # answered after 11 s
            call(20),  # answered after 30 s
            call(3, answered=False),  # abandoned
            order(1, dispatched=True, resolved_at="2021-11-04T16:00", satisfaction="satisfied"),
            order(2, dispatched=True, resolved_at="2021-11-08T10:00", satisfaction="unsatisfied"),
            order(3),  # still open, due 11-05
        ]
    )
    with session_scope() as session:
        report = service.report(session, "12366", date(2021, 11, 1), date(2021, 11, 10), today=date(2021, 11, 10))
    calls = report["call_kpis"]
    assert (calls["requested"], calls["answered"], calls["abandoned"], calls["answered_within"]) == (3, 2, 1, 1)
    rates = {r["key"]: r for r in report["order_kpis"]}
    assert (rates["on_time_resolve"]["numerator"], rates["on_time_resolve"]["denominator"]) == (1, 2)
    assert (rates["overdue"]["numerator"], rates["overdue"]["denominator"]) == (2, 3)  # one late, one open
    assert rates["satisfaction"]["value"] == 0.5
    with session_scope() as session, pytest.raises(InvalidInput):
        service.report(session, "12366", date(2021, 11, 10), date(2021, 11, 1))


def test_a_refusal_is_kept_for_supervisors(db_url: str) -> None:
    with session_scope() as session:
        service.reject(session, "12366", InvalidInput("第 1 条记录有误", code="feed-invalid"), transport="queue",
                       stream_seq=17, at=NOW)  # fmt: skip
    with session_scope() as session:
        row = session.scalars(select(FeedRejection)).one()
        assert (row.source, row.code, row.stream_seq) == ("12366", "feed-invalid", 17)
        report = service.report(session, "12366", date(2021, 11, 1), date(2021, 11, 10))
        assert report["rejections"][0]["message"] == "第 1 条记录有误"
        rows = {r["code"]: r for r in service.overview(session, at=NOW)["sources"]}
        assert rows["12366"]["rejected"] == 1 and rows["12366"]["batches"] == 0


def test_a_refusal_of_a_batch_not_from_the_source_leaves_its_connection_state_alone(db_url: str) -> None:
    ingest([], at=NOW - timedelta(hours=1))  # the source's own heartbeat, an hour ago: 中断
    refused = Forbidden("账号 feed-510100 不能代表数据来源 12366 报送", code="source-not-granted")
    with session_scope() as session:
        for source in ("12366", "12367"):  # one heard from before, one never
            service.reject(session, source, refused, transport="queue", stream_seq=5, at=NOW, heard=False)
    with session_scope() as session:
        rows = {r["code"]: r for r in service.overview(session, at=NOW)["sources"]}
        listed = {s: service.report(session, s, date(2021, 11, 10), date(2021, 11, 10))["rejections"]
                  for s in ("12366", "12367")}  # fmt: skip
    assert (rows["12366"]["freshness"], rows["12366"]["rejected"]) == ("silent", 1)
    assert rows["12366"]["last_seen_at"] == (NOW - timedelta(hours=1)).isoformat()
    assert rows["12367"]["freshness"] == "never"
    assert [r["code"] for r in listed["12366"]] == [r["code"] for r in listed["12367"]] == ["source-not-granted"]


def test_a_table_with_chinese_headers_is_imported_and_errors_name_its_rows(db_url: str) -> None:
    header = ["工单编号", "受理时间", "办理期限", "是否派单", "回访结果", "办结时间"]
    rows = [dict(zip(header, r, strict=True)) for r in (
        ["W1", "2021-11-01 09:00", "2021-11-05", "是", "", ""],
        ["W2", "2021-11-01 09:00", "2021-11-05", "否", "基本满意", "2021-11-02 09:00"],
    )]  # fmt: skip
    with session_scope() as session:
        result = service.import_table(session, "12366", Table(rows, header, [2, 3]), "workorder")
    assert result.inserted == 2
    with session_scope() as session:
        kept = {r.external_id: r for r in session.scalars(select(FeedOrderRow))}
    assert kept["W1"].dispatched and not kept["W2"].dispatched and kept["W2"].satisfaction == "basic"
    broken = [dict(zip(header, ["W3", "2021-11-01 09:00", "2021-10-05", "是", "", ""], strict=True))]
    with session_scope() as session, pytest.raises(InvalidInput) as caught:
        service.import_table(session, "12366", Table(broken, header, [7]), "workorder")
    assert caught.value.message.startswith("第 7 行有误") and caught.value.details["errors"][0]["row"] == 7


def test_concurrent_deliveries_of_one_batch_keep_each_record_once(db_url: str) -> None:
    batch = [call(i) for i in range(50)]
    results: list[service.IngestResult] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        try:
            results.append(ingest(batch))
        except BaseException as exc:  # reported below, not swallowed
            failures.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sum(r.inserted for r in results) == 50 and sum(r.unchanged for r in results) == 150
    assert count(FeedCallRow) == 50
    get_engine(db_url).dispose()
