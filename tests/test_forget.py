"""`forget`: every local trace goes except the salted hash, the CRM's delete endpoint is
called, the request is logged, and later records about the guest are suppressed unless
the guest consents again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from guestsync.actions.forget import forget
from guestsync.config.connectors import DeliveryRetryOptions, HubSpotTargetOptions
from guestsync.connectors.hubspot import HubSpotTarget
from guestsync.delivery.batches import deliver
from guestsync.models import Consent, Entity, Guest, InboxEntry, SourceRecord
from guestsync.restaurant import privacy
from guestsync.store import Store
from guestsync.testing import FakeHubSpot, ServerThread

from .activity_fixtures import feed, settings
from .test_aggregates import AMY_RECORDS


class NoDeleteTarget(HubSpotTarget):
    """A target without the delete capability (as a CRM with no delete API)."""

    delete = None  # type: ignore[assignment]


@pytest.fixture
def crm() -> Iterator[tuple[FakeHubSpot, str]]:
    fake = FakeHubSpot()
    with ServerThread(fake.app) as server:
        yield fake, server.url


BOB = SourceRecord(
    source="booking",
    stream="bookings",
    external_id="B1",
    entity=Entity.guest,
    guest=Guest(full_name="Bob Wu", email="bob@example.com"),
)


def _setup(url: str, target_cls: type = HubSpotTarget) -> tuple[Store, dict]:
    store = Store.open(":memory:")
    opts = HubSpotTargetOptions(type="hubspot", token="test-token", base_url=url)
    targets = {"hubspot": target_cls("hubspot", opts)}
    feed(store, [*AMY_RECORDS, BOB], targets=targets, activity=settings())
    stats = deliver(
        store, targets["hubspot"], DeliveryRetryOptions(initial_wait=0), sleep=lambda s: None
    )
    assert stats.pushed == 2
    return store, targets


def test_forget_removes_every_trace_but_the_hash_and_reaches_the_crm(crm):
    fake, url = crm
    store, targets = _setup(url)
    amy = store.guest_ids_by_contact(email="amy@example.com").pop()
    assert len(fake.contacts) == 2
    # A row that was rejected (never linked to her) still names her.
    store.add_to_inbox([InboxEntry("site", "b", "X9", "h", '{"Email": "AMY@Example.com"}', "t")])
    (bad,) = store.pending_inbox(limit=10)
    store.mark_inbox_error(bad.id, "bad phone")
    # A webhook body that was not JSON, kept in quarantine, names her too.
    store.quarantine(
        "site", reason="not JSON", body=b"email=AMY@Example.com&x", content_type="text/plain",
        headers={},
    )  # fmt: skip
    store.quarantine("site", reason="not JSON", body=b"<bob/>", content_type="text/xml", headers={})
    result = forget(store, targets, sleep=lambda s: None, email=" AMY@example.com ")
    assert result.guest_ids == [amy] and result.complete
    assert result.targets["hubspot"] == {"status": "deleted", "count": 1}
    assert fake.counts["gdpr_deleted"] == 1 and len(fake.contacts) == 1  # Bob stays
    for trace in (amy, "amy@example.com", "+886912000111", "Amy Lin", "Lovely lunch", "R1"):
        assert store.rows_mentioning(trace) == {}, trace
    assert store.get_guest(amy) is None
    assert store.inbox_errors() == []
    assert [q.body for q in store.quarantined()] == [b"<bob/>"]
    assert len(store.all_guest_ids()) == 1  # Bob
    assert {k for k, _ in store.suppression_hashes()} == {"email", "phone"}
    (log,) = store.forget_log()
    assert log["status"] == "done" and log["guests"] == 1 and log["rows_deleted"] > 10
    assert "amy" not in log["selector"].lower()


def test_later_records_are_suppressed_unless_the_guest_consents_again(crm):
    _, url = crm
    store, targets = _setup(url)
    forget(store, targets, sleep=lambda s: None, phone="0912-000-111")
    again = feed(store, AMY_RECORDS[:2], targets=targets)
    assert again.suppressed == 2 and again.processed == 0
    assert store.guest_ids_by_contact(email="amy@example.com") == set()
    assert store.rows_mentioning("amy@example.com") == {}  # the raw rows were cleared too
    later = datetime.now(UTC) + timedelta(days=1)
    back = AMY_RECORDS[0].model_copy(
        update={
            "external_id": "R9",
            "guest": Guest(
                email="amy@example.com", marketing_consent=Consent(granted=True, at=later)
            ),
        }
    )
    stats = feed(store, [back], targets=targets)
    assert stats.processed == 1 and stats.suppressed == 0
    assert store.guest_ids_by_contact(email="amy@example.com")


def test_a_target_without_delete_is_reported_for_manual_deletion(crm):
    fake, url = crm
    store, targets = _setup(url, NoDeleteTarget)
    amy = store.guest_ids_by_contact(email="amy@example.com").pop()
    crm_id = store.crm_id("hubspot", amy)
    result = forget(store, targets, sleep=lambda s: None, guest_id=amy)
    assert not result.complete
    assert result.targets["hubspot"] == {"status": "unsupported", "crm_ids": [crm_id]}
    assert store.forget_log()[0]["status"] == "partial"
    assert store.rows_mentioning("amy@example.com") == {}  # local data is gone regardless
    assert len(fake.contacts) == 2 and fake.counts["gdpr_deleted"] == 0


def test_mask_hides_emails_and_phones_but_not_dates():
    text = "amy.lin@example.com, +886912345678, 0912-345-678, +852 9123 4567 on 2026-03-01"
    assert privacy.mask(text) == (
        "a***@example.com, +88691****678, 09*****678, +85291***567 on 2026-03-01"
    )


def test_log_masking_applies_to_every_logger(caplog):
    import logging

    privacy.install_log_masking()
    with caplog.at_level(logging.INFO):
        logging.getLogger("guestsync.anything").info("guest %s called", "amy@example.com")
    assert "a***@example.com" in caplog.text and "amy@example.com" not in caplog.text


@pytest.mark.parametrize(
    ("ttype", "deletes"),
    [
        ("hubspot", True),  # GDPR delete
        ("salesforce", True),
        ("zoho", True),
        ("bottlecrm", True),
        ("fxiaoke", False),  # no delete built: forget lists the CRM ids to delete by hand
        ("kingdee", False),
        ("rest", False),
    ],
)
def test_which_target_types_forget_can_delete_in(ttype, deletes):
    from guestsync.connectors import TARGETS

    assert callable(getattr(TARGETS[ttype], "delete", None)) is deletes


def test_a_delete_the_crm_throttles_once_is_retried_at_once(crm):
    """Forget deletes through delivery: the same retry policy and pacing as any push."""
    from guestsync.testing import FaultPlan

    fake, url = crm
    store, targets = _setup(url)
    fake.faults = FaultPlan(script=[429])  # the GDPR delete call is throttled once
    waits: list[float] = []
    result = forget(store, targets, email="amy@example.com", sleep=waits.append)
    assert result.targets["hubspot"] == {"status": "deleted", "count": 1} and result.complete
    assert fake.counts["gdpr_deleted"] == 1 and len(waits) == 1
    assert store.pending_ops("hubspot") == []


def test_a_delete_the_crm_throttles_is_queued_and_done_by_the_next_delivery_run(crm):
    from guestsync.testing import FaultPlan

    fake, url = crm
    store, targets = _setup(url)
    fake.faults = FaultPlan(script=[429] * 6)  # throttled for every try of this run
    result = forget(store, targets, sleep=lambda s: None, email="amy@example.com")
    assert result.targets["hubspot"]["status"] == "queued" and not result.complete
    assert fake.counts["gdpr_deleted"] == 0
    assert store.rows_mentioning("amy@example.com") == {}  # local data is gone regardless
    for gid in result.guest_ids:
        assert set(store.rows_mentioning(gid)) <= {"forget_log"}
    stats = deliver(
        store, targets["hubspot"], DeliveryRetryOptions(initial_wait=0), sleep=lambda s: None
    )
    assert stats.deleted == 1 and fake.counts["gdpr_deleted"] == 1 and len(fake.contacts) == 1
