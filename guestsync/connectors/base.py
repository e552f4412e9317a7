"""The two connector contracts. Connectors never touch the store; the engine does.

A target receives a batch of outbox items and answers one `RecordResult` per item.
It raises `RetryableError` when the whole call failed transiently, `AuthError` when its
credentials are refused, `PermanentError` when the whole batch was rejected as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..models import Guest, OutboxItem


@dataclass(frozen=True)
class RecordResult:
    guest_id: str
    ok: bool
    crm_id: str | None = None
    error: str | None = None
    retryable: bool = False
    created: bool = False


@dataclass(frozen=True)
class CrmRef:
    """A guest as a target knows it: our id and the CRM's record id."""

    guest_id: str
    crm_id: str


class Target(Protocol):
    """Every CRM target. `rate` is the documented request rate (requests/second) the
    delivery engine paces calls at; None means no documented limit."""

    name: str
    max_batch: int
    rate: float | None

    def project(self, guest: Guest) -> dict[str, Any]:
        """The CRM payload for a golden guest (its hash decides whether to push)."""
        ...

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]: ...


class SupportsDelete(Protocol):
    """Targets that can remove a contact (privacy requests: `guestsync forget`)."""

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]: ...


class SupportsMerge(Protocol):
    """Targets that can merge two contacts that turned out to be one guest."""

    def merge(self, keep: CrmRef, lose: CrmRef) -> RecordResult: ...


class SupportsRequestPacing(Protocol):
    """Targets that make several HTTP requests per batch (one per contact, lookups before
    creates). The engine hands them the shared rate budget's `acquire` and they take one
    token per request, instead of the engine taking one per batch."""

    def pace_requests(self, pace: Callable[[], object] | None) -> None: ...
