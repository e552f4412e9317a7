"""Cron expressions as cron reads them.

APScheduler 3.x `CronTrigger.from_crontab` passes a numeric day of week through as its
own number, where 0 is Monday; cron (crontab(5)) counts 0 (or 7) as Sunday. So
`0 3 * * 1`, "Mondays at 3", would run on Tuesdays (agronholm/apscheduler#286 and #455,
fixed only in 4.0). Here the day-of-week field is rewritten to day names first, which
APScheduler reads the same way as cron; names (`mon-fri`) pass through unchanged.
An expression restricting both day of month and day of week is refused: cron runs when
either matches, APScheduler only when both do.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # cron 0-7


def _cron_days(item: str) -> list[int]:
    """The cron day numbers (0-6, Sunday 0) of one numeric list item: `5`, `1-5`, `*/2`,
    `1-5/2`, `2/3` (from 2 on)."""
    span, _, step_text = item.partition("/")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError(f"bad step in day of week {item!r}")
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        a, b = span.split("-", 1)
        first, last = int(a), int(b)
    else:
        first = int(span)
        last = 6 if step_text else first
    if not (0 <= first <= 7 and 0 <= last <= 7) or first > last:
        raise ValueError(f"bad day of week {item!r}; use 0-7 (0 and 7 are Sunday) or names")
    return sorted({d % 7 for d in range(first, last + 1, step)})


def day_of_week(field: str) -> str:
    """A cron day-of-week field in APScheduler's terms (day names)."""
    out: list[str] = []
    for item in field.lower().split(","):
        if item in ("*", "?"):
            out.append("*")
        elif item.startswith("*/") or item[:1].isdigit():  # `*/2` counts from Sunday too
            out.extend(DAYS[d] for d in _cron_days(item))
        else:  # names: mon, mon-fri
            out.append(item)
    return ",".join(dict.fromkeys(out))


def crontab_trigger(expr: str, timezone: str | None = None) -> CronTrigger:
    """A CronTrigger from five cron fields (minute hour day month weekday)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, dow = fields
    if day not in ("*", "?") and dow not in ("*", "?"):
        # cron runs when EITHER matches, APScheduler only when both do: refuse to guess
        raise ValueError(
            "restrict the day of month or the day of week, not both (cron would run on "
            "either one): use two sources' schedules or one of the fields"
        )
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week(dow),
        timezone=ZoneInfo(timezone) if timezone else None,
    )


def check_cron(v: str | None) -> str | None:
    """A five-field cron expression (minute hour day month weekday), checked at load time."""
    if v is None:
        return v
    try:
        crontab_trigger(v)
    except ValueError as exc:
        raise ValueError(
            f"bad cron expression {v!r} ({exc}); write five fields, e.g. '0 3 * * *'"
        ) from None
    return v
