"""Blocking keys as `guest_keys` stores them: one 64-bit integer per (kind, value).

A key row is then a small integer and a guest id (a WITHOUT ROWID table and one index)
instead of three B-trees of text: the table stays several times smaller, so more of it
stays in SQLite's page cache as the store grows, and looking a record's keys up costs
about the same at 10k and 1M records (bench_identity.py).

blake2b, not Python's hash(): the value must be the same in every process and release.
Two different keys may share a hash (about one pair in 2**64 / keys**2): that only
makes a guest a candidate it would not otherwise be, and candidates are scored, so a
collision costs one comparison, never a wrong merge.
"""

from __future__ import annotations

from hashlib import blake2b


def key_hash(kind: str, value: str) -> int:
    """The signed 64-bit integer (SQLite INTEGER) standing for blocking key (kind, value)."""
    digest = blake2b(f"{kind}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
