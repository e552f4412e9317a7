"""The delivery engine's decisions, against in-process stub targets and real SQLite."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from guestsync.actions.forget import forget
from guestsync.config.connectors import DeliveryRetryOptions
from guestsync.connectors.base import CrmRef, RecordResult
from guestsync.delivery.batches import deliver
from guestsync.delivery.rate_budget import SharedRateLimiter
from guestsync.errors import AuthError, PermanentError, RateLimitedError
from guestsync.models import Guest, OutboxItem
from guestsync.store import Store

RETRY = DeliveryRetryOptions(max_attempts=3, initial_wait=0, max_wait=0)


class Stub:
    """A target answering from rules; records every call."""

    name = "stub"
    max_batch = 10
    rate = None

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.bad: set[str] = set()  # refused per record
        self.poison: set[str] = set()  # make the whole call fail (400)
        self.flaky: dict[str, int] = {}  # answer "retry" this many times
        self.auth_broken = False
        self.merges: list[tuple[str, str]] = []
        self.deleted: list[str] = []

    def project(self, guest: Guest) -> dict:
        return {"name": guest.full_name}

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        ids = [i.guest_id for i in batch]
        self.calls.append(ids)
        if self.auth_broken:
            raise AuthError("stub: HTTP 401: token revoked", status=401)
        if self.poison & set(ids):
            raise PermanentError("stub: HTTP 400: malformed record", status=400)
        out = []
        for gid in ids:
            if gid in self.bad:
                out.append(RecordResult(gid, ok=False, error="INVALID_EMAIL: nope"))
            elif self.flaky.get(gid, 0) > 0:
                self.flaky[gid] -= 1
                out.append(RecordResult(gid, ok=False, retryable=True, error="locked"))
            else:
                out.append(RecordResult(gid, ok=True, crm_id=f"c-{gid}", created=True))
        return out

    def merge(self, keep: CrmRef, lose: CrmRef) -> RecordResult:
        self.merges.append((keep.crm_id, lose.crm_id))
        return RecordResult(keep.guest_id, ok=True, crm_id=keep.crm_id)

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]:
        self.deleted += [r.crm_id for r in refs]
        return [RecordResult(r.guest_id, ok=True, crm_id=r.crm_id) for r in refs]


def _queue(store: Store, target: Stub, ids: list[str]) -> None:
    with store.atomic():
        for gid in ids:
            store.enqueue(target.name, gid, {"name": gid}, f"h-{gid}")


def test_auth_failure_stops_the_target_with_one_error_and_touches_no_record(store):
    t = Stub()
    t.auth_broken = True
    _queue(store, t, [f"g{i}" for i in range(25)])
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert len(t.calls) == 1  # no retry, no further batch
    assert stats.stopped and "credentials refused" in stats.stopped and "401" in stats.stopped
    assert stats.dead == 0 and store.dead_letters() == []
    assert store.outbox_counts("stub") == {"pending": 25}


def test_a_malformed_record_is_isolated_by_splitting_the_batch(store):
    t = Stub()
    t.poison = {"g3"}
    _queue(store, t, [f"g{i}" for i in range(10)])
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.pushed == 9 and stats.dead == 1 and stats.stopped is None
    (dl,) = store.dead_letters()
    assert dl.guest_id == "g3" and "malformed record" in dl.error


def test_a_request_refused_for_every_record_stops_the_target(store):
    t = Stub()
    t.poison = {f"g{i}" for i in range(30)}
    _queue(store, t, [f"g{i}" for i in range(30)])
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.stopped and "check the target's settings" in stats.stopped
    # the request is wrong, not the data: nothing is dead-lettered (issue 23: 100 dead
    # letters per run), the records wait with the CRM's reason
    assert stats.dead == 0 and store.dead_letters() == []
    assert store.outbox_counts("stub")["pending"] == 30


def test_per_record_retry_is_resent_in_the_same_run_then_dead_lettered(store):
    t = Stub()
    t.flaky = {"g1": 1, "g2": 99}
    t.bad = {"g3"}
    _queue(store, t, ["g0", "g1", "g2", "g3"])
    retry = RETRY.model_copy(update={"give_up_after_attempts": 3})
    stats = deliver(store, t, retry, sleep=lambda s: None)
    assert store.crm_id("stub", "g1") == "c-g1"
    assert {d.guest_id: d.error for d in store.dead_letters()} == {
        "g3": "INVALID_EMAIL: nope",
        "g2": "locked",
    }
    assert stats.pushed == 2 and stats.dead == 2


def test_records_past_max_attempts_or_max_age_become_dead_letters(store):
    t = Stub()
    _queue(store, t, ["old", "tired", "fresh"])
    items = {i.guest_id: i for i in store.pending_outbox("stub", limit=10)}
    store.mark_attempt_failed([items["tired"]] * 5, "HTTP 500")
    store.conn.execute(
        "UPDATE outbox SET pending_since = '2000-01-01T00:00:00+00:00' WHERE guest_id = 'old'"
    )
    retry = RETRY.model_copy(update={"give_up_after_attempts": 5, "give_up_after_hours": 24})
    stats = deliver(store, t, retry, sleep=lambda s: None)
    assert stats.expired == 2 and stats.pushed == 1
    errors = {d.guest_id: d.error for d in store.dead_letters()}
    assert errors["tired"].startswith("gave up after 5 failed attempt(s); last error: HTTP 500")
    assert errors["old"].startswith("gave up: pending since 2000-01-01")


def test_retry_honours_retry_after_and_paces_every_attempt(store):
    t = Stub()
    answers = [RateLimitedError("429", retry_after=7.0), None]
    real = t.upsert

    def upsert(batch):
        a = answers.pop(0)
        if a:
            raise a
        return real(batch)

    t.upsert = upsert  # type: ignore[method-assign]
    _queue(store, t, ["g0"])
    waits: list[float] = []
    paced: list[int] = []
    retry = RETRY.model_copy(update={"max_wait": 60})
    stats = deliver(
        store, t, retry, sleep=waits.append, pace=lambda: paced.append(1), clock=lambda: 100.0
    )
    assert waits == [7.0] and len(paced) == 2 and stats.pushed == 1 and stats.retries == 1


def test_one_rate_budget_is_shared_by_every_process_writing_to_an_account(tmp_path):
    now = [1000.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)

    a, b = Store.open(tmp_path / "hub.db"), Store.open(tmp_path / "hub.db")
    la = SharedRateLimiter(a, "hubspot:x", 10.0, safety=1.0, clock=lambda: now[0], sleep=sleep)
    lb = SharedRateLimiter(b, "hubspot:x", 10.0, safety=1.0, clock=lambda: now[0], sleep=sleep)
    other = SharedRateLimiter(b, "zoho:y", 10.0, safety=1.0, clock=lambda: now[0], sleep=sleep)
    # Ten calls at one instant, alternating processes: spaced 0.1 s apart in one queue.
    got = [(la if i % 2 else lb).acquire() for i in range(10)]
    assert got == pytest.approx([0.1 * i for i in range(10)])
    assert other.acquire() == 0.0  # another account has its own budget
    now[0] += 5.0  # after a pause the bucket is full again, but holds only one token
    assert la.acquire() == 0.0 and lb.acquire() == pytest.approx(0.1)
    a.close()
    b.close()


def test_guest_merge_is_carried_out_once_in_each_crm(store):
    t = Stub()
    _queue(store, t, ["keep", "lose"])
    deliver(store, t, RETRY, sleep=lambda s: None)
    with store.atomic():
        store.record_guest_merge("keep", "lose")
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert t.merges == [("c-keep", "c-lose")] and stats.merged == 1
    assert store.crm_id("stub", "lose") is None and store.crm_id("stub", "keep") == "c-keep"
    deliver(store, t, RETRY, sleep=lambda s: None)
    assert len(t.merges) == 1


def test_merge_waits_for_the_keeper_and_skips_a_loser_never_pushed(store):
    t = Stub()
    _queue(store, t, ["lose"])
    deliver(store, t, RETRY, sleep=lambda s: None)
    with store.atomic():
        store.record_guest_merge("keep", "lose")
        store.record_guest_merge("keep", "ghost")
    deliver(store, t, RETRY, sleep=lambda s: None)
    assert t.merges == []  # keeper not in the CRM yet
    _queue(store, t, ["keep"])
    deliver(store, t, RETRY, sleep=lambda s: None)
    assert t.merges == [("c-keep", "c-lose")]


def _forget(store: Store, targets: dict, guest_id: str) -> dict:
    store.save_guest(Guest(id=guest_id, full_name=guest_id))
    return forget(store, targets, guest_id=guest_id, sleep=lambda s: None).targets


def test_forget_deletes_in_each_crm_holding_the_guest(store):
    t = Stub()
    _queue(store, t, ["g1", "g2"])
    deliver(store, t, RETRY, sleep=lambda s: None)
    _queue(store, t, ["g1"])  # a queued change must not resurrect the contact
    store.conn.execute("UPDATE outbox SET payload_hash = 'new', status = 'pending'")
    assert _forget(store, {"stub": t}, "g1") == {"stub": {"status": "deleted", "count": 1}}
    assert t.deleted == ["c-g1"] and store.crm_id("stub", "g1") is None
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert "g1" not in [g for call in t.calls[1:] for g in call] and stats.pushed == 1


def test_delete_queued_while_the_crm_is_down_is_sent_by_the_next_run(store):
    t = Stub()
    _queue(store, t, ["g1"])
    deliver(store, t, RETRY, sleep=lambda s: None)
    t.auth_broken = True
    real = t.delete

    def down(refs):
        if t.auth_broken:
            raise AuthError("stub: 401", status=401)
        return real(refs)

    t.delete = down  # type: ignore[method-assign]
    outcome = _forget(store, {"stub": t}, "g1")["stub"]
    assert outcome["status"] == "queued" and outcome["crm_ids"] == ["c-g1"] and t.deleted == []
    t.auth_broken = False
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.deleted == 1 and t.deleted == ["c-g1"]


def test_retrying_the_dead_letter_of_a_guest_merged_away_queues_the_keeper(store):
    from guestsync.actions.dead_letters import retry_dead_letters

    t = Stub()
    with store.atomic():
        for gid in ("keep", "lose"):
            store.save_guest(Guest(id=gid, full_name=gid))
    _queue(store, t, ["keep", "lose"])
    t.bad.add("lose")
    deliver(store, t, RETRY, sleep=lambda s: None)
    (dl,) = store.dead_letters()
    with store.atomic():
        store.set_merged_into("lose", "keep")
    assert retry_dead_letters(store, {"stub": t}, ids=[dl.id]) == [dl.id]
    assert [i.guest_id for i in store.pending_outbox("stub", limit=10)] == ["keep"]
