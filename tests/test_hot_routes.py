"""The hot routes in plain WSGI (webhooks/wsgi.py) answer as the Flask routes did, and
/healthz answers a snapshot of the queue depths at most `max_age` old (webhooks/health.py),
read through a connection of its own."""

from __future__ import annotations

import threading

import pytest

from guestsync.config import load_config
from guestsync.serve.health import Health, StoreReader
from guestsync.serve.wsgi import json_body
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.webhook_server import create_app

from .webhook_signing import hmac_headers, sample, webhook_config


@pytest.fixture
def hub(make_config):
    h = Hub(load_config(make_config(webhook_config())))
    yield h
    h.close()


def post(client, body: bytes, path: str = "/webhooks/zap"):
    return client.post(path, data=body, headers=hmac_headers(body), content_type="application/json")


def test_answers_are_json_as_flask_writes_it(hub):
    client = create_app(hub.config, store=hub.store).test_client()
    body = sample("generic_booking.json")
    resp = post(client, body)
    assert resp.status_code == 202 and resp.content_type == "application/json"
    assert resp.data == json_body(resp.get_json()) and resp.data.endswith(b"}\n")
    assert resp.headers["Content-Length"] == str(len(resp.data))
    assert post(client, body).get_json()["status"] == "duplicate"
    # what the hot path does not take goes to Flask: 404, 405, HEAD, a trailing slash
    assert post(client, body, "/webhooks/nope").status_code == 404
    assert post(client, body, "/webhooks/zap/").status_code == 404
    assert client.get("/webhooks/zap").status_code == 405
    assert client.head("/healthz").status_code == 200
    assert client.get("/healthz").get_json() == {"ok": True, "inbox": {"pending": 1}, "outbox": {}}


def test_a_failed_inbox_write_is_a_500_the_sender_retries(hub, monkeypatch):
    client = create_app(hub.config, store=hub.store).test_client()

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(hub.store, "add_webhook_events", broken)
    resp = post(client, sample("generic_booking.json"))
    assert resp.status_code == 500 and "retry" in resp.get_json()["error"]
    assert hub.store.pending_inbox(limit=10) == []


def test_healthz_answers_a_snapshot_at_most_max_age_old(hub):
    now = [0.0]
    reader = StoreReader(hub.store, threading.Lock())
    assert reader.store is not hub.store  # a file store: a connection of its own
    alive = [True]
    health = Health(reader, max_age=1.0, worker_alive=lambda: alive[0], clock=lambda: now[0])
    assert health.report() == ({"ok": True, "inbox": {}, "outbox": {}, "worker": True}, 200)
    client = create_app(hub.config, store=hub.store).test_client()
    post(client, sample("generic_booking.json"))
    now[0] = 0.9  # within max_age: the snapshot, not yet the new row
    assert health.report()[0]["inbox"] == {}
    alive[0] = False  # the worker is asked at every probe
    assert health.report() == ({"ok": False, "inbox": {}, "outbox": {}, "worker": False}, 503)
    now[0] = 1.0
    assert health.report()[0]["inbox"] == {"pending": 1}
    reader.close()


def test_healthz_says_503_when_the_store_is_unreachable():
    store = Store.open(":memory:")
    reader = StoreReader(store, threading.Lock())
    assert reader.store is store  # in memory: the app's connection
    store.close()
    assert Health(reader).report() == ({"ok": False, "error": "ProgrammingError"}, 503)
