import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from hotline.calendar import service
from hotline.db import session_scope
from hotline.timeutil import china_day, now


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


def test_cli_imports_an_arrangement_checks_the_years_ahead_and_clears_a_day(db_url: str, tmp_path: Path) -> None:
    notice = tmp_path / "2099.csv"
    notice.write_text("日期,类型,说明\n2099-01-01,放假,元旦\n2099-01-20至2099-01-22,放假,春节\n", encoding="utf-8")
    done = _cli("import", str(notice))
    assert done.returncode == 0, done.stderr
    assert "已导入 4 天（2099-01-01 至 2099-01-22）：放假 4 天，上班 0 天" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型\n2099-05-01,放假\n2099-05-0x,放假\n", encoding="utf-8")
    refused = _cli("import", str(bad))
    assert refused.returncode == 2 and "invalid-date" in refused.stderr and "第 3 行" in refused.stderr
    assert json.loads(_cli("show", "2099-05-01").stdout)["overridden"] is False

    with session_scope() as session:
        missing = service.unentered_years(session, china_day(now()))
    checked = _cli("check")
    assert checked.returncode == (1 if missing else 0)
    with session_scope() as session:
        for year in missing:
            service.set_override(session, date(year, 1, 1), "holiday", note="元旦")
    assert _cli("check").returncode == 0

    assert "已恢复按官方日历" in _cli("clear", "2099-01-20").stdout
    assert json.loads(_cli("show", "2099-01-20").stdout)["is_workday"] is True  # a Tuesday, Monday to Friday again
