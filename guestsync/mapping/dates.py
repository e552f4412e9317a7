"""`date` and `datetime` transforms: formats list, time zone from config, aware output.

Text is NFKC-folded first (full-width digits from CJK input methods). Without `formats`,
ISO 8601 is accepted; with them, each format is tried in order, then ISO 8601.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .context import Context, Fn, as_text, options_of

_ISO_FALLBACK = ("%Y年%m月%d日", "%Y/%m/%d")
_NO_YEAR = re.compile(r"^(?:0000|--)-?(\d{1,2})-(\d{1,2})$")  # Square 0000-05-01, vCard --0501
_ROC = re.compile(
    r"^(?:民國|民国)?\s*(\d{2,3})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})\s*日?$"
)
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")


def _formats(opts: dict) -> list[str]:
    fmts = opts.get("formats", opts.get("format"))
    if fmts is None:
        return []
    fmts = [fmts] if isinstance(fmts, str) else fmts
    if not isinstance(fmts, list) or not all(isinstance(f, str) and "%" in f for f in fmts):
        raise ValueError('`formats` is a list of strptime formats such as "%Y/%m/%d %H:%M"')
    return list(fmts)


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Taipei"
        ) from None


def _epoch(n: float, zone: ZoneInfo) -> datetime:
    # Milliseconds when too large to be seconds (inline sends ms, most others seconds).
    try:
        return datetime.fromtimestamp(n / 1000 if n > 10**11 else n, tz=zone)
    except (OverflowError, OSError, ValueError):
        raise ValueError("epoch time out of range") from None


# What zh-TW / zh-CN Windows and Excel write: 2026/12/24 下午 07:30:00 (上午 AM, 下午 PM).
_LOCAL_FORMATS = (
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %p %I:%M",
    "%Y/%m/%d %p %I:%M:%S",
    "%Y-%m-%d %p %I:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %p %I:%M",
)


def _local_datetime(text: str) -> datetime | None:
    text = text.replace("上午", "AM").replace("下午", "PM")
    for fmt in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def to_datetime(args: Any, ctx: Context) -> Fn:
    """Options: `formats` (strptime, tried in order), `timezone` (for times written without
    an offset; default: `defaults.timezone` of the config). Epoch seconds or milliseconds
    (numbers, or 10/13-digit text), and the local forms Windows and Excel write in Taiwan
    and China (2026/12/24 下午 07:30:00), are accepted too. Output is always aware."""
    opts = options_of(args, "datetime", {"formats", "format", "timezone"}, scalar="formats")
    formats = _formats(opts)
    zone = _zone(opts.get("timezone", ctx.timezone))
    hint = f" (expected one of {formats} or ISO 8601)" if formats else " (expected ISO 8601)"

    def run(v: Any) -> datetime:
        if not formats and v.__class__ is str and not v.isdigit():
            try:  # the common case first: ISO 8601 as sent by APIs and webhooks
                iso = datetime.fromisoformat(v)
                return iso if iso.tzinfo else iso.replace(tzinfo=zone)
            except ValueError:
                pass
        if isinstance(v, datetime):
            return v if v.tzinfo else v.replace(tzinfo=zone)
        if isinstance(v, date):
            return datetime(v.year, v.month, v.day, tzinfo=zone)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return _epoch(v, zone)
        text = unicodedata.normalize("NFKC", as_text(v)).strip()
        if _EPOCH.match(text):
            return _epoch(int(text), zone)
        parsed = None
        for fmt in formats:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                parsed = _local_datetime(text)
        if parsed is None:
            raise ValueError("not a date and time" + hint)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)

    return run


def to_date(args: Any, ctx: Context) -> Fn:
    """Options: `formats`; `calendar: roc` for Taiwan's Minguo years (115/01/02 is
    2026-01-02); `no_year` for dates written without a year (Square's 0000-05-01):
    `reject` (default), `drop` (no value), or a placeholder year such as 1904 (a leap
    year, so 02-29 survives). A time zone given as `timezone` turns aware date-times into
    that zone's local date first."""
    opts = options_of(args, "date", {"formats", "format", "no_year", "calendar", "timezone"})
    formats = _formats(opts)
    zone = _zone(opts.get("timezone", ctx.timezone))
    no_year = opts.get("no_year", "reject")
    if no_year not in ("reject", "drop") and not (isinstance(no_year, int) and no_year >= 1):
        raise ValueError("`no_year:` is `reject`, `drop` or a placeholder year such as 1904")
    calendar = opts.get("calendar", "gregorian")
    if calendar not in ("gregorian", "roc"):
        raise ValueError("`calendar:` is `gregorian` (default) or `roc` (民國 years)")
    hint = f" (expected one of {formats or ['YYYY-MM-DD']})"

    def parse(text: str) -> date | None:
        if calendar == "roc" and (m := _ROC.match(text)):
            return date(int(m[1]) + 1911, int(m[2]), int(m[3]))
        if m := _NO_YEAR.match(text):
            if no_year == "reject":
                raise ValueError("the date has no year (set `no_year:` to drop or keep it)")
            if no_year == "drop":
                return None
            return date(int(no_year), int(m[1]), int(m[2]))
        for fmt in formats:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        for fmt in _ISO_FALLBACK:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        try:
            return _local_date(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise ValueError("not a date" + hint) from None

    def _local_date(dt: datetime) -> date:
        return dt.astimezone(zone).date() if dt.tzinfo else dt.date()

    def run(v: Any) -> date | None:
        if not formats and v.__class__ is str and len(v) == 10:
            try:  # the common case first: YYYY-MM-DD
                return date.fromisoformat(v)
            except ValueError:
                pass
        if isinstance(v, datetime):
            return _local_date(v)
        if isinstance(v, date):
            return v
        text = unicodedata.normalize("NFKC", as_text(v)).strip()
        try:
            return parse(text)
        except ValueError as exc:
            if "day is out of range" in str(exc) or "month must be" in str(exc):
                raise ValueError("not a real calendar date") from None
            raise

    return run


__all__ = ["to_date", "to_datetime"]
