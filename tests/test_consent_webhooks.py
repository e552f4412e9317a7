"""Consent through signed webhooks that arrive out of order (issue 7's ordering guard):
an older Square customer state saying "subscribed" never overrides a newer unsubscribe,
in the store or in the CRM payload; Square's flag speaks for email only."""

from __future__ import annotations

import json

import pytest

from guestsync.config import load_config
from guestsync.restaurant import hooks
from guestsync.sync_engine import Hub
from guestsync.webhook_server import create_app

from .webhook_signing import sample, square_headers, webhook_config


def customer_event(event_id: str, updated_at: str, *, unsubscribed: bool) -> bytes:
    body = json.loads(sample("square_customer_updated.json"))
    body["event_id"] = event_id
    cust = body["data"]["object"]["customer"]
    cust["updated_at"] = updated_at
    cust["preferences"] = {"email_unsubscribed": unsubscribed}
    return json.dumps(body).encode()


@pytest.fixture
def hub(make_config):
    h = Hub(load_config(make_config(webhook_config())))
    yield h
    h.close()


def _send(client, body: bytes) -> None:
    resp = client.post(
        "/webhooks/square", data=body, headers=square_headers(body), content_type="application/json"
    )
    assert resp.status_code == 202, resp.get_json()


def _email_opt_in(hub: Hub) -> tuple[bool, str]:
    (gid,) = hub.store.all_guest_ids()
    state = hooks.consent_state(hub.store, gid)
    assert "sms" not in state  # Square's flag is about email only
    (item,) = [i for i in hub.store.pending_outbox("hubspot", limit=10) if i.guest_id == gid]
    return state["email"].granted, item.payload["gs_email_opt_in"]


def test_an_older_subscribed_state_arriving_late_never_overrides_an_unsubscribe(hub):
    client = create_app(hub.config, store=hub.store).test_client()
    _send(client, customer_event("e-2", "2026-11-20T10:05:00Z", unsubscribed=True))
    assert hub.process().processed == 1
    assert _email_opt_in(hub) == (False, "false")
    # The sender retries an earlier event late: an older state of the same customer.
    _send(client, customer_event("e-1", "2026-11-20T10:00:00Z", unsubscribed=False))
    stats = hub.process()
    assert stats.stale == 1 and stats.processed == 0
    assert _email_opt_in(hub) == (False, "false")
    # A genuinely newer re-subscribe does apply.
    _send(client, customer_event("e-3", "2026-11-20T10:09:00Z", unsubscribed=False))
    assert hub.process().processed == 1
    assert _email_opt_in(hub) == (True, "true")
