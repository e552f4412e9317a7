"""0025: the partial-name blocking keys (identity.keys: `surname_year`, `given_postcode`,
`phonetic_phone`) for records linked before they existed, so a blocking rule using them
finds older guests too, not only those linked since.

Only those kinds are added, from each link's stored features (or its record); keys
already there are kept.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from ...identity import features
from ...identity.keys import partial_name_keys
from ...models import Guest
from . import add_link_keys, backfill, migrations


@backfill("0025_partial_name_keys")
def add_partial_name_keys(conn: Any) -> None:
    def keys(f: dict[str, Any] | None, record: str) -> list[tuple[str, str]]:
        f = f if f is not None else features(Guest.model_validate_json(record))
        return partial_name_keys(f)

    add_link_keys(conn, keys)


@migrations(name="0025_partial_name_keys")
def m0025_partial_name_keys(db: Database) -> None:
    add_partial_name_keys(db.conn)
