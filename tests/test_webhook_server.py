from __future__ import annotations

from guestsync.config import Config
from guestsync.store import Store
from guestsync.webhook_server import create_app


def test_healthz_reports_the_store_and_unknown_sources_are_404():
    app = create_app(Config(), store=Store.open(":memory:"))
    client = app.test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"ok": True, "inbox": {}, "outbox": {}}
    assert client.post("/webhooks/nope", json={}).status_code == 404
