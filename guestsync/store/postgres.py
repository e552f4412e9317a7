"""The store on PostgreSQL: a connection that speaks to the store's mixins as sqlite3 does.

The mixins write their SQL once, in the subset both databases understand (`?`
placeholders, `INSERT ... ON CONFLICT DO NOTHING`, `RETURNING id` rather than
`lastrowid`, `"quoted"` names). `PgConnection` is the thin part that differs: it turns
`?` into psycopg's `%s` (doubling a literal `%`), opens transactions with a plain BEGIN
(PostgreSQL's writers lock rows, not the file: BEGIN IMMEDIATE has no counterpart), sends
Python booleans as the integers SQLite stores, and answers `in_transaction` from the
connection's state. The few SQLite built-ins the store uses that PostgreSQL lacks
(`instr`, `json_extract`, two-argument `max`/`min`, `round` of a float) are SQL functions
that pg_schema.py creates in the store's database, so the same statements run on both.

The connection is in autocommit mode: a statement outside `atomic()` commits at once, as
on SQLite (isolation_level=None), and `atomic()` sends BEGIN/COMMIT and SAVEPOINTs itself.

One writer at a time by default, as on SQLite: `atomic()`'s BEGIN IMMEDIATE becomes
BEGIN plus a transaction-level advisory lock taken exclusively, the same for every
connection to the database, so the stages' read-then-write transactions (the delivery
lease, settling guests, the aggregates) keep the meaning they have on SQLite whichever
node runs them. Two kinds of transaction take that lock shared and so overlap: the
worker's windows, serialized per ref, blocking key and guest instead (store/keylocks.py),
and webhook intake (`atomic(shared=True)`: idempotent inserts, nothing read to decide).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..errors import GuestsyncError

try:  # the `postgres` extra: without it guestsync runs on SQLite only
    import psycopg
    from psycopg import pq
except ImportError:  # pragma: no cover - exercised by test_packaging's bare install
    psycopg = None  # type: ignore[assignment]

# statements the store sends whose PostgreSQL form differs as a whole
_STATEMENTS = {"BEGIN IMMEDIATE": "BEGIN"}
WRITE_LOCK = 0x6775_6573_7477  # the advisory lock standing for SQLite's write lock
_DEADLOCK = "40P01"  # SQLSTATE deadlock_detected: PostgreSQL rolled one side back
# SQLite comparisons with a parameter that PostgreSQL spells differently: `? IS NULL`
# (PostgreSQL cannot type a bare parameter: text, as the store's optional filters are),
# `x IS y` and `x IS NOT y` for y not NULL (null-safe equality: IS [NOT] DISTINCT FROM,
# which SQLite understands only from 3.39, newer than some distributions ship)
_NOT_A_KEYWORD = r"(?!NULL\b|NOT\b|DISTINCT\b|TRUE\b|FALSE\b)"
_REWRITES = (
    (re.compile(r"\?(\s+IS\s+(?:NOT\s+)?NULL\b)", re.I), r"CAST(? AS TEXT)\1"),
    (re.compile(rf"\bIS\s+NOT\s+{_NOT_A_KEYWORD}", re.I), "IS DISTINCT FROM "),
    (re.compile(rf"\bIS\s+{_NOT_A_KEYWORD}", re.I), "IS NOT DISTINCT FROM "),
)


def is_postgres_url(location: object) -> bool:
    """True for postgresql://… (or postgres://…): a PostgreSQL store, not a SQLite file."""
    return isinstance(location, str) and urlsplit(location).scheme in ("postgresql", "postgres")


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@functools.lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """`?` placeholders to `%s` (not inside quoted strings or names); `%` doubled;
    the few comparisons PostgreSQL spells differently (_REWRITES)."""
    sql = _STATEMENTS.get(sql, sql)
    for pattern, replacement in _REWRITES:
        sql = pattern.sub(replacement, sql)
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


def is_deadlock(exc: BaseException) -> bool:
    """PostgreSQL broke a deadlock by aborting this transaction: running it again is safe."""
    return psycopg is not None and getattr(exc, "sqlstate", None) == _DEADLOCK


def _param(v: Any) -> Any:
    return int(v) if isinstance(v, bool) else v


def _params(params: Sequence[Any] | None) -> list[Any]:
    return [_param(v) for v in params or ()]


class PgCursor:
    """What the store uses of a sqlite3 cursor: execute, fetchone/fetchall, iteration,
    rowcount and arraysize."""

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur
        self.arraysize = 1

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        self._cur.execute(to_psycopg(sql), _params(params))
        return self

    def executemany(self, sql: str, seq: Any) -> PgCursor:
        self._cur.executemany(to_psycopg(sql), [_params(p) for p in seq])
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchmany(self, size: int) -> list[Any]:
        return self._cur.fetchmany(size) if self._cur.description is not None else []

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur.description is not None else []

    def __iter__(self) -> Iterator[Any]:
        if self._cur.description is None:
            return iter(())
        return iter(self._cur)

    @property
    def description(self) -> Any:
        return self._cur.description

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def close(self) -> None:
        self._cur.close()


class PgConnection:
    """A psycopg connection (autocommit) behind the sqlite3.Connection methods the store
    calls: execute, executemany, cursor, in_transaction, close."""

    dialect = "postgresql"
    WRITE_LOCK = WRITE_LOCK

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    @classmethod
    def connect(cls, url: str) -> PgConnection:
        if psycopg is None:
            raise GuestsyncError(
                "a PostgreSQL store needs psycopg: pip install 'guestsync[postgres]'"
            )
        raw = psycopg.connect(url, autocommit=True)
        # texts without an offset are UTC, as SQLite's date functions read them
        raw.execute("SET TimeZone TO 'UTC'")
        return cls(raw)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        cur = self.cursor().execute(sql, params)
        if sql == "BEGIN IMMEDIATE":  # SQLite's write lock: one writer at a time (above)
            cur.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        return cur

    def executemany(self, sql: str, seq: Any) -> PgCursor:
        # psycopg pipelines the statements (one round trip per batch, not per row)
        return self.cursor().executemany(sql, seq)

    def cursor(self) -> PgCursor:
        return PgCursor(self.raw.cursor())

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


__all__ = [
    "WRITE_LOCK",
    "PgConnection",
    "PgCursor",
    "is_deadlock",
    "is_postgres_url",
    "redact",
    "to_psycopg",
]
