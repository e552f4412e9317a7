"""The HTTP face of the hub (Flask): `create_app(config)`.

Routes:
    GET  /healthz               store reachable; inbox counts
    POST /webhooks/<source>     (the webhook issue fills this in: verify, write inbox, 202)

Nothing but verification and the inbox write may ever happen in a request.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

from .config import Config
from .store import Store


def create_app(config: Config, *, store: Store | None = None) -> Flask:
    app = Flask("guestsync")
    opened = store or Store.open(config.store_path)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            counts = opened.inbox_counts()
        except Exception as exc:  # the store is unreachable: say so, do not crash
            return jsonify({"ok": False, "error": type(exc).__name__}), 503
        return jsonify({"ok": True, "inbox": counts}), 200

    @app.post("/webhooks/<source>")
    def webhook(source: str) -> tuple[Response, int]:
        return jsonify({"error": f"no webhook source named {source!r}"}), 404

    return app
