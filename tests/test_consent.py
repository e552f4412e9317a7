"""Consent per channel: the newest statement wins, an opt-out wins a tie, arrival order
does not matter, and the CRM payload carries the statement in force."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.connectors.hubspot import HubSpotTarget
from guestsync.models import Consent, Entity, Guest, SourceRecord
from guestsync.restaurant import aggregates, hooks
from guestsync.restaurant.consent import Statement, effective
from guestsync.store import Store

from .activity_fixtures import feed, settings

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)


def _rec(ext: str, *, source: str = "site", **consents: Consent) -> SourceRecord:
    return SourceRecord(
        source=source,
        stream="guests",
        external_id=ext,
        entity=Entity.guest,
        guest=Guest(email="mei@example.com", **consents),
    )


def _state(records: list[SourceRecord]) -> dict[str, Statement]:
    store = Store.open(":memory:")
    feed(store, records)
    (gid,) = store.all_guest_ids()
    return hooks.consent_state(store, gid)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_an_older_opt_in_never_overrides_a_newer_opt_out_whatever_the_arrival_order(order):
    recs = [
        _rec("a", marketing_consent=Consent(granted=True, at=T1, source="pos")),
        _rec("b", marketing_consent=Consent(granted=False, at=T2, source="unsubscribe")),
    ]
    state = _state([recs[i] for i in order])
    assert state["email"].granted is False and state["sms"].granted is False
    assert state["email"].source == "unsubscribe" and state["email"].at == T2


def test_a_newer_opt_in_does_override_an_older_opt_out():
    state = _state(
        [
            _rec("a", email_consent=Consent(granted=False, at=T1)),
            _rec("b", email_consent=Consent(granted=True, at=T2)),
        ]
    )
    assert state["email"].granted is True and "sms" not in state


def test_opt_out_wins_a_tie():
    both = [Statement("email", True, T1, "a"), Statement("email", False, T1, "b")]
    assert effective(both)["email"].granted is False
    assert effective(list(reversed(both)))["email"].granted is False


def test_channels_are_independent_and_specific_beats_general_in_one_record():
    state = _state(
        [
            _rec(
                "a",
                marketing_consent=Consent(granted=True, at=T1),
                sms_consent=Consent(granted=False, at=T1),
            ),
        ]
    )
    assert state["email"].granted is True and state["sms"].granted is False
    store = Store.open(":memory:")
    feed(store, [_rec("a", email_consent=Consent(granted=False, at=T1, source="form"))])
    (gid,) = store.all_guest_ids()
    assert aggregates.summary(store, gid)["email marketing"] == "opt-out (form, 2026-01-01)"


def test_a_statement_without_a_time_counts_from_when_it_was_seen():
    store = Store.open(":memory:")
    feed(store, [_rec("a", marketing_consent=Consent(granted=False, at=T2))])
    # No time of its own: counts as said when seen (now, 2026-03-20), so it is newer.
    rec = _rec("b", marketing_consent=Consent(granted=True)).model_copy(
        update={"updated_at": datetime(2026, 3, 20, tzinfo=UTC)}
    )
    feed(store, [rec])
    (gid,) = store.all_guest_ids()
    assert hooks.consent_state(store, gid)["email"].granted is True


def test_the_payload_carries_the_consent_in_force():
    store = Store.open(":memory:")
    target = HubSpotTarget("hubspot", HubSpotTargetOptions(type="hubspot", token="t"))
    s = settings(target_types={"hubspot": "hubspot"})
    feed(
        store,
        [
            _rec("b", marketing_consent=Consent(granted=False, at=T2)),
            _rec("a", marketing_consent=Consent(granted=True, at=T1)),
        ],
        targets={"hubspot": target},
        activity=s,
    )
    (item,) = store.pending_outbox("hubspot", limit=10)
    assert item.payload["gs_email_opt_in"] == "false"
    assert item.payload["gs_sms_opt_in"] == "false"
