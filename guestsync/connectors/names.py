"""A guest's name as each CRM wants it: first and last for CRMs that require both
(BottleCRM, Salesforce's LastName), one display name for CRMs that keep a single field
(Fxiaoke `name`, Kingdee `FName`).

A golden guest may have only a full name, and Chinese, Japanese and Korean names are
written family name first without a space (陳小明 = 陳 + 小明, `normalize.split_name`). We
never send an empty required name: a missing part becomes the configured placeholder.
"""

from __future__ import annotations

from ..models import Guest
from ..normalize import split_name


def first_last(guest: Guest, *, placeholder: str = "-") -> tuple[str, str]:
    """Both names, never empty: given/family if known, else split from the full name."""
    given, family = guest.given_name, guest.family_name
    if not given and not family and guest.full_name:
        given, family = split_name(guest.full_name)
    if not given and not family:
        return "Guest", placeholder
    return (given or placeholder), (family or placeholder)


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
