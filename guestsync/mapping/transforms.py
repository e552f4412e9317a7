"""Field transforms. Each factory takes its YAML arguments and a context once, at compile
time, and returns a one-argument function run per value.

A transform receives None only if it declares so (`takes_none`); otherwise empty values
pass through untouched and `default`/`required` decide what happens to them. A value that
cannot be converted raises ValueError with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .. import normalize

Fn = Callable[[Any], Any]


@dataclass(frozen=True)
class Context:
    region: str = "TW"
    timezone: str = "Asia/Taipei"


def _text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def strip(args: Any, ctx: Context) -> Fn:
    def run(v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            return v or None
        return v

    return run


def lower(args: Any, ctx: Context) -> Fn:
    return lambda v: _text(v).lower()


def upper(args: Any, ctx: Context) -> Fn:
    return lambda v: _text(v).upper()


def phone(args: Any, ctx: Context) -> Fn:
    region = (args or {}).get("region", ctx.region) if isinstance(args, dict) else ctx.region
    return lambda v: normalize.phone_e164(_text(v), region)


def email(args: Any, ctx: Context) -> Fn:
    return lambda v: normalize.email_address(_text(v))


def to_int(args: Any, ctx: Context) -> Fn:
    def run(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError("expected a whole number, got a yes/no value")
        if isinstance(v, int):
            return v
        text = _text(v).strip().replace(",", "")
        try:
            return int(text)
        except ValueError:
            try:
                d = Decimal(text)
            except InvalidOperation:
                raise ValueError("not a whole number") from None
            if d != d.to_integral_value():
                raise ValueError("not a whole number") from None
            return int(d)

    return run


def _formats(args: Any) -> list[str]:
    if isinstance(args, dict):
        args = args.get("formats", args.get("format"))
    if args is None:
        return []
    return [args] if isinstance(args, str) else list(args)


def to_datetime(args: Any, ctx: Context) -> Fn:
    formats = _formats(args)
    zone_name = args.get("timezone", ctx.timezone) if isinstance(args, dict) else ctx.timezone
    zone = ZoneInfo(zone_name)

    def run(v: Any) -> datetime:
        if isinstance(v, int | float) and not isinstance(v, bool):
            # Epoch time; milliseconds when it is too large to be seconds.
            return datetime.fromtimestamp(v / 1000 if v > 10**11 else v, tz=zone)
        text = _text(v).strip()
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
                hint = f" (expected one of {formats})" if formats else " (expected ISO 8601)"
                raise ValueError("not a date and time" + hint) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)

    return run


def to_date(args: Any, ctx: Context) -> Fn:
    formats = _formats(args)

    def run(v: Any) -> date:
        if isinstance(v, date):
            return v
        text = _text(v).strip()
        for fmt in formats:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        try:
            return date.fromisoformat(text)
        except ValueError:
            hint = f" (expected one of {formats})" if formats else " (expected YYYY-MM-DD)"
            raise ValueError("not a date" + hint) from None

    return run


def join(args: Any, ctx: Context) -> Fn:
    sep = args if isinstance(args, str) else " "

    def run(v: Any) -> Any:
        if isinstance(v, list):
            parts = [_text(p).strip() for p in v if p is not None and _text(p).strip()]
            return sep.join(parts) or None
        return v

    return run


def enum(args: Any, ctx: Context) -> Fn:
    if not isinstance(args, dict) or not isinstance(args.get("map"), dict):
        raise ValueError("enum needs {map: {source value: canonical value}, default: …}")
    table = {str(k).strip().casefold(): v for k, v in args["map"].items()}
    has_default = "default" in args
    default = args.get("default")

    def run(v: Any) -> Any:
        key = _text(v).strip().casefold()
        if key in table:
            return table[key]
        if has_default:
            return default
        raise ValueError(f"not one of {sorted(table)}")

    return run


TRANSFORMS: dict[str, Callable[[Any, Context], Fn]] = {
    "strip": strip,
    "lower": lower,
    "upper": upper,
    "phone": phone,
    "email": email,
    "int": to_int,
    "date": to_date,
    "datetime": to_datetime,
    "join": join,
    "enum": enum,
}
