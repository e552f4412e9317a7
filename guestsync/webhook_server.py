"""The HTTP face of the hub (Flask): `create_app(config)`.

Routes:
    GET  /healthz               store reachable, worker alive, queue depths (503 if not)
    GET  /metrics               Prometheus text format
    POST /webhooks/<source>     verify, write the inbox, 202 (see webhooks/receiver.py)
    GET  /admin/status          queues and last runs, JSON        (bearer token)
    GET  /admin/quarantine      quarantined webhook bodies        (bearer token)
    POST /admin/replay          inbox rows in error back to pending (bearer token)
    /console/...                the web console (guestsync/console/: login with the token)

Nothing but verification and the inbox write may ever happen in a webhook request.
Admin routes answer 404 unless `server.admin_token` is set, 403 to clients outside
`server.admin_from` (localhost by default, even when webhooks listen publicly), and 401
without the token.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

from . import console
from .config import Config
from .intake.webhooks import Receiver
from .metrics import CONTENT_TYPE, Metrics
from .serve.health import Health, StoreReader
from .serve.wsgi import HotRoutes
from .store import Store, open_store
from .store.intake import IntakeFile


def create_app(
    config: Config,
    *,
    store: Store | None = None,
    metrics: Metrics | None = None,
    worker_alive: Callable[[], bool] | None = None,
    worker_notes: Callable[[], dict[str, Any]] | None = None,
    health_max_age: float = 0.0,
    targets: Mapping[str, Any] | None = None,
    intake: IntakeFile | None = None,
) -> Flask:
    """`worker_alive` and `worker_notes` (paused targets, last error: shown, not failing
    the check) are given by `guestsync serve`; without them /healthz does not ask.
    `health_max_age`: seconds /healthz may answer a snapshot of the queue depths
    (webhooks/health.py); 0 reads the store at every probe. `targets` (name -> Target):
    what a decision in the console re-queues a guest for (the Hub's; none without them).
    `intake`: the file webhooks are committed to instead of the store (`guestsync serve`,
    store/intake.py); /healthz then shows its backlog."""
    app = Flask("guestsync")
    opened = store or open_store(config.store_location)
    lock = threading.Lock()  # the app's one connection is shared by waitress's threads
    metrics = metrics or Metrics()
    # /healthz and /metrics never wait for the writer
    reader = StoreReader(opened, lock, intake=intake.file_path() if intake else None)
    metrics.watch_store(reader.store, reader.lock)
    health = Health(
        reader, max_age=health_max_age, worker_alive=worker_alive, worker_notes=worker_notes
    )
    receiver = Receiver(config, opened, lock=lock, metrics=metrics, intake=intake)
    app.extensions["guestsync"] = {
        "store": opened,
        "receiver": receiver,
        "metrics": metrics,
        "reader": reader,
    }
    token = config.server.admin_token
    # POST /webhooks/<source> and GET /healthz: plain WSGI before Flask (webhooks/wsgi.py)
    app.wsgi_app = HotRoutes(app.wsgi_app, receiver, health)  # type: ignore[method-assign]

    @app.get("/healthz")  # HEAD; GET is answered by HotRoutes
    def healthz() -> tuple[Response, int]:
        body, status = health.report()
        return jsonify(body), status

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.render(), content_type=CONTENT_TYPE)

    @app.post("/webhooks/<source>")  # answered by HotRoutes; here for 405 on other methods
    def webhook(source: str) -> tuple[Response, int]:
        answer = receiver.handle(
            source,
            stream=request.stream,
            content_length=request.content_length,
            content_type=request.content_type,
            headers=request.headers,
            url=lambda: request.url,
        )
        return jsonify(answer.body), answer.status

    def admin_denied() -> tuple[Response, int] | None:
        if token is None:
            return jsonify({"error": "admin endpoints are off (set server.admin_token)"}), 404
        if request.remote_addr not in config.server.admin_from:
            return jsonify({"error": "admin endpoints answer only server.admin_from"}), 403
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return jsonify({"error": "bearer token required"}), 401
        return None

    @app.get("/admin/status")
    def admin_status() -> tuple[Response, int]:
        if denied := admin_denied():
            return denied
        with lock:
            body = {
                "inbox": opened.inbox_counts(),
                "inbox_oldest_pending_seconds": opened.oldest_pending_inbox_age(),
                "outbox": {
                    t: {"pending": n, "oldest_seconds": a}
                    for t, (n, a) in opened.outbox_depths().items()
                },
                "dead_letters": opened.dead_letter_counts(),
                "runs": opened.runs(limit=10),
            }
        return jsonify(body), 200

    @app.get("/admin/quarantine")
    def admin_quarantine() -> tuple[Response, int]:
        if denied := admin_denied():
            return denied
        with lock:
            rows = opened.quarantined(source=request.args.get("source"))
        return jsonify(
            [
                {
                    "id": q.id,
                    "source": q.source,
                    "received_at": q.received_at,
                    "reason": q.reason,
                    "body": q.body.decode("utf-8", "replace"),
                }
                for q in rows
            ]
        ), 200

    @app.post("/admin/replay")
    def admin_replay() -> tuple[Response, int]:
        if denied := admin_denied():
            return denied
        with lock:
            n = opened.replay_inbox_errors(source=request.args.get("source"))
        return jsonify({"requeued": n}), 200

    console.register(app, config, opened, lock, targets or {})
    return app
