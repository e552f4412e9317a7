"""Per-field comparisons: two feature values in, (agreement level, similarity) out.

Levels are the ones `settings.LEVELS` lists per comparison; "missing" when either side has
no value (it weighs nothing). Similarities come from rapidfuzz (Jaro-Winkler, token set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

Level = tuple[str, float]
MISSING: Level = ("missing", 0.0)


def name(a: str, b: str, close: float) -> Level:
    """Folded names (sorted romanized tokens): equal, one a subset of the other ("Ming
    Chen" in "Chen Xiao Ming"), close (typos), or different."""
    if a == b:
        return ("exact", 1.0)
    ta, tb = set(a.split()), set(b.split())
    small, large = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if len(small) >= 2 and small < large:
        return ("partial", len(small) / len(large))
    sim = max(JaroWinkler.similarity(a, b), token_set_ratio(a, b) / 100)
    if sim >= close and not _one_token_swapped_for_another(ta, tb):
        return ("close", sim)
    return ("differ", sim)


def _one_token_swapped_for_another(ta: set[str], tb: set[str]) -> bool:
    """Same family name, wholly different given name syllables: 陳小明 vs 陳曉華 is a
    sibling, not a typo. A typo keeps the token count and changes one token a little."""
    diff_a, diff_b = ta - tb, tb - ta
    if not diff_a or not diff_b:
        return False
    return not any(_typo_of(x, y) for x in diff_a for y in diff_b)


def _typo_of(x: str, y: str) -> bool:
    """One token mistyped: close by Jaro-Winkler, or one edit apart in a longer word."""
    if JaroWinkler.similarity(x, y) >= 0.8:
        return True
    return min(len(x), len(y)) >= 5 and OSA.distance(x, y) <= 1


def email(a: str, b: str, close: float) -> Level:
    """Equal, mistyped (edit similarity, transpositions count once), or different.

    Not Jaro-Winkler: two customers' addresses share long prefixes ("guest408@", "guest654@")
    and domains, so only a small edit distance means a typo."""
    if a == b:
        return ("exact", 1.0)
    sim = OSA.normalized_similarity(a, b)
    return ("close", sim) if sim >= close else ("differ", sim)


def phone(a: str, b: str, close: float) -> Level:
    """E.164 numbers: equal, one digit mistyped, or different."""
    if a == b:
        return ("exact", 1.0)
    if len(a) == len(b):
        wrong = sum(x != y for x, y in zip(a, b, strict=True))
        if wrong == 1:
            return ("close", 1 - 1 / len(a))
    return ("differ", 0.0)


def date(a: str, b: str, close: float) -> Level:
    """ISO dates: equal, day and month swapped (12/05 vs 5/12), or different."""
    if a == b:
        return ("exact", 1.0)
    ya, ma, da = a.split("-")
    yb, mb, db = b.split("-")
    if ya == yb and ma == db and da == mb:
        return ("swapped", 0.9)
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
