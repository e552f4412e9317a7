"""Merges and deletes in the CRM: the delivery side of identity merges and of `forget`.

Both arrive as rows of `crm_ops`, never as calls from another stage:

- identity resolution, when it folds guest `lose` into guest `keep`, calls
  `store.record_guest_merge(keep, lose)` inside its transaction. Every later delivery run
  of every target queues one merge for it; a target that `SupportsMerge` and holds both
  records merges the loser's record into the keeper's (`merge(keep, lose)`) and crm_links
  follows; a target without merge support, or that never received the loser, just drops
  the loser's link. A keeper not yet in the CRM waits for its first upsert.
- `forget` (actions/forget.py) queues a delete per CRM id (`store.queue_delete`) and asks
  `batches.delete_now` to send them at once; what the CRM answers "later" stays queued and
  is sent by the next delivery run, like any other op.

The functions take an `OpRunner` (what `batches.Delivery` offers), not the Delivery
itself: the engine calls this module, and this module only calls back through the
engine's policy (retry, pacing, stopping the target).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..connectors.base import CrmRef, RecordResult, Target
from ..errors import AuthError, PermanentError, QuotaExhaustedError, RetryableError
from ..store import CrmOp
from ..store.protocols import DeliveryStore


class OpStats(Protocol):
    merged: int
    deleted: int
    errors: list[str]


class OpRunner(Protocol):
    """What carrying out an op needs of the delivery run it belongs to."""

    store: DeliveryStore
    target: Target

    @property
    def stats(self) -> OpStats: ...  # merged, deleted and errors are counted here

    def call(self, fn: Callable[[], object]) -> object: ...

    def stop(self, reason: str) -> None: ...

    def quota_stop(self, exc: QuotaExhaustedError) -> None: ...


def supports_merge(target: object) -> bool:
    return callable(getattr(target, "merge", None))


def supports_delete(target: object) -> bool:
    return callable(getattr(target, "delete", None))


def carry_out_ops(d: OpRunner) -> None:
    """Run the target's queued merges, then its queued deletes."""
    with d.store.atomic():
        d.store.queue_merges(d.target.name)
    for op in d.store.pending_ops(d.target.name, kind="merge"):
        _merge(d, op)
    deletes = d.store.pending_ops(d.target.name, kind="delete")
    for i in range(0, len(deletes), max(1, d.target.max_batch)):
        run_deletes(d, deletes[i : i + d.target.max_batch])


def _guarded(d: OpRunner, ops: list[CrmOp], fn: Callable[[], object]) -> object | None:
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


def _op_failed(d: OpRunner, op: CrmOp, error: str) -> None:
    d.store.finish_op(op.id, status="dead", error=error)
    d.stats.errors.append(f"{op.kind} {op.guest_id}: {error}")


def _merge(d: OpRunner, op: CrmOp) -> None:
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


def run_deletes(d: OpRunner, ops: list[CrmOp]) -> None:
    """Send one batch of queued deletes; each op ends done, dead, or pending for later."""
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
