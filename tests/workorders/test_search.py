"""关键词 through the full-text index (`wo_order_words`, migration 0025) on SQLite and PostgreSQL: a word inside a
longer one or across jieba's cuts, every word required, the substring check kept, words the index cannot serve,
an order whose text changes, the list's count, the API and the export, the index in the plans, and the orders
stored before the migration."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, inspect

from hotline import db
from hotline.app import create_app
from hotline.db import get_engine, session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import advice, export, search, service
from hotline.workorders.service import OrderFilters
from hotline.workorders.store import ORDER_WORDS, Order
from tests.conftest import fresh_database, query_plan
from tests.workorders.test_service import RSJ, ZJJ, units  # noqa: F401 (the fixture, used by every test but the migration's)

AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)


def _create(content: str, place: str = "") -> str:
    with session_scope() as session:
        order = service.create_order(
            session, type="求助", content=content, place=place, phone="13812341234", region="510100", at=AT
        )
        session.flush()
        return order.number


def _found(words: str) -> set[str]:
    """The orders a supervisor's list shows for WORDS; its count (共 N 张) says as many."""
    filters = OrderFilters.parse(words=words)
    with session_scope() as session:
        listed = {o["number"] for o in service.list_orders(session, filters, role="supervisor", limit=1000)}
        assert service.count_orders(session, filters, role="supervisor") == len(listed)
        return listed


@pytest.mark.usefixtures("units")
def test_a_word_inside_a_longer_one_or_across_jiebas_cuts_is_found() -> None:
    gate = _create("锦绣小区门口路灯不亮已一周")  # jieba cuts 路|灯不亮: no word 路灯 in its cut
    nobody = _create("楼道里的垃圾没有人管")  # 没有|人
    office = _create("已向人民政府反映", place="锦江区")  # one word 人民政府
    assert _found("小区") == {gate}
    assert _found("路灯") == {gate}
    assert _found("有人") == {nobody}
    assert _found("政府") == {office} and _found("民政") == {office}  # inside it, as the substring check finds
    assert _found("江区") == {office}  # in the place
    assert _found("自来水") == set()


@pytest.mark.usefixtures("units")
def test_every_word_must_be_there() -> None:
    both = _create("小区路灯不亮", place="锦江区")
    lamp = _create("街道路灯不亮", place="武侯区")
    noise = _create("小区夜间施工噪音")
    assert _found("路灯") == {both, lamp}
    assert _found("小区 路灯") == {both}
    assert _found("路灯 锦江区") == {both}
    assert _found("小区 路灯 噪音") == set()
    assert _found("噪音 小区") == {noise}


@pytest.mark.usefixtures("units")
def test_an_order_holding_the_words_apart_is_not_listed() -> None:
    """The index narrows (锦绣 and 小区 are both there), the substring check decides."""
    apart = _create("锦绣 小区门口积水")
    together = _create("锦绣小区门口积水")
    assert _found("锦绣小区") == {together}
    assert _found("锦绣 小区") == {apart, together}


@pytest.mark.usefixtures("units")
def test_a_look_alike_character_is_not_the_word() -> None:
    """A Chinese word is found by the index alone (no substring check): so the index must hold it only where the
    text has it character for character, not a compatibility form (⾦, the Kangxi radical, is NFKC's 金)."""
    look_alike = _create("⾦额不对，多扣了钱")
    real = _create("金额不对，多扣了钱")
    assert search.lookup("金额").exact
    assert _found("金额") == {real}
    assert _found("⾦额") == {look_alike}
    assert {look_alike, real} == _found("额不对")


@pytest.mark.usefixtures("units")
def test_words_the_index_cannot_serve_are_still_found() -> None:
    stairs = _create("3栋2单元楼道灯坏了", place="锦绣小区")
    door = _create("A座118号门口积水")
    for word in ("栋", "3栋", "绣小", "8号", "座"):
        assert search.terms(word) == ()  # found by the substring check alone
    assert _found("栋") == {stairs} and _found("3栋") == {stairs} and _found("绣小") == {stairs}
    assert _found("8号") == {door} and _found("座") == {door}
    assert _found("18号") == {door}  # a run of digits inside a longer one
    assert _found("A座") == {door}
    assert _found("绣小 单元") == {stairs}  # a word the index serves narrows one it cannot
    assert _found("门口 栋") == set()


@pytest.mark.usefixtures("units")
def test_latin_letters_are_found_in_any_case() -> None:
    """Citizens write WiFi, wifi and WIFI alike: the list finds them all on both databases (PostgreSQL's LIKE alone
    would tell the cases apart)."""
    wifi = _create("小区WiFi信号很差", place="锦绣花园B座")
    etc = _create("高速ETC扣费两次")
    assert _found("wifi") == {wifi} and _found("WIFI") == {wifi} and _found("WiFi") == {wifi}
    assert _found("etc") == {etc} and _found("Etc扣费") == {etc}
    assert _found("b座") == {wifi}  # a word the index cannot serve: the substring check alone
    assert _found("wifi 扣费") == set()


@pytest.mark.usefixtures("units")
def test_an_order_whose_text_changes_is_found_by_its_new_words_only() -> None:
    """No page changes an order's content or place yet; any path that does, through the ORM, is indexed anew."""
    number = _create("小区路灯不亮", place="锦江区")
    other = _create("工地夜间施工噪音扰民")
    with session_scope() as session:
        order = service.get_order(session, number)
        order.content, order.place = "楼道垃圾无人清理", "武侯区"
    assert _found("楼道") == {number} and _found("武侯区") == {number}
    assert _found("路灯") == set() and _found("锦江区") == set()
    assert _found("噪音") == {other}


@pytest.mark.usefixtures("units")
def test_a_co_handling_order_is_found_as_its_lead() -> None:
    """协办 orders are made by 派单, not 受理: indexed all the same."""
    lead = _create("小区路灯不亮")
    with session_scope() as session:
        service.act(session, lead, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[RSJ], at=AT)
    assert _found("路灯") == {lead, f"{lead}-01"}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(advice, "_advise_function", lambda: None)
    return TestClient(create_app())


@pytest.mark.usefixtures("units")
def test_the_api_and_the_export_find_the_same_orders(client: TestClient, tmp_path: Path) -> None:
    lamps = [_create(f"锦绣小区{i}栋门口路灯不亮") for i in range(3)]
    _create("街道路灯不亮")
    listed = client.get("/api/orders", params={"role": "supervisor", "words": "小区 路灯", "limit": 2})
    assert listed.status_code == 200
    assert {o["number"] for o in listed.json()} < set(lamps) and len(listed.json()) == 2
    assert listed.headers["X-Total-Count"] == "3"
    with session_scope() as session:
        done = export.export_orders(
            session, tmp_path / "o.xlsx", role="supervisor", filters=OrderFilters(words="小区 路灯"),
            exporter=export.Exporter("wangfang", "王芳（wangfang）", "10.0.0.7"),
        )  # fmt: skip
    assert done.count == 3


@pytest.mark.usefixtures("units")
def test_the_list_and_its_count_read_the_index(db_url: str) -> None:
    filters = OrderFilters(words="小区 路灯")
    listing = query_plan(db_url, lambda s: service.list_orders(s, filters, role="supervisor", order="newest"))
    counting = query_plan(db_url, lambda s: service.count_orders(s, filters, role="supervisor"))
    used = "VIRTUAL TABLE INDEX" if db_url.startswith("sqlite") else "ix_wo_order_words_words"
    assert used in listing and used in counting, (listing, counting)


@pytest.mark.usefixtures("units")
def test_a_word_many_orders_hold_walks_the_newest_orders_on_sqlite(db_url: str) -> None:
    """On SQLite a page of the newest orders with a word most orders hold asks the index order by order along the
    newest ones rather than reading them all; a rare word reads the few the index names. The same page either way."""
    with session_scope() as session:
        for i in range(70):  # 70 × 70 ≥ 60 × 70: dense (`store.dense_match`)
            service.create_order(
                session, type="求助", content=f"小区第{i}号楼路灯不亮" + ("，电梯故障" if i in (3, 66) else ""),
                phone="13812341234", region="510100", at=AT + timedelta(minutes=i),
            )  # fmt: skip
    with session_scope() as session:
        page = service.list_orders(session, OrderFilters(words="路灯"), role="supervisor", limit=5, order="newest")
        assert [o["content"][:6] for o in page] == [f"小区第{i}号" for i in range(69, 64, -1)]
        rare = service.list_orders(session, OrderFilters(words="电梯 路灯"), role="supervisor", order="newest")
        assert [o["content"][:5] for o in rare] == ["小区第66", "小区第3号"]
    if not db_url.startswith("sqlite"):
        return

    def newest(words: str) -> Callable[[Any], object]:  # the orders' query of `list_orders`, newest first
        return lambda s: s.scalars(
            service.filtered_orders(s, OrderFilters(words=words), role="supervisor", today=AT.date(), newest=True)[0]
            .order_by(Order.created_at.desc(), Order.number.desc())
            .limit(50)
        ).all()

    dense, few = query_plan(db_url, newest("路灯")), query_plan(db_url, newest("电梯"))
    assert "ix_wo_orders_created_at" in dense and "CORRELATED" in dense, dense
    assert "INTEGER PRIMARY KEY" in few and "CORRELATED" not in few, few


def _stored(i: int, content: str) -> dict[str, Any]:
    """An order as a platform before 0025 stored it (no index entry)."""
    number = f"5101002021093{i:06d}"
    at = AT + timedelta(minutes=i)
    return dict(
        number=number, version=1, payload_hash=hashlib.sha256(number.encode()).hexdigest(), region_code="510100",
        channel="phone", caller_phone="13812341234", type="求助", content=content, place="锦江区",
        urgency="normal", state="registered", created_at=at, updated_at=at, due=date(2021, 10, 11),
    )  # fmt: skip


def test_0025_indexes_the_orders_stored_before_it(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0024")
        rows = [_stored(i, "小区路灯不亮" if i % 1000 == 0 else "工地夜间施工噪音") for i in range(2001)]  # two batches
        with get_engine(url).begin() as conn:
            conn.execute(insert(Order), rows)
        db.upgrade(url, "0025")

        def found(words: str) -> int:
            with session_scope(url) as session:
                return service.count_orders(session, OrderFilters(words=words), role="supervisor")

        assert (found("路灯"), found("噪音"), found("锦江区"), found("路灯 噪音")) == (3, 1998, 2001, 0)
        db.downgrade(url, "0024")
        assert ORDER_WORDS not in inspect(get_engine(url)).get_table_names()
        db.upgrade(url, "0025")
        assert found("路灯") == 3
