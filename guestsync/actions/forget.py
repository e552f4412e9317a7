"""`guestsync forget`: delete a guest here and in every CRM (a privacy request).

Every local row about the guest goes (golden record, source links, raw inbox rows,
reservations, orders, feedback, aggregates, consent, outbox, CRM links, dead letters);
what stays is the salted hash of each email and phone in `suppressions`
(restaurant/privacy.py) and one line in `forget_log`. The guests an identity merge joined
to this one are the same person and go too.

The CRM deletes take the one delete path there is: a `crm_ops` row per CRM id, queued in
the transaction that erases the guest (under an id that is not the guest's, since every
row naming that id is gone), then sent at once by delivery with the target's retry policy
and rate budget (`delivery.batches.delete_now`). What the CRM answers "later" stays queued
and the next delivery run sends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..config.connectors import DeliveryRetryOptions
from ..connectors.base import Target
from ..delivery.batches import delete_now
from ..errors import ConfigError
from ..normalize import email_address, phone_e164
from ..restaurant.privacy import contact_hash
from ..store import Store


@dataclass
class ForgetResult:
    guest_ids: list[str]
    rows_deleted: int = 0
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # target -> outcome
    log_id: int = 0

    @property
    def complete(self) -> bool:
        return all(v.get("status") in ("deleted", "not linked") for v in self.targets.values())


def forget(
    store: Store,
    targets: Mapping[str, Target],
    *,
    email: str | None = None,
    phone: str | None = None,
    guest_id: str | None = None,
    region: str = "TW",
    retry: Mapping[str, DeliveryRetryOptions] | None = None,
    pace: Mapping[str, Callable[[], object] | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ForgetResult:
    """Forget the guest named by exactly one of `email`, `phone` or `guest_id`.

    `retry` and `pace` per target name: the delivery policy and shared rate budget the
    deletes are sent with (defaults: the default policy, no budget)."""
    if sum(x is not None for x in (email, phone, guest_id)) != 1:
        raise ConfigError("name exactly one of --email, --phone or --guest")
    salt = store.privacy_salt()
    selector_hashes: list[tuple[str, str]] = []
    try:
        if email is not None:
            email = email_address(email)
            selector_hashes.append(("email", contact_hash(salt, "email", email)))
        if phone is not None:
            phone = phone_e164(phone, region)
            selector_hashes.append(("phone", contact_hash(salt, "phone", phone)))
    except ValueError as exc:
        raise ConfigError(f"cannot forget: {exc}") from None
    if guest_id is not None:
        ids = {guest_id} if store.get_guest(guest_id) else set()
        selector = f"guest:{guest_id}"
    else:
        ids = store.guest_ids_by_contact(email=email, phone=phone)
        selector = f"{selector_hashes[0][0]}:{selector_hashes[0][1]}"
    # Identity merges: the guest this id was merged into, and every guest merged into it,
    # are the same person (their old rows and CRM contacts hold the same data).
    result = ForgetResult(sorted(store.merged_family(ids)))
    links = [store.crm_links_of(gid) for gid in result.guest_ids]
    crm_ids = {name: [lk[name] for lk in links if name in lk] for name in targets}
    hashes = list(selector_hashes)
    with store.atomic():
        contacts = {c for gid in result.guest_ids for c in store.guest_contacts(gid)}
        contacts |= {(k, v) for k, v in (("email", email), ("phone", phone)) if v}
        hashes += [(k, contact_hash(salt, k, v)) for k, v in contacts]
        for gid in result.guest_ids:
            result.rows_deleted += store.erase_guest(gid)
        # Raw rows never linked to the guest (rejected ones) may still name them. Only
        # exact spellings are found: an email in any case, a phone as E.164.
        result.rows_deleted += store.erase_raw_mentions(sorted(v for _, v in contacts))
        store.add_suppressions(hashes)
        result.log_id = store.log_forget(
            selector=selector,
            guests=len(result.guest_ids),
            rows=result.rows_deleted,
            targets={},
            status="pending",
        )
        for name, ids_in_crm in crm_ids.items():
            for i, crm_id in enumerate(ids_in_crm):
                store.queue_delete(name, f"forget#{result.log_id}.{i}", crm_id)
    for name, target in targets.items():
        result.targets[name] = _delete_in(store, target, result.log_id, retry, pace, sleep)
    with store.atomic():
        status = "done" if result.complete else "partial"
        store.finish_forget_log(result.log_id, targets=result.targets, status=status)
    return result


def _delete_in(
    store: Store,
    target: Target,
    log_id: int,
    retry: Mapping[str, DeliveryRetryOptions] | None,
    pace: Mapping[str, Callable[[], object] | None] | None,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """One target's outcome: deleted | not linked | unsupported | queued | failed;
    `failed` and `unsupported` list the CRM ids to delete by hand (not personal data)."""
    mine = f"forget#{log_id}."
    ops = [o for o in store.pending_ops(target.name, kind="delete") if o.guest_id.startswith(mine)]
    if not ops:
        return {"status": "not linked"}
    policy = (retry or {}).get(target.name) or DeliveryRetryOptions()
    outcome = delete_now(
        store, target, ops, policy, sleep=sleep, pace=(pace or {}).get(target.name)
    )
    if outcome.status == "deleted":
        return {"status": "deleted", "count": outcome.deleted}
    return {k: v for k, v in asdict(outcome).items() if k != "deleted" and v is not None}
