"""Merges and deletes in the CRM: the delivery side of identity merges and of `forget`.

API for the other stages (small on purpose):

- identity (issue 4), when it folds guest `lose` into guest `keep`, calls
  `store.record_guest_merge(keep, lose)` inside its transaction. Every later delivery run
  of every target queues one merge for it; a target that `SupportsMerge` and holds both
  records merges the loser's record into the keeper's (`merge(keep, lose)`) and crm_links
  follows; a target without merge support, or that never received the loser, just drops
  the loser's link. A keeper not yet in the CRM waits for its first upsert.
- privacy (issue 8) calls `delete_guest_everywhere(store, targets, guest_id)`: it queues a
  delete per target that holds the guest (copying the CRM id, so forgetting the guest
  locally loses nothing), cancels queued pushes, and tries the deletes at once; what fails
  stays queued and is retried by the next delivery run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config.connectors import DeliveryRetryOptions
from ..connectors.base import CrmRef, RecordResult, Target
from ..errors import AuthError, PermanentError, QuotaExhaustedError, RetryableError
from ..store import CrmOp, Store

if TYPE_CHECKING:
    from .batches import Delivery


def supports_merge(target: object) -> bool:
    return callable(getattr(target, "merge", None))


def supports_delete(target: object) -> bool:
    return callable(getattr(target, "delete", None))


def carry_out_ops(d: Delivery) -> None:
    """Run the target's queued merges, then its queued deletes."""
    with d.store.atomic():
        d.store.queue_merges(d.target.name)
    for op in d.store.pending_ops(d.target.name, kind="merge"):
        _merge(d, op)
    deletes = d.store.pending_ops(d.target.name, kind="delete")
    for i in range(0, len(deletes), max(1, d.target.max_batch)):
        _delete(d, deletes[i : i + d.target.max_batch])


def _guarded(d: Delivery, ops: list[CrmOp], fn: Callable[[], object]) -> object | None:
    """Call through the engine's policy; a failure marks `ops` and may stop the target."""
    try:
        return d.call(fn)
    except AuthError as exc:
        d.stop(f"credentials refused, delivery to {d.target.name} stopped: {exc}")
    except QuotaExhaustedError as exc:  # not the ops' fault: no attempt is counted
        d.quota_stop(exc)
    except RetryableError as exc:
        with d.store.atomic():
            for op in ops:
                d.store.fail_op(op.id, str(exc))
        d.stop(f"gave up for this run after retries: {exc}")
    except PermanentError as exc:
        with d.store.atomic():
            for op in ops:
                _op_failed(d, op, str(exc))
    return None


def _op_failed(d: Delivery, op: CrmOp, error: str) -> None:
    d.store.finish_op(op.id, status="dead", error=error)
    d.stats.errors.append(f"{op.kind} {op.guest_id}: {error}")


def _merge(d: Delivery, op: CrmOp) -> None:
    name = d.target.name
    assert op.keep_guest_id is not None
    lose_crm = d.store.crm_id(name, op.guest_id)
    keep_crm = d.store.crm_id(name, op.keep_guest_id)
    if lose_crm is None or not supports_merge(d.target) or lose_crm == keep_crm:
        # Nothing in this CRM to merge (or it cannot): the keeper's upsert carries the data.
        with d.store.atomic():
            d.store.drop_crm_link(name, op.guest_id)
            if lose_crm is not None:  # left in the CRM: `guests show KEEPER` names it
                d.store.keep_op_crm_id(op.id, lose_crm)
            d.store.finish_op(op.id, status="done" if lose_crm is None else "skipped")
        return
    if keep_crm is None:
        return  # the keeper has not reached the CRM yet: merge after its first upsert
    keep, lose = CrmRef(op.keep_guest_id, keep_crm), CrmRef(op.guest_id, lose_crm)
    result = _guarded(d, [op], lambda: d.target.merge(keep, lose))  # type: ignore[attr-defined]
    if not isinstance(result, RecordResult):
        return
    with d.store.atomic():
        if result.ok:
            d.store.apply_crm_merge(name, op.keep_guest_id, op.guest_id, result.crm_id or keep_crm)
            d.store.finish_op(op.id)
            d.stats.merged += 1
        elif result.retryable:
            d.store.fail_op(op.id, result.error or "failed")
        else:
            _op_failed(d, op, result.error or "merge refused")


def _delete(d: Delivery, ops: list[CrmOp]) -> None:
    if not supports_delete(d.target):
        with d.store.atomic():
            for op in ops:
                _op_failed(d, op, f"{d.target.name} cannot delete records; delete it by hand")
        return
    refs = [CrmRef(op.guest_id, op.crm_id or "") for op in ops]
    results = _guarded(d, ops, lambda: d.target.delete(refs))  # type: ignore[attr-defined]
    if not isinstance(results, list):
        return
    by_guest = {r.guest_id: r for r in results}
    with d.store.atomic():
        for op in ops:
            r = by_guest.get(op.guest_id)
            if r is not None and r.ok:
                d.store.finish_op(op.id)
                d.stats.deleted += 1
            elif r is None or r.retryable:
                d.store.fail_op(op.id, (r.error if r else None) or "no result returned")
            else:
                _op_failed(d, op, r.error or "delete refused")


@dataclass(frozen=True)
class ForgetOutcome:
    target: str
    crm_id: str | None
    status: str  # deleted | queued | failed | not_in_crm | unsupported
    error: str | None = None


def delete_guest_everywhere(
    store: Store,
    targets: Mapping[str, Target],
    guest_id: str,
    *,
    retry: Mapping[str, DeliveryRetryOptions] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    pace: Mapping[str, Callable[[], object]] | None = None,
) -> list[ForgetOutcome]:
    """Delete a guest's record in every CRM that has it (privacy request), one per target.

    Queues the deletes durably first, then tries them now; anything not deleted now stays
    queued (status `queued`) for the next delivery run, or is `failed` with the reason.
    """
    from .batches import Delivery, StopTarget

    queued: list[tuple[str, str]] = []
    with store.atomic():
        for name in targets:
            crm_id = store.crm_id(name, guest_id)
            store.cancel_outbox(guest_id, status="forgotten", target=name)
            if crm_id is not None:
                store.queue_delete(name, guest_id, crm_id)
                store.drop_crm_link(name, guest_id)
                queued.append((name, crm_id))
    outcomes = [ForgetOutcome(n, None, "not_in_crm") for n in targets if n not in dict(queued)]
    for name, crm_id in queued:
        target = targets[name]
        if not supports_delete(target):
            outcomes.append(ForgetOutcome(name, crm_id, "unsupported"))
        d = Delivery(
            store,
            target,
            (retry or {}).get(name) or DeliveryRetryOptions(),
            sleep=sleep,
            pace=(pace or {}).get(name),
        )
        ops = [op for op in store.pending_ops(name, kind="delete") if op.guest_id == guest_id]
        with contextlib.suppress(StopTarget):
            _delete(d, ops)
        if not supports_delete(target):
            continue
        if d.stats.deleted:
            outcomes.append(ForgetOutcome(name, crm_id, "deleted"))
        elif d.stats.errors:
            outcomes.append(ForgetOutcome(name, crm_id, "failed", d.stats.errors[-1]))
        else:
            outcomes.append(ForgetOutcome(name, crm_id, "queued", d.stats.stopped))
    return outcomes
