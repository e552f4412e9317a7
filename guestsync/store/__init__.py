"""The store: every table, behind named operations. No SQL outside this package.

SQLite through sqlite-utils, in WAL mode so a reader (status, webhook) never blocks the
worker. `atomic()` opens a transaction (a savepoint when nested); the stages use it so that
a batch of inbox rows, its guests and its outbox rows commit together or not at all.

One module per area, combined into `Store`; schema changes are modules in `schema/`.
The same operations run on PostgreSQL (`open_store("postgresql://…")`): the SQL is
written once in the subset both understand (store/postgres.py says which), and the schema
is derived from the SQLite migrations (store/pg_schema.py). Writing store SQL, then:
`INSERT ... ON CONFLICT DO NOTHING` (not INSERT OR IGNORE), `self._insert_id("INSERT ...
RETURNING id")` (not lastrowid), the cursor's rowcount (not total_changes), an alias for
every subquery in FROM, `"name"` (not [name]), GROUP BY every column not aggregated,
`self._table_names()`/`_column_names()` (not sqlite_master/PRAGMA), no rowid;
tests/test_postgres_store.py checks most of these.
"""

from __future__ import annotations

from pathlib import Path

from .activity import ActivityOps, GuestActivity
from .base import StoreBase, ts, utcnow
from .batch import BatchOps
from .candidates import CandidateOps
from .delivery import CrmOp, DeadLetterDetail, DeliveryOps, QueueDepth
from .dirty import DirtyOps
from .export import ExportOps
from .guests import GuestOps
from .health import HealthOps
from .identity import IdentityOps
from .inbox import InboxOps, InboxRow
from .keylocks import KeyedReads
from .loyalty import LoyaltyOps
from .loyalty_reports import LoyaltyReportOps
from .nodes import NodeOps, NodeRow
from .outbox import DeadLetter, OutboxOps
from .postgres import is_postgres_url
from .privacy import PrivacyOps
from .removals import RemovalOps
from .replay import ReplayOps
from .reports import ReportOps
from .runs import RunOps
from .sources import SourceOps
from .wal import WalOps, WriteTurn
from .webhooks import WebhookOps
from .window import WindowOps


class Store(
    KeyedReads,  # the identity reads, guarded in a window under key locks (keylocks.py)
    InboxOps,
    GuestOps,
    IdentityOps,
    CandidateOps,
    OutboxOps,
    RunOps,
    ReplayOps,
    DeliveryOps,
    ExportOps,
    SourceOps,
    WebhookOps,
    HealthOps,
    ActivityOps,
    PrivacyOps,
    ReportOps,
    RemovalOps,
    DirtyOps,
    WalOps,
    BatchOps,
    WindowOps,
    LoyaltyOps,
    LoyaltyReportOps,
    NodeOps,
    StoreBase,
):
    """All named store operations on one connection: SQLite's, or PostgreSQL's."""


def open_store(location: str | Path) -> Store:
    """The store at `location`: a postgresql://… URL, or a SQLite file (":memory:")."""
    if is_postgres_url(location):
        return Store.open_postgres(str(location))
    return Store.open(location)


__all__ = [
    "CrmOp",
    "DeadLetter",
    "DeadLetterDetail",
    "GuestActivity",
    "InboxRow",
    "NodeRow",
    "QueueDepth",
    "Store",
    "StoreBase",
    "WriteTurn",
    "open_store",
    "ts",
    "utcnow",
]
