"""The plain app bench_webhooks.py measures guestsync serve against: what a user could
write instead of running guestsync. Flask under gunicorn (2 workers x 4 threads, started
by the bench), an HMAC-SHA256 check of the raw body, one SQLite insert (and commit) per
request, 202. The database is in WAL mode with synchronous=NORMAL, as guestsync's files
are: both durable against a crash of the process, neither fsyncs each commit.

Environment: REF_DB (the SQLite file), REF_SECRET (the HMAC secret).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading

from flask import Flask, abort, request

SECRET = os.environ["REF_SECRET"].encode()
DB = os.environ["REF_DB"]
app = Flask(__name__)
_local = threading.local()


def db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY, received_at TEXT,"
            " body BLOB)"
        )
        _local.conn = conn
    return conn


@app.post("/webhooks/zap")
def webhook() -> tuple[dict[str, str], int]:
    body = request.get_data()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
        abort(401)
    conn = db()
    with conn:  # one transaction, committed before the answer
        conn.execute(
            "INSERT INTO webhooks (received_at, body) VALUES (datetime('now'), ?)", (body,)
        )
    return {"status": "accepted"}, 202


@app.get("/healthz")
def healthz() -> dict[str, bool]:
    return {"ok": True}
