"""Blocking keys: a record is compared only with guests that share one of these."""

from __future__ import annotations

from ..models import Guest

Key = tuple[str, str]


def keys_for(guest: Guest) -> list[Key]:
    """Exact contact keys. Values are already normalized by the mapping (E.164, lower email)."""
    keys: list[Key] = []
    if guest.email:
        keys.append(("email", guest.email))
    if guest.phone:
        keys.append(("phone", guest.phone))
    return keys
