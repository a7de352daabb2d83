"""Call records, trunks, endpoints, the proxy lookup and transfers against the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.db import session_scope
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.telephony import service

T0 = datetime(2021, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 China time


def _setup_endpoints() -> None:
    with session_scope() as s:
        service.set_endpoint(s, "queue:*", "sip:queue-{region}@10.0.0.1")
        service.set_endpoint(s, "legacy:*", "sip:{number}@10.0.0.2")
        service.set_endpoint(s, "subcenter:*", "sip:sub-{number}@10.0.0.3")
        service.set_endpoint(s, "announcement:*", "sip:announce@10.0.0.4")
        service.set_endpoint(s, "police:*", "sip:110@10.0.0.5")
        service.set_trunk(s, "cd-telecom", "成都市")


def test_events_are_idempotent_by_call_and_event(db_url: str) -> None:
    with session_scope() as s:
        first = service.record_event(s, "c1@x", "offered", T0, data={"from": "138"})
        again = service.record_event(s, "c1@x", "offered", T0 + timedelta(seconds=9))
        service.record_event(s, "c1@x", "answered", T0 + timedelta(seconds=12), agent="A007")
    assert first.created and not again.created
    assert again.event["at"] == first.event["at"]
    with session_scope() as s:
        call = service.get_call(s, "c1@x")
    assert [e["event"] for e in call["events"]] == ["offered", "answered"]
    assert call["facts"]["wait_seconds"] == 12.0 and call["facts"]["answered"] is True
    assert call["facts"]["queue_seconds"] == 12.0


def test_unknown_event_and_empty_call_id_are_refused(db_url: str) -> None:
    with session_scope() as s, pytest.raises(InvalidInput) as exc:
        service.record_event(s, "c1", "ringing")
    assert exc.value.code == "invalid-call-event"
    with session_scope() as s, pytest.raises(InvalidInput):
        service.record_event(s, " ", "offered")
    with session_scope() as s, pytest.raises(NotFound):
        service.get_call(s, "nobody")


def test_kpis_from_stored_events(db_url: str) -> None:
    with session_scope() as s:
        for i, (answer_after, abandon_after) in enumerate([(8, None), (20, None), (None, 30), (14, None)]):
            cid = f"k{i}"
            service.record_event(s, cid, "offered", T0 + timedelta(minutes=i))
            service.record_event(s, cid, "queued", T0 + timedelta(minutes=i, seconds=1))
            if answer_after is not None:
                service.record_event(s, cid, "answered", T0 + timedelta(minutes=i, seconds=1 + answer_after))
            if abandon_after is not None:
                service.record_event(s, cid, "abandoned", T0 + timedelta(minutes=i, seconds=abandon_after))
        # offered outside the period: not counted
        service.record_event(s, "late", "offered", T0 + timedelta(days=2))
        service.record_event(s, "late", "queued", T0 + timedelta(days=2))
    with session_scope() as s:
        facts = service.calls_facts(s, T0, T0 + timedelta(days=1))
        k = service.kpi_report(s, T0, T0 + timedelta(days=1))
    assert sorted(f.call_id for f in facts) == ["k0", "k1", "k2", "k3"]
    assert (k.requested, k.answered, k.answered_within) == (4, 3, 2)
    assert k.connection_rate == pytest.approx(0.75) and k.within_rate == pytest.approx(2 / 3)
    with session_scope() as s, pytest.raises(InvalidInput):
        service.kpi_report(s, T0, T0)


def test_route_call_uses_the_trunks_region_and_keeps_the_decision(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    _setup_endpoints()
    with session_scope() as s:
        routed = service.route_call(s, "12331", "13800001111", "cd-telecom", "call-1@pbx", "2021-06-01T10:00")
        service.record_decision(s, routed)
    a = routed.answer
    assert (a.action, a.uri, a.prompt, a.skill, a.region) == (
        "relay",
        "sip:queue-510100@10.0.0.1",
        "transition:12331",
        "12331",
        "510100",
    )
    with session_scope() as s:
        call = service.get_call(s, "call-1@pbx")
        listed = service.list_calls(s)
    assert call["decision"]["prompt"] == "transition:12331"
    assert call["decision"]["caller"] == "138****1111"
    assert listed[0]["call_id"] == "call-1@pbx"
    # routed again with the same Call-ID (e.g. a new attempt): one record, the latest decision
    with session_scope() as s:
        service.record_decision(
            s, service.route_call(s, "12331", "138", "cd-telecom", "call-1@pbx", "2021-10-02T10:00")
        )
    with session_scope() as s:
        assert len(service.list_calls(s)) == 1
        assert service.get_call(s, "call-1@pbx")["decision"]["decision"] == "cancelled"


def test_time_override_is_ignored_unless_allowed(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup_endpoints()
    monkeypatch.delenv("HOTLINE_ALLOW_TIME_OVERRIDE", raising=False)
    with session_scope() as s:
        routed = service.route_call(s, "12345", "", "cd-telecom", "c", "2021-06-01T10:00")
    assert abs((routed.decided_for - datetime.now(UTC)).total_seconds()) < 60
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    with session_scope() as s:
        routed = service.route_call(s, "12345", "", "cd-telecom", "c", "2021-06-01T10:00")
    assert routed.decided_for == T0


def test_unconfigured_trunks(db_url: str) -> None:
    with session_scope() as s:
        assert service.region_for_trunk(s, "10.1.2.3") == "510000"
        assert service.region_for_trunk(s, "510700") == "510700"
        assert service.region_for_trunk(s, "绵阳市") == "510700"
        with pytest.raises(NotFound):
            service.set_trunk(s, "x", "北京市")


def test_endpoint_missing_is_an_error_the_proxy_falls_back_on(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    with session_scope() as s:
        service.set_endpoint(s, "queue:*", "sip:q@10.0.0.1")
    with session_scope() as s, pytest.raises(NotFound) as exc:
        service.route_call(s, "12333", "", "", "c", "2021-06-01T10:00")  # legacy seats: no address
    assert exc.value.code == "endpoint-not-configured"


def test_transfers_from_the_transfer_mechanism_date_recorded_as_call_events(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    _setup_endpoints()
    with session_scope() as s:
        service.record_decision(s, service.route_call(s, "12345", "13800001111", "cd-telecom", "t1", None))
        service.record_event(s, "t2", "offered", T0)
    # the sub-centres' transfer-mechanism milestone is 03-31 in the plan
    with session_scope() as s, pytest.raises(Conflict) as exc:
        service.transfer_call(s, "t1", "subcenter", "12366", "A007", "2021-03-30T10:00")
    assert exc.value.code == "transfer-not-available"
    with session_scope() as s:
        done = service.transfer_call(s, "t1", "subcenter", "12366", "A007", "2021-03-31T10:00")
    assert done["created"] and done["transferred"]["data"]["mode"] == "three-way"
    assert done["transferred"]["data"]["uri"] == "sip:sub-12366@10.0.0.3"
    with session_scope() as s:
        assert service.transfer_call(s, "t1", "subcenter", "12366", "A007")["created"] is False
        with pytest.raises(Conflict):
            service.transfer_call(s, "t1", "police")
        police = service.transfer_call(s, "t2", "police", agent="A008")
    assert police["transferred"]["data"]["to"] == "110"
    with session_scope() as s:
        assert [e["event"] for e in service.get_call(s, "t2")["events"]] == ["offered", "transferred"]
        with pytest.raises(InvalidInput) as refused:
            service.transfer_call(s, "t1", "subcenter", "12333")
        assert refused.value.code == "not-a-subcenter"
        with pytest.raises(NotFound):
            service.transfer_call(s, "nobody", "police")
        with pytest.raises(InvalidInput):
            service.transfer_call(s, "t2", "fax")


def test_decisions_are_stored_in_batches_latest_wins(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    _setup_endpoints()
    with session_scope() as s:
        first = service.route_call(s, "12331", "13800001111", "cd-telecom", "b1", "2021-06-01T10:00")
        other = service.route_call(s, "12345", "13900002222", "cd-telecom", "b2", "2021-06-01T10:00")
        service.record_decisions(s, [first, other])
    with session_scope() as s:
        later = service.route_call(s, "12331", "13800001111", "cd-telecom", "b1", "2021-10-02T10:00")
        service.record_decisions(s, [later, other])
    with session_scope() as s:
        assert {c["call_id"]: c["decision"] for c in service.list_calls(s)} == {"b1": "cancelled", "b2": "queue"}
        # the same Call-ID twice in one batch (a resent report joined to a new one): the last one is kept
        service.record_decisions(s, [later, first])
    with session_scope() as s:
        assert service.get_call(s, "b1")["decision"]["decision"] == "queue"


def test_the_recorder_stores_decisions_off_the_request_path(db_url: str) -> None:
    from hotline.telephony.recorder import recorder

    _setup_endpoints()
    with session_scope() as s:
        routed = service.route_call(s, "12345", "13800001111", "cd-telecom", "r1", None)
    recorder.submit(routed)
    recorder.flush()
    with session_scope() as s:
        assert service.get_call(s, "r1")["decision"]["target"] == "queue:510100"


def test_lookup_repeats_from_memory_until_the_configuration_changes(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    _setup_endpoints()
    first = service.lookup("12345", "13800001111", "cd-telecom", "m1", "2021-06-01T10:00")
    again = service.lookup("12345", "13800001111", "cd-telecom", "m2", "2021-06-01T10:00")
    assert again.answer == first.answer and again.call_id == "m2"
    with session_scope() as s:
        service.set_endpoint(s, "queue:*", "sip:new-queue-{region}@10.0.0.9")
    moved = service.lookup("12345", "13800001111", "cd-telecom", "m3", "2021-06-01T10:00")
    assert moved.answer.uri == "sip:new-queue-510100@10.0.0.9"
    # another second is another decision (service hours and plan dates change at whole seconds at most)
    later = service.lookup("12331", "", "cd-telecom", "m4", "2021-09-30T23:59:59")
    assert (
        service.lookup("12331", "", "cd-telecom", "m5", "2021-10-01T00:00:00").answer.decision != later.answer.decision
    )


def test_transfer_follows_the_regions_recorded_date(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from hotline.plan.service import record_milestone

    monkeypatch.setenv("HOTLINE_ALLOW_TIME_OVERRIDE", "1")
    _setup_endpoints()
    with session_scope() as s:
        service.set_trunk(s, "my-telecom", "绵阳市")
        record_milestone(s, "12366", "transfer-mechanism", "510100", done=date(2021, 3, 1), note="提前建成")
        record_milestone(s, "12366", "transfer-mechanism", "510700", postpone=date(2021, 5, 1), note="延期")
        service.record_decision(s, service.route_call(s, "12345", "", "cd-telecom", "cd1", "2021-03-15T10:00"))
        service.record_decision(s, service.route_call(s, "12345", "", "my-telecom", "my1", "2021-03-15T10:00"))
    with session_scope() as s:
        assert service.transfer_call(s, "cd1", "subcenter", "12366", at="2021-03-15T10:00")["created"]
    with session_scope() as s, pytest.raises(Conflict) as exc:
        service.transfer_call(s, "my1", "subcenter", "12366", at="2021-04-15T10:00")
    assert exc.value.code == "transfer-not-available" and "2021-05-01" in exc.value.message
    with session_scope() as s:
        assert service.transfer_call(s, "my1", "subcenter", "12366", at="2021-05-01T10:00")["created"]


def test_facts_of_the_calls_routed_for_a_region(db_url: str) -> None:
    _setup_endpoints()
    with session_scope() as s:
        service.set_trunk(s, "my-telecom", "绵阳市")
        # (call, number, trunk, seconds after T0): what the proxy routed, then what the ACD reported
        for call_id, number, trunk, after in [
            ("in-1", "12345", "cd-telecom", 0),
            ("in-2", "12331", "cd-telecom", 60),
            ("reject", "99999", "cd-telecom", 120),  # not a hotline: the proxy refused it
            ("elsewhere", "12345", "my-telecom", 180),  # another region
            ("later", "12345", "cd-telecom", 86400),  # after the period
        ]:
            at = T0 + timedelta(seconds=after)
            service.record_decision(s, service.route_call(s, number, "138", trunk, call_id, None, at))
            service.record_event(s, call_id, "queued", at + timedelta(seconds=2))
            service.record_event(s, call_id, "abandoned", at + timedelta(seconds=32))
        service.record_event(s, "in-2", "answered", T0 + timedelta(seconds=62 + 20))  # answered before it hung up
        service.record_event(s, "unrouted", "queued", T0)  # events of a call the proxy never saw
    with session_scope() as s:
        facts = service.routed_calls_facts(s, T0, T0 + timedelta(hours=1), "成都市")
    assert [(f.call_id, f.answered, f.abandoned, f.queue_seconds) for f in facts] == [
        ("in-1", False, True, 30.0),
        ("in-2", True, False, 20.0),
    ]
    with session_scope() as s, pytest.raises(InvalidInput) as exc:
        service.routed_calls_facts(s, T0, T0, "成都市")
    assert exc.value.code == "invalid-period"
