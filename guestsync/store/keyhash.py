"""Blocking keys as `guest_keys` stores them: one 64-bit integer per (kind, value).

A key row is then a small integer and a guest id (a WITHOUT ROWID table and one index)
instead of three B-trees of text: the table stays much smaller, so more of it stays in
SQLite's page cache as the store grows.

The high 32 bits hash the value up to its first "|" or "@" (the folded name for the
name_* kinds, the local part for email and email_user), the low 32 bits the whole key.
So the keys of one name (name, name_dob, name_email, name_phone, name_has) sit next to
each other in the table, as do an email and its local part: a record's look-ups and
inserts, about fifteen of them, read a few pages instead of one page each, which at a
million records are mostly not in the page cache.

blake2b, not Python's hash(): the value must be the same in every process and release.
Two different keys may share a hash: that only makes a guest a candidate it would not
otherwise be, and candidates are scored, so a collision costs a comparison, never a
wrong merge.
"""

from __future__ import annotations

from functools import lru_cache
from hashlib import blake2b
from struct import Struct

# A 4-byte blake2b copied from one made once: the same digest as
# blake2b(data, digest_size=4), for 0.56 us instead of 0.89 (parsing digest_size each call)
_BLAKE4 = blake2b(digest_size=4)
_U32 = Struct(">I").unpack  # the digest as an integer (int.from_bytes costs 2x)


def _h32(text: str) -> int:
    h = _BLAKE4.copy()
    h.update(text.encode())
    return _U32(h.digest())[0]


_group_h32 = lru_cache(maxsize=1024)(_h32)  # one name, several keys


# Cached: a record's keys are hashed to look candidates up, then again to be stored.
@lru_cache(maxsize=4096)
def key_hash(kind: str, value: str) -> int:
    """The signed 64-bit integer (SQLite INTEGER) standing for blocking key (kind, value)."""
    group = value.partition("|")[0].partition("@")[0]
    # _h32 inlined: a bulk import hashes ~9 keys a row (1.44 -> 1.20 us a key)
    whole = _BLAKE4.copy()
    whole.update(f"{kind}\x1f{value}".encode())
    n = _group_h32(group) << 32 | _U32(whole.digest())[0]
    return n - _TWO_64 if n >= _TWO_63 else n


_TWO_63, _TWO_64 = 1 << 63, 1 << 64
