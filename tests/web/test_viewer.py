"""posted_step: a step posted from a page's form goes on to the page of what it made, or, refused, writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.responses import HTMLResponse

from hotline.accounts.domain import Grant
from hotline.errors import Conflict, HotlineError
from hotline.web.viewer import Viewer, posted_step


class _Session:
    """What posted_step does with the session: commit or roll back."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def commit(self) -> None:
        self.calls.append("commit")

    def rollback(self) -> None:
        self.calls.append("rollback")


def _as(role: str) -> Viewer:
    return Viewer(role, "张三", (Grant(role),), signed_in=False)


def _refused(exc: HotlineError) -> HTMLResponse:
    return HTMLResponse(exc.code, status_code=exc.http_status)


def _post(session: _Session, role: str, work: Any, **redirect: Any) -> Any:
    return posted_step(session, lambda: _as(role), "/quality/pick", work, refused=_refused, **redirect)  # type: ignore[arg-type]


def test_the_next_page_can_name_what_the_step_made() -> None:
    session = _Session()
    sent = _post(session, "supervisor", lambda who: {"id": 7, "by": who.actor}, to=lambda who, made: f"/x/{made['id']}")
    assert (sent.status_code, sent.headers["location"], session.calls) == (303, "/x/7", ["commit"])
    # A page whose next page does not depend on the result still names it from the viewer alone.
    sent = _post(session, "supervisor", lambda who: None, done=lambda who: f"/x?role={who.role}")
    assert sent.headers["location"] == "/x?role=supervisor"


def test_a_refused_step_writes_nothing_and_shows_the_page_again() -> None:
    session = _Session()

    def clash(who: Viewer) -> object:
        raise Conflict("该工单已质检", code="quality-already-inspected")

    sent = _post(session, "supervisor", clash, to=lambda who, made: "/never")
    assert (sent.status_code, sent.body, session.calls) == (409, b"quality-already-inspected", ["rollback"])
    ran: list[str] = []
    sent = _post(session, "agent", lambda who: ran.append("work"), to=lambda who, made: "/never")
    assert (sent.status_code, sent.body, ran) == (403, b"role-not-allowed", [])


def test_one_next_page_is_named() -> None:
    with pytest.raises(TypeError):
        _post(_Session(), "supervisor", lambda who: None)
    with pytest.raises(TypeError):
        _post(_Session(), "supervisor", lambda who: None, done=lambda who: "/a", to=lambda who, made: "/b")
