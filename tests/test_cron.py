"""Cron expressions mean what they mean to cron: 0 and 7 are Sunday, 1 is Monday
(APScheduler 3.x's own numbering starts at Monday = 0)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from guestsync.cron import check_cron, crontab_trigger, day_of_week
from guestsync.serve.scheduler import Job, next_runs

TZ = "Asia/Taipei"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(TZ))


def weekdays(expr: str, n: int = 7) -> list[str]:
    trigger, when, out = crontab_trigger(expr, TZ), MONDAY, []
    for _ in range(n):
        when = trigger.get_next_fire_time(None, when)
        out.append(when.strftime("%a"))
        when = when.replace(hour=23, minute=59)
    return out


@pytest.mark.parametrize(
    ("expr", "days"),
    [
        ("0 4 * * 1", ["Mon"]),
        ("0 4 * * 0", ["Sun"]),
        ("0 4 * * 7", ["Sun"]),
        ("0 4 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 4 * * 5-7", ["Fri", "Sat", "Sun"]),
        ("0 4 * * 0-2", ["Sun", "Mon", "Tue"]),
        ("0 4 * * */2", ["Sun", "Tue", "Thu", "Sat"]),
        ("0 4 * * 1-5/2", ["Mon", "Wed", "Fri"]),
        ("0 4 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 4 * * sat,0", ["Sat", "Sun"]),
        ("0 4 * * *", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    ],
)
def test_days_of_week_as_cron_counts_them(expr, days):
    assert set(weekdays(expr, 14)) == set(days)


def test_the_next_run_of_a_monday_job_on_a_monday_morning_is_next_monday():
    job = Job("export:weekly", "0 4 * * 1", lambda: None)
    ((_, _, when),) = next_runs([job], timezone=TZ, now=MONDAY)
    assert when.isoformat() == "2026-11-30T04:00:00+08:00"


def test_fields_other_than_the_weekday_are_apschedulers_as_before():
    assert day_of_week("mon,WED") == "mon,wed"
    when = crontab_trigger("*/15 3 1 * *", TZ).get_next_fire_time(None, MONDAY)
    assert when.isoformat() == "2026-12-01T03:00:00+08:00"


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("0 4 * * 8", "bad day of week"),
        ("0 4 * * 5-2", "bad day of week"),
        ("0 4 1 * 1", "not both"),
        ("0 4 * *", "wrong number of fields"),
    ],
)
def test_expressions_cron_would_read_otherwise_are_refused(expr, why):
    with pytest.raises(ValueError, match=why):
        check_cron(expr)
