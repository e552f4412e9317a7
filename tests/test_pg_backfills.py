"""A migration's data step (a backfill) runs on PostgreSQL too (issue #22): the schema
there is derived from the SQLite migrations, and `migrate` runs the backfills of the
migrations a database did not have yet, after their schema, in the same transaction."""

from __future__ import annotations

from datetime import date

from guestsync.identity import features, keys_for
from guestsync.models import Guest
from guestsync.store import open_store
from guestsync.store.keyhash import key_hash
from guestsync.store.pg_schema import applied, migrate
from guestsync.store.schema import BACKFILLS, load_all

from .test_identity_resolution import link_old


def test_the_key_backfills_are_registered_for_postgresql():
    load_all()  # as pg_schema does: a migration registers its backfill when imported
    assert {
        "0024_birthday_keys",
        "0025_partial_name_keys",
        "0028_email_flat_keys",
        "0040_dob_initials_keys",
    } <= set(BACKFILLS)


def test_a_database_without_a_backfill_migration_gets_its_data_step(pg_url):
    """As a PostgreSQL store migrated before 0024 and 0028 existed: its older guest gets
    the `dob` and `email_flat` keys, as a SQLite store does when it opens."""
    store = open_store(pg_url)
    laura = Guest(full_name="Laura Walker", birthday=date(1971, 3, 9), email="laura@walker.tw")
    link_old(store, laura, "dob", "email_flat")
    f = features(laura)
    store.conn.execute(
        "DELETE FROM _guestsync_migrations WHERE name IN (?, ?)",
        ("0024_birthday_keys", "0028_email_flat_keys"),
    )
    dob = key_hash("dob", "1971:3:9")
    flat = [key_hash(k, v) for k, v in keys_for(f) if k == "email_flat"]
    assert flat

    def stored() -> set[int]:
        return {k for (k,) in store.conn.execute("SELECT key FROM guest_keys")}

    assert dob not in stored()
    steps = migrate(store.conn)  # type: ignore[arg-type]
    assert [s for s in steps if s.startswith("backfill")] == [
        "backfill 0024_birthday_keys",
        "backfill 0028_email_flat_keys",
    ]
    assert dob in stored() and set(flat) <= stored()
    assert {"0024_birthday_keys", "0028_email_flat_keys"} <= set(applied(store.conn))  # type: ignore[arg-type]
    again = migrate(store.conn)  # type: ignore[arg-type]
    assert not [s for s in again if s.startswith("backfill")]  # once
    store.close()
