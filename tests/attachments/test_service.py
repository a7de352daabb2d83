"""Attaching files to work orders (both databases): stored with the order's history entry, the same bytes once, the
limits and the roles enforced with nothing written when refused, and the entry read by no lifecycle reader (KPIs,
工单推送, 短信, the lifecycle's own steps)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.attachments import domain as a
from hotline.attachments import service
from hotline.attachments.store import Attachment, Blob
from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.push import domain as push
from hotline.workorders import service as workorders
from tests.attachments.conftest import CGJ, PDF, ZJJ, png, state_of


def _attach(number: str, data: bytes = b"", name: str = "现场照片.png", **who: str) -> dict:
    with session_scope() as s:
        return service.attach(s, number, data or png(), name, **{"role": "agent", "actor": "张敏", **who})


def _refused(number: str, data: bytes = b"", **who: str) -> HotlineError:
    with pytest.raises(HotlineError) as refused:
        _attach(number, data, **who)
    return refused.value


def _stored() -> tuple[int, int]:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Attachment)) or 0, s.scalar(
            select(func.count()).select_from(Blob)) or 0  # fmt: skip


def test_an_upload_is_stored_listed_downloaded_and_recorded_in_the_history(order: str) -> None:
    state, version, entries = state_of(order)
    done = _attach(order, name="D:\\照片\\现场照片.png")
    assert (done["name"], done["content_type"], done["size"], done["actor"], done["role"]) == (
        "现场照片.png", "image/png", len(png()), "张敏", "agent")  # fmt: skip
    assert state_of(order) == (state, version + 1, entries + 1)  # a change to the order; its state stays
    with session_scope() as s:
        listed = service.list_attachments(s, order, role="supervisor")
        got = service.download(s, order, done["id"], role="supervisor")
        history = workorders.show_order(s, order, "supervisor")["history"]
    assert [f["id"] for f in listed] == [done["id"]]
    assert (got.data, got.kind, got.name) == (png(), a.PNG, "现场照片.png")
    last = history[-1]
    assert (last["action"], last["action_label"], last["from_state"], last["to_state"]) == (
        "attach", "上传附件", state, state)  # fmt: skip
    assert last["reason"].startswith("上传附件 现场照片.png") and last["actor"] == "张敏"


def test_the_same_file_twice_is_stored_once(order: str) -> None:
    _attach(order)
    _attach(order, name="again.png")
    _attach(f"{order}-01", role="department", unit=CGJ)
    assert _stored() == (3, 1)


def test_a_unit_adds_and_reads_files_of_its_own_orders_only(order: str) -> None:
    done = _attach(order, PDF, name="回复函.pdf", role="department", unit=ZJJ, actor="住建局甲")
    assert (done["unit"], done["content_type"]) == (ZJJ, "application/pdf")
    assert _refused(order, role="department", unit=CGJ).code == "unit-not-assigned"  # it co-handles another order
    assert _attach(f"{order}-01", role="department", unit=CGJ)["unit"] == CGJ  # its own co-handling order
    with session_scope() as s, pytest.raises(HotlineError) as hidden:
        service.list_attachments(s, order, role="department", unit=CGJ)
    assert hidden.value.code == "unit-not-assigned"
    with session_scope() as s, pytest.raises(HotlineError) as hidden:
        service.download(s, order, done["id"], role="department", unit=CGJ)
    assert hidden.value.code == "unit-not-assigned"
    assert _stored()[0] == 2


def test_refusals_write_nothing(order: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_of(order)
    monkeypatch.setenv("HOTLINE_ATTACHMENT_MAX_MB", "1")
    cases = [
        (b"MZ\x90\x00", {}, "attachment-type-not-allowed"),
        (png() + b"\x00" * (1024 * 1024), {}, "attachment-too-large"),
        (png(), {"role": "admin"}, "role-not-allowed"),
        (png(), {"actor": "名" * 65}, "field-too-long"),
        (png(), {"role": "citizen"}, "use-public-lookup"),
    ]
    for data, who, code in cases:
        assert _refused(order, data, **who).code == code
    with session_scope() as s, pytest.raises(HotlineError) as empty:
        service.attach(s, order, b"", "空.png", role="agent", actor="张敏")
    assert empty.value.code == "attachment-empty"
    assert _refused("5101002099010100001").code == "workorder-not-found"
    assert _stored() == (0, 0) and state_of(order) == before


def test_twenty_files_per_order(order: str) -> None:
    for i in range(a.MAX_PER_ORDER):
        _attach(order, png() + bytes([i]), name=f"{i}.png")
    before = state_of(order)
    refused = _refused(order)
    assert (refused.code, refused.http_status) == ("attachment-limit", 409)
    assert state_of(order) == before and _stored() == (20, 20)


def test_no_files_once_archived_or_merged(order: str) -> None:
    with session_scope() as s:
        other = workorders.create_order(s, type="咨询", content="公积金怎么提取？", phone="13812341234",
                                        region="510100", role="agent", actor="张敏")  # fmt: skip
        s.flush()
        merged = other.number
        workorders.act(s, merged, "merge", role="dispatcher", actor="李华", master=order)
    refused = _refused(merged)
    assert (refused.code, refused.http_status) == ("attachment-order-closed", 409)
    assert _stored() == (0, 0)


def test_one_demand_shares_its_files_and_another_demands_are_not_found(order: str) -> None:
    citizens = _attach(order)  # the citizen's photo, on the lead order (ZJJ's)
    reply = _attach(f"{order}-01", role="department", unit=CGJ)  # the co-handling unit's 回复函
    with session_scope() as s:
        # CGJ, co-handling, sees the citizen's photo; the lead order shows the co-unit's file, naming its order.
        on_child = service.list_attachments(s, f"{order}-01", role="department", unit=CGJ)
        assert [(f["id"], f["order_number"]) for f in on_child] == [(citizens["id"], order), (reply["id"], None)]
        on_lead = service.list_attachments(s, order, role="department", unit=ZJJ)
        assert [(f["id"], f["order_number"]) for f in on_lead] == [(citizens["id"], None), (reply["id"], f"{order}-01")]
        assert service.download(s, f"{order}-01", citizens["id"], role="department", unit=CGJ).data == png()
        other = workorders.create_order(s, type="咨询", content="公积金怎么提取？", phone="13812341234",
                                        region="510100", role="agent", actor="张敏")  # fmt: skip
        s.flush()
        for number, key in ((other.number, citizens["id"]), (other.number, reply["id"]), (order, 10**12), (order, 0)):
            with pytest.raises(HotlineError) as missing:
                service.download(s, number, key, role="dispatcher")
            assert (missing.value.code, missing.value.http_status) == ("attachment-not-found", 404)


def test_an_upload_racing_a_step_on_the_same_order_is_stale(order: str) -> None:
    with session_scope() as s:
        loaded = workorders.get_order(s, order)  # the upload has read the order …
        assert loaded.version
        with session_scope() as t:  # … when someone else urges it
            workorders.act(t, order, "urge", role="dispatcher", actor="李华")
        with pytest.raises(HotlineError) as stale:
            service.attach(s, order, png(), "x.png", role="agent", actor="张敏")
        assert stale.value.code == "stale-version"
        s.rollback()
    assert _stored() == (0, 0)


def test_no_lifecycle_reader_takes_the_entry_for_a_step(order: str) -> None:
    from hotline.sms import domain as sms
    from hotline.supervision import service as supervision

    _attach(order)
    assert push.target_unit("attach", {"attachment": [None, 1]}, ZJJ) is None  # not pushed to the unit
    assert "attach" not in sms.EVENT_KINDS  # no text to the citizen
    with session_scope() as s:
        order_row = workorders.get_order(s, order)
        givings = supervision._givings(s, [order_row])[order_row.id]
    assert len(givings) == 1  # the 派单 alone: the upload is no giving (签收率, 退单率 per giving)
    with session_scope() as s:  # and the order still takes its next step
        workorders.act(s, order, "accept", role="department", unit=ZJJ, actor="住建局甲")
    assert state_of(order)[0] == "handling"


# -- files sent with a demand at 受理 (web.intake) ---------------------------------------------------------------
def _taken_in(files: list[tuple[str, bytes]], role: str = "agent") -> str:
    with session_scope() as s:
        service.check_all(files, role=role)
        order = workorders.create_order(s, type="投诉", content="路灯不亮", phone="13812341234", region="510100",
                                        role=role, actor="张敏")  # fmt: skip
        s.flush()
        service.attach_all(s, order, files, role=role, actor="张敏")
        return order.number


def test_files_at_intake_are_written_with_the_order_after_its_intake_entry(db_url: str) -> None:
    number = _taken_in([("IMG_0001.png", png()), ("说明.pdf", PDF)])
    with session_scope() as s:
        listed = service.list_attachments(s, number, role="supervisor")
        history = workorders.show_order(s, number, "supervisor")["history"]
    assert [(f["name"], f["content_type"], f["actor"]) for f in listed] == [
        ("IMG_0001.png", "image/png", "张敏"), ("说明.pdf", "application/pdf", "张敏")]  # fmt: skip
    assert [h["action_label"] for h in history] == ["受理", "上传附件", "上传附件"]
    assert [h["reason"].split("（")[0] for h in history[1:]] == ["上传附件 IMG_0001.png", "上传附件 说明.pdf"]


def test_one_refused_file_at_intake_refuses_them_all_naming_it(db_url: str) -> None:
    with pytest.raises(HotlineError) as refused:
        service.check_all([("a.png", png()), ("备注.txt", b"hello"), ("b.png", b"")], role="agent")
    assert refused.value.code == "attachment-type-not-allowed"
    assert refused.value.message.startswith("附件「备注.txt」：不支持的附件类型")
    assert refused.value.details["file"] == "备注.txt"
    with pytest.raises(HotlineError) as too_many:
        service.check_all([(f"{i}.png", png()) for i in range(a.MAX_PER_ORDER + 1)], role="agent")
    assert too_many.value.code == "attachment-limit"
    service.check_all([(f"{i}.png", png()) for i in range(a.MAX_PER_ORDER)], role="agent")  # 20 fit
    with pytest.raises(HotlineError) as admin:
        service.check_all([("a.png", png())], role="admin")
    assert admin.value.code == "role-not-allowed"
    assert service.check_all([], role="admin") == []  # no files: nothing to refuse


def test_files_at_intake_that_do_not_fit_write_nothing(order: str) -> None:
    for i in range(a.MAX_PER_ORDER - 1):
        _attach(order, name=f"{i}.png")
    before, stored = state_of(order), _stored()
    with pytest.raises(HotlineError) as refused, session_scope() as s:
        service.attach_all(
            s, workorders.get_order(s, order), [("x.png", png()), ("y.pdf", PDF)], role="agent", actor=""
        )
    assert refused.value.code == "attachment-limit"
    assert (state_of(order), _stored()) == (before, stored)
