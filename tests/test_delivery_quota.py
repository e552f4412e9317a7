"""A CRM's used-up daily quota pauses the target for upserts, merges and deletes alike:
one clear stop reason, nothing dead-lettered, no attempt counted against any record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from guestsync.actions.forget import forget
from guestsync.config.connectors import DeliveryRetryOptions
from guestsync.connectors.base import CrmRef, RecordResult
from guestsync.delivery.batches import QUOTA_PAUSE, deliver
from guestsync.errors import QuotaExhaustedError
from guestsync.models import Guest, OutboxItem
from guestsync.store import Store, ts

RETRY = DeliveryRetryOptions(max_attempts=3, initial_wait=0, max_wait=0)
RESET = datetime(2030, 1, 2, tzinfo=UTC)


class QuotaStub:
    """Upserts work until `exhausted`; then every call answers "daily quota used up"."""

    name = "quota"
    max_batch = 10
    rate = None

    def __init__(self) -> None:
        self.exhausted = False
        self.calls = 0

    def _spend(self) -> None:
        self.calls += 1
        if self.exhausted:
            raise QuotaExhaustedError(
                "quota: daily API quota used up", retry_after=3600.0, resets_at=RESET
            )

    def project(self, guest: Guest) -> dict:
        return {"name": guest.full_name}

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        self._spend()
        return [RecordResult(i.guest_id, ok=True, crm_id=f"c-{i.guest_id}") for i in batch]

    def merge(self, keep: CrmRef, lose: CrmRef) -> RecordResult:
        self._spend()
        return RecordResult(keep.guest_id, ok=True, crm_id=keep.crm_id)

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]:
        self._spend()
        return [RecordResult(r.guest_id, ok=True, crm_id=r.crm_id) for r in refs]


def _push(store: Store, t: QuotaStub, ids: list[str]) -> None:
    with store.atomic():
        for gid in ids:
            store.enqueue(t.name, gid, {"name": gid}, f"h-{gid}")
    deliver(store, t, RETRY, sleep=lambda s: None)


def _attempts(store: Store, t: QuotaStub) -> list[int]:
    return [op.attempts for op in store.pending_ops(t.name)]


def _midnight(store: Store, t: QuotaStub) -> None:
    """The quota resets: the stored pause is now in the past."""
    assert store.get_meta(QUOTA_PAUSE.format(target=t.name)) == ts(RESET)
    with store.atomic():
        store.set_meta(QUOTA_PAUSE.format(target=t.name), ts(datetime(2020, 1, 1, tzinfo=UTC)))
    t.exhausted = False


def test_a_used_up_quota_pauses_later_runs_without_calling_the_crm(store):
    t = QuotaStub()
    _push(store, t, ["g1"])
    t.exhausted = True
    with store.atomic():
        store.enqueue(t.name, "g2", {"name": "g2"}, "h-g2")
    first = deliver(store, t, RETRY, sleep=lambda s: None)
    assert first.stopped and "quota used up" in first.stopped and t.calls == 2
    for _ in range(3):  # later runs (cron, another process): no call until the reset
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.stopped and "paused until 2030-01-02" in stats.stopped
    assert t.calls == 2 and store.dead_letters() == []
    assert [i.attempts for i in store.pending_outbox(t.name, limit=10)] == [0]
    _midnight(store, t)
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.stopped is None and stats.pushed == 1


def test_a_merge_hitting_the_quota_pauses_without_counting_an_attempt(store):
    t = QuotaStub()
    _push(store, t, ["keep", "lose"])
    with store.atomic():
        store.record_guest_merge("keep", "lose")
    t.exhausted = True
    for _ in range(3):
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.stopped and "quota used up" in stats.stopped
        assert stats.dead == 0 and stats.errors == []
    assert _attempts(store, t) == [0] and t.calls == 2  # one merge call, never charged
    _midnight(store, t)
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.merged == 1 and store.pending_ops(t.name) == []


def test_a_delete_hitting_the_quota_stays_queued_without_counting_an_attempt(store):
    t = QuotaStub()
    _push(store, t, ["g1"])
    t.exhausted = True
    store.save_guest(Guest(id="g1", full_name="Amy"))
    outcome = forget(store, {t.name: t}, guest_id="g1", sleep=lambda s: None).targets[t.name]
    assert outcome["status"] == "queued" and "quota used up" in outcome["error"]
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.stopped and stats.dead == 0 and _attempts(store, t) == [0]
    _midnight(store, t)
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.deleted == 1 and store.pending_ops(t.name) == []
