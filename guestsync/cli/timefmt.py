"""Times as people at the restaurant read them: in `defaults.timezone`, with the offset.

The store keeps UTC (store/base.py `ts`), which is right for sorting and wrong for a
person in Taipei reading `status` at 9 in the morning: `01:00` looks like last night.
Every time a command prints goes through `local`, so it is never a bare UTC string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def local(value: str | datetime | None, tz: str | ZoneInfo, *, seconds: bool = False) -> str:
    """`2026-12-05 09:49 +08:00`; "-" for no time; text that is not a time, unchanged
    (a cursor value may be anything a platform sends)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    if when.tzinfo is None:  # stored times are UTC
        when = when.replace(tzinfo=UTC)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    at = when.astimezone(zone)
    text = at.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    offset = at.strftime("%z")
    return f"{text} {offset[:3]}:{offset[3:]}"
