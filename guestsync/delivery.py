"""Stage 4: push pending outbox rows to a target in batches, with retry, per-record results.

Delivery is at-least-once; the targets upsert by our stable guest id, so the CRM sees each
guest once. A batch that still fails transiently after its retries stays pending for the
next run (and stops this target for this run: it is likely down). A record the CRM rejects
permanently becomes a dead letter with the CRM's own message; the rest of the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .connector_options import RetryOptions
from .connectors.base import Target
from .errors import AuthError, PermanentError, QuotaExhaustedError, RetryableError
from .retry import call_with_retry
from .store import Store


@dataclass
class DeliveryStats:
    target: str
    pushed: int = 0
    created: int = 0
    dead: int = 0
    deferred: int = 0
    retries: int = 0
    batches: int = 0
    stopped: str | None = None  # why delivery to this target stopped early, if it did
    errors: list[str] = field(default_factory=list)


def deliver(
    store: Store,
    target: Target,
    retry: RetryOptions,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryStats:
    stats = DeliveryStats(target.name)

    def on_retry(exc: BaseException, wait: float) -> None:
        stats.retries += 1

    after = 0
    while batch := store.pending_outbox(target.name, limit=target.max_batch, after_id=after):
        after = batch[-1].id
        stats.batches += 1
        try:
            results = call_with_retry(
                lambda b=batch: target.upsert(b), retry, sleep=sleep, on_retry=on_retry
            )
        except QuotaExhaustedError as exc:  # not the records' fault: keep them, count nothing
            stats.deferred += len(batch)
            stats.stopped = f"quota used up, delivery paused: {exc}"
            break
        except RetryableError as exc:
            with store.atomic():
                store.mark_attempt_failed(batch, str(exc))
            stats.deferred += len(batch)
            stats.stopped = f"gave up for this run after retries: {exc}"
            break
        except AuthError as exc:
            stats.stopped = f"credentials refused, delivery stopped: {exc}"
            break
        except PermanentError as exc:
            with store.atomic():
                for item in batch:
                    store.dead_letter(item, str(exc))
            stats.dead += len(batch)
            stats.errors.append(str(exc))
            continue
        by_id = {item.guest_id: item for item in batch}
        with store.atomic():
            for r in results:
                item = by_id[r.guest_id]
                if r.ok and r.crm_id:
                    store.mark_delivered(item, r.crm_id)
                    stats.pushed += 1
                    stats.created += r.created
                elif r.retryable:
                    store.mark_attempt_failed([item], r.error or "failed")
                    stats.deferred += 1
                else:
                    store.dead_letter(item, r.error or "rejected")
                    stats.dead += 1
                    stats.errors.append(f"{item.guest_id}: {r.error}")
    return stats
