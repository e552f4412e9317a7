"""0025: the partial-name blocking keys (identity.keys: `surname_year`, `given_postcode`,
`phonetic_phone`) for records linked before they existed, so a blocking rule using them
finds older guests too, not only those linked since.

Only those kinds are added, from each link's stored features (or its record); keys
already there are kept.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from ...identity import features
from ...identity.keys import partial_name_keys
from ...models import Guest
from ..keyhash import key_hash
from . import migrations

_CHUNK = 5000


@migrations(name="0025_partial_name_keys")
def m0025_partial_name_keys(db: Database) -> None:
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
        batch = []
        for source, stream, ext, gid, feats, record in rows:
            f = json.loads(feats) if feats else features(Guest.model_validate_json(record))
            batch += [(key_hash(k, v), gid) for k, v in partial_name_keys(f)]
            last = (source, stream, ext)
        db.conn.executemany("INSERT OR IGNORE INTO guest_keys (key, guest_id) VALUES (?, ?)", batch)
