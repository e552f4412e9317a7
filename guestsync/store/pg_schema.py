"""The PostgreSQL schema, derived from the SQLite migrations: one source of truth.

The migrations in schema/ are applied to an empty in-memory SQLite database; its tables,
columns, keys, foreign keys and indexes (partial ones too) are read back and translated
(INTEGER -> bigint, REAL -> double precision, BLOB -> bytea, TEXT -> text; a rowid
primary key -> an identity column). `migrate` brings a PostgreSQL database to that
schema additively: it creates what is missing (tables, columns, indexes, foreign keys)
and re-creates an index whose definition changed. What it cannot do safely, a changed
column type or primary key, a column or table that the SQLite schema no longer has, it
refuses, naming it (`SchemaDrift`): that needs a hand-written step. A migration's data
step (a backfill, registered with `schema.backfill`) runs after the schema, in the same
transaction, on a database that did not have that migration yet (on a new, empty one it
finds nothing to do; a store copied from SQLite arrives with it done and recorded).
Table rebuilds of SQLite migrations (copy into a new table, drop, rename) are schema
there: PostgreSQL gets their end shape. `_guestsync_migrations` records which SQLite
migrations the PostgreSQL schema includes.
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass, field

from sqlite_utils import Database

from .postgres import PgConnection
from .schema import BACKFILLS, load_all

# SQLite built-ins the store's SQL uses that PostgreSQL lacks, with the same meaning
COMPAT_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE"
    " PARALLEL SAFE AS 'SELECT strpos($1, $2)'",
    # json_extract(doc, '$.a.b') as text ('$.a' paths only: what the store writes)
    "CREATE OR REPLACE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql IMMUTABLE"
    " PARALLEL SAFE AS $$SELECT $1::jsonb #>> string_to_array(substr($2, 3), '.')$$",
    # json_each(doc, '$.a') over an object (key, value as text) and json_array_length(doc,
    # '$.a'): the two-argument forms SQLite's JSON1 has
    "CREATE OR REPLACE FUNCTION json_each(text, text) RETURNS TABLE (key text, value text)"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
    " $$SELECT * FROM jsonb_each_text($1::jsonb #> string_to_array(substr($2, 3), '.'))$$",
    "CREATE OR REPLACE FUNCTION json_array_length(text, text) RETURNS integer LANGUAGE sql"
    " IMMUTABLE PARALLEL SAFE AS"
    " $$SELECT jsonb_array_length($1::jsonb #> string_to_array(substr($2, 3), '.'))$$",
    "CREATE OR REPLACE FUNCTION max(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " PARALLEL SAFE AS 'SELECT greatest($1, $2)'",
    "CREATE OR REPLACE FUNCTION min(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " PARALLEL SAFE AS 'SELECT least($1, $2)'",
    "CREATE OR REPLACE FUNCTION round(double precision, integer) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT round($1::numeric, $2)::double precision'",
    # julianday(t) and strftime(format, t) of the stored ISO 8601 texts (an offset or UTC;
    # the connection's TimeZone is UTC, as SQLite reads a text without an offset), for
    # the formats the store uses: %Y %m %d %H %M %S and literal characters
    "CREATE OR REPLACE FUNCTION julianday(text) RETURNS double precision LANGUAGE sql STABLE"
    " PARALLEL SAFE AS 'SELECT extract(epoch FROM $1::timestamptz) / 86400.0 + 2440587.5'",
    "CREATE OR REPLACE FUNCTION strftime(text, text) RETURNS text LANGUAGE sql STABLE"
    " PARALLEL SAFE AS $$SELECT to_char($2::timestamptz AT TIME ZONE 'UTC',"
    " replace(replace(replace(replace(replace(replace(regexp_replace($1, '([^%]|^)([A-Za-z])',"
    " '\\1\"\\2\"', 'g'), '%Y', 'YYYY'), '%m', 'MM'), '%d', 'DD'), '%H', 'HH24'), '%M', 'MI'),"
    " '%S', 'SS'))$$",
    # sum(a = b): SQLite's comparisons are 0 or 1; NULL for no rows, as sum() is
    "CREATE OR REPLACE FUNCTION gs_sum_bool(bigint, boolean) RETURNS bigint LANGUAGE sql"
    " IMMUTABLE PARALLEL SAFE AS"
    " 'SELECT CASE WHEN $2 IS NULL THEN $1 ELSE coalesce($1, 0) + $2::int END'",
    "CREATE OR REPLACE AGGREGATE sum(boolean) (SFUNC = gs_sum_bool, STYPE = bigint)",
    # any column as text, bytes decoded as UTF-8 where they are (StoreBase._as_text)
    "CREATE OR REPLACE FUNCTION gs_text(bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE AS"
    " $$BEGIN RETURN convert_from($1, 'UTF8'); EXCEPTION WHEN others THEN"
    " RETURN encode($1, 'escape'); END$$",
    *(
        f"CREATE OR REPLACE FUNCTION gs_text({t}) RETURNS text LANGUAGE sql IMMUTABLE"
        " PARALLEL SAFE AS 'SELECT $1::text'"
        for t in ("text", "bigint", "double precision", "numeric")
    ),
)
_LOCK = 0x6775_6573_7473  # advisory lock key: one migrate at a time per database


class SchemaDrift(Exception):
    """The PostgreSQL schema differs from the SQLite one in a way `migrate` will not fix."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL type
    not_null: bool
    default: str | None
    identity: bool = False


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    on_delete: str


@dataclass
class Table:
    name: str
    columns: list[Column]
    pk: tuple[str, ...]
    fks: list[ForeignKey] = field(default_factory=list)


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    sql: str  # CREATE [UNIQUE] INDEX IF NOT EXISTS ...


@dataclass
class PgSchema:
    tables: dict[str, Table]
    indexes: dict[str, Index]
    migrations: list[str]


def pg_type(declared: str) -> str:
    """SQLite's type affinity rules (datatype3.html, 3.1), as PostgreSQL types."""
    d = declared.upper()
    if "INT" in d:
        return "bigint"
    if "CHAR" in d or "CLOB" in d or "TEXT" in d or not d:
        return "text"
    if "BLOB" in d:
        return "bytea"
    if "REAL" in d or "FLOA" in d or "DOUB" in d:
        return "double precision"
    return "numeric"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _default(value: str | None) -> str | None:
    if value is None or value.upper() == "NULL":
        return None
    if value.startswith('"') and value.endswith('"'):  # SQLite takes "x" as a string here
        return "'" + value[1:-1].replace("'", "''") + "'"
    return value


def _index_sql(sql: str) -> str:
    """SQLite's CREATE INDEX as PostgreSQL's: [name] quoting, IF NOT EXISTS."""
    sql = sql.replace("[", '"').replace("]", '"')
    head, sep, rest = sql.partition(" INDEX ")
    if not rest.upper().startswith("IF NOT EXISTS"):
        rest = "IF NOT EXISTS " + rest
    return head + sep + rest


def read_sqlite(conn: sqlite3.Connection) -> PgSchema:
    """The schema of a SQLite database (its user tables and indexes), for PostgreSQL."""
    tables: dict[str, Table] = {}
    indexes: dict[str, Index] = {}
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    for name in names:
        info = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
        pk = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        rowid_pk = len(pk) == 1 and any(r[1] == pk[0] and r[2].upper() == "INTEGER" for r in info)
        columns = [
            Column(
                cid_name,
                pg_type(decl),
                bool(notnull) or cid_name in pk,
                _default(dflt),
                identity=rowid_pk and cid_name == pk[0],
            )
            for _, cid_name, decl, notnull, dflt, _ in info
        ]
        fks: dict[int, list[tuple]] = {}
        for row in conn.execute(f"PRAGMA foreign_key_list({_quote(name)})"):
            fks.setdefault(row[0], []).append(row)
        table = Table(name, columns, pk)
        for rows in fks.values():
            parent = rows[0][2]
            cols = tuple(r[3] for r in rows)
            to: tuple[str, ...] = tuple(r[4] for r in rows)
            if any(t is None for t in to):  # REFERENCES parent: its primary key
                to = tuple(
                    r[1]
                    for r in sorted(
                        (r for r in conn.execute(f"PRAGMA table_info({_quote(parent)})") if r[5]),
                        key=lambda r: r[5],
                    )
                )
            fk_name = f"{name}_{'_'.join(cols)}_fkey"
            table.fks.append(ForeignKey(fk_name, cols, parent, to, rows[0][6]))
        tables[name] = table
        for _, iname, _unique, origin, _partial in conn.execute(
            f"PRAGMA index_list({_quote(name)})"
        ).fetchall():
            if origin == "pk":
                continue
            sql = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (iname,)
            ).fetchone()
            if sql and sql[0]:
                indexes[iname] = Index(iname, name, _index_sql(sql[0]))
            else:  # a UNIQUE constraint in the table's definition
                ucols = [r[2] for r in conn.execute(f"PRAGMA index_info({_quote(iname)})")]
                uname = f"{name}_{'_'.join(ucols)}_key"
                indexes[uname] = Index(
                    uname,
                    name,
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {_quote(uname)} ON {_quote(name)}"
                    f" ({', '.join(map(_quote, ucols))})",
                )
    migrations = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY name")]
    return PgSchema(tables, indexes, migrations)


@functools.cache
def target_schema() -> PgSchema:
    """The schema every migration in schema/ leads to, for PostgreSQL."""
    conn = sqlite3.connect(":memory:")
    try:
        load_all().apply(Database(conn))
        return read_sqlite(conn)
    finally:
        conn.close()


def column_sql(c: Column) -> str:
    if c.identity:
        return f"{_quote(c.name)} bigint GENERATED BY DEFAULT AS IDENTITY"
    sql = f"{_quote(c.name)} {c.type}"
    if c.default is not None:
        sql += f" DEFAULT {c.default}"
    return sql + (" NOT NULL" if c.not_null else "")


def create_table_sql(t: Table) -> str:
    parts = [column_sql(c) for c in t.columns]
    if t.pk:
        parts.append(f"PRIMARY KEY ({', '.join(map(_quote, t.pk))})")
    return f"CREATE TABLE {_quote(t.name)} ({', '.join(parts)})"


def fk_sql(t: Table, fk: ForeignKey) -> str:
    on_delete = "" if fk.on_delete in ("NO ACTION", "") else f" ON DELETE {fk.on_delete}"
    return (
        f"ALTER TABLE {_quote(t.name)} ADD CONSTRAINT {_quote(fk.name)} FOREIGN KEY"
        f" ({', '.join(map(_quote, fk.columns))}) REFERENCES {_quote(fk.parent)}"
        f" ({', '.join(map(_quote, fk.parent_columns))}){on_delete}"
    )


def _existing_columns(conn: PgConnection) -> dict[str, dict[str, tuple[str, bool]]]:
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, dtype, nullable in conn.execute(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    ):
        out.setdefault(table, {})[column] = (dtype, nullable == "NO")
    return out


def _existing_pk(conn: PgConnection, table: str) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(?) AND i.indisprimary"
        " ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (_quote(table),),
    ).fetchall()
    return tuple(r[0] for r in rows)


def plan(conn: PgConnection, schema: PgSchema) -> list[str]:
    """The statements that bring the database at `conn` to `schema`; SchemaDrift if
    something needs more than adding."""
    have = _existing_columns(conn)
    drift: list[str] = []
    steps: list[str] = []
    for name in sorted(set(have) - set(schema.tables) - {"_guestsync_migrations"}):
        if not name.startswith("_"):
            drift.append(f"table {name} is not in the SQLite schema")
    new_tables = []
    for t in schema.tables.values():
        cols = have.get(t.name)
        if cols is None:
            steps.append(create_table_sql(t))
            new_tables.append(t)
            continue
        for c in t.columns:
            if c.name not in cols:
                steps.append(f"ALTER TABLE {_quote(t.name)} ADD COLUMN {column_sql(c)}")
            elif cols[c.name][0] != c.type:
                drift.append(f"{t.name}.{c.name} is {cols[c.name][0]}, the SQLite schema {c.type}")
        for gone in sorted(set(cols) - {c.name for c in t.columns}):
            drift.append(f"{t.name}.{gone} is not in the SQLite schema")
        pk = _existing_pk(conn, t.name)
        if pk != t.pk:
            drift.append(f"{t.name}: primary key {pk}, the SQLite schema {t.pk}")
    if drift:
        raise SchemaDrift(
            "the PostgreSQL store needs a hand-written migration: " + "; ".join(drift)
        )
    known = dict(conn.execute("SELECT name, sql FROM _guestsync_indexes").fetchall())
    pg_indexes = {
        r[0]
        for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
    }
    for name in sorted(set(known) - set(schema.indexes)):
        steps.append(f"DROP INDEX IF EXISTS {_quote(name)}")
        steps.append(f"DELETE FROM _guestsync_indexes WHERE name = '{name}'")
    for ix in schema.indexes.values():
        if ix.name in pg_indexes and known.get(ix.name) == ix.sql:
            continue
        if ix.name in pg_indexes:
            steps.append(f"DROP INDEX {_quote(ix.name)}")
        steps.append(ix.sql)
        sql_literal = ix.sql.replace("'", "''")
        steps.append(
            f"INSERT INTO _guestsync_indexes (name, sql) VALUES ('{ix.name}', '{sql_literal}')"
            " ON CONFLICT (name) DO UPDATE SET sql = excluded.sql"
        )
    constraints = {
        r[0]
        for r in conn.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f'"
            " AND connamespace = current_schema()::regnamespace"
        )
    }
    for t in schema.tables.values():
        steps += [fk_sql(t, fk) for fk in t.fks if fk.name not in constraints]
    return steps


def migrate(conn: PgConnection, schema: PgSchema | None = None) -> list[str]:
    """Bring the PostgreSQL database to the SQLite migrations' schema, in one transaction
    (concurrent callers wait on an advisory lock); the statements it ran."""
    schema = schema or target_schema()
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _guestsync_migrations (name text PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _guestsync_indexes (name text PRIMARY KEY, sql text)"
        )
        for sql in COMPAT_FUNCTIONS:
            conn.execute(sql)
        steps = plan(conn, schema)
        for sql in steps:
            conn.execute(sql)
        done = set(applied(conn))
        for name in schema.migrations:  # the data steps of migrations new to this database
            if name not in done and name in BACKFILLS:
                BACKFILLS[name](conn)
                steps.append(f"backfill {name}")
        conn.executemany(
            "INSERT INTO _guestsync_migrations (name) VALUES (?) ON CONFLICT DO NOTHING",
            [(m,) for m in schema.migrations],
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return steps


def applied(conn: PgConnection) -> list[str]:
    """The SQLite migrations whose schema this PostgreSQL database has."""
    return [r[0] for r in conn.execute("SELECT name FROM _guestsync_migrations ORDER BY name")]


__all__ = ["SchemaDrift", "applied", "migrate", "pg_type", "read_sqlite", "target_schema"]
