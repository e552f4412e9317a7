"""`guestsync sync --dry-run`: what delivery would do, without doing it.

Per target: the contacts that would be created, updated (with the fields that change
against the payload the CRM last accepted, kept in crm_links), merged and deleted.
Reads only; nothing is sent or marked delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..store import CrmOp
from ..store.protocols import DeliveryStore


@dataclass(frozen=True)
class PlannedChange:
    guest_id: str
    crm_id: str | None
    fields: dict[str, tuple[Any, Any]]  # field -> (last pushed, would push)


@dataclass
class TargetPlan:
    target: str
    creates: list[PlannedChange] = field(default_factory=list)
    updates: list[PlannedChange] = field(default_factory=list)
    merges: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    deletes: list[CrmOp] = field(default_factory=list)
    can_merge: bool = True  # False: the CRM has no merge; the loser's contact stays

    @property
    def empty(self) -> bool:
        return not (self.creates or self.updates or self.merges or self.deletes)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    keys = sorted(set(old) | set(new))
    return {k: (old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)}


def plan_target(
    store: DeliveryStore, target: str, *, page: int = 500, can_merge: bool = True
) -> TargetPlan:
    plan = TargetPlan(target, can_merge=can_merge)
    after = 0
    while items := store.pending_outbox(target, limit=page, after_id=after):
        after = items[-1].id
        links = store.crm_link_payloads(target, [i.guest_id for i in items])
        for item in items:
            link = links.get(item.guest_id)
            if link is None:
                plan.creates.append(PlannedChange(item.guest_id, None, diff({}, item.payload)))
            else:
                crm_id, last = link
                plan.updates.append(PlannedChange(item.guest_id, crm_id, diff(last, item.payload)))
    for keep, lose in store.planned_merges(target):
        lose_crm = store.crm_id(target, lose)
        if lose_crm is not None:
            plan.merges.append((keep, lose, store.crm_id(target, keep), lose_crm))
    plan.deletes = store.pending_ops(target, kind="delete")
    return plan
