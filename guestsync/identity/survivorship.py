"""Golden record: which value of each field survives across a guest's source records.

Computed from all linked records every time (never patched in place), so it is the same
whatever order records arrived in, and an unmerge simply recomputes both guests.
Per field, one rule from config: most_recent, source_priority, most_frequent or
first_non_empty. List fields (tags, allergies, loyalty numbers) are the union of all
records. Consent is never a plain "most recent value": the newest explicit statement wins
by its own time (falling back to when the record was seen), and at equal times an opt-out
beats an opt-in, so an older opt-in can never override a newer opt-out.

A surviving name spelled badly (ALL CAPS, all lower case, stray spaces) gives way to the
same name spelled well by another record. Names come out in one Chinese script per guest
(`script`): each name field survives by its
own rule, from whichever record, so a POS in simplified and a booking site in traditional
would otherwise give 欧阳 beside 歐陽娜娜. A value in the other script is replaced by a
record's own spelling in the chosen one when a record has it, else converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from ..models import GUEST_FIELDS, Consent, Guest
from .names import script, simplified, traditional
from .settings import Survivorship


class Linked(NamedTuple):
    """One source record of a guest, as survivorship sees it (a tuple: made for every
    link of every guest settled, four times cheaper than a frozen dataclass)."""

    source: str
    seen: datetime
    guest: Guest
    ref: str = ""  # stable tie-breaker: "source:stream:external_id"


_SKIP = frozenset({"id", "marketing_consent"})
_NAMES = ("full_name", "given_name", "family_name")


def _pick(rule: str, values: list[tuple[Linked, Any]], priority: dict[str, int]) -> Any:
    """`values` are in time order (oldest first)."""
    if len(values) == 1:  # one record states it: every rule keeps it
        return values[0][1]
    if rule == "first_non_empty":
        return values[0][1]
    if rule == "most_frequent":
        counts: dict[Any, int] = {}  # a plain dict: a Counter costs more than the count
        for _, v in values:
            k = _hashable(v)
            counts[k] = counts.get(k, 0) + 1
        best = max(counts.values())
        for _, v in reversed(values):  # most recent among the most frequent
            if counts[_hashable(v)] == best:
                return v
    if rule == "source_priority":
        ranked = sorted(
            enumerate(values), key=lambda iv: (priority.get(iv[1][0].source, len(priority)), -iv[0])
        )
        return ranked[0][1][1]
    return values[-1][1]  # most_recent


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _one_script(
    values: dict[str, Any], seen: dict[str, list[tuple[Linked, Any]]], rule: str
) -> None:
    """Write the surviving name fields in one script (see the module docstring)."""
    if rule == "most_frequent":
        counts: dict[str, int] = {}  # a plain dict: a Counter costs more than the count
        for f in _NAMES:
            for _, v in seen.get(f, ()):
                if (sc := script(v)) is not None:
                    counts[sc] = counts.get(sc, 0) + 1
        if not counts:
            return
        full = script(values.get("full_name") or "")
        # a tie: the script of the surviving full name, else traditional (it keeps more)
        rule = max(counts, key=lambda sc: (counts[sc], sc == full, sc == "traditional"))
    convert = traditional if rule == "traditional" else simplified
    for f in _NAMES:
        v = values.get(f)
        if not v or script(v) in (None, rule):
            continue
        folded = simplified(v)
        own = [x for _, x in reversed(seen[f]) if script(x) == rule and simplified(x) == folded]
        values[f] = own[0] if own else convert(v)


def _form_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _ill_formed(name: str) -> bool:
    """ALL CAPS, all lower case, or spaced oddly: a spelling typed in a hurry."""
    letters = [c for c in name if c.isalpha() and c.isascii()]
    if name != " ".join(name.split()):
        return True
    return bool(letters) and (name.isupper() or name.islower())


def _best_formed(values: dict[str, Any], seen: dict[str, list[tuple[Linked, Any]]]) -> None:
    """A surviving name spelled badly ("AMY LIN", "amy  lin") gives way to the same name
    as another record spells it well ("Amy Lin"), the most recent such spelling."""
    for field in _NAMES:
        v = values.get(field)
        if not isinstance(v, str) or not _ill_formed(v):
            continue
        key = _form_key(v)
        better = [x for _, x in seen.get(field, []) if _form_key(x) == key and not _ill_formed(x)]
        if better:
            values[field] = better[-1]


def consent(records: Sequence[Linked]) -> Consent | None:
    """The newest explicit statement; at equal times the opt-out."""
    stated = [
        (c.at or r.seen, not c.granted, c) for r in records if (c := r.guest.marketing_consent)
    ]
    if not stated:
        return None
    return max(stated, key=lambda x: (x[0], x[1]))[2]


_BY_TIME = attrgetter("seen", "ref")  # oldest first; the ref breaks ties (no lambda per record)


def golden(
    guest_id: str,
    records: Sequence[Linked | tuple[datetime, Guest]],
    rules: Survivorship | None = None,
) -> Guest:
    rules = rules or Survivorship()
    linked = [r if isinstance(r, Linked) else Linked("", r[0], r[1]) for r in records]
    ordered = sorted(linked, key=_BY_TIME)
    priority = {s: i for i, s in enumerate(rules.source_priority)}
    seen: dict[str, list[tuple[Linked, Any]]] = {}
    for r in ordered:  # one pass over each record's set fields, oldest first
        for field, v in r.guest.__dict__.items():
            # empty: None, "" or [] (both falsy: a value that is set is compared no further)
            if v is None or (not v and (v == "" or v == [])) or field in _SKIP:
                continue
            seen.setdefault(field, []).append((r, v))
    values: dict[str, Any] = {}
    for field in GUEST_FIELDS:
        if field not in seen:
            continue
        found = seen[field]
        if isinstance(found[0][1], list):
            merged: list[Any] = []
            for _, v in found:
                merged.extend(x for x in v if x not in merged)
            values[field] = merged
        else:
            values[field] = _pick(rules.fields.get(field, rules.default), found, priority)
    _best_formed(values, seen)
    _one_script(values, seen, rules.script)
    c = consent(ordered)
    if c is not None:
        values["marketing_consent"] = c
    return Guest(id=guest_id, **values)
