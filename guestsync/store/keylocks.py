"""Identity serialized per blocking key on PostgreSQL, not by one database-wide lock.

Every other transaction on PostgreSQL takes the store's write lock (an advisory lock,
store/postgres.py) exclusively, as SQLite's BEGIN IMMEDIATE does. A window of inbox rows
whose guests are settled later (`process_batch(defer=True)`: the worker's way) takes it
*shared* instead, so that windows run side by side, and serializes on what it reads and
writes instead, with transaction-level advisory locks (two-int4 form: a space of their
own, apart from the single-bigint write and migrate locks):

1. before it begins, the locks of its records' refs (source, stream, external id), in
   sorted order, waiting for each (sorted: two windows cannot wait on each other);
2. every blocking key hash, before the key's guests are read (`guests_of_keys`,
   `guests_sharing_keys`): two records of one person share a key, so the second window
   waits for the first to commit and then finds its guest (READ COMMITTED re-reads);
3. every guest it meets (the guests of a key, the guest a record is linked to), after
   reading it and before using it; the read is repeated until every guest in it is held,
   so a guest merged away by a window that committed in between is not used stale.
   Every writer of a guest's links and keys holds that guest (it met it, or created it),
   so once held, what was read about it stays true until the window commits. A merge
   holds both guests.

Locks taken during the window (2 and 3) never wait: `pg_try_advisory_xact_lock`. If one
is held by another window, this window rolls back (`Relock`) and starts again, taking
everything it has met so far at the start, in sorted order. No window ever waits while
holding a lock another one waits on in the other order, so no deadlock; the lock set only
grows, so the restarts end (after MAX_TRIES, the window runs under the exclusive lock).
A PostgreSQL deadlock on rows (PostgreSQL aborts one side) is retried the same way.

On SQLite nothing changes: one writer at a time, `keyed` is the plain transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from hashlib import blake2b
from typing import Any, TypeVar, cast

from .keyhash import key_hash
from .postgres import PgConnection, is_deadlock

T = TypeVar("T")
MAX_TRIES = 8  # restarts of one window before it takes the exclusive lock


class Relock(Exception):
    """A lock the window met is another window's: roll back, start again holding it."""


def lock_id(*parts: str) -> int:
    """The signed 64-bit lock of a ref or a guest (blake2b: the same in every process)."""
    n = int.from_bytes(blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "big")
    return n - (1 << 64) if n >= 1 << 63 else n


def _split(h: int) -> tuple[int, int]:
    """A 64-bit hash as the two int4 of pg_advisory_xact_lock(int4, int4)."""
    u = h & ((1 << 64) - 1)
    hi, lo = u >> 32, u & 0xFFFF_FFFF
    return (hi - (1 << 32) if hi >= 1 << 31 else hi), (lo - (1 << 32) if lo >= 1 << 31 else lo)


class KeyLocks:
    """The locks of one window across its attempts: those to take when it begins, those
    it holds in the current attempt."""

    def __init__(self, first: Iterable[int]) -> None:
        self.wanted: set[int] = set(first)
        self.held: set[int] = set()
        self.tries = 0
        self.exclusive = False  # after MAX_TRIES: the write lock alone, as SQLite's

    def begin(self, conn: PgConnection) -> None:
        """At BEGIN: the write lock shared, then every wanted lock in sorted order."""
        self.held = set()
        conn.execute("SELECT pg_advisory_xact_lock_shared(?)", (conn.WRITE_LOCK,))
        self._take(conn, sorted(self.wanted), wait=True)

    def take(self, conn: PgConnection, hashes: Iterable[int]) -> bool:
        """Hold these too, without waiting; Relock if another window holds one. True if
        any was new (what was read before it was held may be stale: read it again)."""
        new = sorted(set(hashes) - self.held)
        if not new:
            return False
        missed = self._take(conn, new, wait=False)
        self.wanted |= set(new)
        if missed:
            raise Relock(f"{len(missed)} lock(s) held by another writer")
        return True

    def try_all(self, conn: PgConnection, hashes: Iterable[int]) -> None:
        """Hold those of these that no other window holds (not `wanted`: what is not
        held now is left for later, not waited for)."""
        self._take(conn, sorted(set(hashes) - self.held), wait=False)

    def _take(self, conn: PgConnection, hashes: list[int], *, wait: bool) -> list[int]:
        if not hashes:
            return []
        his, los = zip(*map(_split, hashes), strict=True)
        fn = "gs_lock_all" if wait else "gs_try_lock_all"
        row = conn.execute(f"SELECT {fn}(?::int[], ?::int[])", (list(his), list(los))).fetchone()
        got = [h for h, ok in zip(hashes, row[0], strict=True) if ok]
        self.held.update(got)
        return [h for h, ok in zip(hashes, row[0], strict=True) if not ok]


class KeyLockOps:
    """The store's side: `keyed` runs a window under key locks; the identity reads call
    `_met_keys` and `_met_guests` (no-ops outside a keyed window, and on SQLite)."""

    conn: Any
    dialect: str
    _keyed: KeyLocks | None
    key_restarts = 0  # windows started again (a lock held elsewhere, a deadlock): a figure

    def keyed(self, attempt: Callable[[], T], *, wait_for: Iterable[int] = ()) -> T:
        """Run `attempt` (which opens the outermost transaction) with its writes
        serialized per ref, key and guest (the module docstring): the locks `wait_for`
        taken at BEGIN, waiting; again from the start while it meets a lock another
        window holds. On SQLite: `attempt()`."""
        if self.dialect != "postgresql" or self._keyed is not None:
            return attempt()
        locks = KeyLocks(wait_for)
        while True:
            locks.tries += 1
            locks.exclusive = locks.tries > MAX_TRIES
            self._keyed = locks
            try:
                return attempt()
            except Relock:
                self.key_restarts += 1
            except Exception as exc:
                if not is_deadlock(exc):
                    raise
                self.key_restarts += 1
            finally:
                self._keyed = None

    def in_keyed_window(self) -> bool:
        """Inside `keyed` (its attempt, under key locks)."""
        return self._keyed is not None

    def try_locks(self, groups: Sequence[Iterable[int]]) -> list[int]:
        """In a keyed transaction: try each group's locks, never waiting; the indexes of
        the groups now held whole (every group outside one, and on SQLite)."""
        sets = [set(g) for g in groups]
        if self._keyed is None or self._keyed.exclusive or not self.conn.in_transaction:
            return list(range(len(sets)))
        self._keyed.try_all(self.conn, set().union(*sets))
        held = self._keyed.held
        return [i for i, g in enumerate(sets) if g <= held]

    def _met_keys(self, hashes: Iterable[int]) -> None:
        """Key hashes about to be read from guest_keys: held first."""
        if self._keyed is not None and not self._keyed.exclusive and self.conn.in_transaction:
            self._keyed.take(self.conn, hashes)

    def _met_guests(self, read: Callable[[], T], guests: Callable[[T], Iterable[str]]) -> T:
        """`read()`, again until every guest in what it returns is held."""
        result = read()
        while self._keyed is not None and not self._keyed.exclusive and self.conn.in_transaction:
            if not self._keyed.take(self.conn, (lock_id("guest", g) for g in guests(result))):
                break
            result = read()
        return result


class KeyedReads:
    """The identity reads a window makes, guarded (before IdentityOps and WindowOps in
    Store's bases): in a window under key locks, the keys are held before they are read,
    the guests the reads name after, the read repeated until all in it are held
    (`KeyLockOps._met_guests`). Outside one, and on SQLite, the reads themselves."""

    _met_keys: Callable[[Iterable[int]], None]
    _met_guests: Callable[..., Any]

    def guests_sharing_keys(
        self, keys: Sequence[tuple[str, str]], *, cap: int, caps: Mapping[str, int] | None = None
    ) -> tuple[list[str], list[tuple[str, str]]]:
        keys = list(keys)
        self._met_keys(key_hash(*k) for k in keys if (caps or {}).get(k[0], cap) > 0)
        read = super().guests_sharing_keys  # type: ignore[misc]
        return cast(
            tuple[list[str], list[tuple[str, str]]],
            self._met_guests(lambda: read(keys, cap=cap, caps=caps), lambda r: r[0]),
        )

    def link_state(self, ref: tuple[str, str, str]) -> tuple[str, bool] | None:
        read = super().link_state  # type: ignore[misc]
        return cast(
            "tuple[str, bool] | None",
            self._met_guests(lambda: read(ref), lambda r: [r[0]] if r else []),
        )

    def guests_of_keys(self, limits: Mapping[int, int]) -> dict[int, list[str]]:
        self._met_keys(limits)
        read = super().guests_of_keys  # type: ignore[misc]
        # the guests of a key at its limit are not met: the window skips that key
        return cast(
            dict[int, list[str]],
            self._met_guests(
                lambda: read(limits),
                lambda r: (g for h, gs in r.items() if len(gs) < limits[h] for g in gs),
            ),
        )

    def link_states(self, refs: Iterable[tuple[str, str, str]]) -> dict[Any, tuple[str, bool]]:
        refs = list(refs)
        read = super().link_states  # type: ignore[misc]
        return cast(
            dict[Any, tuple[str, bool]],
            self._met_guests(lambda: read(refs), lambda r: (g for g, _ in r.values())),
        )


# the PostgreSQL functions that take a set of two-int4 advisory locks: all in the order
# given, waiting; or each without waiting (one round trip either way). pg_schema.py
# creates them with the other COMPAT_FUNCTIONS.
LOCK_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION gs_lock_all(int[], int[]) RETURNS boolean[] LANGUAGE plpgsql"
    " AS $$DECLARE i int; BEGIN FOR i IN 1 .. coalesce(array_length($1, 1), 0) LOOP"
    " PERFORM pg_advisory_xact_lock($1[i], $2[i]); END LOOP;"
    " RETURN array_fill(true, ARRAY[coalesce(array_length($1, 1), 0)]); END$$",
    "CREATE OR REPLACE FUNCTION gs_try_lock_all(int[], int[]) RETURNS boolean[] LANGUAGE"
    " plpgsql AS $$DECLARE i int; out boolean[] := '{}'; BEGIN"
    " FOR i IN 1 .. coalesce(array_length($1, 1), 0) LOOP"
    " out := out || pg_try_advisory_xact_lock($1[i], $2[i]); END LOOP; RETURN out; END$$",
)

__all__ = [
    "LOCK_FUNCTIONS",
    "MAX_TRIES",
    "KeyLockOps",
    "KeyLocks",
    "KeyedReads",
    "Relock",
    "lock_id",
]
