"""Jiandaoyun pushes through `POST /webhooks/<source>`: the same endpoint machinery as every
signed source (202 / 200 duplicate on X-JDY-DeliverId / 400 quarantine / 401 / 413 / 415,
metrics), signed in the test from the documented formula, then processed into a guest;
and `guestsync serve` (in process) carrying one signed push to the fake HubSpot once."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
import requests

from guestsync.config import load_config
from guestsync.serve.service import Service
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import FakeHubSpot, FaultPlan, ServerThread
from guestsync.webhook_server import create_app

from .test_jiandaoyun_source import SECRET, W, documented_signature

DATA_ID = "6560a1b2c3d4e5f600000042"


def config(crm_url: str = "http://127.0.0.1:9", extra: str = "") -> str:
    return f"""\
        store: {{path: hub.db}}
        defaults: {{region: CN, timezone: Asia/Shanghai}}
        sources:
          forms:
            type: jiandaoyun
            mapping: mappings/jiandaoyun_feedback.yaml
            secret: {SECRET}
          backfill_only:
            type: jiandaoyun
            mapping: mappings/jiandaoyun_feedback.yaml
        targets:
          hubspot:
            type: hubspot
            token: test-token
            base_url: {crm_url}
            retry: {{max_attempts: 10, initial_wait: 0, max_wait: 0}}
        {extra}"""


def form_push(op: str = "data_create", *, name: str = "李娜", email: str = "li.na@example.cn"):
    """A push as Jiandaoyun sends it: JSON body, signature over nonce:body:secret:ts."""
    data = {
        "_id": DATA_ID,
        "createTime": "2026-11-20T12:00:00.000Z",
        "updateTime": "2026-11-20T12:00:00.000Z",
        f"{W}01": name,
        f"{W}02": {"phone": "13800138000", "verified": True},
        f"{W}03": email,
        f"{W}04": 9,
        f"{W}05": "小笼包很好吃",
    }
    return json.dumps({"op": op, "data": data, "opTime": 1763640000000}).encode()


def signed(body: bytes, deliver: str, *, secret: str = SECRET, ts: int | None = None):
    """(query string, headers) for `body`, signed now (or at `ts`) with `secret`."""
    stamp, nonce = str(int(time.time()) if ts is None else ts), "a1b2c3"
    headers = {
        "X-JDY-Signature": documented_signature(nonce, body, secret, stamp),
        "X-JDY-DeliverId": deliver,
    }
    return urlencode({"timestamp": stamp, "nonce": nonce}), headers


@pytest.fixture
def hub(make_config):
    h = Hub(load_config(make_config(config())))
    yield h
    h.close()


@pytest.fixture
def client(hub):
    return create_app(hub.config, store=hub.store).test_client()


def post(client, body: bytes, query: str, headers: dict, ctype: str = "application/json"):
    return client.post(f"/webhooks/forms?{query}", data=body, headers=headers, content_type=ctype)


def test_a_signed_push_is_accepted_once_per_delivery_and_processed_into_a_guest(client, hub):
    body = form_push()
    first = post(client, body, *signed(body, "d-1"))
    assert first.status_code == 202, first.get_json()
    assert first.get_json() == {"status": "accepted", "event_id": "d-1", "records": 1}
    # Jiandaoyun resends the same delivery (same X-JDY-DeliverId): 200, nothing stored
    again = post(client, body, *signed(body, "d-1"), "application/json; charset=utf-8")
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    [row] = hub.store.pending_inbox(limit=10)
    assert (row.source, row.stream, row.external_id) == ("forms", "entries", DATA_ID)
    raw = json.loads(row.raw)
    assert raw["op"] == "data_create" and raw["deliverId"] == "d-1"
    assert raw["data"][f"{W}01"] == "李娜"

    stats = hub.process()
    assert (stats.processed, stats.rejected) == (1, 0), stats.errors
    [guest] = hub.store.all_guests()
    assert (guest.full_name, guest.phone, guest.email) == (
        "李娜",
        "+8613800138000",
        "li.na@example.cn",
    )
    # a data_remove push marks the link removed and keeps the guest (merged process stage)
    removal = form_push("data_remove")
    assert post(client, removal, *signed(removal, "d-2")).status_code == 202
    hub.process()
    assert hub.store.link_removed_at("forms", "entries", DATA_ID) is not None
    assert [g.id for g in hub.store.all_guests()] == [guest.id]

    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'guestsync_webhooks_accepted_total{source="forms"} 2.0' in metrics
    assert 'guestsync_webhooks_duplicate_total{source="forms"} 1.0' in metrics


def _bad_signature(body: bytes):
    return signed(body, "d-x", secret="not-the-secret")


def _stale(body: bytes):
    return signed(body, "d-x", ts=int(time.time()) - 600)


def _future(body: bytes):
    return signed(body, "d-x", ts=int(time.time()) + 600)


def _no_nonce(body: bytes):
    query, headers = signed(body, "d-x")
    return query.split("&nonce=")[0], headers


def _no_header(body: bytes):
    query, _ = signed(body, "d-x")
    return query, {"X-JDY-DeliverId": "d-x"}


def _tampered(body: bytes):
    query, headers = signed(body, "d-x")
    tampered = body.replace(b"13800138000", b"13800138001")
    assert tampered != body
    return query, headers, tampered


def _garbage_header(body: bytes):
    query, headers = signed(body, "d-x")
    return query, headers | {"X-JDY-Signature": "☃ not hex"}


@pytest.mark.parametrize(
    "make",
    [_bad_signature, _stale, _future, _no_nonce, _no_header, _tampered, _garbage_header],
)
def test_unproven_pushes_are_401_and_store_nothing(client, hub, make):
    body = form_push()
    query, headers, *rest = make(body)
    resp = post(client, rest[0] if rest else body, query, headers)
    assert resp.status_code == 401 and "error" in resp.get_json()
    assert hub.store.pending_inbox(limit=10) == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'guestsync_webhooks_rejected_total{reason="signature",source="forms"} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"op": "data_create", "data": ', "JSONDecodeError"),
        (b'{"op": "form_update", "data": {"_id": "1"}}', "not a Jiandaoyun form event"),
        (b'{"op": "data_update", "data": {}}', "data._id"),
    ],
)
def test_signed_but_unusable_bodies_are_400_and_quarantined(client, hub, body, reason):
    resp = post(client, body, *signed(body, "d-q"))
    assert resp.status_code == 400 and "quarantine" in resp.get_json()["error"]
    [q] = hub.store.quarantined(source="forms")
    assert q.body == body and reason in q.reason
    assert {k.lower(): v for k, v in q.headers.items()}["x-jdy-deliverid"] == "d-q"
    assert hub.store.pending_inbox(limit=10) == []


def test_size_content_type_and_unconfigured_sources(client, hub):
    big = form_push(name="x" * (1024 * 1024))
    assert post(client, big, *signed(big, "d-big")).status_code == 413
    body = form_push()
    assert post(client, body, *signed(body, "d-f"), "text/plain").status_code == 415
    # a Jiandaoyun source without a secret is pull-only: it has no endpoint
    query, headers = signed(body, "d-b")
    resp = client.post(f"/webhooks/backfill_only?{query}", data=body, headers=headers)
    assert resp.status_code == 404
    assert hub.store.pending_inbox(limit=10) == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'guestsync_webhooks_rejected_total{reason="too_large",source="forms"} 1.0' in metrics
    assert 'reason="content_type",source="forms"} 1.0' in metrics


def test_serve_carries_a_signed_push_to_the_crm_once(make_config):
    fake = FakeHubSpot(token="test-token", faults=FaultPlan(script=[500]))
    with ServerThread(fake.app) as crm:
        cfg = make_config(config(crm.url, "server: {worker_interval: 0.05}\n"))
        service = Service(load_config(cfg), port=0).start()
        try:
            body = form_push()
            query, headers = signed(body, "d-1")
            url = f"{service.url}/webhooks/forms?{query}"
            headers["Content-Type"] = "application/json"
            statuses = [requests.post(url, data=body, headers=headers, timeout=10).status_code]
            statuses.append(requests.post(url, data=body, headers=headers, timeout=10).status_code)
            assert statuses == [202, 200]
            deadline = time.monotonic() + 30
            while not fake.find("email", "li.na@example.cn") and time.monotonic() < deadline:
                time.sleep(0.02)
            health = requests.get(f"{service.url}/healthz", timeout=10).json()
            assert health["ok"] and health["worker"] is True
            metrics = requests.get(f"{service.url}/metrics", timeout=10).text
            assert 'guestsync_webhooks_accepted_total{source="forms"} 1.0' in metrics
        finally:
            service.stop(timeout=10)
    [cid] = fake.find("email", "li.na@example.cn")
    assert "+8613800138000" in fake.contacts[cid].values()
    assert fake.counts["500"] == 1  # the first push failed and was retried
    store = Store.open(service.config.store_path)
    assert store.outbox_counts("hubspot").get("pending", 0) == 0
    assert store.dead_letters() == []
    store.close()
