"""`guestsync replay --errors` for every kind of source on the merged hub (issue 3):
webhook rows (incl. id-only Square events whose fetch failed), pulled rows, Jiandaoyun
removals, and the process stage's out-of-order guard."""

from __future__ import annotations

import json
from pathlib import Path

import requests
import responses

from guestsync.config import load_config
from guestsync.intake.fetch import fetch_pending
from guestsync.models import InboxEntry
from guestsync.sync_engine import Hub
from guestsync.webhook_server import create_app

from .test_jiandaoyun_source import SECRET, push
from .test_mapping_cli import run
from .test_webhook_worker import SQUARE_API, post
from .webhook_signing import hmac_headers, inline_headers, sample, square_headers, webhook_config


def replay(cfg: Path, capsys, *extra: str) -> tuple[int, dict]:
    code = run(["-c", str(cfg), "replay", "--errors", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def keep_bad_phones(cfg: Path, mapping: str) -> None:
    path = cfg.parent / "mappings" / mapping
    text = path.read_text("utf-8")
    assert "[strip, phone]" in text
    path.write_text(text.replace("[strip, phone]", "[strip, {phone: {invalid: keep}}]"), "utf-8")


def test_webhook_rows_replay_after_the_mapping_is_fixed(make_config, capsys):
    cfg = make_config(webhook_config())
    hub = Hub(load_config(cfg))
    client = create_app(hub.config, store=hub.store).test_client()
    body = sample("inline_reservations.json").replace(b"0922-333-444", b"12-34")
    assert post(client, "inline", body, inline_headers(body)).status_code == 202
    stats = hub.process()
    assert (stats.processed, stats.rejected) == (1, 1)
    hub.close()

    keep_bad_phones(cfg, "inline_reservations.yaml")
    code, doc = replay(cfg, capsys, "--source", "inline")
    assert code == 0 and (doc["requeued"], doc["processed"], doc["rejected"]) == (1, 1, 0)
    assert "guest.phone: kept as written" in doc["warnings"][0]
    hub = Hub(load_config(cfg))
    assert hub.store.inbox_counts() == {"done": 2}
    assert hub.store.conn.execute("SELECT count(*) FROM reservations").fetchone()[0] == 2
    hub.close()


def test_pulled_rows_replay(make_config, capsys):
    cfg = make_config(
        """\
        store: {path: hub.db}
        sources:
          loyalty:
            type: rest
            base_url: https://loyalty.example.test
            streams:
              members: {path: v1/members, mapping: mappings/generic_booking.yaml}
        """
    )
    hub = Hub(load_config(cfg))
    raw = {"id": "m1", "name": "Amy", "phone": "12-34", "start_at": "2026-12-01T19:00:00Z"}
    entry = InboxEntry.of(
        source="loyalty", stream="members", external_id="m1", record=raw, origin="page 1"
    )
    hub.store.add_to_inbox([entry])
    assert hub.process().rejected == 1
    hub.close()
    keep_bad_phones(cfg, "generic_booking.yaml")
    code, doc = replay(cfg, capsys)
    assert code == 0 and (doc["requeued"], doc["processed"]) == (1, 1)


def test_an_error_row_older_than_what_came_since_is_skipped_not_applied(make_config, capsys):
    cfg = make_config(webhook_config())
    hub = Hub(load_config(cfg))
    client = create_app(hub.config, store=hub.store).test_client()
    base = json.loads(sample("generic_booking.json"))
    older = json.dumps(base | {"phone": "12-34", "party_size": 2}).encode()
    newer = json.dumps(base | {"updated_at": "2026-11-21T10:00:00Z", "party_size": 6}).encode()
    assert post(client, "zap", older, hmac_headers(older)).status_code == 202
    assert hub.process().rejected == 1
    assert post(client, "zap", newer, hmac_headers(newer)).status_code == 202
    assert hub.process().processed == 1
    hub.close()

    keep_bad_phones(cfg, "generic_booking.yaml")
    code, doc = replay(cfg, capsys, "--source", "zap")
    assert code == 0 and (doc["requeued"], doc["processed"], doc["stale"]) == (1, 0, 1)
    hub = Hub(load_config(cfg))
    assert hub.store.conn.execute("SELECT party_size FROM reservations").fetchone()[0] == 6
    hub.close()
    run(["-c", str(cfg), "replay", "--errors", "--source", "zap"])  # nothing left: exit 0
    assert "0 row(s) requeued" in capsys.readouterr().out


@responses.activate
def test_a_failed_fetch_is_fetched_again_on_replay(make_config, capsys):
    api = f"    api: {{access_token: sq-token, base_url: {SQUARE_API}}}\n"
    cfg = make_config(webhook_config().replace("  inline:\n", api + "  inline:\n", 1))
    hub = Hub(load_config(cfg))
    client = create_app(hub.config, store=hub.store).test_client()
    body = sample("square_booking_created.json")
    assert post(client, "square", body, square_headers(body)).status_code == 202
    url = f"{SQUARE_API}/v2/customers/CUST_AMY"
    responses.get(url, status=404, json={"errors": [{"code": "NOT_FOUND"}]})
    assert fetch_pending(hub.store, hub.config.sources, requests.Session()).failed
    hub.close()

    code, doc = replay(cfg, capsys)  # still 404: still an error, said so
    assert code == 1 and (doc["requeued"], doc["fetch_failed"], doc["processed"]) == (1, 1, 0)
    responses.replace(
        responses.GET, url, json={"customer": {"id": "CUST_AMY", "email_address": "amy@x.tw"}}
    )
    code, doc = replay(cfg, capsys)
    assert code == 0 and (doc["fetched"], doc["processed"]) == (1, 1)
    hub = Hub(load_config(cfg))
    assert hub.store.conn.execute("SELECT email FROM guests").fetchone()[0] == "amy@x.tw"
    hub.close()


def test_admin_replay_also_refetches(make_config):
    cfg = make_config(webhook_config())
    hub = Hub(load_config(cfg))
    entry = InboxEntry("square", "bookings", "b1", "h", "{}", "webhook")
    hub.store.add_webhook_event("square", "e1", [(entry, True)])
    (row,) = hub.store.rows_to_fetch()
    hub.store.mark_inbox_error(row.id, "fetch failed: boom")
    assert hub.store.replay_inbox_errors() == 1
    assert [r.id for r in hub.store.rows_to_fetch()] == [row.id]
    hub.close()


def test_jiandaoyun_reservation_removal_is_processed(make_config):
    cfg = make_config(
        f"""\
        store: {{path: hub.db}}
        sources:
          forms:
            type: jiandaoyun
            mapping: mappings/jiandaoyun_reservation.yaml
            secret: {SECRET}
            timestamp_tolerance: 0
        """
    )
    hub = Hub(load_config(cfg))
    src = hub.sources["forms"]
    w = "_widget_17000000002"
    fields = {f"{w}01": "周杰", f"{w}02": "13812345678", f"{w}04": "2026-12-24T11:30:00.000Z"}
    with hub.store.atomic():
        hub.store.add_to_inbox(src.receive(*push("data_create", deliver="d1", **fields)))
    assert hub.process().processed == 1
    # the removal push carries no widgets: start_at (required) is missing, and not needed
    with hub.store.atomic():
        hub.store.add_to_inbox(src.receive(*push("data_remove", deliver="d2")))
    stats = hub.process()
    assert (stats.processed, stats.rejected) == (1, 0), stats.errors
    assert hub.store.link_removed_at("forms", "entries", "6560a1b2c3d4e5f600000001")
    hub.close()
