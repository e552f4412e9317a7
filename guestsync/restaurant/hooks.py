"""The process stage's restaurant hooks: orders, feedback and consent of each record,
suppression of forgotten guests, aggregates of the touched guests, CRM properties.

`process.py` calls these at four points; all the logic is here:
- `admit()` before identity resolution: a record about a forgotten guest is suppressed
  (unless it carries an opt-in given after the guest was forgotten: re-consent);
- `record()` after the reservation upsert: orders, feedback and consent statements;
- `after_batch()` once the golden records are refreshed: aggregates and segments;
- `enrich()` on each target's `project(guest)`: the mapped aggregate/consent properties.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..config.crm import CrmConfig
from ..models import Guest, SourceRecord
from ..store import utcnow
from ..store.protocols import RestaurantStore
from . import aggregates, consent, loyalty, membership, privacy
from . import properties as crm_properties


@dataclass
class ActivitySettings:
    """What the hooks need from the config; defaults suit tests and a bare config."""

    crm: CrmConfig = field(default_factory=CrmConfig)
    timezone: str = "Asia/Taipei"
    target_types: dict[str, str] = field(default_factory=dict)  # target name -> type
    clock: Callable[[], datetime] = utcnow
    # The aggregates the current batch just computed, so projecting does not re-read them.
    fresh: dict[str, aggregates.Aggregates] = field(default_factory=dict, repr=False)
    fresh_loyalty: dict[str, membership.Loyalty] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def stamp(self) -> str:
        """Fingerprint of what aggregates depend on besides the rows: saved with each
        guest's aggregates, so a change of settings recomputes everyone once."""
        blob = f"{self.timezone}|{self.crm.model_dump_json(exclude={'properties', 'privacy'})}"
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()


def settings_for(
    store: RestaurantStore, settings: ActivitySettings | None = None
) -> ActivitySettings:
    """`settings`, else those the hub attached to this store, else the defaults.

    The hub attaches its settings to the store it opens, so every caller of the process
    stage (sync, webhook worker, identity merges) projects the same payload for a guest,
    whether or not it passes settings: otherwise payload hashes would flip between them.
    """
    if settings is not None:
        return settings
    attached = getattr(store, "activity_settings", None)
    return attached if isinstance(attached, ActivitySettings) else ActivitySettings()


def attach(store: RestaurantStore, settings: ActivitySettings) -> None:
    store.activity_settings = settings  # type: ignore[attr-defined]


def admit(store: RestaurantStore, record: SourceRecord) -> bool:
    """False when the record is about a forgotten guest and must not be stored."""
    return privacy.admit(store, record)


def record(
    store: RestaurantStore,
    record: SourceRecord,
    guest_id: str,
    seen: datetime,
    *,
    relink: bool = True,
) -> None:
    """Store the reservation, order, feedback, loyalty part (points, balance, membership,
    coupon) and consent statements of one mapped record.
    `relink=False`: the caller knows the record has no consent statement stored yet."""
    if record.reservation is not None:
        store.upsert_reservation(
            source=record.source,
            external_id=record.external_id,
            guest_id=guest_id,
            reservation=record.reservation,
            updated_at=record.updated_at,
        )
    if record.order is not None:
        store.upsert_order(
            source=record.source,
            external_id=record.external_id,
            guest_id=guest_id,
            order=record.order,
            updated_at=record.updated_at,
        )
    if record.feedback is not None:
        store.upsert_feedback(
            source=record.source,
            external_id=record.external_id,
            guest_id=guest_id,
            feedback=record.feedback,
            updated_at=record.updated_at,
        )
    membership.record(store, record, guest_id, seen)
    # The record may have moved to another guest: its earlier statements move with it.
    if relink:
        store.relink_consent(record.source, record.stream, record.external_id, guest_id)
    said = consent.statements(record.guest, seen_at=seen, source=record.source)
    if said:
        store.save_consent(
            source=record.source,
            stream=record.stream,
            external_id=record.external_id,
            guest_id=guest_id,
            statements=[(s.channel, s.granted, s.at, s.source) for s in said],
        )


def after_batch(
    store: RestaurantStore,
    guest_ids: set[str],
    settings: ActivitySettings,
    goldens: Mapping[str, Guest] | None = None,
) -> None:
    """`goldens`: the guests' live golden records, when the caller has just saved them."""
    settings.fresh = aggregates.refresh(
        store,
        guest_ids,
        today=settings.today(),
        tz=settings.tz,
        crm=settings.crm,
        stamp=settings.stamp,
        goldens=goldens,
    )
    live = goldens if goldens is not None else store.live_guests(sorted(settings.fresh))
    settings.fresh_loyalty = membership.refresh(
        store,
        settings.fresh,
        live,
        now=settings.clock(),
        tz=settings.tz,
        crm=settings.crm,
        stamp=settings.stamp,
    )


Said = list[tuple[str, bool, datetime, str]]  # a guest's consent statements, as stored


def consent_state(
    store: RestaurantStore, guest_id: str, said: Said | None = None
) -> dict[str, consent.Statement]:
    rows = store.consent_statements(guest_id) if said is None else said
    return consent.effective(consent.Statement(*row) for row in rows)


_CONSENTS = frozenset({"marketing_consent", "email_consent", "sms_consent"})
_NO_CONSENT = consent.view({})  # a guest with no consent statement: read, never changed


def guest_view(
    store: RestaurantStore,
    guest_id: str,
    settings: ActivitySettings,
    guest: Guest | None = None,
    said: Said | None = None,
) -> dict[str, Any]:
    """Every value a CRM property can be mapped from, for one guest (`guest`: its golden
    record, `said`: its consent statements, if the caller has them already)."""
    guest = guest or store.get_guest(guest_id)
    if guest is None:
        return {}
    # its fields as they are (model_dump would copy each): the consents, its only nested
    # models, are not values; the view is read, never changed
    v = dict(guest.__dict__)
    for k in _CONSENTS:
        v.pop(k, None)
    agg = settings.fresh.get(guest_id) or aggregates.load(store, guest_id)
    v |= aggregates.view(agg, settings.crm)
    loy = settings.fresh_loyalty.get(guest_id) or membership.load(store, guest_id)
    v |= loyalty.view(loy, settings.crm)
    # no statement (most guests): every consent value unknown, the same view for all
    v |= _NO_CONSENT if said == [] else consent.view(consent_state(store, guest_id, said))
    return v


Plan = tuple[str | None, dict[str, str]]  # a target's type and its property map


def property_plan(target_name: str, target_type: str | None, settings: ActivitySettings) -> Plan:
    """The target's type (as configured, else `target_type`) and its CRM property ->
    value name map: the same for every guest, so made once per batch of payloads."""
    ttype = settings.target_types.get(target_name, target_type)
    return ttype, crm_properties.property_map(target_name, ttype, settings.crm.properties)


def enrich(
    store: RestaurantStore,
    target_name: str,
    target_type: str | None,
    guest_id: str,
    payload: dict[str, Any],
    settings: ActivitySettings,
    view: dict[str, Any] | None = None,
    plan: Plan | None = None,
) -> dict[str, Any]:
    """`payload` (the target's `project(guest)`) with the mapped computed properties;
    `target_type` picks the defaults when the config names no properties for the target.
    `plan`: `property_plan` of the target, if the caller has it."""
    ttype, props = plan or property_plan(target_name, target_type, settings)
    if not props:
        return payload
    if view is None:
        view = guest_view(store, guest_id, settings)
    return crm_properties.merge(payload, crm_properties.properties(props, view, target_type=ttype))
