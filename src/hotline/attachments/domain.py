"""工单附件 as plain rules: which files are taken (by their content, never by their name), how a name as uploaded is
kept, the limits, and who may add one. Pure: no database, no web.

The type is sniffed from the first bytes (a signature table) and, for the two Office formats, from the ZIP's own
directory: a .docx holds `word/document.xml`, an .xlsx `xl/workbook.xml`; one carrying macros (`vbaProject.bin`)
is refused like any other type. The ZIP is never inflated, only its directory read.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass

from hotline.errors import Conflict, Forbidden, HotlineError, InvalidInput
from hotline.workorders import domain as wo

MAX_PER_ORDER = 20
MAX_NAME = 120
DEFAULT_NAME = "附件"


@dataclass(frozen=True)
class Kind:
    content_type: str
    label: str
    extension: str

    @property
    def image(self) -> bool:
        """Shown inline (thumbnails on the order page); every other kind is handed out as a download."""
        return self.content_type.startswith("image/")


JPEG = Kind("image/jpeg", "JPEG 图片", "jpg")
PNG = Kind("image/png", "PNG 图片", "png")
WEBP = Kind("image/webp", "WebP 图片", "webp")
PDF = Kind("application/pdf", "PDF 文档", "pdf")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档", "docx")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 表格", "xlsx")
MP3 = Kind("audio/mpeg", "MP3 录音", "mp3")
WAV = Kind("audio/wav", "WAV 录音", "wav")
KINDS = (JPEG, PNG, WEBP, PDF, DOCX, XLSX, MP3, WAV)
BY_TYPE = {k.content_type: k for k in KINDS}
ALLOWED_TEXT = "JPEG、PNG、WebP 图片，PDF、Word（.docx）、Excel（.xlsx）文档，MP3、WAV 录音"

# Roles that add files: the desk at or after 受理, the supervisor, and a handling unit on its own orders. An
# administrator keeps the settings, not orders' files.
UPLOADERS = frozenset({wo.Role.AGENT, wo.Role.DISPATCHER, wo.Role.SUPERVISOR, wo.Role.DEPARTMENT})
CLOSED_STATES = frozenset({wo.State.ARCHIVED, wo.State.MERGED})


class TooLarge(HotlineError):
    code = "attachment-too-large"
    http_status = 413


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header with layer III (sync bits, a version that is not the reserved one)."""
    return (
        len(head) >= 2
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and (head[1] >> 1) & 3 == 1
        and (head[1] >> 3) & 3 != 1
    )


def _office(data: bytes) -> Kind | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def sniff(data: bytes) -> Kind | None:
    """The kind of DATA by its content, or None for a type not taken."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    if data.startswith(b"ID3") or _mp3_frame(data[:2]):
        return MP3
    return None


def check_file(data: bytes, *, max_bytes: int) -> Kind:
    """The kind of an uploaded file, or why it is refused: empty, too big, or of a type not taken."""
    if not data:
        raise InvalidInput("附件为空文件", code="attachment-empty")
    if len(data) > max_bytes:
        # No size quoted: an upload is read no further than one byte past the limit, so its size is unknown here.
        raise TooLarge(f"附件过大：每个附件不超过 {size_text(max_bytes)}", limit=max_bytes)
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(
            f"不支持的附件类型（按文件内容识别），只接受{ALLOWED_TEXT}", code="attachment-type-not-allowed"
        )
    return kind


def check_count(count: int, adding: int = 1) -> None:
    """Whether ADDING more files fit on an order holding COUNT."""
    if count + adding > MAX_PER_ORDER:
        raise Conflict(f"每张工单最多 {MAX_PER_ORDER} 个附件", code="attachment-limit", limit=MAX_PER_ORDER)


def check_uploader(role: wo.Role, state: wo.State, *, unit: str, lead_unit: str | None) -> None:
    """Whether ROLE (for a handling unit: UNIT) may add a file to an order in STATE led by LEAD_UNIT."""
    if role not in UPLOADERS:
        allowed = "、".join(wo.ROLE_LABELS[r] for r in wo.Role if r in UPLOADERS)
        raise Forbidden(f"「{wo.ROLE_LABELS[role]}」不能上传附件（允许：{allowed}）", code="role-not-allowed")
    if role is wo.Role.DEPARTMENT and (not unit or unit != lead_unit):
        raise Forbidden(f"工单未交办给单位 {unit}", code="unit-not-assigned")
    if state in CLOSED_STATES:
        raise Conflict(
            f"工单{wo.STATE_LABELS[state]}，不能再上传附件", code="attachment-order-closed", state=state.value
        )


def shown_name(name: str) -> str:
    """The name as uploaded, safe to show: its last path part, control and format characters (direction overrides
    among them) dropped, spaces run together; empty when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(" " if c.isspace() else c for c in base if unicodedata.category(c)[0] != "C" or c.isspace())
    return " ".join(base.split()).strip(" .")


def clean_name(name: str, kind: Kind) -> str:
    """The name as uploaded, kept for people (`shown_name`), at most MAX_NAME characters (the end cut from the stem,
    the extension kept); none: 附件.<ext>."""
    base = shown_name(name)
    if not base:
        return f"{DEFAULT_NAME}.{kind.extension}"
    if len(base) <= MAX_NAME:
        return base
    stem, dot, ext = base.rpartition(".")
    if dot and stem and len(ext) <= 10:
        return f"{stem[: MAX_NAME - len(ext) - 1].rstrip()}.{ext}"
    return base[:MAX_NAME]


def size_text(size: int) -> str:
    """A size for people: 512 B, 3.4 KB, 10 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{size / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")


def ascii_name(attachment_id: int, kind: Kind) -> str:
    """The download's name for clients that cannot read RFC 5987's `filename*`."""
    return f"attachment-{attachment_id}.{kind.extension}"
