"""Canonical records: what every source record becomes after mapping.

A `Guest` describes a person as one source saw them (and, with an `id`, the golden profile
resolved from all sources). A `Reservation` carries the booking and the guest who made it.
`SourceRecord` is the envelope the mapping produces and the process stage consumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .hashing import canonical_json, text_hash


class Entity(StrEnum):
    guest = "guest"
    reservation = "reservation"
    order = "order"
    feedback = "feedback"
    # membership programmes (loyalty apps, POS member modules)
    points = "points"  # one points movement
    balance = "balance"  # a points balance as the source states it
    membership = "membership"  # a member's tier in a programme
    coupon = "coupon"


class OrderChannel(StrEnum):
    dine_in = "dine_in"
    takeout = "takeout"
    delivery = "delivery"


class ReservationStatus(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    seated = "seated"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


M = TypeVar("M", bound=BaseModel)


@cache
def _field_names(cls: type[BaseModel]) -> frozenset[str]:
    return frozenset(cls.model_fields)  # read once: the class attribute costs a call


def built(cls: type[M], values: dict[str, Any]) -> M:
    """A `cls` of `values`, every field given and already valid (computed, not read):
    what `model_construct` makes, without its per-field defaults and aliases, which cost
    ten times as much (aggregates and loyalty figures are built for every guest settled).
    `values` becomes the model's own dict."""
    assert values.keys() == _field_names(cls), "every field, and no other"
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Consent(Record):
    """One explicit marketing-consent statement: the newest one wins."""

    granted: bool
    at: AwareDatetime | None = None
    source: str | None = None


class Guest(Record):
    id: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    full_name: str | None = None
    email: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. +886912345678")
    birthday: date | None = None
    anniversary: date | None = None
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    dietary_notes: str | None = None
    allergies: list[str] = Field(default_factory=list)
    notes: str | None = None
    address: str | None = Field(default=None, description="Postal address (delivery orders)")
    loyalty_ids: list[str] = Field(
        default_factory=list, description="Member / loyalty numbers, as 'program:number'"
    )
    marketing_consent: Consent | None = Field(
        default=None, description="Consent for every marketing channel (email and SMS)"
    )
    email_consent: Consent | None = Field(default=None, description="Email only")
    sms_consent: Consent | None = Field(default=None, description="SMS only")

    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class Reservation(Record):
    venue: str | None = None
    start_at: AwareDatetime | None = None
    party_size: int | None = Field(default=None, ge=1, le=1000)
    status: ReservationStatus = ReservationStatus.confirmed
    channel: str | None = None
    requests: str | None = None


class OrderItem(Record):
    name: str
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None


class Order(Record):
    venue: str | None = None
    placed_at: AwareDatetime | None = None
    channel: OrderChannel = OrderChannel.dine_in
    total: Decimal | None = None
    currency: str | None = Field(default=None, description="ISO 4217, e.g. TWD")
    items: list[OrderItem] = Field(default_factory=list)
    reservation_id: str | None = Field(
        default=None, description="External id of the booking this bill belongs to, if known"
    )


class Feedback(Record):
    rating: Decimal | None = Field(default=None, ge=0, le=10)
    comment: str | None = None
    at: AwareDatetime | None = None
    venue: str | None = None


class PointsKind(StrEnum):
    earn = "earn"
    redeem = "redeem"
    expire = "expire"
    adjust = "adjust"


class PointsMovement(Record):
    """One line of a points ledger. `points` is counted by `kind`: earned points add,
    redeemed and expired points subtract (whatever sign the source wrote them with), an
    adjustment keeps its sign. The record's id (the mapping's `id`) is the movement id:
    the same movement sent twice counts once."""

    programme: str = Field(min_length=1)
    member: str | None = Field(default=None, description="Member number in the programme")
    kind: PointsKind = PointsKind.earn
    points: Decimal
    balance_after: Decimal | None = Field(default=None, description="As the source states it")
    at: AwareDatetime | None = None
    order_ref: str | None = Field(default=None, description="Bill or order it belongs to")

    def delta(self) -> Decimal:
        if self.kind is PointsKind.earn:
            return abs(self.points)
        if self.kind is PointsKind.adjust:
            return self.points
        return -abs(self.points)


class PointsBalance(Record):
    """A member's balance as the source states it, as of a time: newer than the ledger's
    movements, it wins over their sum."""

    programme: str = Field(min_length=1)
    member: str | None = None
    balance: Decimal
    as_of: AwareDatetime | None = None


class Membership(Record):
    """A member of a programme, the tier as the source names it (會員等級), and the
    balance if the export states one."""

    programme: str = Field(min_length=1)
    member: str | None = None
    tier: str | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    balance: Decimal | None = Field(default=None, description="Points balance stated here")
    balance_as_of: AwareDatetime | None = None


class Coupon(Record):
    """A coupon issued to a guest (優惠券): open until redeemed or expired."""

    programme: str | None = None
    member: str | None = None
    code: str | None = None
    campaign: str | None = None
    issued_at: AwareDatetime | None = None
    redeemed_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    expired: bool = Field(default=False, description="The source says it expired unused")
    value: Decimal | None = None
    order_ref: str | None = Field(default=None, description="Bill it was used on")


LoyaltyPart = PointsMovement | PointsBalance | Membership | Coupon


class SourceRecord(Record):
    """One mapped source record: who (guest) and, for bookings, what (reservation)."""

    source: str
    stream: str
    external_id: str
    entity: Entity
    updated_at: AwareDatetime | None = None
    guest: Guest
    reservation: Reservation | None = None
    order: Order | None = None
    feedback: Feedback | None = None
    points: PointsMovement | None = None
    balance: PointsBalance | None = None
    membership: Membership | None = None
    coupon: Coupon | None = None
    deleted: bool = Field(default=False, description="The source removed this record")
    warnings: list[str] = Field(
        default_factory=list, description="Values kept as written, e.g. an unparseable phone"
    )

    @model_validator(mode="after")
    def _member_number(self) -> SourceRecord:
        """A programme's member number is a loyalty id of the guest ('programme:number'),
        so a movement or coupon finds its member by identity, or waits for it."""
        part = self.loyalty
        if part is not None and part.member and part.programme:
            lid = f"{part.programme}:{part.member}"
            if lid not in self.guest.loyalty_ids:
                self.guest.loyalty_ids.append(lid)
        return self

    @property
    def loyalty(self) -> LoyaltyPart | None:
        return self.points or self.balance or self.membership or self.coupon


GUEST_FIELDS: tuple[str, ...] = tuple(f for f in Guest.model_fields if f != "id")
RESERVATION_FIELDS: tuple[str, ...] = tuple(Reservation.model_fields)
ENTITY_MODELS: dict[Entity, type[Record]] = {
    Entity.reservation: Reservation,
    Entity.order: Order,
    Entity.feedback: Feedback,
    Entity.points: PointsMovement,
    Entity.balance: PointsBalance,
    Entity.membership: Membership,
    Entity.coupon: Coupon,
}


def canonical_fields(entity: Entity) -> set[str]:
    """The field names a mapping for `entity` may set."""
    names = {"id", "updated_at", "deleted"}
    if entity is Entity.guest:
        return names | set(GUEST_FIELDS)
    model = ENTITY_MODELS[entity]
    return names | set(model.model_fields) | {f"guest.{f}" for f in GUEST_FIELDS}


__all__ = [
    "ENTITY_MODELS",
    "GUEST_FIELDS",
    "RESERVATION_FIELDS",
    "Consent",
    "Coupon",
    "Entity",
    "Feedback",
    "Guest",
    "Membership",
    "Order",
    "OrderChannel",
    "OrderItem",
    "PointsBalance",
    "PointsKind",
    "PointsMovement",
    "Reservation",
    "ReservationStatus",
    "SourceRecord",
    "canonical_fields",
    "date",
    "datetime",
]


# -- the columns a CSV export can name (checked by config/exports.py, filled by
# actions/export.py; a reservation or order column is written `reservation.venue`)
GUEST_COLUMNS = (
    "id",
    "display_name",
    "given_name",
    "family_name",
    "full_name",
    "email",
    "phone",
    "birthday",
    "anniversary",
    "language",
    "tags",
    "dietary_notes",
    "allergies",
    "notes",
    "address",
    "loyalty_ids",
    "marketing_consent",
    "marketing_consent_at",
)
RESERVATION_COLUMNS = (
    "source",
    "external_id",
    "venue",
    "start_at",
    "party_size",
    "status",
    "channel",
    "requests",
)
ORDER_COLUMNS = (
    "source",
    "external_id",
    "venue",
    "placed_at",
    "channel",
    "total",
    "currency",
    "reservation_id",
)


# -- what crosses the stages' boundaries in the store ---------------------------------


@dataclass(frozen=True)
class InboxEntry:
    """A raw record as an intake channel stores it (stage 1)."""

    source: str
    stream: str
    external_id: str
    content_hash: str
    raw: str
    origin: str

    @classmethod
    def of(
        cls, *, source: str, stream: str, external_id: str, record: Any, origin: str
    ) -> InboxEntry:
        """The entry for a raw record: one canonical dump serves as both the stored raw
        JSON and its content hash, whatever channel it came by."""
        raw = canonical_json(record)
        return cls(source, stream, external_id, text_hash(raw), raw, origin)


@dataclass(frozen=True)
class OutboxItem:
    """A guest's pending payload for one target (stage 3), as delivery takes it."""

    id: int
    target: str
    guest_id: str
    payload: dict[str, Any]
    payload_hash: str
    attempts: int
    crm_id: str | None
    pending_since: str | None = None
    last_error: str | None = None
