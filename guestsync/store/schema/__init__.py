"""Versioned schema migrations. Each `mNNNN_name.py` module here registers its migrations
on `migrations`; they are applied in module-name order. Add a module; never edit an
applied migration.

A migration that changes data (a backfill), not only the schema, puts that step in a
function registered with `@backfill(name)`, written in the SQL both databases run
(`?` placeholders, `INSERT ... ON CONFLICT DO NOTHING`; store/__init__.py), and calls it
from its SQLite migration. On PostgreSQL the schema is derived, not replayed
(store/pg_schema.py): `migrate` runs the backfills of the migrations a database did not
have yet, after their schema, in the same transaction.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlite_utils.migrations import Migrations

from ..keyhash import key_hash

migrations = Migrations("guestsync")
Backfill = Callable[[Any], None]  # (a sqlite3 or store/postgres.py connection)
BACKFILLS: dict[str, Backfill] = {}  # migration name -> its data step
B = TypeVar("B", bound=Backfill)
_CHUNK = 5000


def backfill(name: str) -> Callable[[B], B]:
    """Register the data step of migration `name` (run on PostgreSQL by pg_schema.py)."""

    def register(fn: B) -> B:
        BACKFILLS[name] = fn
        return fn

    return register


def add_link_keys(
    conn: Any, keys: Callable[[dict[str, Any] | None, str], Iterable[tuple[str, str]]]
) -> None:
    """Blocking keys for the records linked before a key kind existed: `keys(features or
    None, record JSON)` of each link, added to its guest (keys already there are kept)."""
    last: tuple[str, str, str] = ("", "", "")
    while True:
        rows = conn.execute(
            "SELECT source, stream, external_id, guest_id, features, record FROM guest_links"
            " WHERE (source, stream, external_id) > (?, ?, ?)"
            " ORDER BY source, stream, external_id LIMIT ?",
            (*last, _CHUNK),
        ).fetchall()
        if not rows:
            return
        batch = []
        for source, stream, ext, gid, feats, record in rows:
            found = keys(json.loads(feats) if feats else None, record)
            batch += [(key_hash(k, v), gid) for k, v in found]
            last = (source, stream, ext)
        conn.executemany(
            "INSERT INTO guest_keys (key, guest_id) VALUES (?, ?) ON CONFLICT DO NOTHING", batch
        )


def load_all() -> Migrations:
    """Import every migration module once, in order; returns the registered set."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("m"):
            importlib.import_module(f"{__name__}.{info.name}")
    return migrations
