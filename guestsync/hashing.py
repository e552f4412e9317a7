"""One canonical JSON form, and the hashes built on it.

Everything guestsync compares by content (a raw record in the inbox, a payload in the
outbox, a record without an id of its own) is hashed from the same spelling: keys sorted,
no spaces, non-ASCII kept as written, anything JSON cannot say (dates, Decimals) as its
`str`. Two spellings of one hash would make the same content look changed.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Callable
from typing import Any


def compact_encoder(*, sort_keys: bool = False, default: Any = None) -> Callable[[Any], str]:
    """json.dumps(value, ensure_ascii=False, separators=(",", ":"), ...) of plain JSON
    data (no cycles: nothing checks for them), without what `JSONEncoder.encode` makes
    per call: the C encoder and a circular-reference check. 1.3 us a record's features
    against 2.2 with one JSONEncoder and 3.4 with json.dumps (#20)."""
    enc = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, default=default
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (another Python): the same text, slower
        return enc.encode
    chunks = make(
        None, enc.default, json.encoder.encode_basestring, None, ":", ",", sort_keys, False, True
    )
    return lambda value: "".join(chunks(value, 0))


# `value` as canonical JSON text: equal values, equal text, whatever their key order
canonical_json = compact_encoder(sort_keys=True, default=str)


def text_hash(text: str) -> str:
    """SHA-256 of `text` (UTF-8), as 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_hash(value: Any) -> str:
    """SHA-256 of `value`'s canonical JSON: the content hash of a record or a payload."""
    return text_hash(canonical_json(value))


def content_id(value: Any) -> str:
    """A stable id for a record that has none of its own, from its content."""
    return "sha256:" + json_hash(value)[:32]
