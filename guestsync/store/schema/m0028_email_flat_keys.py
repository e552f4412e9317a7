"""0028: the `email_flat` blocking key (identity.keys: the email without its "@")
for records linked before it existed, so a record whose "@" slipped one letter over
("guest711.10y@ahoo.com.tw") still finds the older guest of that address.

Only `email_flat` keys are added, from each link's stored features (or its record); keys already
there are kept.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from ...identity import features, keys_for
from ...models import Guest
from ..keyhash import key_hash
from . import migrations

_CHUNK = 5000


@migrations(name="0028_email_flat_keys")
def m0028_email_flat_keys(db: Database) -> None:
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
            batch += [(key_hash(k, v), gid) for k, v in keys_for(f) if k == "email_flat"]
            last = (source, stream, ext)
        db.conn.executemany("INSERT OR IGNORE INTO guest_keys (key, guest_id) VALUES (?, ?)", batch)
