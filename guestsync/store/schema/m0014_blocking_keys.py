"""0014: the compound blocking keys (name + half an email or phone, name + which contact
fields a record has) for guests resolved before they existed: the name alone no longer
blocks by default (identity.keys), so without them an older guest would be found by a
new record with a mistyped email, or with nothing but the same name, no more.

Rebuilt from each link's stored features (or its record, for links older than features);
keys already there are kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlite_utils import Database

from ...identity import features, keys_for
from ...models import Guest
from . import migrations

_CHUNK = 5000


def _keys(db: Database) -> Iterator[tuple[str, str, str]]:
    last: tuple[str, str, str] = ("", "", "")
    while True:
        rows = db.conn.execute(
            "SELECT source, stream, external_id, guest_id, features, record FROM guest_links"
            " WHERE (source, stream, external_id) > (?, ?, ?)"
            " ORDER BY source, stream, external_id LIMIT ?",
            (*last, _CHUNK),
        ).fetchall()
        if not rows:
            return
        for source, stream, ext, gid, feats, record in rows:
            f = json.loads(feats) if feats else features(Guest.model_validate_json(record))
            for kind, value in keys_for(f):
                yield gid, kind, value
            last = (source, stream, ext)


@migrations(name="0014_blocking_keys")
def m0014_keys(db: Database) -> None:
    batch: list[tuple[str, str, str]] = []
    for row in _keys(db):
        batch.append(row)
        if len(batch) >= _CHUNK:
            _insert(db, batch)
            batch = []
    _insert(db, batch)


def _insert(db: Database, rows: list[tuple[str, str, str]]) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO guest_keys (guest_id, kind, value) VALUES (?, ?, ?)", rows
    )
