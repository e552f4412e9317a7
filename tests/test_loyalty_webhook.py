"""Points movements by webhook (issue 27): the generic profile through the real endpoint;
a retried delivery (same movement id, another envelope) counts once."""

from __future__ import annotations

import json
from decimal import Decimal

from guestsync.config import load_config
from guestsync.restaurant import membership
from guestsync.sync_engine import Hub
from guestsync.webhook_server import create_app

from .webhook_signing import hmac_headers, sample

CONFIG = """\
store: {path: hub.db}
sources:
  app:
    type: webhook
    mapping: mappings/generic_points.yaml
    stream: points
    webhook: {scheme: hmac, secrets: [zap-secret], header: X-Signature, prefix: "sha256="}
targets: {}
"""


def test_generic_points_webhook_and_a_retry_counted_once(make_config):
    hub = Hub(load_config(make_config(CONFIG)))
    try:
        client = create_app(hub.config, store=hub.store).test_client()
        body = sample("generic_points.json")
        ok = client.post("/webhooks/app", data=body, headers=hmac_headers(body),
                         content_type="application/json")  # fmt: skip
        assert ok.status_code == 202
        # the app retries the first event alone, with its own delivery time added
        first = json.loads(body)[0] | {"delivered_at": "2026-12-02T20:16:00+08:00"}
        retry = json.dumps(first).encode()
        again = client.post("/webhooks/app", data=retry, headers=hmac_headers(retry),
                            content_type="application/json")  # fmt: skip
        assert again.status_code == 202  # another body: stored, and mapped to the same movement
        stats = hub.process()
        assert (stats.processed, stats.rejected) == (3, 1)  # "bonus" is no movement type
        assert hub.store._one("SELECT count(*) FROM points_movements") == 2
        gid = next(
            g
            for g in hub.store.all_guest_ids()
            if "club:H3001" in hub.store.get_guest(g).loyalty_ids  # type: ignore[union-attr]
        )
        loy = membership.load(hub.store, gid)
        assert loy is not None and loy.balances == {"club": Decimal(1000)}  # the balance stated
        assert loy.discrepancies == []  # a ledger starting mid-way: 880 before the first
        assert hub.store.get_guest(gid).full_name == "Chan Tai Man"  # type: ignore[union-attr]
    finally:
        hub.close()
