"""0024: the `dob` blocking key (identity.keys: the birthday, day and month unordered)
for records linked before it existed, so a record with a mistyped name and no email or
phone still finds an older guest of the same birthday.

Only `dob` keys are added, from each link's stored features (or its record); keys already
there are kept.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from ...identity import features, keys_for
from ...models import Guest
from . import add_link_keys, backfill, migrations


@backfill("0024_birthday_keys")
def add_birthday_keys(conn: Any) -> None:
    def keys(f: dict[str, Any] | None, record: str) -> list[tuple[str, str]]:
        f = f if f is not None else features(Guest.model_validate_json(record))
        return [(k, v) for k, v in keys_for(f) if k == "dob"]

    add_link_keys(conn, keys)


@migrations(name="0024_birthday_keys")
def m0024_birthday_keys(db: Database) -> None:
    add_birthday_keys(db.conn)
