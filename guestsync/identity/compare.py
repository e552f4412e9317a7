"""Per-field comparisons: two feature values in, (agreement level, similarity) out.

Levels are the ones `settings.LEVELS` lists per comparison; "missing" when either side has
no value (it weighs nothing). Similarities come from rapidfuzz (Jaro-Winkler, token set).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import token_set_ratio

from .namecmp import compare_forms

Level = tuple[str, float]
MISSING: Level = ("missing", 0.0)


def name(a: str, b: str, close: float) -> Level:
    """Name forms (names.name_form; the sorted key of links folded before them): see
    namecmp for the levels."""
    return compare_forms(a, b)


_DIGITS = re.compile(r"\d+")


def email(a: str, b: str, close: float) -> Level:
    """Equal; the same local part at another provider (amy.lin88@gmail / @yahoo); one slip
    of the fingers (edit similarity, a swap counts once); or different.

    Not Jaro-Winkler: two customers' addresses share long prefixes ("guest408@",
    "guest654@") and domains. A differing run of digits is disagreement, not a typo:
    nina.hung1935@ and nina.hung1898@ are two people of one name, as numbered addresses
    at one provider are handed out; so are nina.hung1976@ and nina.hung1967@ (a swap of
    digits is as likely another person's birth year as a slip)."""
    if a == b:
        return ("exact", 1.0)
    ua, _, da = a.partition("@")
    ub, _, db = b.partition("@")
    if ua == ub and da != db and len(ua) >= 4:
        return ("same_user", 0.95)
    sim = OSA.normalized_similarity(a, b)
    na, nb = _DIGITS.findall(ua), _DIGITS.findall(ub)
    if na != nb:
        return ("differ", sim)
    return ("close", sim) if sim >= close else ("differ", sim)


def phone(a: str, b: str, close: float) -> Level:
    """E.164 numbers: equal, the same last eight digits (one written with a foreign or
    no country code), one digit mistyped, or different."""
    if a == b:
        return ("exact", 1.0)
    if len(a) >= 8 and len(b) >= 8 and a[-8:] == b[-8:]:
        return ("last8", 0.95)
    if len(a) == len(b):
        wrong = sum(x != y for x, y in zip(a, b, strict=True))
        if wrong == 1:
            return ("close", 1 - 1 / len(a))
    return ("differ", 0.0)


def date(a: str, b: str, close: float) -> Level:
    """ISO dates: equal, day and month swapped (12/05 vs 5/12), one digit mistyped
    (1985-03-14 / 1985-03-17), or different."""
    if a == b:
        return ("exact", 1.0)
    ya, ma, da = a.split("-")
    yb, mb, db = b.split("-")
    if ya == yb and ma == db and da == mb:
        return ("swapped", 0.9)
    if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return ("typo", 0.9)
    return ("differ", 0.0)


def text(a: str, b: str, close: float) -> Level:
    if a == b:
        return ("exact", 1.0)
    sim = token_set_ratio(a, b) / 100
    return ("close", sim) if sim >= close else ("differ", sim)


def exact(a: Any, b: Any, close: float) -> Level:
    return ("exact", 1.0) if a == b else ("differ", 0.0)


def overlap(a: list[str], b: list[str], close: float) -> Level:
    """Sets (loyalty numbers): any shared member agrees."""
    return ("exact", 1.0) if set(a) & set(b) else ("differ", 0.0)


COMPARISONS: dict[str, Callable[[Any, Any, float], Level]] = {
    "name": name,
    "email": email,
    "phone": phone,
    "date": date,
    "text": text,
    "exact": exact,
    "set": overlap,
}


def compare(kind: str, a: Any, b: Any, close: float) -> Level:
    if a in (None, "", []) or b in (None, "", []):
        return MISSING
    return COMPARISONS[kind](a, b, close)
