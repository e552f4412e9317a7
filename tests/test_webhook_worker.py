"""The worker side of webhooks: out-of-order updates, and id-only Square events fetched
through the API (mocked with `responses`) before processing."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from guestsync.config import load_config
from guestsync.intake.fetch import fetch_pending
from guestsync.sync_engine import Hub
from guestsync.webhook_server import create_app

from .webhook_signing import SOURCES, hmac_headers, sample, square_headers, webhook_config

SQUARE_API = "https://connect.squareup.test"


def post(client, source, body, headers):
    return client.post(
        f"/webhooks/{source}", data=body, headers=headers, content_type="application/json"
    )


def zap_booking(updated_at: str, party: int) -> bytes:
    record = json.loads(sample("generic_booking.json"))
    return json.dumps(record | {"updated_at": updated_at, "party_size": party}).encode()


@pytest.fixture
def hub(make_config):
    api = f"    api: {{access_token: sq-token, base_url: {SQUARE_API}}}\n"
    text = webhook_config().replace("  inline:\n", api + "  inline:\n", 1)
    assert SOURCES in webhook_config()
    h = Hub(load_config(make_config(text)))
    yield h
    h.close()


def test_an_older_update_never_overwrites_a_newer_one(hub):
    client = create_app(hub.config, store=hub.store).test_client()
    newer = zap_booking("2026-11-20T10:05:00Z", 6)
    older = zap_booking("2026-11-20T10:00:00Z", 2)
    assert post(client, "zap", newer, hmac_headers(newer)).status_code == 202
    hub.process()
    assert post(client, "zap", older, hmac_headers(older)).status_code == 202
    stats = hub.process()
    assert stats.stale == 1 and stats.processed == 0
    (row,) = hub.store.conn.execute("SELECT party_size FROM reservations").fetchall()
    assert row[0] == 6
    # a still newer one does apply
    newest = zap_booking("2026-11-20T10:09:00Z", 8)
    assert post(client, "zap", newest, hmac_headers(newest)).status_code == 202
    assert hub.process().processed == 1
    assert hub.store.conn.execute("SELECT party_size FROM reservations").fetchone()[0] == 8


@responses.activate
def test_square_booking_fetches_its_customer_in_the_worker(hub):
    client = create_app(hub.config, store=hub.store).test_client()
    body = sample("square_booking_created.json")
    assert post(client, "square", body, square_headers(body)).status_code == 202
    assert not responses.calls  # nothing fetched in the request
    assert hub.process().processed == 0  # waits for its fetch
    responses.get(
        f"{SQUARE_API}/v2/customers/CUST_AMY",
        json={
            "customer": {
                "id": "CUST_AMY",
                "given_name": "Amy",
                "family_name": "Lin",
                "email_address": "amy@example.com",
                "phone_number": "+886912345678",
            }
        },
    )
    stats = fetch_pending(hub.store, hub.config.sources, requests.Session())
    assert stats.fetched == 1
    assert responses.calls[0].request.headers["Authorization"] == "Bearer sq-token"
    processed = hub.process()
    assert processed.processed == 1, processed.errors
    guest = hub.store.conn.execute("SELECT email, display_name FROM guests").fetchone()
    assert guest == ("amy@example.com", "Amy Lin")


@responses.activate
def test_id_only_square_event_is_fetched_whole_and_failures_are_kept(hub):
    client = create_app(hub.config, store=hub.store).test_client()
    id_only = json.dumps(
        {
            "type": "customer.updated",
            "event_id": "e-77",
            "created_at": "2026-11-20T09:00:00Z",
            "data": {"type": "customer", "id": "CUST_BOB"},
        }
    ).encode()
    missing = json.dumps(
        {"type": "customer.updated", "event_id": "e-78", "data": {"type": "customer", "id": "GONE"}}
    ).encode()
    for body in (id_only, missing):
        assert post(client, "square", body, square_headers(body)).status_code == 202
    responses.get(
        f"{SQUARE_API}/v2/customers/CUST_BOB",
        json={
            "customer": {
                "id": "CUST_BOB",
                "given_name": "Bob",
                "email_address": "bob@x.tw",
                "updated_at": "2026-11-20T09:00:00Z",
            }
        },
    )
    responses.get(
        f"{SQUARE_API}/v2/customers/GONE",
        status=404,
        json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND"}]},
    )
    stats = fetch_pending(hub.store, hub.config.sources, requests.Session())
    assert (stats.fetched, stats.failed) == (1, 1)
    (err,) = hub.store.inbox_errors(source="square")
    assert err.external_id == "GONE" and "fetch failed" in (err.error or "")
    assert hub.process().processed == 1
    assert hub.store.conn.execute("SELECT email FROM guests").fetchone()[0] == "bob@x.tw"


@responses.activate
def test_a_transient_api_error_leaves_the_row_for_the_next_cycle(hub):
    client = create_app(hub.config, store=hub.store).test_client()
    body = sample("square_booking_created.json")
    post(client, "square", body, square_headers(body))
    responses.get(f"{SQUARE_API}/v2/customers/CUST_AMY", status=503)
    stats = fetch_pending(hub.store, hub.config.sources, requests.Session())
    assert stats.deferred == 1 and len(hub.store.rows_to_fetch()) == 1


def test_event_ids_are_remembered_at_least_seven_days(hub):
    from datetime import UTC, datetime, timedelta

    store = hub.store
    old = datetime.now(UTC) - timedelta(days=8)
    recent = datetime.now(UTC) - timedelta(days=6)
    assert store.add_webhook_event("zap", "e-old", [], now=old)
    assert store.add_webhook_event("zap", "e-recent", [], now=recent)
    # asking to forget after 1 day still keeps 7
    assert store.forget_webhook_events(older_than=timedelta(days=1)) == 1
    assert not store.add_webhook_event("zap", "e-recent", [])  # still a duplicate
    assert store.add_webhook_event("zap", "e-old", [])  # forgotten: new again
