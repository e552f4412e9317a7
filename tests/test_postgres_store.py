"""The store on PostgreSQL (issue 22): the schema derived from the SQLite migrations, the
SQL both databases run, a whole pipeline (import-csv, sync to the fake CRM) on
PostgreSQL, and `guestsync store copy` of a populated SQLite store."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlite_utils import Database

from guestsync.cli import main
from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.store import Store, open_store
from guestsync.store.copy import StoreNotEmpty, copy_store, table_order
from guestsync.store.pg_schema import SchemaDrift, migrate, plan, read_sqlite, target_schema
from guestsync.store.postgres import PgConnection, redact, to_psycopg
from guestsync.store.schema import load_all
from guestsync.testing import FakeHubSpot, ServerThread

from .conftest import SAMPLES, slice_config

STORE = Path(__file__).resolve().parent.parent / "guestsync" / "store"


def _sqlite_schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    load_all().apply(Database(conn))
    return conn


def test_placeholders_become_psycopgs_and_sqlite_comparisons_postgresqls():
    assert to_psycopg("SELECT a FROM t WHERE b = ? AND c LIKE 'x%?'") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE 'x%%?'"
    )
    assert to_psycopg("x WHERE (? IS NULL OR s = ?) AND a IS NOT ? AND b IS ?") == (
        "x WHERE (CAST(%s AS TEXT) IS NULL OR s = %s) AND a IS DISTINCT FROM %s"
        " AND b IS NOT DISTINCT FROM %s"
    )
    assert to_psycopg("CASE WHEN a.s IS excluded.s AND b IS NOT NULL") == (
        "CASE WHEN a.s IS NOT DISTINCT FROM excluded.s AND b IS NOT NULL"
    )
    assert to_psycopg("BEGIN IMMEDIATE") == "BEGIN"
    assert redact("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"


def test_the_derived_schema_has_every_migration_table_column_and_index():
    """Another engineer's new SQLite migration is picked up, or this test names what the
    PostgreSQL schema lacks."""
    conn = _sqlite_schema()
    schema = target_schema()
    names = [p.stem for p in (STORE / "schema").glob("m[0-9]*.py")]
    assert len(schema.migrations) >= len(names)  # a module may register several
    assert sorted(r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")) == (
        schema.migrations
    )
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '\\_%' ESCAPE '\\'"
        )
    }
    assert set(schema.tables) == tables
    for t in tables:
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
        assert [c.name for c in schema.tables[t].columns] == cols, t
    named = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql != ''"
            " AND tbl_name NOT LIKE '\\_%' ESCAPE '\\'"
        )
    }
    assert named <= set(schema.indexes), (
        f"indexes missing on PostgreSQL: {named - set(schema.indexes)}"
    )


def test_postgresql_gets_the_same_tables_columns_and_partial_indexes(pg_url):
    schema = target_schema()
    with psycopg.connect(pg_url) as pg:
        columns = {
            (t, c)
            for t, c in pg.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        }
        for t in schema.tables.values():
            missing = [c.name for c in t.columns if (t.name, c.name) not in columns]
            assert not missing, f"{t.name} lacks {missing} on PostgreSQL"
        indexes = dict(
            pg.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        )
    assert set(schema.indexes) <= set(indexes)
    assert re.search(r"WHERE \(candidate <> guest_id\)", indexes["match_log_candidate"])
    assert "UNIQUE" in indexes["inbox_key"]
    conn = PgConnection.connect(pg_url)
    try:
        assert plan(conn, schema) == []  # migrated: nothing left to do
    finally:
        conn.close()


def test_a_change_migrate_cannot_make_safely_is_refused_by_name(pg_url):
    conn = PgConnection.connect(pg_url)
    try:
        conn.execute("ALTER TABLE guests ADD COLUMN nickname text")
        conn.execute("ALTER TABLE runs ALTER COLUMN stats TYPE bigint USING NULL")
        with pytest.raises(SchemaDrift, match=r"guests\.nickname.*runs\.stats|runs\.stats"):
            migrate(conn)
        with pytest.raises(SchemaDrift, match=r"guests\.nickname"):
            migrate(conn)
    finally:
        conn.close()


def test_a_new_column_and_a_redefined_index_are_applied_to_an_existing_database(pg_url):
    conn = _sqlite_schema()
    conn.execute("ALTER TABLE guests ADD COLUMN tier TEXT DEFAULT 'none'")
    conn.execute("DROP INDEX guests_created")
    conn.execute("CREATE INDEX guests_created ON guests (created_at) WHERE merged_into IS NULL")
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES"
        " ('guestsync', '9999_tier', '')"
    )
    schema = read_sqlite(conn)
    pg = PgConnection.connect(pg_url)
    try:
        pg.execute("INSERT INTO guests (id, data) VALUES ('g1', '{}')")
        steps = migrate(pg, schema)
        assert any("ADD COLUMN \"tier\" text DEFAULT 'none'" in s for s in steps)
        assert pg.execute("SELECT tier FROM guests").fetchall() == [("none",)]
        (indexdef,) = pg.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'guests_created'"
        ).fetchone()
        assert "WHERE (merged_into IS NULL)" in indexdef
        assert "9999_tier" in [r[0] for r in pg.execute("SELECT name FROM _guestsync_migrations")]
        assert migrate(pg, schema) == []
    finally:
        pg.close()


def test_the_store_sql_is_written_once_for_both_databases():
    """Patterns only SQLite understands stay out of the store's operations; the few
    places that must know the database (base, wal, the PostgreSQL modules, the SQLite
    migrations) are named here; __init__.py only says how, in its docstring."""
    allowed = {"__init__.py", "base.py", "wal.py", "postgres.py", "pg_schema.py", "copy.py"}
    banned = {
        r"INSERT OR (IGNORE|REPLACE)": "INSERT ... ON CONFLICT DO NOTHING / DO UPDATE",
        r"\blastrowid\b": "INSERT ... RETURNING id (StoreBase._insert_id)",
        r"\btotal_changes\b": "the cursor's rowcount",
        r"\browid\b": "a real column",
        r"sqlite_master|PRAGMA": "StoreBase._table_names / _column_names",
        r"\b(FROM|INTO|UPDATE|TABLE|JOIN|CAST\() ?\[": '"quoted" names, not [bracketed]',
        r"\bself\.db\b": "self.conn (sqlite-utils' Database is None on PostgreSQL)",
        # julianday and strftime: pg_schema.COMPAT_FUNCTIONS defines them on PostgreSQL
        r"\b(group_concat|ifnull|iif|unixepoch)\(": "a portable function",
    }
    found = []
    for f in sorted(STORE.glob("*.py")):
        if f.name in allowed:
            continue
        text = f.read_text("utf-8")
        for pattern, instead in banned.items():
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"store/{f.name}:{line}: {m.group(0)!r}: use {instead}")
    assert not found, "\n".join(found)


def _populated_sqlite(tmp_path: Path, make_config) -> Path:
    (tmp_path / "bookings").mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "bookings" / "site.csv")
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        cfg = make_config(slice_config(server.url))
        with pytest.raises(SystemExit) as done:  # 1: one row rejected (a bad phone)
            main(["-c", str(cfg), "import-csv", str(tmp_path / "bookings"), "--source", "site"])
        assert done.value.code == 1
        with pytest.raises(SystemExit) as done:
            main(["-c", str(cfg), "sync"])
        assert done.value.code in (0, 1)
    assert len(crm.contacts) == 13
    return tmp_path / "hub.db"


def _rows(store: Store, table: str, cols: list[str]) -> list[tuple]:
    names = ", ".join(f'"{c}"' for c in cols)
    rows = store.conn.execute(f'SELECT {names} FROM "{table}"').fetchall()
    return sorted((tuple(r) for r in rows), key=repr)


def test_store_copy_moves_every_table_of_a_populated_sqlite_store(tmp_path, make_config, pg_url):
    path = _populated_sqlite(tmp_path, make_config)
    src, dst = open_store(path), open_store(pg_url)
    try:
        seen: dict[str, int] = {}
        counts = copy_store(src, dst, progress=lambda t, done, total: seen.update({t: total}))
        tables = src._table_names()
        assert set(counts) == set(tables) and seen == counts
        for t in (
            "guests",
            "guest_links",
            "guest_keys",
            "match_log",
            "outbox",
            "crm_links",
            "inbox",
            "runs",
        ):
            assert counts[t] > 0, t
        for t in tables:
            cols = src._column_names(t)
            assert dst._one(f'SELECT count(*) FROM "{t}"') == counts[t], t
            assert _rows(dst, t, cols)[:50] == _rows(src, t, cols)[:50], t
        # the stages run on the copy: ids carry on, a second copy is refused
        assert dst.start_run("after-copy") > max(r[0] for r in _rows(src, "runs", ["id"]))
        assert {g.id for g in dst.all_guests()} == {g.id for g in src.all_guests()}
        assert len({g.id for g in src.all_guests()}) == 13
        with pytest.raises(StoreNotEmpty, match="guests"):
            copy_store(src, dst)
    finally:
        src.close()
        dst.close()


def test_tables_are_copied_after_the_tables_they_refer_to():
    order = table_order(["reservations", "guest_links", "guests", "inbox"])
    assert order.index("guests") < order.index("guest_links")
    assert order.index("guests") < order.index("reservations")


def test_import_and_sync_run_on_postgresql_end_to_end(tmp_path, make_config, pg_url):
    (tmp_path / "bookings").mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "bookings" / "site.csv")
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        body = slice_config(server.url).replace(
            "store: {path: hub.db}", f"store: {{url: {pg_url}}}"
        )
        cfg = make_config(body)
        with pytest.raises(SystemExit) as done:
            main(["-c", str(cfg), "import-csv", str(tmp_path / "bookings"), "--source", "site"])
        assert done.value.code == 1  # one row rejected: a bad phone
        with pytest.raises(SystemExit) as done:
            main(["-c", str(cfg), "sync"])
        assert done.value.code in (0, 1)
        # the same outcome as on SQLite (test_pipeline.py): 13 guests, each once in the CRM
        assert len(crm.contacts) == 13
        store = open_store(pg_url)
        try:
            guests = list(store.all_guests())
            assert len(guests) == 13
            for g in guests:
                assert len(crm.find("guestsync_id", g.id)) == 1
        finally:
            store.close()
        assert not (tmp_path / "hub.db").exists()  # nothing went to a SQLite file
        requests = crm.counts["requests"]
        with pytest.raises(SystemExit) as done:
            main(["-c", str(cfg), "sync"])
        assert crm.counts["requests"] == requests  # nothing changed, nothing sent


def test_migrate_and_store_copy_commands(tmp_path, make_config, pg_url, capsys):
    path = _populated_sqlite(tmp_path, make_config)
    cfg = tmp_path / "guestsync.yaml"
    capsys.readouterr()
    main(["-c", str(cfg), "store", "copy", "--to", pg_url])
    said = capsys.readouterr().out
    assert re.search(r"copied \d+ rows in \d+ tables", said)
    with pytest.raises(SystemExit) as refused:
        main(["-c", str(cfg), "store", "copy", "--to", pg_url])
    assert refused.value.code == 1 and "not empty" in capsys.readouterr().err
    main(["-c", str(cfg), "migrate"])
    assert "schema up to date" in capsys.readouterr().out
    cfg.write_text(cfg.read_text("utf-8").replace("{path: hub.db}", f"{{url: {pg_url}}}"))
    main(["-c", str(cfg), "migrate"])
    assert "schema up to date" in capsys.readouterr().out
    assert path.exists()


def test_the_store_url_takes_its_password_from_the_environment(make_config):
    cfg = make_config(
        'store: {url: "postgresql://hub:${PGPASS}@db.internal/guestsync"}\n'
        "targets:\n  hubspot: {type: hubspot, token: x}\n"
    )
    loaded = load_config(cfg, environ={"PGPASS": "s3cret"})
    assert loaded.store_location == "postgresql://hub:s3cret@db.internal/guestsync"
    lazy = load_config(cfg, environ={}, secrets=False)  # `status` on a box without it
    with pytest.raises(ConfigError, match="PGPASS is not set") as info:
        lazy.store_location  # noqa: B018
    assert info.value.field == "store.url"
    with pytest.raises(ConfigError, match="postgresql://"):
        load_config(make_config("store: {url: 'mysql://x/y'}\n"), environ={})
    assert (
        load_config(make_config("store: {path: hub.db}\n")).store_location == cfg.parent / "hub.db"
    )
