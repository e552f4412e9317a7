"""The two connector contracts. Connectors never touch the store; the engine does.

A target receives a batch of outbox items and answers one `RecordResult` per item.
It raises `RetryableError` when the whole call failed transiently, `AuthError` when its
credentials are refused, `PermanentError` when the whole batch was rejected as sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..models import Guest
from ..store import OutboxItem


@dataclass(frozen=True)
class RecordResult:
    guest_id: str
    ok: bool
    crm_id: str | None = None
    error: str | None = None
    retryable: bool = False
    created: bool = False


class Target(Protocol):
    name: str
    max_batch: int

    def project(self, guest: Guest) -> dict[str, Any]:
        """The CRM payload for a golden guest (its hash decides whether to push)."""
        ...

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]: ...
