"""0040: the `dob_initials` blocking key (identity.keys: the birthday with the name's
initials) for records linked before it existed, so a record with a mistyped name and no
email or phone still finds the older guest of its birthday in a store where so many
guests share the date that the `dob` key is skipped.

Only `dob_initials` keys are added, from each link's stored features (or its record); keys
already there are kept.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from ...identity import features, keys_for
from ...models import Guest
from . import add_link_keys, backfill, migrations


@backfill("0040_dob_initials_keys")
def add_dob_initials_keys(conn: Any) -> None:
    def keys(f: dict[str, Any] | None, record: str) -> list[tuple[str, str]]:
        f = f if f is not None else features(Guest.model_validate_json(record))
        return [(k, v) for k, v in keys_for(f) if k == "dob_initials"]

    add_link_keys(conn, keys)


@migrations(name="0040_dob_initials_keys")
def m0040_dob_initials_keys(db: Database) -> None:
    add_dob_initials_keys(db.conn)
