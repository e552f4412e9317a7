"""0028: the `email_flat` blocking key (identity.keys: the email without its "@")
for records linked before it existed, so a record whose "@" slipped one letter over
("guest711.10y@ahoo.com.tw") still finds the older guest of that address.

Only `email_flat` keys are added, from each link's stored features (or its record); keys already
there are kept.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from ...identity import features, keys_for
from ...models import Guest
from . import add_link_keys, backfill, migrations


@backfill("0028_email_flat_keys")
def add_email_flat_keys(conn: Any) -> None:
    def keys(f: dict[str, Any] | None, record: str) -> list[tuple[str, str]]:
        f = f if f is not None else features(Guest.model_validate_json(record))
        return [(k, v) for k, v in keys_for(f) if k == "email_flat"]

    add_link_keys(conn, keys)


@migrations(name="0028_email_flat_keys")
def m0028_email_flat_keys(db: Database) -> None:
    add_email_flat_keys(db.conn)
