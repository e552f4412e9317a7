"""Identity serialized per blocking key on PostgreSQL, not by one database-wide lock.

Every other transaction on PostgreSQL takes the store's write lock (an advisory lock,
store/postgres.py) exclusively, as SQLite's BEGIN IMMEDIATE does. A window of inbox rows
whose guests are settled later (`process_batch(defer=True)`: the worker's way) takes it
*shared* instead, so that windows run side by side, and serializes on what it reads and
writes instead, with row locks (`SELECT ... FOR UPDATE`):

1. its records' refs (source, stream, external id) and probe keys: rows of `key_locks`
   (m0031), one per hash, made before the window begins;
2. every blocking key hash, before the key's guests are read (`guests_of_keys`,
   `guests_sharing_keys`): two records of one person share a key, so the second window
   waits for the first to commit and then finds its guest (READ COMMITTED re-reads);
3. every guest it meets (the guests of a key, the guest a record is linked to): its
   `guests` row (FOR NO KEY UPDATE: foreign key checks are not blocked), after reading it
   and before using it; the read is repeated until every guest in it is held, so a guest
   merged away by a window that committed in between is not used stale. Every writer of
   a guest's links and keys holds that guest (it met it, or created it), so once held,
   what was read about it stays true until the window commits. A merge holds both.

Row locks, not advisory locks: a window holds a few thousand (200 records, about a dozen
keys each), and advisory locks live in PostgreSQL's shared lock table
(max_locks_per_transaction x max_connections, 6,400 by default): four workers filled it.

Locks met during a window (2 and 3) never wait (SKIP LOCKED). If one is held by another
window, this window rolls back (`Relock`) and starts again, taking everything it has met
so far at BEGIN, waiting, in one order (keys sorted, then guests sorted). No window waits
while holding a lock another one waits on in the other order, so no deadlock; the lock
set only grows, so the restarts end (after MAX_TRIES, the window runs under the exclusive
lock). A PostgreSQL deadlock on other rows (PostgreSQL aborts one side) is retried the
same way. process/keyed.py admits a window's records whose locks are free first.

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
    """The signed 64-bit lock of a ref (blake2b: the same in every process)."""
    n = int.from_bytes(blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "big")
    return n - (1 << 64) if n >= 1 << 63 else n


_KEYS = "SELECT key FROM key_locks WHERE key = ANY(?::bigint[])"
_GUESTS = "SELECT id FROM guests WHERE id = ANY(?::text[])"


class KeyLocks:
    """The locks of one window across its attempts: those to take when it begins (keys
    and refs as `key_locks` rows, guests as their `guests` rows), those it holds now."""

    def __init__(self, first: Iterable[int] = (), *, known: Iterable[int] = ()) -> None:
        self.wanted: set[int] = set(first)
        self.wanted_guests: set[str] = set()
        self.known = set(known) | self.wanted  # key_locks rows made before BEGIN
        self._made: set[int] = set()
        self.held: set[int] = set()
        self.held_guests: set[str] = set()
        self.tries = 0
        self.exclusive = False  # after MAX_TRIES: the write lock alone, as SQLite's

    def prepare(self, conn: PgConnection) -> None:
        """Before BEGIN (autocommit): a key_locks row for each lock this window knows of,
        so that taking it never waits on another transaction's insert."""
        if new := sorted(self.known - self._made):
            conn.execute(
                "INSERT INTO key_locks (key) SELECT unnest(?::bigint[]) ON CONFLICT DO NOTHING",
                (new,),
            )
            self._made.update(new)

    def begin(self, conn: PgConnection) -> None:
        """At BEGIN: the write lock shared, then every wanted lock, waiting, in one order
        (keys sorted, then guests sorted)."""
        conn.execute("SELECT pg_advisory_xact_lock_shared(?)", (conn.WRITE_LOCK,))
        self.held, self.held_guests = set(), set()
        if self.wanted:
            rows = conn.execute(_KEYS + " ORDER BY key FOR UPDATE", (sorted(self.wanted),))
            self.held = {r[0] for r in rows}
        if self.wanted_guests:
            rows = conn.execute(
                _GUESTS + " ORDER BY id FOR NO KEY UPDATE", (sorted(self.wanted_guests),)
            )
            self.held_guests = {r[0] for r in rows}

    def take(self, conn: PgConnection, hashes: Iterable[int]) -> bool:
        """Hold these keys too, without waiting; Relock if another window holds one (or
        it has no row yet: the restart makes it). True if any was new (what was read
        before it was held may be stale: read it again)."""
        new = set(hashes) - self.held
        if not new:
            return False
        self.try_all(conn, new)
        self.wanted |= new
        self.known |= new
        if missed := new - self.held:
            raise Relock(f"{len(missed)} key lock(s) held by another writer")
        return True

    def take_guests(self, conn: PgConnection, ids: Iterable[str]) -> bool:
        """`take` for guests: their rows, FOR NO KEY UPDATE (links' foreign key checks,
        FOR KEY SHARE, are not blocked by it)."""
        new = set(ids) - self.held_guests
        if not new:
            return False
        rows = conn.execute(_GUESTS + " FOR NO KEY UPDATE SKIP LOCKED", (sorted(new),))
        self.held_guests.update(r[0] for r in rows)
        self.wanted_guests |= new
        if missed := new - self.held_guests:
            raise Relock(f"{len(missed)} guest(s) held by another writer")
        return True

    def try_all(self, conn: PgConnection, hashes: Iterable[int]) -> None:
        """Hold those of these keys that no other window holds (not `wanted`: what is
        not held now is left for later, not waited for)."""
        if new := sorted(set(hashes) - self.held):
            rows = conn.execute(_KEYS + " FOR UPDATE SKIP LOCKED", (new,))
            self.held.update(r[0] for r in rows)


class KeyLockOps:
    """The store's side: `keyed` runs a window under key locks; the identity reads call
    `_met_keys` and `_met_guests` (no-ops outside a keyed window, and on SQLite)."""

    conn: Any
    dialect: str
    _keyed: KeyLocks | None
    key_restarts = 0  # windows started again (a lock held elsewhere, a deadlock): a figure

    def keyed(
        self,
        attempt: Callable[[], T],
        *,
        wait_for: Iterable[int] = (),
        known: Iterable[int] = (),
    ) -> T:
        """Run `attempt` (which opens the outermost transaction) with its writes
        serialized per ref, key and guest (the module docstring): the locks `wait_for`
        taken at BEGIN, waiting; again from the start while it meets a lock another
        window holds. `known`: locks it will try (their rows made before it begins).
        On SQLite: `attempt()`."""
        if self.dialect != "postgresql" or self._keyed is not None:
            return attempt()
        locks = KeyLocks(wait_for, known=known)
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
            if not self._keyed.take_guests(self.conn, guests(result)):
                break
            result = read()
        return result


class KeyedReads:
    """The identity reads a window makes, guarded (before CandidateOps, IdentityOps and
    WindowOps in Store's bases): in a window under key locks, the keys are held before
    they are read, the guests the reads name after, the read repeated until all in it are
    held (`KeyLockOps._met_guests`). Outside one, and on SQLite, the reads themselves."""

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


__all__ = [
    "MAX_TRIES",
    "KeyLockOps",
    "KeyLocks",
    "KeyedReads",
    "Relock",
    "lock_id",
]
