"""First and last name for CRMs that require both (BottleCRM, Salesforce's LastName).

A golden guest may have only a full name, and Chinese, Japanese and Korean names are
written family name first without a space (陳小明 = 陳 + 小明). We never send an empty
required name: a missing part becomes the configured placeholder.
"""

from __future__ import annotations

import unicodedata

from ..models import Guest

# Two-character Chinese surnames (複姓) common enough to matter in Taiwan and Hong Kong,
# plus 張簡 and 范姜, which are specific to Taiwan. Anything else: one character.
_COMPOUND = (
    "歐陽 司馬 諸葛 上官 東方 皇甫 尉遲 公孫 慕容 長孫 夏侯 軒轅 令狐 鍾離 宇文 司徒 "
    "張簡 范姜 欧阳 诸葛 东方 尉迟 公孙 长孙 轩辕 钟离"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split())


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith(("CJK UNIFIED", "HANGUL")) for ch in text)


def split_full_name(full: str) -> tuple[str | None, str | None]:
    """(given, family) from a full name as a person would read it."""
    full = " ".join(full.split())
    if not full:
        return None, None
    if " " not in full:
        if _is_cjk(full) and len(full) >= 2:
            cut = 2 if full[:2] in COMPOUND_SURNAMES and len(full) > 2 else 1
            return full[cut:], full[:cut]
        return (None, full) if _is_cjk(full) else (full, None)
    if "," in full:  # "Lin, Mei"
        family, _, given = full.partition(",")
        return given.strip() or None, family.strip() or None
    head, _, tail = full.rpartition(" ")
    if _is_cjk(full):  # "陳 小明": family name first
        head, _, tail = full.partition(" ")
        return tail, head
    return head, tail


def first_last(guest: Guest, *, placeholder: str = "-") -> tuple[str, str]:
    """Both names, never empty: given/family if known, else split from the full name."""
    given, family = guest.given_name, guest.family_name
    if not given and not family and guest.full_name:
        given, family = split_full_name(guest.full_name)
    if not given and not family:
        return "Guest", placeholder
    return (given or placeholder), (family or placeholder)
