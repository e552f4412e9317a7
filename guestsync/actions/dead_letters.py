"""Dead letters back into the outbox (`guestsync dead-letters retry`).

A retried record is projected again from the guest as it is now (the mapping or the
guest may have been fixed since), or sent as it was if the guest no longer projects.
The dead letter is kept, marked retried, for the record. A guest merged into another
since is not sent (that would recreate the contact the CRM merge removed): the guest that
absorbed it is queued instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..connectors.base import Target
from ..hashing import json_hash
from ..store import Store


def retry_dead_letters(
    store: Store,
    targets: Mapping[str, Target],
    *,
    ids: Sequence[int] = (),
    target: str | None = None,
) -> list[int]:
    """Re-queue the given dead letters (or all not yet retried, of `target` if given).

    Returns the ids re-queued. Dead letters of targets no longer configured are left.
    """
    if ids:
        letters = [d for i in ids if (d := store.dead_letter_detail(i)) is not None]
        letters = [d for d in letters if target is None or d.target == target]
    else:
        letters = store.dead_letter_details(target=target)
    done = []
    with store.atomic():
        for d in letters:
            t = targets.get(d.target)
            if t is None:
                continue
            guest_id = _surviving(store, d.guest_id)
            guest = store.get_guest(guest_id)
            payload = t.project(guest) if guest is not None else d.payload
            store.enqueue(d.target, guest_id, payload, json_hash(payload))
            store.mark_dead_letter_retried(d.id)
            done.append(d.id)
    return done


def _surviving(store: Store, guest_id: str) -> str:
    """The guest `guest_id` was merged into, following chains; itself if not merged."""
    seen = {guest_id}
    while (into := store.merged_into(guest_id)) is not None and into not in seen:
        seen.add(into)
        guest_id = into
    return guest_id
