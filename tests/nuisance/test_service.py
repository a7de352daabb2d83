"""The 骚扰号码名单 against the store (SQLite and PostgreSQL): applying from a call record, a work order or a typed
number, approving, rejecting, lifting and expiry, one open entry per number, the append-only history, the lists, the
revision, and the lookup's copy of the list (no query per call while the list is unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from hotline.db import AppendOnlyError, get_engine, session_scope
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.nuisance import service
from hotline.nuisance.domain import Treatment
from hotline.nuisance.store import Entry, Event
from tests.nuisance.sources import CALLER, T0, call, order

SUPERVISOR = {"actor": "王芳（wangfang）"}


def _propose(**more: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"actor": "张敏（zhangmin）", "role": "agent", "reason": "一周内来电 30 余次辱骂话务员"}
    with session_scope() as s:
        return service.propose(s, at=T0, **{**fields, **more})


def _step(name: str, entry_id: int, at: Any = T0, **more: Any) -> dict[str, Any]:
    with session_scope() as s:
        done: dict[str, Any] = getattr(service, name)(s, entry_id, at=at, **{**SUPERVISOR, **more})
        return done


def _listed(**more: Any) -> dict[str, Any]:
    """An entry in force from T0 for 7 days, from a supervisor's typed number."""
    made = _propose(role="supervisor", number=CALLER, **more)
    return _step("approve", made["id"])


def _count(model: type) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_an_agent_applies_from_a_call_record_and_never_sees_the_number(db_url: str) -> None:
    call_id = call(caller="+86 138 0000 1111")
    made = _propose(call_id=call_id, treatment="release", days=3, evidence="6月1日 10 次")
    assert made["number"] == "138****1111" and CALLER not in str(made)
    assert (made["state"], made["state_label"], made["treatment_label"]) == ("pending", "待审核", "提示后挂断")
    assert (made["days"], made["call_id"], made["order"]) == (3, call_id, None)
    assert made["evidence"] == f"{call_id}；6月1日 10 次" and made["proposed_by"] == "张敏（zhangmin）"
    with session_scope() as s:
        assert s.scalar(select(Entry.number)) == CALLER  # kept in full, normalized, for the lookup
        full = service.get_entry(s, made["id"], mask=False)
    assert full["number"] == CALLER
    assert [(h["action"], h["action_label"], h["note"]) for h in full["history"]] == [
        ("proposed", "申请列入", "一周内来电 30 余次辱骂话务员")
    ]


def test_a_dispatcher_applies_from_a_work_order(db_url: str) -> None:
    number = order(phone="0086-138-0000-1111")
    made = _propose(role="dispatcher", order=number)
    assert (made["order"], made["evidence"], made["number"]) == (number, number, "138****1111")
    # an order whose phone is not a number: its call's caller
    call_id = call("call-2@pbx", caller="13900002222")
    other = _propose(order=order(phone="00000", call_id=call_id))
    assert other["number"] == "139****2222"


def test_sources_without_a_usable_number_are_refused(db_url: str) -> None:
    with pytest.raises(NotFound) as missing:
        _propose(call_id="nobody@pbx")
    anonymous = call("anon@pbx", caller="anonymous")
    with pytest.raises(InvalidInput) as unusable:
        _propose(call_id=anonymous)
    with pytest.raises(NotFound) as no_order:
        _propose(order="510100-20210601-99999")
    with pytest.raises(InvalidInput) as no_phone:
        _propose(order=order(phone="00000"))
    for exc in (missing, unusable, no_order, no_phone):
        assert exc.value.code == "nuisance-source-not-found"
    assert _count(Entry) == 0 and _count(Event) == 0


def test_only_supervisors_and_administrators_type_a_number(db_url: str) -> None:
    for role in ("agent", "dispatcher"):
        with pytest.raises(Forbidden) as exc:
            _propose(role=role, number=CALLER)
        assert exc.value.code == "nuisance-number-not-allowed"
    made = _propose(role="admin", number="+8613800001111")
    assert made["number"] == "138****1111"
    with pytest.raises(InvalidInput) as exc:
        _propose(role="supervisor", number="110")
    assert exc.value.code == "nuisance-invalid-number"


@pytest.mark.parametrize(
    ("more", "code"),
    [
        ({"days": 0}, "nuisance-invalid-days"),
        ({"days": 31}, "nuisance-invalid-days"),
        ({"treatment": "block"}, "nuisance-invalid-treatment"),
        ({"reason": "  "}, "nuisance-reason-required"),
        ({"actor": ""}, "actor-required"),
        ({"role": "citizen"}, "invalid-role"),
    ],
)
def test_bad_input_writes_nothing(db_url: str, more: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        _propose(**{"role": "supervisor", "number": CALLER, **more})
    assert exc.value.code == code
    assert _count(Entry) == 0 and _count(Event) == 0


def test_approve_puts_the_number_in_force_for_its_days(db_url: str) -> None:
    made = _propose(role="supervisor", number=CALLER, days=3)
    done = _step("approve", made["id"], note="情况属实")
    assert (done["state"], done["decided_by"], done["decision_note"]) == ("active", "王芳（wangfang）", "情况属实")
    assert done["active_from"] == "2021-06-01T10:00:00+08:00" and done["active_until"] == "2021-06-04T10:00:00+08:00"
    with session_scope() as s:
        assert service.screened_numbers(s, T0) == [
            service.n.Screened(CALLER, Treatment.WARN, T0 + timedelta(days=3))
        ]  # fmt: skip
        assert service.screened_numbers(s, T0 - timedelta(seconds=1)) == []
        assert service.screened_numbers(s, T0 + timedelta(days=3)) == []
        later = service.get_entry(s, made["id"], at=T0 + timedelta(days=3))
    assert (later["state"], later["state_label"]) == ("expired", "已到期")
    assert [h["action"] for h in later["history"]] == ["proposed", "approved"]


def test_reject_needs_a_reason_and_frees_the_number(db_url: str) -> None:
    made = _propose(call_id=call())
    with pytest.raises(InvalidInput) as exc:
        _step("reject", made["id"], reason=" ")
    assert exc.value.code == "nuisance-reason-required"
    with session_scope() as s:
        assert (
            service.get_entry(s, made["id"])["state"] == "pending"
            and len(service.get_entry(s, made["id"])["history"]) == 1
        )
    done = _step("reject", made["id"], reason="来电人反映的是正当诉求")
    assert (done["state_label"], done["decision_note"]) == ("已驳回", "来电人反映的是正当诉求")
    again = _propose(call_id="call-1@pbx")  # the number may be applied for again
    assert again["state"] == "pending" and again["id"] != made["id"]


def test_one_pending_or_in_force_entry_per_number(db_url: str) -> None:
    made = _propose(call_id=call())
    with pytest.raises(Conflict) as pending:
        _propose(role="supervisor", number="+86" + CALLER)
    _step("approve", made["id"])
    with pytest.raises(Conflict) as active:
        _propose(order=order())
    for exc in (pending, active):
        assert exc.value.code == "nuisance-already-listed" and exc.value.http_status == 409
        assert CALLER not in exc.value.message and f"#{made['id']}" in exc.value.message
    # expired: the next application may be made
    with session_scope() as s:
        renewed = service.propose(
            s, actor="张敏", role="agent", call_id="call-1@pbx", reason="到期后仍反复骚扰", at=T0 + timedelta(days=7)
        )
    assert renewed["state"] == "pending"
    with session_scope() as s:
        assert service.get_entry(s, made["id"])["state"] == "expired"


def test_lift_ends_an_entry_in_force_early(db_url: str) -> None:
    done = _listed()
    with pytest.raises(InvalidInput) as exc:
        _step("lift", done["id"], reason="")
    assert exc.value.code == "nuisance-reason-required"
    lifted = _step("lift", done["id"], at=T0 + timedelta(hours=1), reason="来电人已致歉，承诺文明通话")
    assert (lifted["state"], lifted["lifted_by"], lifted["lift_reason"]) == (
        "lifted", "王芳（wangfang）", "来电人已致歉，承诺文明通话"
    )  # fmt: skip
    with session_scope() as s:
        assert service.screened_numbers(s, T0 + timedelta(hours=2)) == []
    assert _propose(role="supervisor", number=CALLER)["state"] == "pending"


@pytest.mark.parametrize(
    ("setup", "step", "more"),
    [
        ("pending", "lift", {"reason": "x"}),
        ("active", "approve", {}),
        ("active", "reject", {"reason": "x"}),
        ("rejected", "approve", {}),
        ("rejected", "lift", {"reason": "x"}),
        ("lifted", "approve", {}),
        ("lifted", "lift", {"reason": "x"}),
        ("expired", "lift", {"reason": "x"}),
        ("expired", "approve", {}),
    ],
)
def test_steps_not_allowed_write_nothing(db_url: str, setup: str, step: str, more: dict[str, Any]) -> None:
    made = _propose(role="supervisor", number=CALLER)
    if setup == "rejected":
        _step("reject", made["id"], reason="x")
    elif setup != "pending":
        _step("approve", made["id"])
    if setup == "lifted":
        _step("lift", made["id"], reason="x")
    at = T0 + timedelta(days=8) if setup == "expired" else T0
    before = _count(Event)
    with pytest.raises(Conflict) as exc:
        _step(step, made["id"], at=at, **more)
    assert exc.value.code == "nuisance-transition-not-allowed"
    assert _count(Event) == before


def test_unknown_entries(db_url: str) -> None:
    for step, more in (("approve", {}), ("reject", {"reason": "x"}), ("lift", {"reason": "x"})):
        with pytest.raises(NotFound) as exc:
            _step(step, 999, **more)
        assert exc.value.code == "nuisance-not-found"
    with session_scope() as s, pytest.raises(NotFound):
        service.get_entry(s, 999)


def test_lists_by_state_and_the_pending_count(db_url: str) -> None:
    first = _propose(role="supervisor", number="13800000001")
    second = _propose(role="supervisor", number="13800000002")
    active = _step("approve", _propose(role="supervisor", number="13800000003")["id"])
    short = _step("approve", _propose(role="supervisor", number="13800000004", days=1)["id"])
    rejected = _step("reject", _propose(role="supervisor", number="13800000005")["id"], reason="x")
    lifted = _step("lift", _step("approve", _propose(role="supervisor", number="13800000006")["id"])["id"], reason="x")
    at = T0 + timedelta(days=2)
    with session_scope() as s:

        def ids(state: str | None) -> list[int]:
            return [e["id"] for e in service.list_entries(s, state=state, at=at)]

        assert ids("pending") == [first["id"], second["id"]]  # oldest first: the order they are reviewed in
        assert ids("active") == [active["id"]] and ids("生效中") == [active["id"]]
        assert ids("expired") == [short["id"]]
        assert ids("rejected") == [rejected["id"]] and ids("lifted") == [lifted["id"]]
        assert ids(None) == sorted(ids(None), reverse=True) and len(ids(None)) == 6
        assert service.pending_count(s) == 2
        counts = {"pending": 2, "active": 1, "expired": 1, "rejected": 1, "lifted": 1}
        assert service.state_counts(s, at=at) == counts  # the tabs' figures, as the lists have them
        assert service.state_counts(s, at=T0) == {**counts, "active": 2, "expired": 0}
        assert {e["number"] for e in service.list_entries(s, at=at)} == {f"138****000{i}" for i in range(1, 7)}
        assert service.list_entries(s, state="active", at=at, mask=False)[0]["number"] == "13800000003"
        with pytest.raises(InvalidInput) as exc:
            service.list_entries(s, state="open")
        assert exc.value.code == "nuisance-invalid-state"


def test_the_history_is_append_only(db_url: str) -> None:
    _listed()
    with session_scope() as s:
        step = s.scalar(select(Event).limit(1))
        assert step is not None
        step.note = "改写"
        with pytest.raises(AppendOnlyError):
            s.flush()
        s.rollback()
    with pytest.raises(DBAPIError), get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE nuisance_event SET note = '改写'"))


def test_the_revision_changes_with_every_step_that_changes_the_screening(db_url: str) -> None:
    """Approvals and lifts change it (the proxy then reloads the list and forgets its kept answers); applications
    and rejections screen no call and leave it, so that the desk's work does not empty the proxy's cache."""
    seen = []
    with session_scope() as s:
        before = service.list_revision(s)
    rejected = _propose(role="supervisor", number="13900009999")
    _step("reject", rejected["id"], reason="核实为正常来电")
    made = _propose(role="supervisor", number=CALLER)
    with session_scope() as s:
        assert service.list_revision(s) == before
    for step, more in (("approve", {}), ("lift", {"reason": "x"})):
        with session_scope() as s:
            seen.append(service.list_revision(s))
        _step(step, made["id"], **more)
    with session_scope() as s:
        seen.append(service.list_revision(s))
        assert service.list_revision(s) == seen[-1]  # reading changes nothing
    assert len(set(seen)) == len(seen) == 3 and seen[0] == before


@contextmanager
def _statements(url: str) -> Iterator[list[str]]:
    sent: list[str] = []

    def catch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", catch)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", catch)


def test_the_lookups_copy_costs_no_query_per_call_and_follows_changes(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(service.time, "monotonic", lambda: clock[0])
    made = _listed(treatment="release")
    assert service.treatment_for(CALLER, T0, url=db_url) is Treatment.RELEASE
    with _statements(db_url) as sent:
        for caller in ("+8613800001111", "008613800001111", "138 0000 1111", "13900002222", "anonymous", ""):
            service.treatment_for(caller, T0, url=db_url)
        assert sent == []  # within REFRESH: from memory
    assert service.treatment_for("0086 138-0000-1111", T0, url=db_url) is Treatment.RELEASE
    assert service.treatment_for("13900002222", T0, url=db_url) is None
    assert service.treatment_for(CALLER, T0 - timedelta(seconds=1), url=db_url) is None  # not yet approved
    assert service.treatment_for(CALLER, T0 + timedelta(days=7), url=db_url) is None  # expired
    clock[0] += service.REFRESH
    with _statements(db_url) as sent:
        service.treatment_for(CALLER, T0, url=db_url)
        service.treatment_for(CALLER, T0, url=db_url)
    assert len(sent) == 1  # the revision, once; unchanged: the list is not read again
    # lifted by another process (this one's copy not dropped): seen once REFRESH has passed, not before
    monkeypatch.setattr(service, "forget", lambda: None)
    _step("lift", made["id"], reason="误列")
    assert service.treatment_for(CALLER, T0, url=db_url) is Treatment.RELEASE
    clock[0] += service.REFRESH
    assert service.treatment_for(CALLER, T0, url=db_url) is None


def test_a_change_made_here_is_seen_at_once(db_url: str) -> None:
    assert service.treatment_for(CALLER, T0, url=db_url) is None
    made = _listed()
    assert service.treatment_for(CALLER, T0, url=db_url) is Treatment.WARN
    _step("lift", made["id"], reason="误列")
    assert service.treatment_for(CALLER, T0, url=db_url) is None
