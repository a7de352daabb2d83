"""整合进度 (web.plan_page): every line's milestones in a region on a date, and the form a supervisor or an
administrator records a milestone done or postponed with: the record is kept in the plan's history under the one
who made it, moves the milestone's status (and the routing that follows it), and a refused or wrong record changes
nothing and says why. In process, SQLite and PostgreSQL; sign-in off (the role named by `role`) and on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from hotline.db import session_scope
from hotline.plan import service as plan
from tests.conftest import bearer

ON = "2021-06-01"  # 12331 (a national line merged whole) starts its transition on 06-01, cancels on 10-01
RECORD = {"line": "12331", "milestone": "cancellation", "region": "510100", "on": ON}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from hotline.app import create_app

    yield TestClient(create_app())


def _forms(html: str, line: str) -> list[str]:
    """The milestones of LINE's row offering the record form."""
    row = re.search(rf'<tr data-line="{line}">(.*?)</tr>', html, re.S)
    assert row is not None
    return re.findall(r'<input type="hidden" name="milestone" value="([^"]+)">', row.group(1))


def _history() -> list[tuple[str, str, str, str]]:
    with session_scope() as s:
        return [
            (r.milestone, r.kind.value, r.day.isoformat(), r.recorded_by) for r in plan.history(s, "12331", "510100")
        ]


def test_a_supervisor_records_a_milestone_done_and_the_page_says_so(client: TestClient) -> None:
    page = client.get("/plan", params={"region": "成都市", "on": ON, "role": "supervisor"})
    assert page.status_code == 200 and _forms(page.text, "12331") == ["transition", "cancellation"]

    sent = client.post(
        "/plan/records",
        data={**RECORD, "kind": "done", "day": "2021-09-28", "note": "已发文注销", "role": "supervisor", "actor": "x"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    back = urlsplit(sent.headers["location"])
    assert back.path == "/plan" and parse_qs(back.query) == {
        "region": ["成都市"],
        "on": [ON],
        "role": ["supervisor"],
        "recorded": ["12331/cancellation"],
    }
    assert _history() == [("cancellation", "done", "2021-09-28", "督办审核员")]

    page = client.get(sent.headers["location"])
    notice = re.search(r'data-field="recorded">([^<]*)', page.text)
    assert notice is not None and "注销原号码 已完成 2021-09-28" in notice.group(1)
    # Done on 09-28: on 06-01 (the date shown) still open, from 09-28 on no longer offered.
    assert _forms(page.text, "12331") == ["transition", "cancellation"]
    later = client.get("/plan", params={"region": "成都市", "on": "2021-10-02", "role": "supervisor"})
    assert _forms(later.text, "12331") == ["transition"]
    assert "督办审核员 于" in later.text and "登记完成：已发文注销" in later.text


def test_a_postponement_moves_the_effective_date_and_the_routing(client: TestClient) -> None:
    from hotline.routing import service as routing
    from hotline.routing.domain import Action
    from hotline.timeutil import parse_instant

    def action_on(instant: str) -> Action:
        with session_scope() as s:
            return routing.decide(s, "12331", "成都市", parse_instant(instant)).action

    assert action_on("2021-10-15T10:00") is Action.CANCELLED
    sent = client.post(
        "/plan/records",
        data={**RECORD, "kind": "postpone", "day": "2021-12-01", "role": "admin"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    # Cancelled from 12-01 instead of 10-01: until then still answered as in the transition (on 12345's queue).
    assert action_on("2021-10-15T10:00") is Action.QUEUE
    assert action_on("2021-12-01T10:00") is Action.CANCELLED
    assert _history() == [("cancellation", "postpone", "2021-12-01", "管理员")]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"kind": "postpone", "day": "2021-09-01"}, 422, "postpone-not-later"),  # before the plan's 10-01
        ({"kind": "done", "day": "2099-01-01"}, 422, "done-in-future"),
        ({"kind": "", "day": "2021-09-01"}, 422, "record-kind-required"),
        ({"kind": "done", "day": ""}, 422, "date-required"),
        ({"kind": "done", "day": "2021-13-01"}, 422, "invalid-date"),
        ({"kind": "done", "day": "2021-09-01", "milestone": "nope"}, 404, "milestone-not-found"),
    ],
)
def test_a_wrong_record_changes_nothing_and_keeps_what_was_typed(
    client: TestClient, data: dict[str, str], status: int, code: str
) -> None:
    typed = {**RECORD, "note": "区县已完成切换", "role": "supervisor", **data}
    res = client.post("/plan/records", data=typed, follow_redirects=False)
    assert res.status_code == status and f'data-code="{code}"' in res.text
    assert _history() == []
    if data.get("milestone") != "nope":  # the form of the milestone typed on is open with the values typed
        form = re.search(r'<details class="record" data-action="record" open>(.*?)</details>', res.text, re.S)
        assert form is not None and 'value="cancellation"' in form.group(1)
        assert 'value="区县已完成切换"' in form.group(1) and f'value="{data["day"]}"' in form.group(1)


def test_roles_that_do_not_record_see_no_form_and_are_refused(client: TestClient) -> None:
    page = client.get("/plan", params={"region": "成都市", "on": ON, "role": "agent"})
    assert page.status_code == 200 and _forms(page.text, "12331") == []
    refused = client.post("/plan/records", data={**RECORD, "kind": "done", "day": "2021-09-28", "role": "agent"})
    assert refused.status_code == 403 and 'data-code="role-not-allowed"' in refused.text
    assert _history() == []


def test_signed_in_the_record_is_the_accounts_and_a_handling_unit_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AUTH", "on")
    chief, agent = bearer("wangfang", ["supervisor"], "王芳"), bearer("zhoujing", ["agent"], "周静")
    page = client.get("/plan", params={"region": "成都市", "on": ON}, headers=chief)
    assert _forms(page.text, "12331") == ["transition", "cancellation"]
    assert _forms(client.get("/plan", params={"region": "成都市", "on": ON}, headers=agent).text, "12331") == []

    refused = client.post("/plan/records", data={**RECORD, "kind": "done", "day": "2021-09-28"}, headers=agent)
    assert refused.status_code == 403 and _history() == []
    sent = client.post(
        "/plan/records", data={**RECORD, "kind": "done", "day": "2021-09-28"}, headers=chief, follow_redirects=False
    )
    assert sent.status_code == 303 and _history() == [("cancellation", "done", "2021-09-28", "王芳（wangfang）")]
