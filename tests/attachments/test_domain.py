"""工单附件's plain rules: a file's type is its content's, whatever its name says; a name is kept readable and short;
who may add a file to which order."""

from __future__ import annotations

import pytest

from hotline.attachments import domain as a
from hotline.errors import HotlineError
from hotline.workorders.domain import Role, State
from tests.attachments.conftest import DOCX, JPEG, MP3, MP3_FRAME, PDF, WAV, WEBP, ooxml, png, xlsx


@pytest.mark.parametrize(
    ("data", "kind"),
    [(JPEG, a.JPEG), (png(), a.PNG), (WEBP, a.WEBP), (PDF, a.PDF), (DOCX, a.DOCX), (xlsx(), a.XLSX), (MP3, a.MP3),
     (MP3_FRAME, a.MP3), (WAV, a.WAV)],
)  # fmt: skip
def test_each_type_taken_is_known_by_its_content(data: bytes, kind: a.Kind) -> None:
    assert a.sniff(data) is kind
    assert a.check_file(data, max_bytes=10_000) is kind


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program, whatever it is called
        b"<html><script>alert(1)</script></html>",
        b"GIF89a\x01\x00\x01\x00",
        ooxml("word/document.xml", macros=True),  # a .docm carrying macros
        ooxml("ppt/presentation.xml"),  # a PowerPoint file: not taken
        b"PK\x03\x04 not really a zip",
        b"RIFF\x24\x00\x00\x00AVI LIST",
    ],
)
def test_other_content_is_refused_whatever_the_name(data: bytes) -> None:
    with pytest.raises(HotlineError) as refused:
        a.check_file(data, max_bytes=10_000)
    assert (refused.value.code, refused.value.http_status) == ("attachment-type-not-allowed", 422)


def test_empty_and_too_large_files_are_refused_with_their_codes() -> None:
    with pytest.raises(HotlineError) as empty:
        a.check_file(b"", max_bytes=10)
    assert (empty.value.code, empty.value.http_status) == ("attachment-empty", 422)
    with pytest.raises(HotlineError) as big:
        a.check_file(png() + b"\x00" * 100, max_bytes=len(png()))
    assert (big.value.code, big.value.http_status) == ("attachment-too-large", 413)
    assert big.value.message == f"附件过大：每个附件不超过 {len(png())} B"  # the limit, not the bytes read
    assert a.check_file(png(), max_bytes=len(png())) is a.PNG  # exactly the limit is taken


def test_the_twentieth_is_taken_and_the_twenty_first_refused() -> None:
    a.check_count(19)
    with pytest.raises(HotlineError) as full:
        a.check_count(20)
    assert (full.value.code, full.value.http_status) == ("attachment-limit", 409)


@pytest.mark.parametrize(
    ("uploaded", "kept"),
    [
        ("现场照片.jpg", "现场照片.jpg"),
        ("C:\\Users\\张三\\Desktop\\回复函.pdf", "回复函.pdf"),
        ("../../etc/passwd", "passwd"),
        ("  整改\t报告\n(第2版) .docx ", "整改 报告 (第2版) .docx"),
        ("坏\x00名\u202e字.png", "坏名字.png"),
        ("", "附件.png"),
        ("...", "附件.png"),
        ("长" * 200 + ".xlsx", "长" * 115 + ".xlsx"),
        ("长" * 200, "长" * 120),
    ],
)
def test_the_name_as_uploaded_is_kept_clean_and_short(uploaded: str, kept: str) -> None:
    assert a.clean_name(uploaded, a.PNG) == kept
    assert len(a.clean_name(uploaded, a.PNG)) <= a.MAX_NAME


def test_sizes_are_said_for_people() -> None:
    assert [a.size_text(n) for n in (512, 1536, 10 * 1024 * 1024)] == ["512 B", "1.5 KB", "10 MB"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR])
def test_the_desk_and_supervisors_add_files_to_open_and_answered_orders(role: Role) -> None:
    for state in (State.REGISTERED, State.HANDLING, State.RESOLVED, State.TO_VISIT, State.VISITED):
        a.check_uploader(role, state, unit="", lead_unit="510100-zjj")


def test_a_unit_adds_files_to_its_own_orders_only_and_an_administrator_to_none() -> None:
    a.check_uploader(Role.DEPARTMENT, State.HANDLING, unit="510100-zjj", lead_unit="510100-zjj")
    for unit, lead in (("510100-zjj", "510107-cgj"), ("510100-zjj", None), ("", None)):
        with pytest.raises(HotlineError) as other:
            a.check_uploader(Role.DEPARTMENT, State.HANDLING, unit=unit, lead_unit=lead)
        assert other.value.code == "unit-not-assigned"
    for role in (Role.ADMIN, Role.CITIZEN):
        with pytest.raises(HotlineError) as refused:
            a.check_uploader(role, State.HANDLING, unit="", lead_unit=None)
        assert (refused.value.code, refused.value.http_status) == ("role-not-allowed", 403)


@pytest.mark.parametrize("state", [State.ARCHIVED, State.MERGED])
def test_archived_and_merged_orders_take_no_more_files(state: State) -> None:
    with pytest.raises(HotlineError) as closed:
        a.check_uploader(Role.SUPERVISOR, state, unit="", lead_unit=None)
    assert (closed.value.code, closed.value.http_status) == ("attachment-order-closed", 409)
