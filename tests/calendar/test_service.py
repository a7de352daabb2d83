import json
import subprocess
import sys
from datetime import date

from hotline.calendar import service
from hotline.db import session_scope


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", "calendar", *args], capture_output=True, text=True, check=False
    )


def test_override_is_stored_and_changes_arithmetic(db_url: str) -> None:
    with session_scope() as session:
        service.set_override(session, date(2021, 6, 7), "holiday", note="本地调整", actor="admin")
    with session_scope() as session:
        cal = service.load_calendar(session)
    assert not cal.is_workday(date(2021, 6, 7))
    assert cal.add_workdays(date(2021, 6, 4), 1) == date(2021, 6, 8)


def test_cli_add_workdays_and_set(db_url: str) -> None:
    done = _cli("add-workdays", "2021-09-30", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2021-10-09"
    assert _cli("set", "2021-10-09", "holiday").returncode == 0
    assert _cli("add-workdays", "2021-09-30", "2").stdout.strip() == "2021-10-11"
    shown = json.loads(_cli("show", "2021-10-09").stdout)
    assert shown == {"date": "2021-10-09", "is_workday": False, "official_is_workday": True, "overridden": True}


def test_cli_rejects_bad_input(db_url: str) -> None:
    bad_date = _cli("add-workdays", "2021-13-01", "2")
    assert bad_date.returncode == 2
    assert "invalid-date" in bad_date.stderr
    bad_kind = _cli("set", "2021-10-09", "weekend")
    assert bad_kind.returncode == 2
    assert "invalid-day-kind" in bad_kind.stderr
