"""`hotline order attach` and `hotline order attachments`: a file from disk attached as a role, listed in Chinese;
a refusal is a Chinese message with its code and exit 2, nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.attachments.conftest import ZJJ, png, state_of
from tests.workorders.conftest import Ran


def test_attach_and_list_from_the_command_line(order: str, cli: Callable[..., Ran], tmp_path: Path) -> None:
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png())
    done = cli("attach", order, str(photo), "--role", "department", "--unit", ZJJ, "--actor", "住建局甲")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(rf"已上传附件 \d+：现场照片.png（PNG 图片，{len(png())} B）到工单 {order}\n", done.stdout)
    listed = cli("attachments", order, "--role", "supervisor")
    assert (
        listed.returncode == 0
        and "现场照片.png  PNG 图片" in listed.stdout
        and f"住建局甲（承办单位，{ZJJ}）" in listed.stdout
    )


def test_a_refused_file_says_why_and_writes_nothing(order: str, cli: Callable[..., Ran], tmp_path: Path) -> None:
    before = state_of(order)
    script = tmp_path / "照片.jpg"
    script.write_bytes(b"#!/bin/sh\nrm -rf /\n")
    refused = cli("attach", order, str(script), "--role", "agent")
    assert refused.returncode == 2 and refused.stderr.startswith("错误[attachment-type-not-allowed]：不支持的附件类型")
    missing = cli("attach", order, str(tmp_path / "无.png"), "--role", "agent")
    assert missing.returncode == 2 and "错误[file-not-readable]" in missing.stderr
    assert state_of(order) == before
    assert "暂无附件" in cli("attachments", order).stdout
