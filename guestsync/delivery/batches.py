"""Stage 4: push pending outbox rows to a target in batches, with retry, per-record results.

Delivery is at-least-once; the targets upsert by our stable guest id, so the CRM sees each
guest once. The engine, not the connector, decides what a failure means:

- a whole call failing transiently (429 honouring Retry-After, 5xx, timeout, reset, a 2xx
  with an unreadable body) is retried with exponential backoff and jitter (`retry.py`),
  but its waits do not block: the batch waits in a backlog (`backlog.py`) while the next
  batches are sent, so one batch the CRM keeps failing on holds back no other beyond the
  shared rate. Out of tries, the batch stays pending (one attempt counted). Only
  `STOP_AFTER_FAILED_BATCHES` giving up in a row stop the target for this run (the CRM is
  likely down), and no more than that many wait in the backlog at once;
- credentials refused (AuthError, after the connector's own token refresh) stop the
  target with one clear error naming how many records wait; no record is touched;
- one process delivers to a target at a time (`lease.py`): a second sync leaves the
  target to the first instead of sending the same records again;
- what is still pending after the run is counted (`pending_left`, with `pending_why`), so
  that `sync` can say so and exit non-zero instead of reporting success;
- a whole batch rejected as sent (PermanentError) is split in halves until the bad records
  are alone, so one malformed record cannot sink its 199 neighbours;
- a record the CRM rejects becomes a dead letter with the CRM's own message; a record it
  answers "try again" for is retried in a later pass of this run;
- a record past the target's `give_up_after_attempts` or `give_up_after_hours` becomes a
  dead letter too (`guestsync dead-letters retry` puts it back).

Every call first takes a token from the account's shared rate budget (`rate_budget.py`);
targets that make several HTTP requests per call (`pace_requests`) take one per request.
After the upserts, merges and deletes queued for the target are carried out
(`delivery_ops.py`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..config.connectors import DeliveryRetryOptions
from ..connectors.base import RecordResult, Target
from ..connectors.retry import RetryPolicy, call_with_retry
from ..errors import AuthError, PermanentError, QuotaExhaustedError, RetryableError
from ..models import OutboxItem
from ..store import CrmOp, ts, utcnow
from ..store.protocols import DeliveryStore
from .backlog import Backlog, Parked
from .crm_ops import carry_out_ops, run_deletes, supports_delete
from .lease import DeliveryLease

MAX_PASSES = 3  # passes over the queue per run, for records the CRM asked to resend
STOP_AFTER_FAILED_BATCHES = 2  # whole batches failing in a row (after retries): CRM down
QUOTA_PAUSE = "quota_paused_until:{target}"  # meta key: when the target's used-up quota resets


@dataclass
class DeliveryStats:
    target: str
    pushed: int = 0
    created: int = 0
    dead: int = 0
    deferred: int = 0
    retries: int = 0
    batches: int = 0
    merged: int = 0
    deleted: int = 0
    expired: int = 0  # dead-lettered for too many attempts or too long pending
    stopped: str | None = None  # why delivery to this target stopped early, if it did
    skipped: str | None = None  # another process holds the target's delivery lease
    pending_left: int = 0  # records still pending for this target after the run
    pending_why: str | None = None  # the last reason one of them was not delivered
    errors: list[str] = field(default_factory=list)


class StopTarget(Exception):
    """Internal: this target is done for this run (reason in stats.stopped)."""


@dataclass
class Delivery:
    """One run of deliveries to one target. Use `deliver()`."""

    store: DeliveryStore
    target: Target
    retry: DeliveryRetryOptions
    sleep: Callable[[float], None] = time.sleep
    pace: Callable[[], object] | None = None  # takes a token from the shared rate budget
    clock: Callable[[], float] = time.monotonic  # when a parked batch is due
    stats: DeliveryStats = field(init=False)
    refused: list[tuple[OutboxItem, str]] = field(init=False, default_factory=list)
    call_pace: Callable[[], object] | None = field(init=False, default=None)
    failed_in_a_row: int = field(init=False, default=0)
    lease: DeliveryLease | None = field(init=False, default=None)
    policy: RetryPolicy = field(init=False)
    backlog: Backlog = field(init=False)

    def __post_init__(self) -> None:
        self.stats = DeliveryStats(self.target.name)
        self.policy = RetryPolicy(self.retry)
        self.backlog = Backlog(clock=self.clock, limit=STOP_AFTER_FAILED_BATCHES)
        self.call_pace = self.pace
        hand_over = getattr(self.target, "pace_requests", None)
        if callable(hand_over):  # a target making several requests per call paces each
            hand_over(self.pace)
            self.call_pace = None

    def call(self, fn: Callable[[], object]) -> object:
        """One remote call: paced, retried on transient failure (the engine's policy)."""

        def attempt() -> object:
            if self.call_pace is not None:
                self.call_pace()
            return fn()

        def on_retry(exc: BaseException, wait: float) -> None:
            self.stats.retries += 1

        return call_with_retry(attempt, self.retry, sleep=self.sleep, on_retry=on_retry)

    def run(self) -> DeliveryStats:
        self.lease = DeliveryLease(self.store, self.target.name)
        if not self.lease.take():
            self.stats.skipped = (
                f"{self.target.name}: another guestsync process (pid "
                f"{self.lease.holder_pid()}) is delivering to it; left to that one"
            )
            return self.stats
        try:
            self.run_leased()
        finally:
            self.lease.release()
        self.stats.pending_left = self.store.outbox_counts(self.target.name).get("pending", 0)
        if self.stats.pending_left and not self.stats.pending_why:
            self.stats.pending_why = self.stats.stopped or "not sent in this run"
        return self.stats

    def run_leased(self) -> None:
        try:
            self.check_quota_pause()
            self.expire_overdue()
            # Merges first: the keeper's push may carry the loser's email, which the CRM
            # refuses while the loser's record still holds it. Then again after the
            # upserts, for keepers that only now reached the CRM.
            carry_out_ops(self)
            for _ in range(MAX_PASSES):
                if not self.one_pass():
                    break
            carry_out_ops(self)
        except StopTarget:
            self.shelve_backlog()

    def shelve_backlog(self) -> None:
        """The target stopped with batches still waiting out a backoff: each counts the
        failed attempt it had, as if its tries had run out."""
        with self.store.atomic():
            for unit in self.backlog.drain():
                self.store.mark_attempt_failed(list(unit.items), unit.error)
                self.stats.deferred += len(unit.items)

    def expire_overdue(self) -> None:
        cutoff = ts(utcnow() - timedelta(hours=self.retry.give_up_after_hours))
        rows = self.store.overdue_outbox(
            self.target.name,
            max_attempts=self.retry.give_up_after_attempts,
            pending_before=cutoff,
        )
        with self.store.atomic():
            for oid, tgt, gid, payload, phash, attempts, last_error, since in rows:
                item = OutboxItem(oid, tgt, gid, payload, phash, attempts, None, since)
                why = (
                    f"gave up after {attempts} failed attempt(s)"
                    if attempts >= self.retry.give_up_after_attempts
                    else f"gave up: pending since {since}"
                )
                self.dead_letter(item, f"{why}; last error: {last_error or 'none'}")
                self.stats.expired += 1

    def one_pass(self) -> bool:
        """Send everything pending once; True if some records asked to be sent again.
        Batches waiting out a backoff are sent again when due, between fresh ones."""
        again = False
        after = 0
        fresh = True
        while True:
            unit = self.backlog.due()
            if unit is None and fresh and self.backlog.room(self.failed_in_a_row):
                batch = self.store.pending_outbox(
                    self.target.name, limit=self.target.max_batch, after_id=after
                )
                if batch:
                    after = batch[-1].id
                    self.stats.batches += 1
                    unit = Parked(0.0, -1, batch)
                else:
                    fresh = False
            if unit is None:
                if not self.backlog:
                    return again
                unit = self.backlog.wait_for_next(self.sleep)
            if self.lease is not None:
                self.lease.renew()
            again |= self.send(unit.items, tries=unit.tries)
            self.settle_refused(unit.items)

    def send(self, batch: Sequence[OutboxItem], *, tries: int = 0) -> bool:
        """One try of one batch (`tries` already failed); a transient failure parks it in
        the backlog, to be tried again after its backoff."""
        try:
            if self.call_pace is not None:
                self.call_pace()
            results = self.target.upsert(batch)
        except AuthError as exc:
            pending = self.store.outbox_counts(self.target.name).get("pending", 0)
            self.stop(
                f"{self.target.name}: credentials refused ({exc.status or 'auth'}): "
                f"{pending} pending; fix the target's credentials ({exc})"
            )
        except QuotaExhaustedError as exc:  # not the records' fault: no attempt is counted
            self.stats.deferred += len(batch)
            self.quota_stop(exc)
        except RetryableError as exc:
            wait = self.policy.wait_after(tries + 1, exc)
            if wait is not None:
                self.stats.retries += 1
                self.backlog.park(batch, tries=tries + 1, wait=wait, error=str(exc))
                return False
            with self.store.atomic():
                self.store.mark_attempt_failed(batch, str(exc))
            self.stats.deferred += len(batch)
            self.stats.pending_why = f"a batch failed after retries: {exc}"
            self.stats.errors.append(f"batch of {len(batch)} deferred: {exc}")
            self.failed_in_a_row += 1
            if self.failed_in_a_row >= STOP_AFTER_FAILED_BATCHES:
                self.stop(f"gave up for this run after retries: {exc}")
            return False
        except PermanentError as exc:
            if len(batch) > 1:  # find the record(s) the CRM objects to
                half = len(batch) // 2
                return self.send(batch[:half]) | self.send(batch[half:])
            self.refused.append((batch[0], str(exc)))  # settled per batch: settle_refused
            return False
        assert isinstance(results, list)
        self.failed_in_a_row = 0
        return self.apply(batch, results)

    def settle_refused(self, batch: Sequence[OutboxItem]) -> None:
        """Dead-letter the records a whole-call refusal (400) was bisected down to. If every
        record of a batch was refused alone too, the request is wrong, not the data (a
        property the CRM lacks, a setting): they stay pending with the CRM's reason and
        the target stops, instead of dead-lettering the batch now and the next one at
        the next run."""
        refused, self.refused = self.refused, []
        if not refused:
            return
        if len(batch) >= 4 and len(refused) == len(batch):
            with self.store.atomic():
                self.store.mark_attempt_failed(list(batch), refused[-1][1])
            self.stats.deferred += len(batch)
            self.stats.errors.append(refused[-1][1])
            self.stop(
                f"{self.target.name} refused every record of a batch one by one; nothing "
                f"was dead-lettered: check the target's settings (last: {refused[-1][1]})"
            )
        with self.store.atomic():
            for item, error in refused:
                self.dead_letter(item, error)

    def apply(self, batch: Sequence[OutboxItem], results: list[RecordResult]) -> bool:
        by_id = {item.guest_id: item for item in batch}
        again = False
        with self.store.atomic():
            for r in results:
                item = by_id.pop(r.guest_id, None)
                if item is None:
                    continue
                if r.ok and r.crm_id:
                    self.store.mark_delivered(item, r.crm_id)
                    self.stats.pushed += 1
                    self.stats.created += r.created
                elif r.retryable and item.attempts + 1 < self.retry.give_up_after_attempts:
                    self.store.mark_attempt_failed([item], r.error or "failed")
                    self.stats.deferred += 1
                    self.stats.pending_why = f"the CRM asked to resend: {r.error or 'failed'}"
                    again = True
                else:
                    self.dead_letter(item, r.error or "rejected")
            if by_id:  # a connector that answered fewer results than inputs
                self.store.mark_attempt_failed(list(by_id.values()), "no result returned")
                self.stats.deferred += len(by_id)
                again = True
        return again

    def check_quota_pause(self) -> None:
        """A quota used up in an earlier run, maybe by another process (cron), keeps the
        target paused until it resets: no call is made, no record expires meanwhile."""
        until = quota_paused_until(self.store, self.target.name)
        if until:
            self.stop(f"quota used up, delivery to {self.target.name} paused until {until}")

    def quota_stop(self, exc: QuotaExhaustedError) -> None:
        """Stop for this run and remember until when the quota is used up."""
        if isinstance(exc.resets_at, datetime):
            with self.store.atomic():
                self.store.set_meta(QUOTA_PAUSE.format(target=self.target.name), ts(exc.resets_at))
        self.stop(f"quota used up, delivery to {self.target.name} paused: {exc}")

    def dead_letter(self, item: OutboxItem, error: str) -> None:
        self.store.dead_letter(item, error)
        self.stats.dead += 1
        self.stats.errors.append(f"{item.guest_id}: {error}")

    def stop(self, reason: str) -> None:
        self.stats.stopped = reason
        raise StopTarget(reason)


def quota_paused_until(store: DeliveryStore, target: str) -> str | None:
    """When a paused target's used-up quota resets (stored UTC time), or None if not paused."""
    until = store.get_meta(QUOTA_PAUSE.format(target=target))
    return until if until and until > ts() else None


def lift_quota_pause(store: DeliveryStore, target: str) -> str | None:
    """Deliver to `target` again before its quota resets (e.g. the vendor raised it).
    Returns the pause that was lifted, or None if the target was not paused."""
    with store.atomic():
        until = quota_paused_until(store, target)
        store.delete_meta(QUOTA_PAUSE.format(target=target))
    return until


def deliver(
    store: DeliveryStore,
    target: Target,
    retry: DeliveryRetryOptions,
    *,
    sleep: Callable[[float], None] = time.sleep,
    pace: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryStats:
    """Deliver what is pending for `target`: upserts, then queued merges and deletes."""
    return Delivery(store, target, retry, sleep=sleep, pace=pace, clock=clock).run()


@dataclass(frozen=True)
class DeleteOutcome:
    """What became of one target's queued deletes, sent at once (`delete_now`)."""

    status: str  # deleted | queued (the CRM said "later") | failed | unsupported
    deleted: int = 0
    crm_ids: list[str] = field(default_factory=list)  # not deleted: to retry, or by hand
    error: str | None = None


def delete_now(
    store: DeliveryStore,
    target: Target,
    ops: list[CrmOp],
    retry: DeliveryRetryOptions,
    *,
    sleep: Callable[[float], None] = time.sleep,
    pace: Callable[[], object] | None = None,
) -> DeleteOutcome:
    """Send `ops`, queued deletes of `target`, now, with the same retry and pacing as any
    delivery. What the CRM answers "later" (rate limit, 5xx, quota, credentials) stays
    queued for the next delivery run; a refused one is dead, with the CRM's reason."""
    d = Delivery(store, target, retry, sleep=sleep, pace=pace)
    with contextlib.suppress(StopTarget):
        for i in range(0, len(ops), max(1, target.max_batch)):
            run_deletes(d, ops[i : i + target.max_batch])
    ends = store.op_outcomes([op.id for op in ops])  # id -> (status, last error)
    crm_ids = {
        s: [op.crm_id or "" for op in ops if ends[op.id][0] == s] for s in ("dead", "pending")
    }
    if not supports_delete(target):
        return DeleteOutcome("unsupported", crm_ids=[op.crm_id or "" for op in ops])
    done = sum(status == "done" for status, _ in ends.values())
    errors = [e for status, e in ends.values() if status != "done" and e]
    error = next(iter(errors), None)
    if crm_ids["dead"]:
        return DeleteOutcome("failed", done, crm_ids["dead"] + crm_ids["pending"], error)
    if crm_ids["pending"]:
        return DeleteOutcome("queued", done, crm_ids["pending"], d.stats.stopped or error)
    return DeleteOutcome("deleted", done)
