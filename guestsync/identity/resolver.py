"""Exact-key matching: same email or same phone, and names that do not contradict.

A family often shares one phone (and sometimes one email): "陳小明" and "陳美玲" on the same
number are two guests, so a shared key with a clearly different name is never a match.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Guest
from ..normalize import fold_name, name_tokens


def _name(g: Guest) -> str:
    return g.full_name or " ".join(p for p in (g.given_name, g.family_name) if p)


def names_compatible(a: Guest, b: Guest) -> bool:
    """True unless both have a name and the names clearly differ."""
    na, nb = _name(a), _name(b)
    if not na or not nb:
        return True
    fa, fb = fold_name(na), fold_name(nb)
    if fa == fb:
        return True
    ta, tb = name_tokens(na), name_tokens(nb)
    # Latin names in another order or with a middle name: "Amy Lin" ~ "Lin Amy", "Amy L Lin".
    return len(ta) > 1 and len(tb) > 1 and (ta <= tb or tb <= ta)


def choose(record: Guest, candidates: Sequence[Guest]) -> Guest | None:
    """The candidate this record belongs to, or None for a new guest.

    Candidates sharing the email are preferred over those sharing only the phone;
    among equals the oldest guest (first in `candidates`) wins, so results do not depend
    on the order records arrive in within a run.
    """
    by_email = [c for c in candidates if record.email and c.email == record.email]
    by_phone = [c for c in candidates if record.phone and c.phone == record.phone]
    for group in (by_email, by_phone):
        for c in group:
            if names_compatible(record, c):
                return c
    return None
