"""The two hot routes, POST /webhooks/<source> and GET /healthz, answered in plain WSGI
before Flask: a webhook is a signature check and an inbox write, and Flask's request
context, routing and response objects cost as much again as that work (measured with
benchmarks/bench_webhooks.py). Every other request, and any other method on these
paths (HEAD /healthz, GET /webhooks/x: 405), goes to the Flask app unchanged. These
answer webhooks where serve runs in-process (waitress: Windows, embedding, the tests);
`guestsync serve`'s intake processes answer them on granian's loop (serve/rsgi.py) and
reach this app for the other routes. Both ask the same Receiver (admit, check, settle).

What the handlers see is what the Flask routes saw: the same header mapping (werkzeug's
EnvironHeaders), the same body stream and content length (werkzeug.wsgi), the same URL;
answers are JSON as Flask's `jsonify` writes it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import get_content_length, get_current_url, get_input_stream

from ..intake.webhooks import Receiver
from .health import Health

log = logging.getLogger("guestsync.webhooks")
access = logging.getLogger("guestsync.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_PREFIX = "/webhooks/"
_STATUS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def json_body(obj: Any) -> bytes:
    """As Flask's jsonify writes it (compact, sorted keys, ASCII, a final newline)."""
    return (_JSON.encode(obj) + "\n").encode()


def _answer(start_response: Callable[..., Any], status: int, obj: Any) -> list[bytes]:
    data = json_body(obj)
    start_response(
        _STATUS.get(status, str(status)),
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def webhook_source(method: str | None, path: str) -> str | None:
    """The <source> of POST /webhooks/<source>, else None (also for an empty one)."""
    if method == "POST" and path.startswith(_PREFIX) and "/" not in path[len(_PREFIX) :]:
        return path[len(_PREFIX) :] or None
    return None


class HotRoutes:
    """WSGI middleware: the webhook and health routes, else `app`."""

    def __init__(self, app: WSGIApp, receiver: Receiver, health: Health) -> None:
        self.app = app
        self.receiver = receiver
        self.health = health

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        source = webhook_source(method, path)
        if source:
            source = source.encode("latin-1").decode("utf-8", "replace")
            return self.webhook(source, environ, start_response)
        if method == "GET" and path == "/healthz":
            body, status = self.health.report()
            return _answer(start_response, status, body)
        return self.app(environ, start_response)

    def webhook(
        self, source: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        try:
            answer = self.receiver.handle(
                source,
                # waitress ends the body stream itself (wsgi.input_terminated)
                stream=environ["wsgi.input"]
                if environ.get("wsgi.input_terminated")
                else get_input_stream(environ),
                content_length=get_content_length(environ),
                content_type=environ.get("CONTENT_TYPE"),
                headers=EnvironHeaders(environ),
                url=lambda: get_current_url(environ),
            )
        except Exception:  # the inbox write failed: 500, the sender retries later
            log.exception("webhook for %s not stored", source)
            return _answer(start_response, 500, {"error": "not stored, retry later"})
        return _answer(start_response, answer.status, answer.body)


class AccessLog:
    """WSGI middleware: one log line per request on `guestsync.access` (INFO): method,
    path, status, ms, the webhook source, the client address.

    Never the query string (Jiandaoyun signs `?timestamp=…&nonce=…`; other senders put
    tokens there), a header or a body: a log collector is not a place for secrets or PII.
    The time is up to the answer's status and headers, which is when the handlers here
    and Flask have done their work (bodies are already in memory).
    """

    def __init__(self, app: WSGIApp, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = self.clock()
        status: list[str] = []

        def recording(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return (
                start_response(code, headers, exc_info)
                if exc_info
                else start_response(code, headers)
            )

        try:
            return self.app(environ, recording)
        finally:
            if access.isEnabledFor(logging.INFO):
                self._log(environ, status[-1] if status else "500", started)

    def _log(self, environ: dict[str, Any], status: str, started: float) -> None:
        path = environ.get("PATH_INFO", "") or "/"
        path = path.encode("latin-1", "replace").decode("utf-8", "replace")
        code = int(status.split(" ", 1)[0]) if status[:3].isdigit() else 0
        ms = (self.clock() - started) * 1000
        log_access(environ.get("REQUEST_METHOD", ""), path, code, ms, environ.get("REMOTE_ADDR"))


def log_access(method: str, path: str, code: int, ms: float, client: str | None) -> None:
    """The access line of one request (AccessLog's; serve's RSGI app's, serve/rsgi.py)."""
    if not access.isEnabledFor(logging.INFO):
        return
    source = path[len(_PREFIX) :] if path.startswith(_PREFIX) else None
    ms = round(ms, 1)
    access.info(
        "%s %s %s %.1f ms",
        method,
        path,
        code,
        ms,
        extra={
            "method": method,
            "path": path,
            "status": code,
            "ms": ms,
            "source": source,
            "client": client,
        },
    )
