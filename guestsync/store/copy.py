"""Copy a whole store into an empty one: a SQLite store moving to PostgreSQL keeps its
guests, links, match log, outbox, CRM ids, cursors, event ids, every table.

Tables go parents first (foreign keys), each in batches: on PostgreSQL through COPY (one
stream per table, no statement per row), on SQLite through executemany; all of it in one
transaction of the destination, so a copy that fails leaves it empty. Identity columns
(`id`) carry on after the highest id copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import StoreBase
from .pg_schema import target_schema
from .postgres import PgConnection

BATCH = 5000
Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table


class StoreNotEmpty(Exception):
    pass


def table_order(tables: list[str]) -> list[str]:
    """`tables`, each after the tables its foreign keys point to."""
    fks = {t.name: {fk.parent for fk in t.fks} for t in target_schema().tables.values()}
    done: list[str] = []

    def visit(t: str, path: tuple[str, ...]) -> None:
        if t in done or t in path:
            return
        for parent in sorted(fks.get(t, ())):
            if parent in tables:
                visit(parent, (*path, t))
        done.append(t)

    for t in sorted(tables):
        visit(t, ())
    return done


def copy_store(src: StoreBase, dst: StoreBase, *, progress: Progress | None = None) -> dict:
    """Copy every table of `src` that `dst` has; {table: rows copied}. `dst` must be empty
    (StoreNotEmpty names the tables that are not)."""
    tables = [t for t in table_order(src._table_names()) if t in set(dst._table_names())]
    full = [t for t in tables if dst._one(f'SELECT 1 FROM "{t}" LIMIT 1') is not None]
    if full:
        raise StoreNotEmpty(f"the destination store is not empty: {', '.join(full)}")
    counts: dict[str, int] = {}
    with dst.atomic():
        for table in tables:
            counts[table] = _copy_table(src, dst, table, progress)
        if isinstance(dst.conn, PgConnection):
            _carry_on_ids(dst.conn, tables)
    return counts


def _copy_table(src: StoreBase, dst: StoreBase, table: str, progress: Progress | None) -> int:
    theirs = set(dst._column_names(table))
    cols = [c for c in src._column_names(table) if c in theirs]
    names = ", ".join(f'"{c}"' for c in cols)
    total = int(src._one(f'SELECT count(*) FROM "{table}"') or 0)
    cur = src.conn.execute(f'SELECT {names} FROM "{table}"')
    done = 0
    if progress:
        progress(table, 0, total)
    if isinstance(dst.conn, PgConnection):
        with (
            dst.conn.raw.cursor() as pg,
            pg.copy(f'COPY "{table}" ({names}) FROM STDIN') as stream,
        ):
            while rows := _fetch(cur):
                for row in rows:
                    stream.write_row(row)
                done += len(rows)
                if progress:
                    progress(table, done, total)
        return done
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(cols))})'
    while rows := _fetch(cur):
        dst.conn.executemany(insert, rows)
        done += len(rows)
        if progress:
            progress(table, done, total)
    return done


def _fetch(cur: Any) -> list[Any]:
    return list(cur.fetchmany(BATCH))


def _carry_on_ids(conn: PgConnection, tables: list[str]) -> None:
    """Each identity column's next value: after the highest copied (else 1)."""
    for t in target_schema().tables.values():
        if t.name not in tables:
            continue
        for c in t.columns:
            if c.identity:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence(?, ?),"
                    f' coalesce((SELECT max("{c.name}") FROM "{t.name}"), 0) + 1, false)',
                    (f'"{t.name}"', c.name),
                )


__all__ = ["StoreNotEmpty", "copy_store", "table_order"]
