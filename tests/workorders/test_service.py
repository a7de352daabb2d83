"""The work-order service on SQLite and PostgreSQL: numbers, idempotency, the loop, concurrency, history."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from hotline.calendar import service as calendar_service
from hotline.db import AppendOnlyError, session_factory, session_scope
from hotline.errors import Conflict, Forbidden, HotlineError, InvalidInput, NotFound, TooManyAttempts
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service
from hotline.workorders.service import OrderFilters
from hotline.workorders.store import History, Order
from tests.conftest import query_plan

AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)
ZJJ, RSJ, CGJ = "510100-zjj", "510100-rsj", "510107-cgj"


@pytest.fixture
def units(db_url: str) -> str:
    with session_scope() as session:
        service.load_units(session)
        service.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        service.add_unit(
            session, RSJ, "成都市人力资源和社会保障局", "department", region_code="510100", parent="510100"
        )
        service.add_unit(session, "510107", "武侯区", "county", region_code="510107", parent="510100")
        service.add_unit(session, CGJ, "武侯区综合行政执法局", "department", region_code="510107", parent="510107")
    return db_url


def _create(**kw: Any) -> str:
    args: dict[str, Any] = {
        "type": "咨询",
        "content": "公积金怎么提取？",
        "phone": "13812341234",
        "region": "510100",
        "at": AT,
    }
    args.update(kw)
    with session_scope() as session:
        order = service.create_order(session, **args)
        session.flush()
        return order.number


def _act(number: str, action: str, at: datetime = AT, **kw: Any) -> dict[str, Any]:
    with session_scope() as session:
        order = service.act(session, number, action, at=at, **kw)
        return service.order_view(session, order, kw.get("role", "dispatcher"), today=at.date())


def _show(number: str, role: str = "dispatcher", unit: str | None = None) -> dict[str, Any]:
    with session_scope() as session:
        return service.show_order(session, number, role, unit=unit, today=AT.date())


def test_numbers_are_region_date_sequence_and_due_follows_calendar(units: str) -> None:
    first = _create()
    second = _create(region="成都市")
    other_region = _create(region="510300")
    assert (first, second, other_region) == ("5101002021093000001", "5101002021093000002", "5103002021093000001")
    # 咨询: 3 working days after 2021-09-30 across National Day (10-09 is a make-up Saturday).
    assert _show(first)["due"] == "2021-10-11"
    late_evening = _create(at=datetime(2021, 9, 30, 17, 30, tzinfo=UTC))  # 01:30 on 10-01 in China
    assert late_evening.startswith("51010020211001")


def test_sequence_is_unique_under_concurrent_creation(units: str) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                numbers.append(_create())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"51010020210930{i:05d}" for i in range(1, 21)]


def test_idempotent_creation(units: str) -> None:
    a = _create(client_key="call-42")
    assert _create(client_key="call-42") == a
    with pytest.raises(Conflict) as err:
        _create(client_key="call-42", content="另一件事")
    assert err.value.code == "idempotency-conflict"
    with session_scope() as session:
        assert len(session.scalars(select(Order)).all()) == 1


def test_idempotent_creation_racing_threads(units: str) -> None:
    results: list[str] = []

    def worker() -> None:
        results.append(_create(client_key="same-key"))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1


def test_bad_input_is_rejected_and_nothing_is_written(units: str) -> None:
    cases: list[tuple[dict[str, Any], type[HotlineError], str]] = [
        ({"type": "闲聊"}, InvalidInput, "invalid-type"),
        ({"content": "  "}, InvalidInput, "content-required"),
        ({"phone": "abc"}, InvalidInput, "invalid-phone"),
        ({"region": "火星"}, NotFound, "region-not-found"),
        ({"category": "不存在的分类"}, InvalidInput, "category-not-found"),
        ({"urgency": "asap"}, InvalidInput, "invalid-urgency"),
        ({"at": datetime(2021, 6, 1, 9)}, InvalidInput, "invalid-time"),
        ({"caller_name": "名" * 65}, InvalidInput, "field-too-long"),
        ({"place": "地" * 201}, InvalidInput, "field-too-long"),
        ({"client_key": "k" * 129}, InvalidInput, "field-too-long"),
        ({"content": "诉" * 4001}, InvalidInput, "content-too-long"),
    ]
    for kw, kind, code in cases:
        with pytest.raises(kind) as err:
            _create(**kw)
        assert err.value.code == code
    with session_scope() as session:
        assert session.scalars(select(Order)).all() == []


def test_category_from_the_default_tree(units: str) -> None:
    number = _create(category="城乡建设 > 安全生产")
    assert _show(number)["category"] == "城乡建设/安全生产"
    with session_scope() as session:
        assert service.load_taxonomy(session) == 0  # loaded once, idempotent


def test_whole_loop_with_return_extension_pause_reopen(units: str) -> None:
    n = _create(type="投诉", content="小区噪音扰民", caller_name="李四")
    day = timedelta(days=1)
    dispatcher = {"role": "dispatcher", "actor": "派单员甲"}
    _act(n, "dispatch", AT, target_unit=ZJJ, **dispatcher)
    _act(n, "return", AT + day, role="department", unit=ZJJ, reason="不属于本单位职责")
    _act(n, "redispatch", AT + day, target_unit=RSJ, **dispatcher)
    with pytest.raises(Forbidden):
        _act(n, "accept", AT + day, role="department", unit=ZJJ)
    _act(n, "accept", AT + 8 * day, role="department", unit=RSJ)
    due_before = _show(n)["due"]
    _act(n, "request_extension", AT + 8 * day, role="department", unit=RSJ, days=3, reason="需现场核查")
    view = _act(n, "approve_extension", AT + 9 * day, role="supervisor")
    assert view["due"] > due_before and view["extension_days"] == 3
    _act(n, "await_citizen", AT + 9 * day, role="department", unit=RSJ, reason="请补充地址")
    resumed = _act(n, "resume", AT + 12 * day, role="department", unit=RSJ)
    assert resumed["paused_workdays"] > 0 and resumed["due"] > view["due"]
    _act(n, "urge", AT + 12 * day, role="dispatcher", reason="请尽快办理")
    _act(n, "supervise", AT + 12 * day, role="supervisor", reason="督办")
    _act(n, "resolve", AT + 13 * day, role="department", unit=RSJ, reply="已协调物业处理")
    _act(n, "review_reject", AT + 13 * day, role="supervisor", reason="答复不完整")
    _act(n, "resolve", AT + 14 * day, role="department", unit=RSJ, reply="已协调物业处理，噪音源已拆除")
    _act(n, "review_pass", AT + 14 * day, role="supervisor")
    _act(n, "callback", AT + 15 * day, role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    reopened = _act(n, "reopen", AT + 15 * day, role="dispatcher", reason="市民称问题未解决")
    assert reopened["state"] == "dispatched" and reopened["reopen_count"] == 1
    _act(n, "accept", AT + 16 * day, role="department", unit=RSJ)
    _act(n, "resolve", AT + 17 * day, role="department", unit=RSJ, reply="已再次处理")
    _act(n, "review_pass", AT + 17 * day, role="supervisor")
    _act(n, "callback", AT + 18 * day, role="agent", satisfaction="satisfied", citizen_resolved=True)
    done = _act(n, "archive", AT + 18 * day, role="supervisor")
    assert done["state"] == "archived"
    shown = _show(n)
    actions = [h["action"] for h in shown["history"]]
    assert actions == [
        "create", "dispatch", "return", "redispatch", "accept", "request_extension", "approve_extension",
        "await_citizen", "resume", "urge", "supervise", "resolve", "review_reject", "resolve", "review_pass",
        "callback", "reopen", "accept", "resolve", "review_pass", "callback", "archive",
    ]  # fmt: skip
    assert [h["seq"] for h in shown["history"]] == list(range(1, 23))
    assert shown["history"][2]["reason"] == "不属于本单位职责" and shown["history"][2]["unit"] == ZJJ
    assert shown["version"] == 22


def test_forbidden_transition_is_409_and_changes_nothing(units: str) -> None:
    n = _create()
    with pytest.raises(InvalidInput) as long_unit:
        _act(n, "dispatch", role="dispatcher", target_unit=ZJJ, actor="人" * 65)
    assert long_unit.value.code == "field-too-long"
    with pytest.raises(Conflict) as err:
        _act(n, "archive", role="supervisor")
    assert err.value.code == "transition-not-allowed"
    shown = _show(n)
    assert shown["state"] == "registered" and len(shown["history"]) == 1 and shown["version"] == 1


def test_co_handling_blocks_the_lead(units: str) -> None:
    n = _create(type="求助")
    view = _act(n, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[CGJ])
    assert view["lead_unit"]["code"] == ZJJ
    child = _show(n)["children"][0]
    assert child["number"] == f"{n}-01" and child["unit"] == CGJ and child["state"] == "dispatched"
    _act(n, "accept", role="department", unit=ZJJ)
    with pytest.raises(Conflict) as err:
        _act(n, "resolve", role="department", unit=ZJJ, reply="已处理")
    assert err.value.code == "transition-not-allowed" and err.value.details["reason"] == "co-handling-open"
    _act(child["number"], "accept", role="department", unit=CGJ)
    _act(child["number"], "resolve", role="department", unit=CGJ, reply="已配合清理")
    assert _act(n, "resolve", role="department", unit=ZJJ, reply="已处理")["state"] == "resolved"
    assert _show(child["number"])["parent"] == n


def test_merged_duplicates_follow_their_master(units: str) -> None:
    master = _create(type="投诉", content="工地夜间施工噪音")
    dup = _create(type="投诉", content="工地夜间施工噪音（重复）", phone="13900005678")
    dup2 = _create(type="投诉", content="又一次反映施工噪音", phone="13900005678")
    merged = _act(dup2, "merge", role="dispatcher", master=dup, reason="重复诉求")
    assert merged["state"] == "merged" and merged["master"] == dup  # seen at once, in the acting session
    # Merging into an order that was itself merged goes to the order it follows.
    _act(dup, "merge", role="dispatcher", master=master, reason="重复诉求")
    _act(master, "dispatch", role="dispatcher", target_unit=ZJJ)
    _act(master, "accept", role="department", unit=ZJJ)
    assert _show(dup)["master"] == master and _show(dup)["master_state"] == "handling"
    assert _show(dup2)["master"] == master
    with pytest.raises(Conflict):
        _act(dup, "accept", role="department", unit=ZJJ)
    with session_scope() as session:
        seen = service.public_lookup(session, dup2, "5678")
    assert master in seen["state_label"] and "办理中" in seen["state_label"]
    with pytest.raises(InvalidInput):
        _act(master, "merge", role="dispatcher", master=dup, reason="环")


def test_stale_version_two_sessions(units: str) -> None:
    n = _create()
    _act(n, "dispatch", role="dispatcher", target_unit=ZJJ)
    factory = session_factory()
    a, b = factory(), factory()
    try:
        order_a = service.get_order(a, n)
        order_b = service.get_order(b, n)
        assert order_a.version == order_b.version == 2
        service.act(a, order_a, "accept", role="department", unit=ZJJ, at=AT)
        a.commit()
        with pytest.raises(Conflict) as err:
            service.act(b, order_b, "return", role="department", unit=ZJJ, reason="不属于本单位", at=AT)
        assert err.value.code == "stale-version"
        b.rollback()
    finally:
        a.close()
        b.close()
    shown = _show(n)
    assert shown["state"] == "handling" and [h["action"] for h in shown["history"]] == ["create", "dispatch", "accept"]
    with pytest.raises(Conflict) as err2:
        _act(n, "urge", role="dispatcher", version=2)
    assert err2.value.code == "stale-version"


def test_threads_racing_on_one_order(units: str) -> None:
    n = _create()
    _act(n, "dispatch", role="dispatcher", target_unit=ZJJ)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(action: str, **kw: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                with session_scope() as session:
                    order = service.get_order(session, n)
                    barrier.wait(timeout=10)
                    service.act(session, order, action, role="department", unit=ZJJ, at=AT, **kw)
                outcomes.append("ok")
            except HotlineError as exc:
                outcomes.append(exc.code)

        return run

    threads = [threading.Thread(target=attempt("accept")), threading.Thread(target=attempt("return", reason="错派"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "stale-version"]
    shown = _show(n)
    assert len(shown["history"]) == 3 and shown["version"] == 3


def test_history_is_never_rewritten(units: str) -> None:
    n = _create()
    session = session_factory()()
    try:
        entry = session.scalars(select(History)).one()
        entry.reason = "篡改"
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
        with pytest.raises(AppendOnlyError):  # nor in bulk
            session.execute(update(History).values(reason="篡改"))
        with pytest.raises(AppendOnlyError):
            session.execute(delete(History))
    finally:
        session.rollback()
        session.close()
    with pytest.raises(DBAPIError), session_scope() as session:
        session.execute(text("UPDATE wo_history SET reason = 'x'"))
    assert _show(n)["history"][0]["reason"] == ""


def test_masking_by_role(units: str) -> None:
    n = _create(caller_name="王五", type="举报")
    m = _create(caller_name="王五", type="求助")
    c = _create(caller_name="王五", type="求助", confidential=True)
    for number in (n, m, c):
        _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    assert _show(n, "dispatcher")["caller_phone"] == "13812341234"
    assert _show(n, "supervisor")["caller_phone"] == "138****1234"
    assert _show(n, "department", ZJJ)["caller_name"] == "王*"  # 举报: whistle-blower protection
    assert _show(m, "department", ZJJ)["caller_phone"] == "13812341234"  # the unit may call back
    assert _show(c, "department", ZJJ)["caller_phone"] == "138****1234"  # the caller asked for confidentiality
    with pytest.raises(Forbidden) as other:
        _show(m, "department", RSJ)
    assert other.value.code == "unit-not-assigned"
    with pytest.raises(Forbidden) as citizen:
        _show(m, "citizen")
    assert citizen.value.code == "use-public-lookup"
    with session_scope() as session:
        listed = service.list_orders(session, OrderFilters(unit=ZJJ), role="department")
        assert {o["number"] for o in listed} == {n, m, c}
        assert service.list_orders(session, OrderFilters(unit=RSJ), role="department") == []
        with pytest.raises(InvalidInput):
            service.list_orders(session, role="department")


def test_a_callers_earlier_orders_by_their_number(units: str) -> None:
    phone = "13812345678"
    first = _create(phone="138-1234-5678")  # stored as create_order cleans it
    report = _create(phone=phone, type="举报", content="某工地夜间违规施工", at=AT + timedelta(hours=1))
    later = _create(phone=phone, type="投诉", content="小区噪音扰民", at=AT + timedelta(hours=2))
    secret = _create(phone=phone, confidential=True, at=AT + timedelta(hours=3))
    elsewhere = _create(phone=phone, at=AT + timedelta(hours=4))
    _create(phone="13900001111", at=AT + timedelta(hours=5))
    then = AT + timedelta(hours=6)
    for number in (first, report, later, secret):
        _act(number, "dispatch", then, role="dispatcher", target_unit=ZJJ)
    _act(elsewhere, "dispatch", then, role="dispatcher", target_unit=RSJ)
    mine = OrderFilters.parse(phone="138 1234 5678")
    with session_scope() as session:
        listed = service.list_orders(session, mine, role="agent", order="newest", today=AT.date())
        assert [o["number"] for o in listed] == [elsewhere, secret, later, report, first]
        assert service.count_orders(session, mine, role="agent", today=AT.date()) == 5
        by_due = service.list_orders(session, mine, role="dispatcher", today=AT.date())
        assert {o["number"] for o in by_due} == {o["number"] for o in listed}
        # A handling unit: its own orders only, and of those not the ones whose caller it must not learn
        # (举报, confidential), so the search cannot name a whistle-blower.
        unit = OrderFilters(unit=ZJJ, phone=phone)
        assert [o["number"] for o in service.list_orders(session, unit, role="department", order="newest")] == [
            later, first
        ]  # fmt: skip
        assert service.count_orders(session, unit, role="department") == 2
        assert service.list_orders(session, OrderFilters(unit=RSJ, phone=phone), role="department") == [
            service.order_view(session, service.get_order(session, elsewhere), "department")
        ]
        # Who never sees a caller's number may not ask whether one called.
        for role in ("supervisor", "citizen"):
            with pytest.raises(Forbidden) as refused:
                service.list_orders(session, mine, role=role)
            assert refused.value.code == "phone-filter-not-allowed"
        assert len(service.list_orders(session, OrderFilters(), role="supervisor")) == 6  # without it, as before
        for filters, order, code in ((OrderFilters(phone="12"), "due", "invalid-phone"),
                                     (mine, "oldest", "invalid-order")):  # fmt: skip
            with pytest.raises(InvalidInput) as bad:
                service.list_orders(session, filters, order=order)
            assert bad.value.code == code


def test_orders_found_by_words_of_their_content_or_place(units: str) -> None:
    lamp = _create(content="武侯区某小区门口路灯不亮已一周", place="")
    noise = _create(content="工地夜间施工噪音扰民", place="武侯区某小区")
    fee = _create(content="物业乱收停车费100%不合理", place="锦江区")
    with session_scope() as session:

        def found(words: str) -> set[str]:
            filters = OrderFilters.parse(words=words)
            listed = {o["number"] for o in service.list_orders(session, filters, role="supervisor")}
            assert service.count_orders(session, filters, role="supervisor") == len(listed)
            return listed

        assert found("武侯区") == {lamp, noise}  # in the content of one, the place of the other
        assert found("武侯区  路灯") == {lamp}  # every word must be there
        assert found("100%") == {fee} and found("%") == {fee} and found("_") == set()  # taken as typed
        assert found(" ") == {lamp, noise, fee}  # no words: no filter
        for bad in ("一 二 三 四 五 六", "长" * 51):
            with pytest.raises(InvalidInput) as refused:
                found(bad)
            assert refused.value.code == "invalid-words"


def test_public_lookup_shows_only_own_order(units: str) -> None:
    n = _create(caller_name="赵六")
    _act(n, "dispatch", role="dispatcher", target_unit=ZJJ)
    _act(n, "return", role="department", unit=ZJJ, reason="内部意见：不归我们管")
    with session_scope() as session:
        seen = service.public_lookup(session, n, "1234")
        assert seen["caller_phone"] == "138****1234"
        assert "赵六" not in str(seen) and "内部意见" not in str(seen) and ZJJ not in str(seen)
        with pytest.raises(NotFound):
            service.public_lookup(session, n, "9999")
        with pytest.raises(NotFound):
            service.public_lookup(session, "5101002099010100001", "1234")
        with pytest.raises(InvalidInput):
            service.public_lookup(session, n, "12a4")


def test_public_lookup_stops_guessing_the_last_four_digits(units: str) -> None:
    n = _create()  # caller 13812341234
    start = datetime(2021, 6, 1, 10, 0, tzinfo=UTC)
    for i, guess in enumerate(("0000", "0001", "0002", "0003", "0004")):
        with session_scope() as session, pytest.raises(NotFound):
            service.public_lookup(session, n, guess, at=start + timedelta(minutes=i))
    # The sixth try within the hour is refused even with the right digits, so a guess cannot be confirmed.
    with session_scope() as session, pytest.raises(TooManyAttempts) as refused:
        service.public_lookup(session, n, "1234", at=start + timedelta(minutes=10))
    assert refused.value.code == "too-many-attempts" and refused.value.http_status == 429
    # A number that does not exist is limited the same way: the answer does not tell which numbers exist.
    ghost = "5101002099010100001"
    for i in range(5):
        with session_scope() as session, pytest.raises(NotFound):
            service.public_lookup(session, ghost, "1234", at=start + timedelta(minutes=i))
    with session_scope() as session, pytest.raises(TooManyAttempts):
        service.public_lookup(session, ghost, "1234", at=start + timedelta(minutes=10))
    # Once the window has passed the citizen gets in again; other orders were never affected.
    with session_scope() as session:
        assert service.public_lookup(session, n, "1234", at=start + timedelta(minutes=66))["number"] == n
        assert service.public_lookup(session, _create(), "1234", at=start)["caller_phone"] == "138****1234"


def test_calendar_overrides_and_configured_limits_move_deadlines(units: str) -> None:
    with session_scope() as session:
        calendar_service.set_override(session, date(2021, 10, 9), "holiday")
        service.set_limit(session, "咨询", 5, actor="admin")
    n = _create()
    # 5 working days after 09-30 with 10-09 no longer a working day: 10-08, 11, 12, 13, 14.
    assert _show(n)["due"] == "2021-10-14"
    with pytest.raises(InvalidInput), session_scope() as session:
        service.set_limit(session, "喝茶", 3)


def test_cached_calendar_and_limits_follow_every_committed_change(units: str) -> None:
    """Sessions share the calendar and limits they loaded; a change committed since is seen by the next
    session, one rolled back never is."""
    assert _show(_create())["due"] == "2021-10-11"  # 咨询: 3 working days (10-09 is a make-up Saturday)
    with pytest.raises(RuntimeError), session_scope() as session:
        service.set_limit(session, "咨询", 9)
        raise RuntimeError("rolled back")
    assert _show(_create())["due"] == "2021-10-11"
    with session_scope() as session:
        calendar_service.set_override(session, date(2021, 10, 9), "holiday")
    assert _show(_create())["due"] == "2021-10-12"
    with session_scope() as session:
        calendar_service.clear_override(session, date(2021, 10, 9))
    assert _show(_create())["due"] == "2021-10-11"
    with session_scope() as session:
        service.set_limit(session, "咨询", 4)
    assert _show(_create())["due"] == "2021-10-12"


def test_list_overdue(units: str) -> None:
    late = _create()
    _act(late, "dispatch", role="dispatcher", target_unit=ZJJ)
    fresh = _create(type="投诉")
    with session_scope() as session:
        overdue = service.list_orders(session, OrderFilters(sla="overdue"), today=date(2021, 10, 12))
        on_time = service.list_orders(session, OrderFilters(sla="on_time"), today=date(2021, 10, 12))
        by_unit = service.list_orders(session, OrderFilters(unit=ZJJ))
    assert [o["number"] for o in overdue] == [late]
    assert [o["number"] for o in on_time] == [fresh]
    assert [o["number"] for o in by_unit] == [late]


def test_a_time_limit_filter_finds_its_orders_behind_many_others(units: str) -> None:
    """The orders due first are looked at first: many overdue ones must not hide the one still on time."""
    for _ in range(6):
        _create()  # 咨询, due 2021-10-11: overdue on 10-12
    fresh = _create(type="投诉")
    with session_scope() as session:
        on_time = service.list_orders(session, OrderFilters(sla="on_time"), limit=1, today=date(2021, 10, 12))
    assert [o["number"] for o in on_time] == [fresh]


def test_dispatch_catalogue_most_specific_entry_wins(units: str) -> None:
    with session_scope() as session:
        service.set_catalogue_entry(session, "城乡建设", ZJJ, region_code="510100")
        service.set_catalogue_entry(session, "城乡建设/城市建设和市政管理", CGJ, region_code="510100")
        service.set_catalogue_entry(session, "劳动和社会保障", RSJ)
        service.set_catalogue_entry(session, "劳动和社会保障", ZJJ, line="12333")

    def unit(category: str, region: str, line: str | None = None) -> str | None:
        with session_scope() as session:
            found = service.lookup_dispatch_catalogue(session, category, region, line)
            return found.code if found else None

    assert unit("城乡建设", "510100") == ZJJ
    assert unit("城乡建设/安全生产/事故处理", "510107") == ZJJ  # district falls back to its city
    assert unit("城乡建设/城市建设和市政管理/园林绿化环卫", "510100") == CGJ
    assert unit("劳动和社会保障", "510300") == RSJ  # any-region entry
    assert unit("劳动和社会保障", "510300", "12333") == ZJJ
    assert unit("城乡建设", "510300") is None
    assert unit("", "510100") is None


def test_a_removed_catalogue_entry_leaves_the_lookup_to_a_less_specific_one(units: str) -> None:
    with session_scope() as session:
        service.set_catalogue_entry(session, "城乡建设", ZJJ)
        service.set_catalogue_entry(session, "城乡建设", CGJ, region_code="510107")
        service.set_catalogue_entry(session, "城乡建设", RSJ, region_code="510107", line="12319")
    with session_scope() as session:  # the key read as when it was set: a region's name, a path with spaces
        service.remove_catalogue_entry(session, " 城乡建设 ", region_code="510107", line="12319")
    with session_scope() as session:
        assert service.lookup_dispatch_catalogue(session, "城乡建设", "510107", "12319").code == CGJ  # type: ignore[union-attr]
        service.remove_catalogue_entry(session, "城乡建设", region_code="510107")
        assert [(e.category, e.region_code, e.unit.code) for e in service.list_catalogue(session)] == [
            ("城乡建设", "", ZJJ)
        ]
        assert service.lookup_dispatch_catalogue(session, "城乡建设", "510107", None).code == ZJJ  # type: ignore[union-attr]
        with pytest.raises(NotFound) as missing:
            service.remove_catalogue_entry(session, "城乡建设", region_code="成都市")
        assert missing.value.code == "catalogue-entry-not-found"


def test_load_demo_is_idempotent(db_url: str) -> None:
    with session_scope() as session:
        first = service.load_demo(session)
    with session_scope() as session:
        second = service.load_demo(session)
        states = {o.state for o in session.scalars(select(Order))}
    assert "新增 12 张" in first and "新增 0 张" in second
    assert {"to_visit", "archived", "registered", "dispatched", "handling", "waiting_citizen", "merged"} <= states


def test_bulk_unit_of_work_keeps_checks_and_versions(units: str) -> None:
    """A replay/import path: many actions before one flush, still checked, versioned and recorded."""
    with session_scope() as session:
        order = service.create_order(
            session, type="求助", content="下水道堵塞", phone="13800001234", region="510100", at=AT
        )
        service.act(session, order, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[CGJ], at=AT, flush=False)
        service.act(session, order, "accept", role="department", unit=ZJJ, at=AT, flush=False)
        # The co-handling order exists only in this unit of work so far, and still blocks the lead.
        with pytest.raises(Conflict) as err:
            service.act(session, order, "resolve", role="department", unit=ZJJ, reply="已疏通", at=AT, flush=False)
        assert err.value.details["reason"] == "co-handling-open"
        service.flush_orders(session)
        number = order.number
    shown = _show(number)
    assert shown["version"] == len(shown["history"]) == 3
    assert shown["children"][0]["state"] == "dispatched"


def test_one_action_at_a_time_writes_what_the_unit_of_work_writes(units: str) -> None:
    """Acting on a stored order and flushing at once (one statement on PostgreSQL) leaves the same order row,
    the same history and a clean, up-to-date object, as the same actions written by the unit of work."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("dispatch", {"role": "dispatcher", "target_unit": ZJJ, "category": "城乡建设"}),
        ("accept", {"role": "department", "unit": ZJJ}),
        ("request_extension", {"role": "department", "unit": ZJJ, "days": 3, "reason": "需协调"}),
        ("approve_extension", {"role": "supervisor", "actor": "督办员"}),
        ("resolve", {"role": "department", "unit": ZJJ, "reply": "已处理"}),
        ("review_pass", {"role": "supervisor"}),
        ("callback", {"role": "agent", "satisfaction": "unsatisfied", "citizen_resolved": False}),
        ("reopen", {"role": "dispatcher", "reason": "未解决", "target_unit": RSJ}),
    ]
    at_once, together = _create(), _create()
    for i, (action, kw) in enumerate(steps):
        with session_scope() as session:
            order = service.get_order(session, at_once)
            service.act(session, order, action, at=AT + timedelta(hours=i), **kw)
            in_db = session.execute(select(Order.version, Order.state).where(Order.number == at_once)).one()
            assert not session.dirty and (order.version, order.state) == tuple(in_db) and order.version == i + 2
    with session_scope() as session:
        order = service.get_order(session, together)
        for i, (action, kw) in enumerate(steps):
            service.act(session, order, action, at=AT + timedelta(hours=i), flush=False, **kw)
        service.flush_orders(session)

    def stored(number: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        view = _show(number)
        history = view.pop("history")
        for key in ("number", "created_at"):
            view.pop(key)
        return view, history

    assert stored(at_once) == stored(together)


def test_a_failed_bulk_flush_writes_nothing(units: str) -> None:
    """A flush whose history rows break a constraint (PostgreSQL: in the COPY) fails whole, as an
    IntegrityError, and leaves nothing of the unit of work behind."""
    n = _create()
    with session_scope() as session:  # a stray entry takes the number the order's next entry will need
        order_id = service.get_order(session, n).id
        session.execute(
            insert(History).values(
                order_id=order_id, seq=2, action="urge", role="dispatcher", at=AT, to_state="registered", changes={}
            )
        )
    with pytest.raises(IntegrityError), session_scope() as session, session.no_autoflush:
        for i in range(3):  # 21 history rows for new orders: one bulk write with the stored order's entry
            made = service.create_order(
                session, type="咨询", content=f"问题{i}", phone="13812341234", region="510100", at=AT
            )
            service.act(session, made, "dispatch", role="dispatcher", target_unit=ZJJ, at=AT, flush=False)
            service.act(session, made, "accept", role="department", unit=ZJJ, at=AT, flush=False)
            service.act(session, made, "resolve", role="department", unit=ZJJ, reply="已答复", at=AT, flush=False)
            service.act(session, made, "review_pass", role="supervisor", at=AT, flush=False)
            service.act(session, made, "callback", role="agent", satisfaction="basic", citizen_resolved=True, at=AT,
                        flush=False)  # fmt: skip
            service.act(session, made, "archive", role="supervisor", at=AT, flush=False)
        service.act(session, service.get_order(session, n), "dispatch", role="dispatcher", target_unit=ZJJ, at=AT,
                    flush=False)  # fmt: skip
        service.flush_orders(session)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(History)) == 2
    assert _show(n)["state"] == "registered" and _show(n)["version"] == 1


def test_open_and_categorised_orders_for_the_dispatch_helper(units: str) -> None:
    open_one = _create(type="投诉", content="噪音", at=AT)
    answered = _create(at=AT)
    _act(answered, "direct_resolve", role="agent", reply="已答复")
    old = _create(at=AT - timedelta(days=40))
    other_region = _create(region="510300", at=AT)
    _act(open_one, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[CGJ], category="环境保护")
    with session_scope() as session:
        since = AT - timedelta(days=30)
        assert [o.number for o in service.list_open_orders(session, since=since, region_code="510100")] == [open_one]
        assert {o.number for o in service.list_open_orders(session, since=since)} == {open_one, other_region}
        assert old in {o.number for o in service.list_open_orders(session, since=AT - timedelta(days=60))}
        # The same orders by key only, and what never changes read by number (the helper keeps it).
        keys = service.list_open_order_keys(session, since=since)
        assert [k[0] for k in keys] == [o.number for o in service.list_open_orders(session, since=since)]
        assert all(len(digest or "") == 64 for _number, digest in keys)
        facts = service.list_orders_by_number(session, [open_one, "no-such-order"])
        assert [
            (f.number, f.content, f.created_at, f.caller_phone, f.region_code, f.state, f.category) for f in facts
        ] == [(open_one, "噪音", AT, "13812341234", "510100", "dispatched", "环境保护")]
        categorised = service.list_categorised_orders(session)
    assert [(o.number, o.category) for o in categorised] == [(open_one, "环境保护")]
    dispatch_entry = _show(open_one)["history"][1]
    assert dispatch_entry["changes"]["category"] == ["", "环境保护"]
    with pytest.raises(InvalidInput) as err:
        _act(open_one, "urge", role="dispatcher", category="城乡建设")
    assert err.value.code == "category-not-allowed"


LEADS_INDEX = "ix_wo_orders_parent_state_region_created"


@pytest.mark.parametrize("region", ["510100", None])
def test_the_open_orders_listing_reads_its_index_not_every_order_ever_taken(db_url: str, region: str | None) -> None:
    """The 并单 suggestion lists the open lead orders of the repeat window on every demand. On a fresh database
    (SQLite is never analysed) the plan must go through the window's open orders in the covering index, not
    through `parent_id IS NULL`, which is nearly every order ever taken (years of them at a centre)."""
    since = AT - timedelta(days=30)
    keys = query_plan(db_url, lambda s: service.list_open_order_keys(s, since=since, region_code=region))
    rows = query_plan(db_url, lambda s: service.list_open_orders(s, since=since, region_code=region))
    index = LEADS_INDEX
    if db_url.startswith("sqlite"):
        assert f"USING COVERING INDEX {index} (parent_id=? AND state=?" in keys, keys
        assert f"USING INDEX {index} (parent_id=? AND state=?" in rows, rows
        assert "SCAN wo_orders" not in keys + rows
    else:  # PostgreSQL plans by its statistics (bench/dispatch.md has them at scale): the index must bound the read
        for plan in (keys, rows):
            assert index in plan and "Seq Scan" not in plan, plan
            assert any("Index Cond" in line and "created_at >=" in line for line in plan.splitlines()), plan


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (lambda s: service.numbers_by_call(s, ["call-1", "call-2"]), "ix_wo_orders_call_id"),
        (lambda s: service.list_categorised_orders(s, since=AT), "ix_wo_orders_created_at"),
    ],
    ids=["numbers_by_call", "list_categorised_orders"],
)
def test_lead_orders_of_some_calls_or_a_period_are_not_read_through_every_lead_order(
    db_url: str, query: Callable[[Any], object], index: str
) -> None:
    """The 话务记录 page's 关联工单 and the learning from dispatchers' categories are narrowed by calls or a period.
    On a fresh database (SQLite is never analysed) SQLite took their `parent_id IS NULL` for the selective part and
    read the entry of every lead order ever taken; `store.is_lead` keeps the narrowing index in charge."""
    plan = query_plan(db_url, query)
    assert index in plan and LEADS_INDEX not in plan, plan


def test_agent_answers_from_a_knowledge_article_and_the_pair_is_kept_for_learning(units: str) -> None:
    from hotline.knowledge import service as knowledge
    from hotline.knowledge.domain import ArticleInput

    with session_scope() as session:
        body = "携带身份证和公积金联名卡到任一公积金服务网点即可办理提取。"
        knowledge.create_article(session, ArticleInput(title="公积金提取", body=body), actor="kb",
                                 status="published", external_id="GJJ-01")  # fmt: skip
        draft = knowledge.create_article(session, ArticleInput(body="草稿"), actor="kb")
        draft_id = draft.external_id
    satisfied, unsatisfied, own_words, plain = _create(), _create(), _create(content="公积金能取出来吗"), _create()
    view = _act(satisfied, "direct_resolve", role="agent", article="GJJ-01")
    # The reply defaults to the article's text; the order and its history keep which article answered it.
    assert view["reply"] == body and view["answer_article"] == "GJJ-01" and view["state"] == "to_visit"
    assert _show(satisfied)["history"][-1]["changes"]["answer_article"] == [None, "GJJ-01"]
    _act(satisfied, "callback", role="agent", satisfaction="satisfied", citizen_resolved=True)
    _act(own_words, "direct_resolve", role="agent", article="GJJ-01", reply="可以提取，带身份证去网点。")
    assert _show(own_words)["reply"] == "可以提取，带身份证去网点。"
    _act(unsatisfied, "direct_resolve", role="agent", article="GJJ-01")
    _act(unsatisfied, "callback", role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    _act(plain, "direct_resolve", role="agent", reply="已答复")
    with session_scope() as session:
        # What `hotline kb learn --from-db` reads: not the answer the citizen was unhappy with, nor free text.
        assert service.list_answered_orders(session) == [
            ("公积金怎么提取？", "GJJ-01"), ("公积金能取出来吗", "GJJ-01")
        ]  # fmt: skip

    rejected: list[tuple[dict[str, Any], type[HotlineError], str]] = [
        ({"article": "NO-SUCH"}, NotFound, "article-not-found"),
        ({"article": draft_id}, Conflict, "article-not-published"),
    ]
    for kw, kind, code in rejected:
        fresh = _create()
        with pytest.raises(kind) as err:
            _act(fresh, "direct_resolve", role="agent", **kw)
        assert err.value.code == code
        assert _show(fresh)["state"] == "registered" and len(_show(fresh)["history"]) == 1
    with pytest.raises(InvalidInput) as err:
        _act(_create(), "dispatch", role="dispatcher", target_unit=ZJJ, article="GJJ-01")
    assert err.value.code == "article-not-allowed"


def test_history_times_never_go_backwards(units: str) -> None:
    n = _create()
    _act(n, "dispatch", AT + timedelta(hours=2), role="dispatcher", target_unit=ZJJ)
    with pytest.raises(InvalidInput) as err:
        _act(n, "accept", AT + timedelta(hours=1), role="department", unit=ZJJ)
    assert err.value.code == "time-before-last-step"


def test_district_entries_and_unit_regions(units: str) -> None:
    with session_scope() as session:
        service.set_catalogue_entry(session, "城乡建设", ZJJ, region_code="510100")
        service.set_catalogue_entry(session, "城乡建设", CGJ, region_code="510107")
        assert service.lookup_dispatch_catalogue(session, "城乡建设", "510107", None).code == CGJ  # type: ignore[union-attr]
        assert service.lookup_dispatch_catalogue(session, "城乡建设", "510104", None).code == ZJJ  # type: ignore[union-attr]
        with pytest.raises(NotFound):
            service.add_unit(session, "x", "某单位", "department", region_code="999901")
        with pytest.raises(InvalidInput):
            service.add_unit(session, "x", "某单位", "planet", region_code="510100")


def test_remind_due_urges_and_supervises_once_a_day(units: str) -> None:
    near = _create()  # 咨询 taken 09-30: due 10-11 (the holiday, then the make-up Saturday 10-09)
    _act(near, "dispatch", AT, role="dispatcher", target_unit=ZJJ)
    _act(near, "accept", AT, role="department", unit=ZJJ)
    unsigned = _create(type="投诉", content="噪音扰民")
    _act(unsigned, "dispatch", AT, role="dispatcher", target_unit=RSJ)
    calm = _create(type="投诉", content="道路积水")  # due in 15 working days, signed for
    _act(calm, "dispatch", AT, role="dispatcher", target_unit=ZJJ)
    _act(calm, "accept", AT, role="department", unit=ZJJ)
    _create(content="尚未派单")  # no unit to remind

    saturday = datetime(2021, 10, 9, 9, 0, tzinfo=CHINA_TZ)
    with session_scope() as session:
        done = service.remind_due(session, at=saturday)
    assert [(x["number"], x["action"], x["unit"]) for x in done] == [(near, "urge", ZJJ), (unsigned, "urge", RSJ)]
    assert "临近办理期限（2021-10-11）" in done[0]["reason"] and "签收" in done[1]["reason"]
    with session_scope() as session:
        assert service.remind_due(session, at=saturday + timedelta(hours=3)) == []  # once a day
    history = _show(near)["history"]
    assert (history[-1]["action"], history[-1]["actor"]) == ("urge", service.AUTO_ACTOR)
    assert _show(near)["urge_count"] == 1

    tuesday = datetime(2021, 10, 12, 9, 0, tzinfo=CHINA_TZ)
    with session_scope() as session:
        done = service.remind_due(session, at=tuesday)
    assert [(x["number"], x["action_label"]) for x in done] == [(near, "督办"), (unsigned, "催办")]
    assert _show(near)["supervise_count"] == 1


def _answered_family(content: str = "小区下水道堵塞", co_units: tuple[str, ...] = (CGJ,)) -> tuple[str, list[str]]:
    """A lead led by ZJJ whose co-handling orders (one per CO_UNITS) have answered and which awaits 回访."""
    n = _create(type="求助", content=content)
    _act(n, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=list(co_units))
    kids = [k["number"] for k in _show(n)["children"]]
    for kid, unit in zip(kids, co_units, strict=True):
        _act(kid, "accept", role="department", unit=unit)
        _act(kid, "resolve", role="department", unit=unit, reply=f"{unit} 已配合处理")
    _act(n, "accept", role="department", unit=ZJJ)
    _act(n, "resolve", role="department", unit=ZJJ, reply="已疏通")
    _act(n, "review_pass", role="supervisor")
    return n, kids


def test_archiving_the_lead_archives_its_co_handling_orders(units: str) -> None:
    n, kids = _answered_family(co_units=(CGJ, RSJ))
    other, (other_kid,) = _answered_family(content="另一处路灯不亮")
    master = _create(type="投诉", content="工地夜间施工噪音")
    dup = _create(type="投诉", content="工地夜间施工噪音（重复）")
    _act(dup, "merge", role="dispatcher", master=master, reason="重复诉求")
    untouched = {x: _show(x) for x in (other, other_kid, master, dup)}

    _act(n, "callback", role="agent", satisfaction="satisfied", citizen_resolved=True)
    done = _act(n, "archive", role="supervisor", actor="督办员乙")
    assert done["state"] == "archived"
    for kid in kids:
        shown = _show(kid)
        assert shown["state"] == "archived" and shown["reply"].endswith("已配合处理")
        last = shown["history"][-1]
        assert (last["action"], last["actor"], last["role"]) == ("archive", "督办员乙", "supervisor")
        assert last["reason"] == f"随主办工单 {n} 归档" and last["at"] == done["updated_at"]
        assert (last["from_state"], last["to_state"], last["changes"]) == (
            "resolved", "archived", {"state": ["resolved", "archived"]}
        )  # fmt: skip
        assert shown["version"] == len(shown["history"]) == 4  # 派单 签收 办结 归档
    assert [k["state"] for k in _show(n)["children"]] == ["archived", "archived"]
    # Another family, a merged duplicate and its master are not touched.
    for number, before in untouched.items():
        after = _show(number)
        assert (after["state"], after["version"]) == (before["state"], before["version"])
    with session_scope() as session:
        assert [v["number"] for v in service.list_orders(session, OrderFilters(state="resolved"))] == [other_kid]


def test_the_lead_is_not_archived_while_a_co_handling_order_is_open(units: str) -> None:
    n, (kid,) = _answered_family()
    # The centre sends the co-handling unit's answer back while the lead awaits its callback.
    _act(kid, "review_reject", role="dispatcher", reason="未说明清理时间")
    before = _show(n)
    with pytest.raises(Conflict) as err:
        _act(n, "archive", role="supervisor")
    assert err.value.code == "transition-not-allowed" and err.value.details["reason"] == "co-handling-open"
    after = _show(n)
    assert (after["state"], after["version"]) == ("to_visit", before["version"])
    assert _show(kid)["state"] == "handling"
    _act(kid, "resolve", role="department", unit=CGJ, reply="已于当日清理完毕")
    assert _act(n, "archive", role="supervisor")["state"] == "archived"
    assert _show(kid)["state"] == "archived"


def test_a_co_handling_order_takes_no_step_of_the_lead_on_its_own(units: str) -> None:
    _n, (kid,) = _answered_family()
    with pytest.raises(Conflict) as err:
        _act(kid, "review_pass", role="supervisor")
    assert err.value.code == "transition-not-allowed" and err.value.details["reason"] == "co-handling-follows-lead"
    assert _show(kid)["state"] == "resolved" and len(_show(kid)["history"]) == 3


def test_reopening_the_lead_reopens_its_answered_co_handling_orders(units: str) -> None:
    n, (kid,) = _answered_family()
    later = AT + timedelta(days=14)
    _act(n, "callback", later, role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    # Naming the co-handling unit again opens no second order for it.
    reopened = _act(
        n, "reopen", later, role="dispatcher", actor="派单员甲", reason="市民称仍有污水外溢", co_units=[CGJ]
    )
    assert reopened["state"] == "dispatched"
    shown = _show(kid)
    assert (shown["state"], shown["reply"], shown["resolved_at"], shown["reopen_count"]) == ("dispatched", "", None, 1)
    assert (shown["due"], shown["accept_due"]) == (reopened["due"], reopened["accept_due"])
    last = shown["history"][-1]
    assert (last["action"], last["actor"], last["reason"]) == (
        "reopen",
        "派单员甲",
        f"随主办工单 {n} 重办：市民称仍有污水外溢",
    )
    assert last["changes"]["due"] == ["2021-10-15", reopened["due"]] and shown["version"] == len(shown["history"])
    assert [k["number"] for k in _show(n)["children"]] == [kid]
    # The lead answers again only once the co-handling unit has.
    _act(n, "accept", later, role="department", unit=ZJJ)
    with pytest.raises(Conflict) as err:
        _act(n, "resolve", later, role="department", unit=ZJJ, reply="已再次疏通")
    assert err.value.details["reason"] == "co-handling-open"
    _act(kid, "accept", later, role="department", unit=CGJ)
    _act(kid, "resolve", later, role="department", unit=CGJ, reply="已再次清理")
    _act(n, "resolve", later, role="department", unit=ZJJ, reply="已再次疏通")


def test_reopening_to_the_co_handling_unit_leaves_its_order_answered(units: str) -> None:
    n, (kid,) = _answered_family()
    _act(n, "callback", role="agent", satisfaction="basic", citizen_resolved=False)
    _act(n, "reopen", role="dispatcher", reason="改由执法局主办", target_unit=CGJ)
    assert _show(kid)["state"] == "resolved"
    _act(n, "accept", role="department", unit=CGJ)
    _act(n, "resolve", role="department", unit=CGJ, reply="已处理")
    _act(n, "review_pass", role="supervisor")
    _act(n, "archive", role="supervisor")
    assert _show(kid)["state"] == "archived"


def _lead_step_after_a_co_handling_change(
    lead: str, kid: str, seen_state: str, change: tuple[str, dict[str, Any]], step: tuple[str, dict[str, Any]]
) -> None:
    """Session b sees KID in SEEN_STATE; session a makes CHANGE to it and commits; b's STEP of LEAD must then
    fail whole with `stale-version`."""
    factory = session_factory()
    a, b = factory(), factory()
    try:
        seen = service.get_order(b, kid)  # held: b's identity map keeps only the objects referenced
        assert seen.state == seen_state
        service.act(a, kid, change[0], at=AT, **change[1])
        a.commit()
        with pytest.raises(Conflict) as err:
            service.act(b, lead, step[0], at=AT, **step[1])
        assert err.value.code == "stale-version"
        b.rollback()
    finally:
        a.close()
        b.close()


def test_archiving_a_family_fails_whole_when_a_co_handling_order_changed_meanwhile(units: str) -> None:
    n, (kid,) = _answered_family()
    reject = ("review_reject", {"role": "dispatcher", "reason": "未说明清理时间"})
    _lead_step_after_a_co_handling_change(n, kid, "resolved", reject, ("archive", {"role": "supervisor"}))
    assert _show(n)["state"] == "to_visit" and _show(kid)["state"] == "handling"


def test_bulk_archive_of_a_family_opened_in_the_same_unit_of_work(units: str) -> None:
    """A replay: the co-handling order is opened, answered and archived with its lead before one flush."""
    with session_scope() as session:
        order = service.create_order(
            session, type="求助", content="下水道堵塞", phone="13800001234", region="510100", at=AT
        )
        service.act(session, order, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[CGJ], at=AT, flush=False)
        (kid,) = service._children(session, order)
        steps: list[tuple[Order, str, dict[str, Any]]] = [
            (kid, "accept", {"role": "department", "unit": CGJ}),
            (kid, "resolve", {"role": "department", "unit": CGJ, "reply": "已配合"}),
            (order, "accept", {"role": "department", "unit": ZJJ}),
            (order, "resolve", {"role": "department", "unit": ZJJ, "reply": "已疏通"}),
            (order, "review_pass", {"role": "supervisor"}),
        ]
        for target, action, kw in steps:
            service.act(session, target, action, at=AT, flush=False, **kw)
        with pytest.raises(Conflict) as err:  # not yet written, and already known as a co-handling order
            service.act(session, kid, "review_pass", role="supervisor", at=AT, flush=False)
        assert err.value.details["reason"] == "co-handling-follows-lead"
        service.act(session, order, "archive", role="supervisor", at=AT, flush=False)
        service.flush_orders(session)
        number, kid_number = order.number, kid.number
    shown = _show(kid_number)
    assert shown["state"] == "archived" and shown["history"][-1]["reason"] == f"随主办工单 {number} 归档"
    assert shown["version"] == len(shown["history"]) == 4 and _show(number)["state"] == "archived"


def _extending_family() -> tuple[str, dict[str, str]]:
    """A lead led by ZJJ asking for 延期 while its co-handling units are at different points: CGJ handling, RSJ
    with its own 延期 of 10 days approved, the 武侯区 county answered."""
    n = _create(type="求助", content="小区下水道堵塞")
    _act(n, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[CGJ, RSJ, "510107"])
    kids = {k["unit"]: k["number"] for k in _show(n)["children"]}
    for unit, kid in kids.items():
        _act(kid, "accept", role="department", unit=unit)
    _act(kids[RSJ], "request_extension", role="department", unit=RSJ, days=10, reason="需多部门会商")
    _act(kids[RSJ], "approve_extension", role="supervisor")
    _act(kids["510107"], "resolve", role="department", unit="510107", reply="已配合处理")
    _act(n, "accept", role="department", unit=ZJJ)
    _act(n, "request_extension", role="department", unit=ZJJ, days=3, reason="需施工队进场")
    return n, kids


def test_approving_the_leads_extension_extends_its_open_co_handling_orders(units: str) -> None:
    n, kids = _extending_family()
    before = {unit: _show(kid) for unit, kid in kids.items()}
    old_due = _show(n)["due"]
    assert before[CGJ]["due"] == old_due == "2021-10-15" and before[RSJ]["due"] > "2021-10-18"

    approved = _act(n, "approve_extension", AT + timedelta(days=1), role="supervisor", actor="督办员乙")
    assert approved["due"] == "2021-10-20"  # 3 working days after 2021-10-15
    followed = _show(kids[CGJ])
    assert (followed["due"], followed["state"], followed["extension_count"]) == ("2021-10-20", "handling", 0)
    last = followed["history"][-1]
    assert (last["action"], last["actor"], last["role"], last["at"]) == (
        "approve_extension", "督办员乙", "supervisor", approved["updated_at"]
    )  # fmt: skip
    assert last["reason"] == f"随主办工单 {n} 延期至 2021-10-20"
    assert (last["from_state"], last["to_state"], last["changes"]) == (
        "handling", "handling", {"due": ["2021-10-15", "2021-10-20"]}
    )  # fmt: skip
    assert followed["version"] == len(followed["history"]) == before[CGJ]["version"] + 1
    # Its own later deadline is kept; an answered one is judged by the deadline it answered under.
    for unit in (RSJ, "510107"):
        after = _show(kids[unit])
        assert (after["due"], after["version"]) == (before[unit]["due"], before[unit]["version"])
    assert _show(kids["510107"])["due"] == old_due
    # On time with the lead, where it used to be overdue the day after the old deadline.
    with session_scope() as session:
        overdue = service.list_orders(session, OrderFilters(sla="overdue"), today=date(2021, 10, 18))
    assert [v["number"] for v in overdue] == []


def test_a_co_handling_answer_sent_back_after_the_leads_extension_works_to_the_new_deadline(units: str) -> None:
    n, kids = _extending_family()
    _act(n, "approve_extension", AT + timedelta(days=1), role="supervisor")
    answered = kids["510107"]
    assert _show(answered)["due"] == "2021-10-15"  # answered under the old deadline, kept by the 延期
    sent_back = _act(answered, "review_reject", AT + timedelta(days=2), role="supervisor", reason="答复不完整")
    assert (sent_back["state"], sent_back["due"]) == ("handling", "2021-10-20")
    last = _show(answered)["history"][-1]
    assert (last["action"], last["changes"]["due"]) == ("review_reject", ["2021-10-15", "2021-10-20"])
    with session_scope() as session:
        overdue = service.list_orders(session, OrderFilters(sla="overdue"), today=date(2021, 10, 18))
    assert [v["number"] for v in overdue] == []


def test_a_leads_extension_fails_whole_when_a_co_handling_order_changed_meanwhile(units: str) -> None:
    n, kids = _extending_family()
    urge = ("urge", {"role": "dispatcher", "reason": "请配合主办单位"})
    _lead_step_after_a_co_handling_change(n, kids[CGJ], "handling", urge, ("approve_extension", {"role": "supervisor"}))
    lead, kid = _show(n), _show(kids[CGJ])
    assert (lead["state"], lead["due"]) == ("extension_pending", "2021-10-15")
    assert kid["due"] == "2021-10-15" and kid["history"][-1]["action"] == "urge"


# --- to-do (待办) -------------------------------------------------------------------------------------------------

TODO_DAY = date(2021, 10, 9)  # a make-up working Saturday: a 咨询 taken on AT (due 10-11) is 临期


def _todo_orders() -> None:
    """Orders waiting on each role on TODO_DAY: some 临期 (咨询 taken on AT), some 超期 (taken ten days earlier),
    some on time (投诉, 15 working days)."""
    early = AT - timedelta(days=10)
    dispatcher = {"role": "dispatcher", "actor": "派单员甲"}
    _create(at=early)  # registered, overdue
    _create()  # registered, near due
    _create(type="投诉")  # registered, on time
    returned = _create()
    _act(returned, "dispatch", target_unit=ZJJ, **dispatcher)
    _act(returned, "return", role="department", unit=ZJJ, reason="不属于本单位职责")
    _act(_create(type="投诉"), "dispatch", target_unit=ZJJ, **dispatcher)  # ZJJ: to sign for, on time
    for unit, at in ((ZJJ, AT), (RSJ, early)):  # handling: ZJJ's near due, RSJ's overdue
        n = _create(at=at)
        _act(n, "dispatch", at, target_unit=unit, **dispatcher)
        _act(n, "accept", at, role="department", unit=unit)
    paused = _create(at=early)  # paused after its due date: still overdue
    _act(paused, "dispatch", early, target_unit=ZJJ, **dispatcher)
    _act(paused, "accept", early, role="department", unit=ZJJ)
    _act(paused, "await_citizen", role="department", unit=ZJJ, reason="请补充具体地址")
    answered = []
    for _ in range(2):
        n = _create()
        _act(n, "dispatch", target_unit=ZJJ, **dispatcher)
        _act(n, "accept", role="department", unit=ZJJ)
        _act(n, "resolve", role="department", unit=ZJJ, reply="已处理")
        answered.append(n)
    _act(answered[1], "review_pass", role="supervisor")  # to visit
    extending = _create()
    _act(extending, "dispatch", target_unit=ZJJ, **dispatcher)
    _act(extending, "accept", role="department", unit=ZJJ)
    _act(extending, "request_extension", role="department", unit=ZJJ, days=3, reason="需现场核查")


def _todo(role: str, unit: str | None = None) -> list[tuple[str, str, int, int | None, int | None]]:
    with session_scope() as session:
        lines = service.todo(session, role, unit=unit, today=TODO_DAY)
    return [(x.state, x.label, x.count, x.near_due, x.overdue) for x in lines]


def test_each_role_counts_what_waits_on_it_with_near_due_and_overdue(units: str) -> None:
    _todo_orders()
    assert _todo("dispatcher") == [("registered", "待派单", 3, 1, 1), ("returned", "退单待改派", 1, 1, 0)]
    # Answered orders are judged by the day they were answered: no 临期 or 超期 for the reviewer.
    assert _todo("supervisor") == [("resolved", "待审核", 1, None, None), ("extension_pending", "延期审批", 1, 1, 0)]
    assert _todo("admin") == [("extension_pending", "延期审批", 1, 1, 0)]
    # The agent's callback has its own deadline: reviewed on 09-30, 回访 by 10-11 (3 working days), 临期 on 10-09.
    assert _todo("agent") == [("to_visit", "待回访", 1, 1, 0)]


def test_a_handling_unit_counts_only_the_orders_assigned_to_it(units: str) -> None:
    _todo_orders()
    assert _todo("department", ZJJ) == [
        ("dispatched", "待签收", 1, 0, 0),
        ("handling", "办理中", 1, 1, 0),
        ("waiting_citizen", "待市民补充", 1, 0, 1),
    ]
    assert _todo("department", RSJ) == [
        ("dispatched", "待签收", 0, 0, 0),
        ("handling", "办理中", 1, 0, 1),
        ("waiting_citizen", "待市民补充", 0, 0, 0),
    ]
    assert [line[2:] for line in _todo("department", CGJ)] == [(0, 0, 0)] * 3


def test_a_to_do_counts_what_its_links_list(units: str) -> None:
    _todo_orders()
    with session_scope() as session:

        def listed(role: str, unit: str | None, state: str, sla: str | None = None) -> int:
            filters = OrderFilters(state=state, sla=sla, unit=unit)
            return len(service.list_orders(session, filters, role=role, limit=1000, today=TODO_DAY))

        for role, unit in (("dispatcher", None), ("supervisor", None), ("agent", None), ("department", ZJJ)):
            for line in service.todo(session, role, unit=unit, today=TODO_DAY):
                assert line.count == listed(role, unit, line.state) > 0
                if line.near_due is not None:
                    near, overdue = (listed(role, unit, line.state, sla) for sla in ("near_due", "overdue"))
                    assert (line.near_due, line.overdue) == (near, overdue)


def test_a_to_do_needs_a_known_role_and_a_units_code(units: str) -> None:
    with session_scope() as session:
        for role, unit, kind, code in (
            ("department", None, InvalidInput, "unit-required"),
            ("department", "510100-nope", NotFound, "unit-not-found"),
            ("citizen", None, Forbidden, "use-public-lookup"),
            ("feed", None, InvalidInput, "invalid-role"),
        ):
            with pytest.raises(kind) as err:
                service.todo(session, role, unit=unit)
            assert err.value.code == code
