"""Field transforms. Each factory takes its YAML arguments and a context once, at compile
time, and returns a one-argument function run per value.

Empty values (None, blank text, []) never reach a transform: `default` and `required`
decide what happens to them. A value that cannot be converted raises ValueError with a
reason a person can act on; a transform told to keep a bad value as written raises
`KeepRaw` instead, and the compiler keeps the value and records a warning.

Dates, times and names live in `dates.py` and `names.py`, what every transform is given in
`context.py`; this module holds the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import normalize
from .context import Context, Fn, KeepRaw, as_text, options_of
from .dates import to_date, to_datetime
from .names import name_split
from .templating import compile_template


def strip(args: Any, ctx: Context) -> Fn:
    def run(v: Any) -> Any:
        if isinstance(v, str):
            return v.strip() or None
        return v

    return run


def lower(args: Any, ctx: Context) -> Fn:
    return lambda v: as_text(v).lower()


def upper(args: Any, ctx: Context) -> Fn:
    return lambda v: as_text(v).upper()


def phone(args: Any, ctx: Context) -> Fn:
    """E.164 with the configured region (`invalid: keep` keeps a bad number as written:
    see `with_invalid`)."""
    opts = options_of(args, "phone", {"region"}, scalar="region")
    region = str(opts.get("region", ctx.region)).upper()
    import phonenumbers  # only to check the region at compile time

    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}; use an ISO code such as TW, HK, CN")
    e164 = normalize.phone_e164
    return lambda v: e164(as_text(v), region)


def email(args: Any, ctx: Context) -> Fn:
    return lambda v: normalize.email_address(as_text(v))


def to_int(args: Any, ctx: Context) -> Fn:
    def run(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError("expected a whole number, got a yes/no value")
        if isinstance(v, int):
            return v
        text = as_text(v).strip().replace(",", "")
        try:
            return int(text)
        except ValueError:
            try:
                d = Decimal(text)
            except InvalidOperation:
                raise ValueError("not a whole number") from None
            if not d.is_finite() or d != d.to_integral_value():
                raise ValueError("not a whole number") from None
            return int(d)

    return run


# Currency marks seen in exports: NT$1,200 / HK$ 88 / ¥88 / 88元 / TWD 1200 / US$5.
_MONEY_NOISE = re.compile(r"^[A-Z]{0,3}\$|^[A-Z]{3}\s|\s[A-Z]{3}$|[¥￥€£$元圓円\s,_']", re.I)


def to_decimal(args: Any, ctx: Context) -> Fn:
    """Money and other exact numbers as Decimal, never float. Options: `places` (round
    half-up to that many decimals), `minor_units` (the value counts cents: 1500 -> 15.00
    with `minor_units: 2`, as Square's Money amounts do)."""
    opts = options_of(args, "decimal", {"places", "minor_units"}, scalar="places")
    places = opts.get("places")
    minor = int(opts.get("minor_units", 0))
    quantum = Decimal(1).scaleb(-int(places)) if places is not None else None

    def run(v: Any) -> Decimal:
        if isinstance(v, bool):
            raise ValueError("expected a number, got a yes/no value")
        if isinstance(v, Decimal):
            d = v
        elif isinstance(v, int):
            d = Decimal(v)
        elif isinstance(v, float):
            d = Decimal(repr(v))  # the shortest text that round-trips, not the binary value
        else:
            text = as_text(v).strip()
            negative = text.startswith("(") and text.endswith(")")  # accounting style
            text = _MONEY_NOISE.sub("", text.strip("()"))
            try:
                d = Decimal(text)
            except InvalidOperation:
                raise ValueError("not a number") from None
            d = -d if negative else d
        if not d.is_finite():
            raise ValueError("not a finite number")
        if minor:
            d = d.scaleb(-minor)
        if quantum is not None:
            d = d.quantize(quantum, rounding="ROUND_HALF_UP")
        return d

    return run


_TRUE = {"yes", "y", "true", "t", "1", "on", "是", "對", "对", "有", "同意", "✓", "✔"}
_FALSE = {"no", "n", "false", "f", "0", "off", "否", "不", "無", "无", "不同意", "✗", "✘"}


def to_bool(args: Any, ctx: Context) -> Fn:
    """yes/no, Y/N, 1/0, true/false, 是/否 (case-insensitive). Options: `true:` and
    `false:` add words, `invert: true` flips the answer (unsubscribed -> consent)."""
    opts = options_of(args, "bool", {"true", "false", "invert"})
    true = _TRUE | {str(w).strip().casefold() for w in opts.get("true", [])}
    false = _FALSE | {str(w).strip().casefold() for w in opts.get("false", [])}
    both = true & false
    if both:
        raise ValueError(f"{sorted(both)} cannot be both true and false")
    invert = bool(opts.get("invert", False))

    def run(v: Any) -> bool:
        if isinstance(v, bool):
            return v != invert
        key = as_text(v).strip().casefold()
        if key in true:
            return not invert
        if key in false:
            return invert
        raise ValueError("not a yes/no value (yes/no, Y/N, 1/0, true/false, 是/否)")

    return run


def join(args: Any, ctx: Context) -> Fn:
    sep = args if isinstance(args, str) else " "

    def run(v: Any) -> Any:
        if isinstance(v, list):
            parts = [as_text(p).strip() for p in v if p is not None and as_text(p).strip()]
            return sep.join(parts) or None
        return v

    return run


_SEPARATORS = [",", ";", "、", "，", "；", "\n"]


def split(args: Any, ctx: Context) -> Fn:
    """Text -> list of trimmed, non-empty parts. The default separators are , ; 、 ， ；
    and newlines; `{split: "|"}` or `{split: [" / ", "|"]}` gives one's own."""
    if args is None:
        seps = _SEPARATORS
    elif isinstance(args, str) and args:
        seps = [args]
    elif isinstance(args, list) and args and all(isinstance(a, str) and a for a in args):
        seps = args
    else:
        raise ValueError('give a separator or a list of them, e.g. {split: "|"}')
    first = seps[0]
    if all(len(s) == 1 for s in seps):
        table = str.maketrans(dict.fromkeys(seps[1:], first))

        def cut(text: str) -> list[str]:
            return text.translate(table).split(first)
    else:
        pattern = re.compile("|".join(map(re.escape, seps)))

        def cut(text: str) -> list[str]:
            return pattern.split(text)

    def run(v: Any) -> list[str]:
        items = [as_text(p) for p in v if p is not None] if isinstance(v, list) else cut(as_text(v))
        return [p.strip() for p in items if p and not p.isspace()]

    return run


def enum(args: Any, ctx: Context) -> Fn:
    if not isinstance(args, dict) or not isinstance(args.get("map"), dict):
        raise ValueError("enum needs {map: {source value: canonical value}, default: …}")
    options_of(args, "enum", {"map", "default"})
    table = {str(k).strip().casefold(): v for k, v in args["map"].items()}
    has_default = "default" in args
    default = args.get("default")

    def run(v: Any) -> Any:
        key = as_text(v).strip().casefold()
        if key in table:
            return table[key]
        if has_default:
            return default
        raise ValueError(f"not one of {sorted(table)}")

    run.enum_values = [*table.values(), *([default] if has_default else [])]  # type: ignore[attr-defined]
    return run


def template(args: Any, ctx: Context) -> Fn:
    """A sandboxed Jinja2 template over the value, e.g. `{template: "+{{ value }}"}`.

    For templates over the whole record use the field-level `template:` key instead.
    """
    if not isinstance(args, str):
        raise ValueError('template needs the template text, e.g. {template: "{{ value }}"}')
    render = compile_template(args)
    return lambda v: render({"value": v})


def _registry() -> dict[str, Callable[[Any, Context], Fn]]:
    return {
        "strip": strip,
        "lower": lower,
        "upper": upper,
        "phone": phone,
        "email": email,
        "int": to_int,
        "decimal": to_decimal,
        "bool": to_bool,
        "date": to_date,
        "datetime": to_datetime,
        "join": join,
        "split": split,
        "enum": enum,
        "template": template,
        "name_split": name_split,
    }


TRANSFORMS: dict[str, Callable[[Any, Context], Fn]] = _registry()
NO_OPTIONS = frozenset({"strip", "lower", "upper", "email", "int"})
# The transforms that can refuse a value, so take `invalid:`; `keep` only where the value
# as written is still a usable text (a number or date kept raw would fail the record later).
REFUSING = frozenset({"phone", "email", "int", "decimal", "bool", "date", "datetime", "enum"})
KEEPABLE = frozenset({"phone", "email"})
INVALID = ("reject", "keep", "drop")


def with_invalid(name: str, args: Any, ctx: Context) -> Fn:
    """The transform `name`, with its `invalid:` option applied to a value it refuses:
    `reject` (default) rejects the record, as before; `drop` leaves the field empty (its
    `default` applies, `required` still rejects) and records a warning; `keep` keeps the
    value as written with a warning. One source's bad birthdays or numbers then need not
    cost the guest's whole record."""
    policy = "reject"
    if isinstance(args, dict) and "invalid" in args:
        if name not in REFUSING:
            raise ValueError(
                f"`invalid:` is for the transforms that can refuse a value: "
                f"{', '.join(sorted(REFUSING))}"
            )
        policy = args["invalid"]
        if policy not in INVALID:
            raise ValueError("`invalid:` is `reject` (default), `drop` or `keep`")
        if policy == "keep" and name not in KEEPABLE:
            raise ValueError(
                f"`invalid: keep` is for {' and '.join(sorted(KEEPABLE))} "
                "(a value kept as written must still be text); use `drop`"
            )
        args = {k: v for k, v in args.items() if k != "invalid"} or None
    elif name in NO_OPTIONS and args is not None:
        raise ValueError(f"takes no options but `invalid:` (write it as `{name}`)")
    fn = TRANSFORMS[name](args, ctx)
    if policy == "reject":
        return fn

    def run(v: Any) -> Any:
        try:
            return fn(v)
        except (ValueError, TypeError, ArithmeticError) as exc:
            if policy == "keep":
                raise KeepRaw(as_text(v).strip(), f"kept as written: {exc}") from None
            raise KeepRaw(None, f"dropped: {exc}") from None

    return run
