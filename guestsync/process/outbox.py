"""Stage 3: each touched guest's payload per target, queued in the outbox when its hash
changed (an unchanged guest costs no CRM call).

`queue_for_targets` projects a guest for every target (the target's own contact plus the
computed properties of `restaurant`); `refresh_all` and `daily_refresh` recompute the
aggregates that move with the calendar (segments, upcoming birthdays) and queue what
changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..connectors.base import Target
from ..hashing import canonical_json, text_hash
from ..models import Guest
from ..restaurant import hooks
from ..restaurant.hooks import ActivitySettings
from ..store import Store


def queue_for_targets(
    store: Store,
    guest_ids: set[str],
    targets: Mapping[str, Target],
    settings: ActivitySettings | None = None,
    goldens: Mapping[str, Guest] | None = None,
) -> int:
    """`goldens`: the guests' golden records, when the caller has just saved them."""
    settings = hooks.settings_for(store, settings)
    live = store.live_guests(sorted(guest_ids)) if goldens is None else goldens
    payloads: dict[str, list[tuple[str, dict[str, Any] | str, str]]] = {n: [] for n in targets}
    said = store.consent_statements_many(sorted(live))  # set-based, not a query per guest
    plans = {
        name: hooks.property_plan(
            name, getattr(getattr(target, "options", None), "type", None), settings
        )
        for name, target in targets.items()
    }
    for gid, guest in sorted(live.items()):
        view = hooks.guest_view(store, gid, settings, guest, said[gid])
        for name, target in targets.items():
            # The target's contact, plus aggregates, segment and consent (crm_properties.py)
            plan = plans[name]
            payload = hooks.enrich(
                store, name, plan[0], gid, target.project(guest), settings, view, plan
            )
            text = canonical_json(payload)  # hashed, and queued as it is
            payloads[name].append((gid, text, text_hash(text)))
    settings.fresh = {}  # this batch's aggregates are projected; later reads go to the store
    settings.fresh_loyalty = {}
    # hashes compared with the outbox's and the CRM's, set-based (store/outbox.py)
    return sum(store.enqueue_many(name, items) for name, items in payloads.items())


def refresh_all(
    store: Store,
    targets: Mapping[str, Target],
    settings: ActivitySettings,
    guest_ids: set[str] | None = None,
    *,
    queue_ids: set[str] | None = None,
    chunk: int = 1000,
) -> int:
    """Recompute the aggregates of `guest_ids` (default: every guest) and queue the
    payloads of those (or of `queue_ids`) that changed. Returns how many it queued.

    `chunk` guests per transaction, so that webhooks written meanwhile (`serve`) wait
    for one chunk, never for every guest; the day is marked done after the last one (a
    run cut short is done again, and what it queued already is not queued twice)."""
    ids = set(store.all_guest_ids()) if guest_ids is None else guest_ids
    everyone = sorted(ids | (queue_ids or set()))
    queued = 0
    for i in range(0, len(everyone), chunk):
        part = set(everyone[i : i + chunk])
        with store.atomic():
            hooks.after_batch(store, part & ids, settings)
            queued += queue_for_targets(store, part, targets, settings)
    with store.atomic():
        store.set_meta("aggregates_day", settings.today().isoformat())
        store.set_meta("queued_for", _projection(settings))
    return queued


def daily_refresh(
    store: Store, targets: Mapping[str, Target], settings: ActivitySettings, *, chunk: int = 1000
) -> int:
    """Once per local day: segments and "birthday within N days" move with the calendar
    even when no record arrives. Only guests whose `recheck_on` day has come, or whose
    aggregates were computed under other settings, are recomputed (`aggregates.recheck_on`),
    so the cost follows the guests that change, not the size of the store. When the
    targets or the property mapping changed, every guest is queued (payloads differ)."""
    if store.get_meta("aggregates_day") == settings.today().isoformat():
        return 0
    due = set(store.guests_to_recheck(settings.today(), stamp=settings.stamp))
    everyone = None
    if store.get_meta("queued_for") != _projection(settings):
        everyone = set(store.all_guest_ids())
    return refresh_all(store, targets, settings, due, queue_ids=everyone, chunk=chunk)


def _projection(settings: ActivitySettings) -> str:
    """What the payloads depend on besides the guest: targets and the property mapping."""
    targets = sorted(settings.target_types.items())
    return f"{targets}|{sorted(settings.crm.properties.items())}|{settings.stamp}"
