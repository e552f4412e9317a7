"""One display name for CRMs that keep a person's name in a single field (Fxiaoke `name`,
Kingdee `FName`)."""

from __future__ import annotations

from ..models import Guest


def _cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def single_name(guest: Guest) -> str:
    """Surname-first without a space for CJK names (陳小明), "Given Family" otherwise;
    the parts win over `full_name` when both are known (they are what survivorship
    keeps up to date); then e-mail, phone, and our id as the last resort."""
    given, family = guest.given_name, guest.family_name
    if given and family:
        return family + given if _cjk(given + family) else f"{given} {family}"
    return guest.display_name() or guest.email or guest.phone or f"guest {guest.id}"
