"""POST /webhooks/<source>: answers, inbox rows, dedupe, quarantine, and the mapping
profiles turning the vendor-shaped samples into guests."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from guestsync.config import load_config
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import ServerThread
from guestsync.webhook_server import create_app

from .webhook_signing import (
    hmac_headers,
    inline_headers,
    sample,
    square_headers,
    standard_headers,
    toast_headers,
    webhook_config,
)


@pytest.fixture
def hub(make_config):
    h = Hub(load_config(make_config(webhook_config(extra="server: {admin_token: s3cret}\n"))))
    yield h
    h.close()


@pytest.fixture
def client(hub):
    return create_app(hub.config, store=hub.store).test_client()


def post(client, source: str, body: bytes, headers: dict, ctype: str = "application/json"):
    return client.post(f"/webhooks/{source}", data=body, headers=headers, content_type=ctype)


def inbox(hub) -> list:
    return hub.store.pending_inbox(limit=100)


def test_square_events_are_stored_once_and_duplicates_answer_200(client, hub):
    body = sample("square_customer_updated.json")
    first = post(client, "square", body, square_headers(body))
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["records"] == 1
    again = post(client, "square", body, square_headers(body))
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    rows = inbox(hub)
    assert [(r.stream, r.external_id) for r in rows] == [("customers", "CUST_AMY")]
    booking = sample("square_booking_created.json")
    assert post(client, "square", booking, square_headers(booking)).status_code == 202
    assert [(r.stream, r.external_id) for r in inbox(hub)][1] == ("bookings", "bk_7Q2X")


def test_inline_request_with_several_events_gives_one_row_per_reservation(client, hub):
    body = sample("inline_reservations.json")
    resp = post(client, "inline", body, inline_headers(body))
    assert resp.status_code == 202 and resp.get_json()["records"] == 2  # voucher ignored
    assert sorted(r.external_id for r in inbox(hub)) == ["-L9xyz001", "-L9xyz002"]
    assert post(client, "inline", body, inline_headers(body)).status_code == 200
    assert len(inbox(hub)) == 2


def test_toast_and_generic_hmac_sources(client, hub):
    toast = sample("toast_guest.json")
    assert post(client, "toast", toast, toast_headers(toast)).status_code == 202
    zap = sample("generic_booking.json")
    assert post(client, "zap", zap, hmac_headers(zap)).status_code == 202
    assert post(client, "zap", zap, hmac_headers(zap)).status_code == 200  # same body hash
    changed = zap.replace(b"Central", b"Wan Chai")
    headers = hmac_headers(changed) | {"X-Event-Id": "delivery-2"}
    assert post(client, "zap", changed, headers).status_code == 202
    assert post(client, "zap", changed, headers).status_code == 200  # X-Event-Id
    assert {(r.source, r.external_id) for r in inbox(hub)} == {
        ("toast", "tc-42"),
        ("zap", "zap-1001"),
    }


def test_samples_map_to_guests_and_reservations(client, hub):
    for source, name, sign in (
        ("square", "square_customer_updated.json", square_headers),
        ("inline", "inline_reservations.json", inline_headers),
        ("toast", "toast_guest.json", toast_headers),
        ("zap", "generic_booking.json", hmac_headers),
    ):
        body = sample(name)
        assert post(client, source, body, sign(body)).status_code == 202
    stats = hub.process()
    assert stats.rejected == 0, stats.errors
    assert stats.processed == 5
    # Amy Lin (Square) and 林小姐, "Ms Lin" (inline), share an email and a phone: one guest
    assert hub.store.count_guests() == 4
    assert hub.store.count_reservations() == 3


def test_standard_webhooks_source_dedupes_on_webhook_id(client, hub):
    body = sample("generic_booking.json")
    now = int(time.time())
    assert post(client, "std", body, standard_headers(body, "msg_1", now)).status_code == 202
    assert post(client, "std", body, standard_headers(body, "msg_1", now + 5)).status_code == 200
    stale = standard_headers(body, "msg_2", now - 600)
    assert post(client, "std", body, stale).status_code == 401
    changed = body.replace(b"Central", b"Mong Kok")
    assert post(client, "std", changed, standard_headers(changed, "msg_3", now)).status_code == 202
    assert len([r for r in inbox(hub) if r.source == "std"]) == 2


@pytest.mark.parametrize(
    "source, body, headers, ctype, status, reason",
    [
        ("nope", b"{}", {}, "application/json", 404, "unknown_source"),
        ("zap", b"{" + b" " * 5000 + b"}", {}, "application/json", 413, "too_large"),
        ("zap", b"id=1", {}, "application/x-www-form-urlencoded", 415, "content_type"),
        ("zap", b'{"id": 1}', {}, "application/json", 401, "signature"),
        ("zap", b'{"id": 1}', {"X-Signature": "sha256=00"}, "application/json", 401, "signature"),
        ("zap", b'{"id": 1}', {"X-Signature": "md5=☃"}, "application/json", 401, "signature"),
    ],
)
def test_rejections(client, hub, source, body, headers, ctype, status, reason):
    resp = post(client, source, body, headers, ctype)
    assert resp.status_code == status
    assert "error" in resp.get_json()
    assert inbox(hub) == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'reason="{reason}"' in metrics


def test_unparseable_body_is_400_and_kept_in_quarantine(client, hub):
    body = b'{"id": "zap-9", "name": '  # cut off
    resp = post(client, "zap", body, hmac_headers(body))
    assert resp.status_code == 400 and "quarantine" in resp.get_json()["error"]
    (q,) = hub.store.quarantined(source="zap")
    assert q.body == body and "JSONDecodeError" in q.reason
    assert "X-Signature" in q.headers
    wrong_shape = b'{"events": "not a list"}'
    assert post(client, "inline", wrong_shape, inline_headers(wrong_shape)).status_code == 400
    assert len(hub.store.quarantined()) == 2 and inbox(hub) == []
    # admin can see it, with the token only
    assert client.get("/admin/quarantine").status_code == 401
    seen = client.get("/admin/quarantine", headers={"Authorization": "Bearer s3cret"})
    assert seen.status_code == 200 and seen.get_json()[0]["body"] == body.decode()


def test_concurrent_duplicate_deliveries_store_one_row(hub):
    app = create_app(hub.config, store=Store.open(hub.config.store_path))
    body = sample("generic_booking.json")
    statuses: list[int] = []
    with ServerThread(app) as srv:
        barrier = threading.Barrier(12)

        def send() -> None:
            barrier.wait()
            r = requests.post(
                f"{srv.url}/webhooks/zap",
                data=body,
                headers=hmac_headers(body) | {"Content-Type": "application/json"},
                timeout=10,
            )
            statuses.append(r.status_code)

        threads = [threading.Thread(target=send) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200] * 11 + [202]
    assert len(inbox(hub)) == 1


def test_metrics_and_healthz(client, hub):
    body = sample("generic_booking.json")
    post(client, "zap", body, hmac_headers(body))
    post(client, "zap", body, hmac_headers(body))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'guestsync_webhooks_accepted_total{source="zap"} 1.0' in text
    assert 'guestsync_webhooks_duplicate_total{source="zap"} 1.0' in text
    assert 'guestsync_inbox_rows{status="pending"} 1.0' in text
    health = client.get("/healthz").get_json()
    assert health["ok"] and health["inbox"] == {"pending": 1}


def test_admin_replay_requires_the_token(client, hub):
    assert client.post("/admin/replay").status_code == 401
    bad = client.post("/admin/replay", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    ok = client.post("/admin/replay", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.get_json() == {"requeued": 0}
    status = client.get("/admin/status", headers={"Authorization": "Bearer s3cret"})
    assert status.status_code == 200 and "outbox" in status.get_json()


def test_admin_is_off_without_a_token(make_config):
    config = load_config(make_config(webhook_config()))
    c = create_app(config, store=Store.open(":memory:")).test_client()
    assert c.get("/admin/status", headers={"Authorization": "Bearer x"}).status_code == 404
    assert json.loads(c.get("/healthz").data)["ok"] is True


def test_status_shows_webhook_sources_and_queues(client, hub):
    from click.testing import CliRunner

    from guestsync.cli import cli

    body = sample("generic_booking.json")
    post(client, "zap", body, hmac_headers(body))
    post(client, "zap", b"not json", hmac_headers(b"not json"))
    result = CliRunner().invoke(cli, ["-c", str(hub.config.path), "status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    zap = next(line for line in result.output.splitlines() if "zap" in line)
    assert "│ 1 " in zap and zap.rstrip(" │").endswith("1")  # 1 webhook, 1 quarantined
    assert "inbox" in result.output and "queues" in result.output


def test_admin_answers_only_localhost_even_with_the_token(client):
    remote = client.get(
        "/admin/status",
        headers={"Authorization": "Bearer s3cret"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert remote.status_code == 403


def test_validate_and_import_csv_know_webhook_sources(hub):
    from click.testing import CliRunner

    from guestsync.cli import cli
    from guestsync.errors import ConfigError

    result = CliRunner().invoke(cli, ["validate", str(hub.config.path)])
    assert result.exit_code == 0 and "5 source(s)" in result.output
    with pytest.raises(ConfigError, match=r"(?i)not a csv source"):
        hub.import_csv("square", [])
    assert hub.sync(deliver=False).ingest.files == 0  # webhook sources read no files
