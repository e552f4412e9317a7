"""Features and blocking keys.

`features(guest)` is what scoring compares: plain JSON-able values, folded once when a
record is linked and stored with the link. `keys_for(features)` gives the (kind, value)
keys kept in the indexed `guest_keys` table: a record is compared only with guests that
share one of them, so resolving a record costs the same with 1,000 or 1,000,000 guests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from ..models import Guest
from .names import address_key, name_key

Key = tuple[str, str]
Features = dict[str, Any]

# Kinds stored in guest_keys that only blocking uses; the rest of a record's features
# are read from its link when it is a candidate.
KEY_KINDS = ("email", "email_user", "phone", "name", "name_dob", "address", "loyalty")


def guest_name(g: Guest) -> str:
    return g.full_name or " ".join(p for p in (g.family_name, g.given_name) if p)


def features(guest: Guest, fields: Iterable[str] = ()) -> Features:
    """The comparable form of a guest as one source described them.

    Besides the standard features (name, email, phone, birthday, address, loyalty_ids),
    any other configured field is compared on its text value.
    """
    f: Features = {}
    name = name_key(guest_name(guest))
    if name:
        f["name"] = name
    if guest.email:
        f["email"] = guest.email.strip().lower()
    if guest.phone:
        f["phone"] = guest.phone
    if guest.birthday:
        f["birthday"] = guest.birthday.isoformat()
    addr = address_key(guest.address)
    if addr:
        f["address"] = addr
    if guest.loyalty_ids:
        f["loyalty_ids"] = sorted({x.strip().lower() for x in guest.loyalty_ids if x.strip()})
    for field in fields:
        if field in f or field == "name" or not hasattr(guest, field):
            continue
        v = getattr(guest, field)
        if isinstance(v, date):
            f[field] = v.isoformat()
        elif isinstance(v, list):
            if v:
                f[field] = sorted(str(x) for x in v)
        elif v not in (None, ""):
            f[field] = str(v)
    return f


def _day_pair(iso: str) -> str:
    """Birthday without the day/month order: 12/05 and 5/12 give the same key."""
    y, m, d = iso.split("-")
    lo, hi = sorted((int(m), int(d)))
    return f"{y}:{lo}:{hi}"


def keys_for(f: Features) -> list[Key]:
    """Blocking keys of one record's features."""
    keys: list[Key] = []
    email = f.get("email")
    if email:
        keys.append(("email", email))
        user = email.split("@", 1)[0]
        if len(user) >= 5:  # short local parts ("info", "ming") are not telling
            keys.append(("email_user", user))
    if f.get("phone"):
        keys.append(("phone", f["phone"]))
    name = f.get("name")
    if name:
        keys.append(("name", name))
        if f.get("birthday"):
            keys.append(("name_dob", f"{name}|{_day_pair(f['birthday'])}"))
    if f.get("address"):
        keys.append(("address", f["address"]))
    keys.extend(("loyalty", x) for x in f.get("loyalty_ids", ()))
    return keys
