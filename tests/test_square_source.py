"""Square as a thin connector: the right calls with the right filters, mapped through the
shipped profiles into guests and reservations by `guestsync sync`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from responses import matchers

from guestsync.config import load_config
from guestsync.config.pull import SquareSourceOptions
from guestsync.connectors.square import SquareSource
from guestsync.sync_engine import Hub

SQ = "https://connect.squareup.com"

CONFIG = """\
store: {path: hub.db}
sources:
  square:
    type: square
    token: sq-token
    start: "2026-03-01T00:00:00Z"
    schedule: "*/15 * * * *"
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""


def _customers() -> None:
    responses.post(
        f"{SQ}/v2/customers/search",
        json={
            "customers": [
                {
                    "id": "C1",
                    "given_name": "Amy",
                    "family_name": "Lin",
                    "email_address": "Amy@Example.com",
                    "phone_number": "+886912345678",
                    "birthday": "0000-05-01",
                    "updated_at": "2026-03-05T10:00:00Z",
                }
            ],
            "cursor": "CUR2",
        },
        match=[
            matchers.json_params_matcher(
                {
                    "limit": 100,
                    "query": {"filter": {"updated_at": {"start_at": "2026-03-01T00:00:00Z"}}},
                }
            )
        ],
    )
    responses.post(
        f"{SQ}/v2/customers/search",
        json={
            "customers": [
                {
                    "id": "C2",
                    "given_name": "陳",
                    "phone_number": "+886922111222",
                    "updated_at": "2026-03-06T10:00:00Z",
                }
            ]
        },
        match=[matchers.json_params_matcher({"cursor": "CUR2"}, strict_match=False)],
    )


@responses.activate
def test_square_customers_search_by_updated_at_with_cursor_pages():
    _customers()
    opts = SquareSourceOptions.model_validate(
        {
            "type": "square",
            "token": "t",
            "start": "2026-03-01T00:00:00Z",
            "streams": {"customers": {}},
        }
    )
    src = SquareSource("square", opts)
    pages = list(src.read("customers", None))
    assert [p.ids for p in pages] == [["C1"], ["C2"]]
    assert json.loads(pages[-1].cursor) == {"bookmark": "2026-03-06T10:00:00Z"}
    assert all(c.request.headers["Authorization"] == "Bearer t" for c in responses.calls)


@responses.activate
def test_square_bookings_are_listed_in_start_at_windows():
    responses.get(f"{SQ}/v2/bookings", json={"bookings": []})
    opts = SquareSourceOptions.model_validate(
        {
            "type": "square",
            "token": "t",
            "start": "2026-03-01T00:00:00Z",
            "lookback": 0,
            "streams": {"bookings": {}},
        }
    )
    now = datetime(2026, 3, 20, tzinfo=UTC)
    list(SquareSource("square", opts, now=lambda: now).read("bookings", None))
    q = [parse_qs(urlparse(c.request.url).query) for c in responses.calls]
    assert q[0]["start_at_min"] == ["2026-03-01T00:00:00Z"]
    assert q[0]["start_at_max"] == ["2026-04-01T00:00:00Z"]  # 31-day windows
    assert q[0]["limit"] == ["100"]
    assert len(q) == 4  # up to ~93 days ahead of now


@responses.activate
def test_sync_pulls_square_into_guests_and_reservations(make_config, monkeypatch):
    _customers()
    responses.get(
        f"{SQ}/v2/bookings",
        json={
            "bookings": [
                {
                    "id": "BK1",
                    "customer_id": "C1",
                    "start_at": "2026-03-21T11:00:00Z",
                    "status": "ACCEPTED",
                    "location_id": "L1",
                }
            ]
        },
    )
    hub = Hub(load_config(make_config(CONFIG)), sleep=lambda s: None)
    summary = hub.sync(deliver=False)
    assert summary.pull.errors == []
    assert summary.pull.records >= 3 and summary.process.rejected == 0
    assert hub.store.count_reservations() == 1
    names = sorted(g.display_name() for g in hub.store.all_guests())
    assert "Amy Lin" in names
    cursors = {(s, st): json.loads(v) for s, st, v, _ in hub.store.cursors()}
    assert cursors[("square", "customers")] == {"bookmark": "2026-03-06T10:00:00Z"}
    assert "bookmark" in cursors[("square", "bookings")]
    hub.close()


PULL_AND_HOOKS = """\
store: {path: hub.db}
sources:
  square:
    type: square
    token: sq-token
    start: "2026-03-01T00:00:00Z"
    streams: {customers: {}}
  square_hooks:
    type: webhook
    platform: square
    mapping: mappings/square_webhook_customers.yaml
    stream_mappings: {customers: mappings/square_webhook_customers.yaml,
                      bookings: mappings/square_webhook_bookings.yaml}
    webhook: {scheme: square, secrets: [sq-key], notification_url: "%s"}
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""


@pytest.mark.parametrize("first", ["pull", "webhook"])
@responses.activate
def test_a_pulled_customer_and_a_webhook_booking_are_one_guest(make_config, first):
    """The pull profiles (square_customers) and the webhook profiles (square_webhook_*)
    both carry loyalty id 'square:<customer id>': a booking pushed by Square's webhook
    (it names its guest only by customer_id) lands on the customer pulled from the API,
    whichever arrives first."""
    from guestsync.webhook_server import create_app

    from .webhook_signing import SQUARE_URL, sample, square_headers

    _customers()
    hub = Hub(load_config(make_config(PULL_AND_HOOKS % SQUARE_URL)), sleep=lambda s: None)
    client = create_app(hub.config, store=hub.store).test_client()
    # the sample booking names customer CUST_AMY: that is pulled customer C1 here
    body = sample("square_booking_created.json").replace(b"CUST_AMY", b"C1")

    def webhook() -> None:
        resp = client.post(
            "/webhooks/square_hooks",
            data=body,
            headers=square_headers(body),
            content_type="application/json",
        )
        assert resp.status_code == 202, resp.get_json()

    steps = [lambda: hub.sync(deliver=False), webhook]
    for step in steps if first == "pull" else steps[::-1]:
        step()
    summary = hub.sync(deliver=False)
    assert summary.process.rejected == 0
    rows = [(g, r) for g, r in hub.store.stream_guest_reservations() if r is not None]
    ((guest, reservation),) = rows
    assert reservation["external_id"] == "bk_7Q2X"
    assert guest.display_name() == "Amy Lin" and guest.email == "amy@example.com"
    assert "square:C1" in guest.loyalty_ids
    amy = [g for g in hub.store.all_guests() if "square:C1" in g.loyalty_ids]
    assert len(amy) == 1  # the booking made no second guest
    hub.close()


@responses.activate
def test_a_hand_typed_phone_is_kept_from_the_webhook_as_from_the_pull(make_config):
    """square_customers.yaml keeps a phone it cannot parse (a warning); the webhook
    profiles do the same, so one customer is not kept when pulled and rejected when
    pushed."""
    from guestsync.webhook_server import create_app

    from .webhook_signing import SQUARE_URL, sample, square_headers

    hub = Hub(load_config(make_config(PULL_AND_HOOKS % SQUARE_URL)), sleep=lambda s: None)
    client = create_app(hub.config, store=hub.store).test_client()
    customer = json.loads(sample("square_customer_updated.json"))
    customer["data"]["object"]["customer"]["phone_number"] = "ask front desk"
    booking = json.loads(sample("square_booking_created.json"))
    # as the worker leaves it after fetching the booking's customer (webhooks/fetch.py)
    booking["data"]["object"]["customer"] = {"given_name": "Amy", "phone_number": "ask desk"}
    for event in (customer, booking):
        body = json.dumps(event).encode()
        resp = client.post(
            "/webhooks/square_hooks",
            data=body,
            headers=square_headers(body),
            content_type="application/json",
        )
        assert resp.status_code == 202, resp.get_json()
    stats = hub.process()
    assert stats.rejected == 0, stats.errors
    (guest,) = list(hub.store.all_guests())
    assert guest.phone in ("ask front desk", "ask desk")
    assert hub.store.count_reservations() == 1
    hub.close()
