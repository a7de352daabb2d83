"""变更记录 on the pages that change settings (派单设置, 工作日历): the changes recorded by the services
(`changelog`), newest first, a page of 50 at a time with 更早 going back, to those who may read them
(`GET /api/settings/changes` in the access table: supervisors and administrators)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from hotline.changelog import service as changelog
from hotline.changelog.domain import KIND_LABELS, Kind
from hotline.web.viewer import Viewer

API = "/api/settings/changes"
ALL_KINDS = ("", "全部")


def wanted_kind(text: str) -> str:
    """A kind's code as a page's query gives it ("" for all, and for one it does not know)."""
    return text if text in {k.value for k in Kind} else ""


def wanted_before(text: str) -> int | None:
    """The record a page of older ones starts below (更早), as a query gives it."""
    return int(text) if text.isascii() and text.isdigit() else None


def change_records(
    session: Session,
    viewer: Viewer,
    path: str,
    *,
    kind: str,
    before: int | None,
    keep: dict[str, str] | None = None,
    choose_kind: bool = True,
) -> dict[str, Any] | None:
    """The section `_changes.html` shows on the page at PATH (None for a viewer who may not read it): the changes
    of KIND ("" for every kind) older than BEFORE, the kinds to choose from (CHOOSE_KIND), and the links to the
    older page and back to the newest, which carry KEEP (the page's own query) and the viewer's role."""
    if not viewer.may("GET", API):
        return None
    listed = changelog.list_changes(session, kind=kind, before=before)
    query = {**(keep or {}), "role": viewer.role, **({"changes_kind": kind} if kind and choose_kind else {})}
    return {
        "path": path,
        "rows": [changelog.change_view(row) for row in listed.changes],
        "kinds": [ALL_KINDS, *((k.value, label) for k, label in KIND_LABELS.items())] if choose_kind else [],
        "kind": kind,
        "keep": [(name, value) for name, value in query.items() if name != "changes_kind"],
        "earlier": f"{path}?{urlencode({**query, 'changes_before': listed.earlier})}#changes" if listed.earlier else "",
        "newest": f"{path}?{urlencode(query)}#changes" if before is not None else "",
    }
