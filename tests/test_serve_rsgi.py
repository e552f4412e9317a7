"""serve's RSGI intake (serve/rsgi.py) as a real `guestsync serve` subprocess on 127.0.0.1:
a webhook is acknowledged only once its rows are in the intake file, copies of one event
sent at once are stored once, a Content-Length over the limit is refused before the body
is sent, a bad signature is 401, every other route (bridged to the WSGI app) answers as
the Flask app does, bodies too, and SIGTERM with requests in flight acknowledges only what
was committed."""

from __future__ import annotations

import http.client
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from guestsync.store.intake import intake_path

from .test_serve_intake import Serve, post_on, signed
from .webhook_signing import webhook_config

TOKEN = "rsgi-admin-token"


@pytest.fixture
def config(make_config) -> Path:
    extra = f"server: {{worker_interval: 0.05, threads: 4, admin_token: {TOKEN}}}\n"
    return make_config(webhook_config(extra=extra))


@pytest.fixture
def serve(config: Path) -> Iterator[Serve]:
    server = Serve(config, "--no-worker")  # what is acknowledged stays in the intake file
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.stop()


def intake_rows(config: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(intake_path(config.parent / "hub.db"), timeout=30)) as db:
        return db.execute(sql, args).fetchall()


def request(
    serve: Serve, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> http.client.HTTPResponse:
    conn = serve.connection()
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    r.read()
    conn.close()
    return r


def test_a_webhook_is_acknowledged_once_its_rows_are_in_the_intake_file(serve: Serve, config: Path):
    body, headers = signed(1, event="evt-one")
    r = request(serve, "POST", "/webhooks/zap", body, headers)
    assert r.status == 202
    # read at once, from another connection: committed before the answer went out
    assert intake_rows(config, "SELECT event_id FROM webhook_events") == [("evt-one",)]
    assert intake_rows(config, "SELECT external_id, origin FROM inbox") == [
        ("zap-1", "webhook:evt-one")
    ]
    assert request(serve, "POST", "/webhooks/zap", body, headers).status == 200  # duplicate


def test_copies_of_one_event_sent_at_once_are_stored_once(serve: Serve, config: Path):
    conns = [serve.connection() for _ in range(12)]
    try:
        statuses = post_on(conns, [signed(5, event="same")] * 6 + [signed(6)] * 6)
    finally:
        for c in conns:
            c.close()
    assert sorted(statuses[:6]) == [200] * 5 + [202]
    assert sorted(statuses[6:]) == [200] * 5 + [202]
    assert intake_rows(config, "SELECT count(*) FROM inbox") == [(2,)]


def test_a_length_over_the_limit_is_refused_before_the_body_is_sent(serve: Serve):
    conn = serve.connection()
    try:  # the headers only: a server waiting for the 10 MB would never answer
        conn.putrequest("POST", "/webhooks/zap")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(10 * 1024 * 1024))
        conn.endheaders()
        r = conn.getresponse()
        assert r.status == 413
        assert b"body above 4096 bytes" in r.read()
    finally:
        conn.close()


def test_a_bad_signature_is_401_and_every_refusal_and_commit_counted(serve: Serve):
    body, headers = signed(2)
    assert request(serve, "POST", "/webhooks/zap", body, headers).status == 202
    forged = headers | {"X-Signature": "sha256=" + "0" * 64}
    assert request(serve, "POST", "/webhooks/zap", body, forged).status == 401
    assert request(serve, "POST", "/webhooks/nope", body, headers).status == 404
    status, text = serve.get("/metrics")
    assert status == 200

    def value(pattern: str) -> float:
        found = re.search(pattern.encode() + rb" ([\d.]+)", text)
        assert found is not None, pattern
        return float(found.group(1))

    assert value(r'guestsync_webhooks_received_total\{source="zap"\}') == 2.0
    assert value(r'guestsync_webhooks_rejected_total\{reason="signature",source="zap"\}') == 1.0
    assert (
        value(r'guestsync_webhooks_rejected_total\{reason="unknown_source",source="_unknown"\}')
        == 1.0
    )
    assert value(r"guestsync_webhook_commits_total") >= 1.0


def test_other_routes_answer_as_the_flask_app_does(serve: Serve):
    assert serve.get("/healthz")[0] == 200
    assert request(serve, "HEAD", "/healthz").status == 200
    assert request(serve, "GET", "/webhooks/zap").status == 405
    assert request(serve, "GET", "/no/such/page").status == 404
    r = request(serve, "POST", "/admin/replay", b"{}", {"Content-Type": "application/json"})
    assert r.status == 401  # no bearer token
    conn = serve.connection()
    try:
        conn.request("GET", "/console/login")
        page = conn.getresponse()
        html = page.read().decode()
        assert page.status == 200 and page.getheader("X-Frame-Options") == "DENY"
        cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
        m = re.search(r'name="csrf" value="([^"]+)"', html)
        assert m is not None and cookie
        # a form of 2 MB (a file part: Flask keeps it out of memory): read as Flask reads it
        boundary = "rsgi-boundary"
        parts = [("csrf", m.group(1).encode()), ("token", TOKEN.encode())]
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
            + v
            + b"\r\n"
            for k, v in parts
        )
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="pad"; filename="p"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + b"x" * (2 * 1024 * 1024)
        body += f"\r\n--{boundary}--\r\n".encode()
        conn.request(
            "POST",
            "/console/login",
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": cookie,
            },
        )
        login = conn.getresponse()
        login.read()
        assert login.status == 302, login.status  # logged in: the token was read
    finally:
        conn.close()


def test_sigterm_with_requests_in_flight_acknowledges_only_what_was_committed(config: Path):
    serve = Serve(config, "--no-worker")
    accepted: list[str] = []
    answered = threading.Semaphore(0)
    lock = threading.Lock()

    def sender(k: int) -> None:
        conn = serve.connection()
        for i in range(k, 100_000, 8):
            body, headers = signed(i)
            try:
                conn.request("POST", "/webhooks/zap", body=body, headers=headers)
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException):  # closed by the stopping server
                break
            if r.status == 202:
                with lock:
                    accepted.append(f"evt-{i}")
            answered.release()
        conn.close()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for _ in range(400):  # requests going on in every connection
        answered.acquire()
    t0 = time.monotonic()
    serve.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    assert serve.proc.wait(30) == 0
    took = time.monotonic() - t0
    assert serve.proc.stdout is not None
    serve.proc.stdout.close()
    assert took < 15, f"stop took {took:.1f} s"
    stored = {e for (e,) in intake_rows(config, "SELECT event_id FROM webhook_events")}
    assert len(accepted) >= 400
    assert set(accepted) <= stored


def test_a_commit_that_raises_fails_its_requests_instead_of_leaving_them_waiting():
    import asyncio

    from guestsync.intake.loop_commit import LoopCommit

    class Broken:
        def write(self, batch):
            raise RuntimeError("disk gone")

    async def two_requests():
        commit = LoopCommit(Broken())  # type: ignore[arg-type]
        try:
            return await asyncio.wait_for(
                asyncio.gather(
                    commit.submit("s", "e1", []),
                    commit.submit("s", "e2", []),
                    return_exceptions=True,
                ),
                timeout=10,
            )
        finally:
            commit.close()

    results = asyncio.run(two_requests())
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
