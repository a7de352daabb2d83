"""Text files as users send them."""

from __future__ import annotations


def decode(raw: bytes) -> str:
    """The text of a file in UTF-8 (with or without BOM) or, failing that, GB18030: a CSV saved by Excel or WPS
    on a Chinese Windows is in the local code page (GBK, a subset of GB18030). GB18030 decodes any bytes, so
    this never fails; a file that is neither shows as mojibake, and its columns are then not found."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")
