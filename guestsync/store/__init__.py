"""The store: every table, behind named operations. No SQL outside this package.

SQLite through sqlite-utils, in WAL mode so a reader (status, webhook) never blocks the
worker. `atomic()` opens a transaction (a savepoint when nested); the stages use it so that
a batch of inbox rows, its guests and its outbox rows commit together or not at all.

One module per area, combined into `Store`; schema changes are modules in `schema/`.
A PostgreSQL store can later implement the same operations.
"""

from __future__ import annotations

from .base import StoreBase, ts, utcnow
from .guests import GuestOps
from .inbox import InboxEntry, InboxOps, InboxRow
from .outbox import DeadLetter, OutboxItem, OutboxOps
from .removals import RemovalOps
from .runs import RunOps


class Store(InboxOps, GuestOps, OutboxOps, RunOps, RemovalOps, StoreBase):
    """All named store operations on one SQLite connection."""


__all__ = [
    "DeadLetter",
    "InboxEntry",
    "InboxRow",
    "OutboxItem",
    "Store",
    "StoreBase",
    "ts",
    "utcnow",
]
