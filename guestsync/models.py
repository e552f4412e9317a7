"""Canonical records: what every source record becomes after mapping.

A `Guest` describes a person as one source saw them (and, with an `id`, the golden profile
resolved from all sources). A `Reservation` carries the booking and the guest who made it.
`SourceRecord` is the envelope the mapping produces and the process stage consumes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Entity(StrEnum):
    guest = "guest"
    reservation = "reservation"


class ReservationStatus(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    seated = "seated"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


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
    marketing_consent: Consent | None = None

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


class SourceRecord(Record):
    """One mapped source record: who (guest) and, for bookings, what (reservation)."""

    source: str
    stream: str
    external_id: str
    entity: Entity
    updated_at: AwareDatetime | None = None
    guest: Guest
    reservation: Reservation | None = None


GUEST_FIELDS: tuple[str, ...] = tuple(f for f in Guest.model_fields if f != "id")
RESERVATION_FIELDS: tuple[str, ...] = tuple(Reservation.model_fields)


def canonical_fields(entity: Entity) -> set[str]:
    """The field names a mapping for `entity` may set."""
    names = {"id", "updated_at"}
    if entity is Entity.guest:
        return names | set(GUEST_FIELDS)
    return names | set(RESERVATION_FIELDS) | {f"guest.{f}" for f in GUEST_FIELDS}


__all__ = [
    "GUEST_FIELDS",
    "RESERVATION_FIELDS",
    "Consent",
    "Entity",
    "Guest",
    "Reservation",
    "ReservationStatus",
    "SourceRecord",
    "canonical_fields",
    "date",
    "datetime",
]
