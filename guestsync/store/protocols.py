"""The narrow face of the store each stage uses: a stage's functions take the Protocol,
not `Store`, so what a second store (PostgreSQL) must implement for that stage is written
down here, and the type checker holds both the stage and `Store` to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol

from ..models import Feedback, Guest, InboxEntry, LoyaltyPart, Order, OutboxItem, Reservation
from .activity import GuestActivity
from .delivery import CrmOp
from .inbox import InboxRow
from .loyalty import LoyaltyActivity


class WebhookWriter(Protocol):
    """Where webhook requests commit (the store, or serve's intake file: store/intake.py)."""

    def add_webhook_events(
        self,
        events: Sequence[tuple[str, str, Sequence[tuple[InboxEntry, bool]]]],
        *,
        now: datetime | None = None,
    ) -> list[bool]: ...


class IntakeStore(Protocol):
    """What stage 1 (intake/) may do: store raw records and what it read where."""

    def atomic(self) -> AbstractContextManager[Any]: ...

    def add_to_inbox(
        self, entries: Iterable[InboxEntry], *, now: datetime | None = None
    ) -> int: ...

    def add_webhook_events(
        self,
        events: Sequence[tuple[str, str, Sequence[tuple[InboxEntry, bool]]]],
        *,
        now: datetime | None = None,
    ) -> list[bool]: ...

    def fetched(self, inbox_id: int, raw: str) -> None: ...

    def file_imported(self, source: str, content_hash: str) -> str | None: ...

    def get_cursor(self, source: str, stream: str) -> str | None: ...

    def inbox_errors_from(self, source: str, origin_prefix: str) -> list[tuple[str, str, str]]: ...

    def mark_inbox_error(self, inbox_id: int, reason: str) -> None: ...

    def quarantine(
        self,
        source: str,
        *,
        reason: str,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str],
    ) -> int: ...

    def record_imported_file(
        self, source: str, content_hash: str, *, path: str, size: int, rows: int
    ) -> None: ...

    def rows_to_fetch(self, *, limit: int = 100) -> list[InboxRow]: ...

    def set_cursor(self, source: str, stream: str, value: str) -> None: ...


class DeliveryStore(Protocol):
    """What stage 4 (delivery/) may do: read and settle the outbox, the CRM ids, the
    merges and deletes to carry out, and the shared rate budgets and pauses."""

    def atomic(self) -> AbstractContextManager[Any]: ...

    def apply_crm_merge(
        self, target: str, keep_guest_id: str, lose_guest_id: str, crm_id: str
    ) -> None: ...

    def crm_id(self, target: str, guest_id: str) -> str | None: ...

    def crm_link_payloads(
        self, target: str, guest_ids: list[str]
    ) -> dict[str, tuple[str, dict]]: ...

    def dead_letter(self, item: OutboxItem, error: str) -> None: ...

    def delete_meta(self, key: str) -> None: ...

    def drop_crm_link(self, target: str, guest_id: str) -> None: ...

    def fail_op(self, op_id: int, error: str) -> None: ...

    def finish_op(self, op_id: int, *, status: str = "done", error: str | None = None) -> None: ...

    def get_meta(self, key: str) -> str | None: ...

    def keep_op_crm_id(self, op_id: int, crm_id: str) -> None: ...

    def mark_attempt_failed(self, items: Sequence[OutboxItem], error: str) -> None: ...

    def mark_delivered(self, item: OutboxItem, crm_id: str) -> None: ...

    def op_outcomes(self, op_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]: ...

    def outbox_counts(self, target: str) -> dict[str, int]: ...

    def overdue_outbox(
        self, target: str, *, max_attempts: int, pending_before: str
    ) -> list[tuple[int, str, str, dict[str, Any], str, int, str | None, str]]: ...

    def pending_ops(self, target: str, *, kind: str | None = None) -> list[CrmOp]: ...

    def pending_outbox(self, target: str, *, limit: int, after_id: int = 0) -> list[OutboxItem]: ...

    def planned_merges(self, target: str) -> list[tuple[str, str]]: ...

    def queue_delete(self, target: str, guest_id: str, crm_id: str) -> None: ...

    def queue_merges(self, target: str) -> int: ...

    def record_guest_merge(self, keep_guest_id: str, lose_guest_id: str) -> int: ...

    def reserve_rate_token(
        self, account: str, *, rate: float, burst: float, now: float
    ) -> float: ...

    def set_meta(self, key: str, value: str) -> None: ...


class LoyaltyStore(Protocol):
    """Membership programmes (store/loyalty.py): movements, balances, memberships and
    coupons per source record, loyalty aggregates and tier events per guest."""

    def add_tier_events(
        self, rows: Sequence[tuple[str, str, str | None, str | None, str, str]]
    ) -> None: ...

    def get_loyalty_aggregates(self, guest_id: str) -> dict[str, Any] | None: ...

    def loyalty_activities(self, guest_ids: Sequence[str]) -> dict[str, LoyaltyActivity]: ...

    def loyalty_tiers(
        self, guest_ids: Sequence[str]
    ) -> dict[str, tuple[str | None, str | None]]: ...

    def recheck_no_later_than(self, days: Sequence[tuple[str, str]]) -> None: ...

    def save_loyalty(
        self,
        *,
        source: str,
        stream: str,
        external_id: str,
        guest_id: str,
        part: LoyaltyPart,
        seen: datetime,
    ) -> None: ...

    def save_loyalty_aggregates(
        self, rows: Sequence[tuple[str, str, str | None, str | None, bool]], stamp: str
    ) -> None: ...

    def tier_events(self, guest_id: str) -> list[dict[str, Any]]: ...


class RestaurantStore(LoyaltyStore, Protocol):
    """What the restaurant rules (restaurant/) may do: a guest's bookings, bills and
    answers, their aggregates and consent, and the suppressions of forgotten guests."""

    def consent_statements(self, guest_id: str) -> list[tuple[str, bool, datetime, str]]: ...

    def consent_statements_many(
        self, guest_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, bool, datetime, str]]]: ...

    def get_aggregates(self, guest_id: str) -> dict[str, Any] | None: ...

    def get_guest(self, guest_id: str) -> Guest | None: ...

    def guest_activities(self, guest_ids: Sequence[str]) -> dict[str, GuestActivity]: ...

    def lift_suppressions(self, hashes: Sequence[str]) -> None: ...

    def live_guests(self, guest_ids: Sequence[str]) -> dict[str, Guest]: ...

    def privacy_salt(self) -> str: ...

    def relink_consent(self, source: str, stream: str, external_id: str, guest_id: str) -> None: ...

    def save_aggregates(
        self,
        guest_id: str,
        data: dict[str, Any],
        segment: str,
        recheck_on: date | None = None,
        *,
        stamp: str = "",
    ) -> None: ...

    def save_aggregates_many(
        self,
        rows: Iterable[tuple[str, str, str, date | None]],
        *,
        stamp: str = "",
    ) -> None: ...

    def save_consent(
        self,
        *,
        source: str,
        stream: str,
        external_id: str,
        guest_id: str,
        statements: Iterable[tuple[str, bool, datetime, str | None]],
    ) -> None: ...

    def segment_history(self, guest_id: str) -> tuple[str | None, str | None]: ...

    def suppressed_since(self, hashes: Sequence[str]) -> str | None: ...

    def upsert_feedback(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        feedback: Feedback,
        updated_at: datetime | None,
    ) -> None: ...

    def upsert_order(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        order: Order,
        updated_at: datetime | None,
    ) -> None: ...

    def upsert_reservation(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        reservation: Reservation,
        updated_at: datetime | None,
    ) -> None: ...
