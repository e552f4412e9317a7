"""A per-target delivery lease: one process delivers to a target at a time.

Two `guestsync sync` runs at once (cron overlapping a manual run, or `serve` and a cron)
were safe, since the CRM upsert is idempotent, but both sent the same pending records:
thousands of redundant updates spent from the CRM's rate budget. The lease is a row in the
store's `meta` table, taken and renewed in a write transaction (BEGIN IMMEDIATE on SQLite,
so two processes cannot both take it). It expires by itself (`ttl`) so that a process
killed with -9 blocks nobody for long, and a lease held by a dead process on this machine
is taken over at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from ..store import ts, utcnow
from ..store.claimants import dead_here
from ..store.protocols import DeliveryStore

LEASE_KEY = "delivery_lease:{target}"
LEASE_TTL = timedelta(minutes=10)  # renewed at every batch, so only a dead holder keeps it


class DeliveryLease:
    """`take()` before delivering to a target, `renew()` per batch, `release()` after."""

    def __init__(
        self,
        store: DeliveryStore,
        target: str,
        *,
        ttl: timedelta = LEASE_TTL,
        key: str | None = None,
    ) -> None:
        """`key`: the meta row standing for the lease, when it guards something other
        than delivery to `target` (a scheduled job: serve/scheduler.py)."""
        self.store = store
        self.key = key or LEASE_KEY.format(target=target)
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holder: str | None = None  # who holds it, when take() failed

    def _free_for_us(self, value: str | None) -> bool:
        if not value:
            return True
        owner, _, until = value.rpartition("|")
        if owner == self.owner or until <= ts():
            return True
        return dead_here(owner)

    def take(self) -> bool:
        with self.store.atomic():
            value = self.store.get_meta(self.key)
            if not self._free_for_us(value):
                self.holder = (value or "").rpartition("|")[0]
                return False
            self.store.set_meta(self.key, f"{self.owner}|{ts(utcnow() + self.ttl)}")
        return True

    def renew(self) -> None:
        with self.store.atomic():
            self.store.set_meta(self.key, f"{self.owner}|{ts(utcnow() + self.ttl)}")

    def release(self) -> None:
        with self.store.atomic():
            value = self.store.get_meta(self.key) or ""
            if value.rpartition("|")[0] == self.owner:
                self.store.delete_meta(self.key)

    def holder_pid(self) -> str:
        return (self.holder or "").split(":")[1] if self.holder and ":" in self.holder else "?"
