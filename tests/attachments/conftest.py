"""Files of each type the platform takes (made here, a few bytes each) and an order to attach them to: taken in,
dispatched to ZJJ with CGJ co-handling (tests.quality.orders)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from openpyxl import Workbook

from hotline.db import session_scope
from hotline.workorders import service as workorders
from tests.quality.orders import CGJ, ZJJ, dispatch_with_co_handling, take, units
from tests.workorders.conftest import cli

__all__ = ["CGJ", "ZJJ", "cli"]  # `cli`: `hotline order …` run in-process


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (white pixels), shown by browsers."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def ooxml(main: str, *, macros: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(main, "<document/>")
        if macros:
            z.writestr("word/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["现场照片说明", "已处理"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 24
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 32
MP3_FRAME = b"\xff\xfb\x90\x00" + b"\x00" * 32
DOCX = ooxml("word/document.xml")


@pytest.fixture
def order(db_url: str) -> str:
    """An order dispatched to ZJJ (CGJ co-handling it as `<number>-01`); its number."""
    units()
    number = take("张敏（zhangmin）")
    dispatch_with_co_handling(number)
    return number


def state_of(number: str) -> tuple[str, int, int]:
    """(state, version, history entries) of order NUMBER as stored."""
    with session_scope() as s:
        row = workorders.get_order(s, number)
        return row.state, row.version, row.history_count
