"""Features and blocking keys.

`features(guest)` is what scoring compares: plain JSON-able values, folded once when a
record is linked and stored with the link. `keys_for(features)` gives the (kind, value)
keys kept in the indexed `guest_keys` table: a record is compared only with guests that
share one of them, so resolving a record costs the same with 1,000 or 1,000,000 guests.

The folded name alone is stored (search finds guests by it) but does not block by default:
names come from a limited pool (a few dozen common surnames), so the guests sharing one
grow with the data, and so would the comparisons per record. Yet two records of one name
that share nothing else must still meet (a person decides: review), and a name with a
mistyped email or phone must still merge. Hence three compound keys:
- `name_email` / `name_phone`: the name with two thirds of the email's local part (half
  of the phone's last eight digits); one mistyped or swapped character leaves one of
  them intact (a typo in the domain keeps `email_user`);
- `name_has`: the name with which of email, phone and birthday the record has. A record
  looks up (`probe_keys`) only the records of its name that lack every one it has: a
  homonym with another phone or email scores below review anyway (the differing field
  weighs against it), one with the same is found by that field's key.

`email_flat` (the email without its "@") finds an address whose "@" slipped one letter
over ("guest711.10y@ahoo.com.tw"), which changes both its local part and its domain.

`dob` (the birthday, day and month unordered) finds records that carry neither email nor
phone and whose names were mistyped ("Lura Walker" / "Laura Walkr", same birthday);
`dob_initials` does the same with the name's initials (`initials`: a typo seldom hits the
first letter of a word), so it stays telling in a large store, where `dob` is capped:
a birth date is shared by more guests as the store grows (some 40 at a million records),
so its cap is low (`blocking_caps` defaults, settings.RULE_CAPS): it finds them in a small
store, or when few guests share the date.

Three keys tolerate a mistyped or re-ordered name by keeping only part of it:
- `surname_year`: a possible family name with the birth year (a Latin name's first and
  last word, as the order is unknown; a CJK name's family name in pinyin); a common family
  name shares it with more guests as the store grows, so its cap is low (as `dob`'s);
- `given_postcode`: the first three letters of a possible given name with the postcode
  that opens the address (台灣 addresses start with it: "106台北市...");
- `phonetic_phone`: the initials of the romanized name's syllables, sorted (so "Nina He",
  "NinaiHe" and 何Nina meet) with the phone's last four digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any

from ..models import Guest
from .names import address_key, name_form, name_key, pinyin

Key = tuple[str, str]
Features = dict[str, Any]

# Kinds stored in guest_keys that only blocking uses; the rest of a record's features
# are read from its link when it is a candidate.
KEY_KINDS = (
    "email",
    "email_user",
    "email_flat",
    "phone",
    "name",
    "name_dob",
    "name_email",
    "name_phone",
    "name_has",
    "dob",
    "dob_initials",
    "address",
    "loyalty",
    "surname_year",
    "given_postcode",
    "phonetic_phone",
)
# Kinds added after stores existed: m0014 and later migrations add them for old links.
PARTIAL_NAME_KINDS = ("surname_year", "given_postcode", "phonetic_phone")
LATER_KINDS = ("email_flat", "dob_initials")  # m0028, m0040


def guest_name(g: Guest) -> str:
    return g.full_name or " ".join(p for p in (g.family_name, g.given_name) if p)


def features(guest: Guest, fields: Iterable[str] = ()) -> Features:
    """The comparable form of a guest as one source described them.

    Besides the standard features (name, email, phone, birthday, address, loyalty_ids),
    any other configured field is compared on its text value.
    """
    f: Features = {}
    full = guest_name(guest)
    name = name_key(full)
    if name:
        f["name"] = name  # blocking keys and search
        f["name_form"] = name_form(full)  # comparison (namecmp)
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
        if field in f or field in ("name", "name_form") or not hasattr(guest, field):
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


# The fields `name_has` records the presence of, each as one letter.
_HAS = (("email", "e"), ("phone", "p"), ("birthday", "b"))


def _has(f: Features) -> str:
    return "".join(letter for field, letter in _HAS if f.get(field))


def halves(text: str) -> tuple[str, str]:
    """The text without its second half, and without its first half and the middle
    character: a substitution or an adjacent swap anywhere changes at most one of them."""
    h = len(text) // 2
    return f"{text[:h]}<", f">{text[h + 1 :]}"


def two_thirds(text: str) -> tuple[str, str, str]:
    """The text without its first, middle or last third (each with the character on its
    borders): a substitution or an adjacent swap anywhere changes at most two of them.

    Used for email local parts rather than `halves`: they often start with the name
    ("amy.lin88"), so the first half would tell little more than the name itself."""
    n = len(text)
    a, b = n // 3, 2 * n // 3
    return f"1:{text[a + 1 :]}", f"2:{text[:a]}~{text[b + 1 :]}", f"3:{text[:b]}"


_POSTCODE = re.compile(r"^(\d{3,6})")


def _ends(f: Features) -> list[tuple[str, str]]:
    """(possible family name, possible given name), romanized: a CJK name's own; for a
    Latin name its last word with the words before, and its first word with the words
    after (its order is unknown: "Chen Xiao Ming" and "Amy Lin")."""
    family, given, latin = (f.get("name_form") or "||").split("|", 2)
    if family:
        return [("".join(pinyin(family)), "".join(pinyin(given)) or latin.replace(" ", ""))]
    words = latin.split()
    if len(words) < 2:
        return []
    return [(words[-1], "".join(words[:-1])), (words[0], "".join(words[1:]))]


def partial_name_keys(f: Features) -> list[Key]:
    """The `surname_year`, `given_postcode` and `phonetic_phone` keys (module docstring)."""
    keys: list[Key] = []
    post = _POSTCODE.match(f.get("address") or "")
    # the name's ends only for a key that uses them (most bookings carry neither a
    # birthday nor an address: ~0.7 us a fold saved, #20)
    ends = _ends(f) if post or f.get("birthday") else []
    if f.get("birthday"):
        year = f["birthday"][:4]
        keys.extend(("surname_year", f"{s}|{year}") for s in dict.fromkeys(s for s, _ in ends))
    if post:
        keys.extend(
            ("given_postcode", f"{g[:3]}|{post.group(1)}")
            for g in dict.fromkeys(g for _, g in ends)
            if len(g) >= 2
        )
    name = f.get("name")
    if name and f.get("phone"):
        keys.append(("phonetic_phone", f"{initials(name)}|{f['phone'][-4:]}"))
    return keys


def initials(name: str) -> str:
    """The first letters of a folded name's words, sorted: a mistyped or re-ordered name
    keeps them ("Laura Walker", "Walker, Lura", "Laura Walkr")."""
    return "".join(sorted(t[0] for t in name.split()))


# Keys by the fields they are made of: a guest's records are read (and their keys made)
# again each time one of its records comes in, and most records recur unchanged.
class _Keys:
    """One memo entry: keys_for, probe_keys (lists shared by whoever reads them) and
    lookup_keys, made when first asked for (the neighbourhood pass asks it of few
    records; made for each it was ~1 us of a record's ~14 us fold, #20)."""

    __slots__ = ("lookup", "probe", "stored")

    def __init__(self, stored: list[Key], probe: list[Key]) -> None:
        self.stored, self.probe = stored, probe
        self.lookup: tuple[Key, ...] | None = None


_MEMO: dict[tuple[Any, ...], _Keys] = {}
_MEMO_MAX = 1 << 16  # ~2.1 KB an entry (tracemalloc, the bench's guests): 140 MB when full


def bound_memo(entries: int) -> int:
    """Keep at most `entries` keys remembered from now on (the mapping worker and the
    process it maps for: process/mapping_pool.py). Returns the bound it replaces."""
    global _MEMO_MAX
    before, _MEMO_MAX = _MEMO_MAX, entries
    if len(_MEMO) > entries:
        _MEMO.clear()
    return before


def _signature(f: Features) -> tuple[Any, ...]:
    """The fields `keys_for` and `probe_keys` read."""
    return (
        f.get("email"),
        f.get("phone"),
        f.get("name"),
        f.get("name_form"),
        f.get("birthday"),
        f.get("address"),
        tuple(f.get("loyalty_ids") or ()),
    )


def _keys(f: Features) -> _Keys:
    sig = _signature(f)
    found = _MEMO.get(sig)
    if found is None:
        keys = _keys_for(f)
        found = _remembered(sig, _Keys(keys, probe_keys(f, keys)))
    return found


def _remembered(sig: tuple[Any, ...], entry: _Keys) -> _Keys:
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[sig] = entry
    return entry


def remember(f: Features, stored: list[Key], probe: list[Key]) -> None:
    """Take keys made elsewhere for `f` (`stored_and_probe_keys` in the mapping worker,
    handed over with the record: process/handover.py) as this process's own, so that
    the records linked from them find their keys here without making them again."""
    if (sig := _signature(f)) not in _MEMO:
        _remembered(sig, _Keys(stored, probe))


def keys_for(f: Features) -> list[Key]:
    """Blocking keys of one record's features."""
    return list(_keys(f).stored)


def stored_and_probe_keys(f: Features) -> tuple[list[Key], list[Key]]:
    """`keys_for(f)` and `probe_keys(f, keys_for(f))`, remembered: the lists are shared
    (prepare.py's Prepared holds them), so they must not be changed."""
    found = _keys(f)
    return found.stored, found.probe


def lookup_keys(f: Features) -> tuple[Key, ...]:
    """`probe_keys` of a record's features and their `keys_for`, each once: one tuple
    for every record of the same keys (remembered), so callers can tell them apart by id."""
    found = _keys(f)
    if found.lookup is None:
        found.lookup = tuple(dict.fromkeys(found.probe))
    return found.lookup


def _keys_for(f: Features) -> list[Key]:
    keys: list[Key] = []
    email = f.get("email")
    if email:
        keys.append(("email", email))
        user = email.split("@", 1)[0]
        if len(user) >= 5:  # short local parts ("info", "ming") are not telling
            keys.append(("email_user", user))
        # without its "@": a slip next to it ("guest244.52o@utlook.com") keeps this key
        keys.append(("email_flat", email.replace("@", "", 1)))
    if f.get("phone"):
        keys.append(("phone", f["phone"]))
    name = f.get("name")
    if name:
        keys.append(("name", name))
        if f.get("birthday"):
            keys.append(("name_dob", f"{name}|{_day_pair(f['birthday'])}"))
        if email:  # the local part: a domain ("gmail.com") tells nothing
            user = email.split("@", 1)[0]
            keys.extend(("name_email", f"{name}|{part}") for part in two_thirds(user))
        if f.get("phone"):  # the subscriber digits: not "+88691", which most mobiles share
            keys.extend(("name_phone", f"{name}|{half}") for half in halves(f["phone"][-8:]))
        keys.append(("name_has", f"{name}|{_has(f)}"))
    if f.get("birthday"):  # a typo'd name with no contact point still meets its birthday
        day = _day_pair(f["birthday"])
        keys.append(("dob", day))
        if name:  # the same, among the few guests of that date with the same initials
            keys.append(("dob_initials", f"{day}|{initials(name)}"))
    if f.get("address"):
        keys.append(("address", f["address"]))
    keys.extend(("loyalty", x) for x in f.get("loyalty_ids", ()))
    keys.extend(partial_name_keys(f))
    return keys


def probe_keys(f: Features, keys: Iterable[Key]) -> list[Key]:
    """The keys to look candidates up by, for a record with features `f` and stored keys
    `keys`: the same, except `name_has`, which looks for records of the same name having
    none of the fields this one has (every combination of the others)."""
    out = [k for k in keys if k[0] != "name_has"]
    name = f.get("name")
    if name:
        out.extend(("name_has", f"{name}|{lacking}") for lacking in _lacking(_has(f)))
    return out


@cache
def _lacking(has: str) -> tuple[str, ...]:
    """The `name_has` values (after the name) of the records lacking every field that
    `has` names: every combination of the others, in this order. Worked out once per
    `has` (eight of them): built per record it was ~half of probe_keys' 4 us (#20)."""
    free = [letter for _, letter in _HAS if letter not in has]
    out = []
    for mask in range(1 << len(free)):
        combo = {x for i, x in enumerate(free) if mask >> i & 1}
        out.append("".join(x for _, x in _HAS if x in combo))
    return tuple(out)
