"""One canonical JSON form, and the hashes built on it.

Everything guestsync compares by content (a raw record in the inbox, a payload in the
outbox, a record without an id of its own) is hashed from the same spelling: keys sorted,
no spaces, non-ASCII kept as written, anything JSON cannot say (dates, Decimals) as its
`str`. Two spellings of one hash would make the same content look changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_CANONICAL = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
)  # built once: json.dumps(...) builds an encoder per call


def canonical_json(value: Any) -> str:
    """`value` as canonical JSON text: equal values, equal text, whatever their key order."""
    return _CANONICAL.encode(value)


def text_hash(text: str) -> str:
    """SHA-256 of `text` (UTF-8), as 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_hash(value: Any) -> str:
    """SHA-256 of `value`'s canonical JSON: the content hash of a record or a payload."""
    return text_hash(canonical_json(value))


def content_id(value: Any) -> str:
    """A stable id for a record that has none of its own, from its content."""
    return "sha256:" + json_hash(value)[:32]
