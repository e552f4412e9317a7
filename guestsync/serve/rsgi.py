"""serve's intake app on granian's RSGI interface (EXPERIMENT, issue 26): POST
/webhooks/<source> answered on granian's event loop, with the same Receiver (admit, read
at most max_body + 1 bytes, check, settle) and the rows committed by LoopCommit
(intake/loop_commit.py); every other request goes to the WSGI app (Flask behind HotRoutes
and AccessLog), called in a thread of a pool by a small bridge.

Why: under WSGI, granian hands each request from its runtime to one of its blocking
threads and builds a WSGI environ for it; py-spy put ~44% of the GIL-held time of an
intake process on that glue. Here a webhook never leaves the loop's thread, except for
its batch's commit.

Measured (benchmarks/ab_rsgi.py: serve --no-worker, wrk 16 connections, whole process
tree's CPU per row committed; shared 2-core machine, load 7 to 10; medians of 5 s
rounds, variants alternating in one run): WSGI 226.7 us/req, 3,944 POST/s (12 rounds);
RSGI, commits on the loop, asyncio loop 216.7 us (0.96x), 4,540/s; with uvloop 199.0 us
(0.88x), 4,722/s; RSGI, commits in one thread, uvloop 217.1 us (0.96x), 5,483/s (1.39x);
same thread, asyncio loop (an earlier run) 1.24x the CPU. Not kept: under 15% less CPU
per request. py-spy --gil: ~58% of the loop thread's GIL time is still granian's glue
(`proto.response_bytes` 38%, `await proto()` 20%), the hand-off between its Python
thread and its tokio threads, as under WSGI.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.sansio.utils import get_current_url

from ..intake.loop_commit import LoopCommit
from ..intake.webhooks import Answer, Receiver
from .wsgi import WSGIApp, json_body, log_access, webhook_source

BRIDGED_BODY = 1 << 20  # bytes a request to the WSGI app may send (console forms, admin)


class _Headers:
    """RSGI's headers as the receiver's schemes look them up (schemes.Headers)."""

    __slots__ = ("_h",)

    def __init__(self, headers: Any) -> None:
        self._h = headers

    def get(self, key: str, default: Any = None) -> Any:
        return self._h.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        value = self._h.get(key.lower())
        if value is None:
            raise KeyError(key)
        return str(value)

    def items(self) -> list[tuple[str, str]]:
        return list(self._h.items())


async def _read(proto: Any, limit: int, length: int | None) -> bytes:
    """At most `limit` bytes of the body (more are never read)."""
    if length is not None and length <= limit:
        return bytes(await proto())
    parts, n = [], 0
    async for chunk in proto:
        parts.append(chunk)
        n += len(chunk)
        if n >= limit:
            break
    return b"".join(parts)[:limit]


def _length(value: str | None) -> int | None:
    try:
        return max(0, int(value)) if value is not None else None
    except ValueError:
        return None


class RsgiApp:
    def __init__(self, wsgi: WSGIApp, receiver: Receiver, *, threads: int, inline: bool) -> None:
        self.wsgi = wsgi
        self.receiver = receiver
        self.commit = LoopCommit(receiver.writer, inline=inline)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="guestsync-wsgi")

    def __rsgi_del__(self, loop: Any) -> None:
        self.pool.shutdown(wait=True)
        self.commit.close()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        source = webhook_source(scope.method, scope.path)
        if source is None:
            await self.bridge(scope, proto)
            return
        started = time.perf_counter()
        try:
            answer = await self.webhook(source, scope, proto)
        except Exception:  # the inbox write failed: 500, the sender retries later
            answer = Answer(500, {"error": "not stored, retry later"})
        data = json_body(answer.body)
        proto.response_bytes(
            answer.status,
            [("content-type", "application/json"), ("content-length", str(len(data)))],
            data,
        )
        ms = (time.perf_counter() - started) * 1000
        log_access(scope.method, scope.path, answer.status, ms, scope.client.rsplit(":", 1)[0])

    async def webhook(self, source: str, scope: Any, proto: Any) -> Answer:
        r = self.receiver
        raw = scope.headers
        ep = r.admit(source, _length(raw.get("content-length")))
        if isinstance(ep, Answer):
            return ep
        body = await _read(proto, ep.max_body + 1, _length(raw.get("content-length")))
        headers = _Headers(raw)
        checked = r.check(ep, body, raw.get("content-type"), headers, lambda: _url(scope))
        if isinstance(checked, Answer):
            return checked
        new = await self.commit.submit(source, checked.event_id, checked.entries)
        return r.settle(checked, new)

    async def bridge(self, scope: Any, proto: Any) -> None:
        """The request through the WSGI app, in a thread of the pool."""
        length = _length(scope.headers.get("content-length"))
        body = await _read(proto, BRIDGED_BODY + 1, length)
        if len(body) > BRIDGED_BODY:
            data = json_body({"error": f"body above {BRIDGED_BODY} bytes"})
            proto.response_bytes(413, [("content-type", "application/json")], data)
            return
        loop = asyncio.get_running_loop()
        status, headers, data = await loop.run_in_executor(
            self.pool, _call_wsgi, self.wsgi, _environ(scope, body)
        )
        proto.response_bytes(status, headers, data)


def _url(scope: Any) -> str:
    host = scope.authority or scope.headers.get("host") or "localhost"
    return get_current_url(scope.scheme, host, None, scope.path, scope.query_string.encode())


def _environ(scope: Any, body: bytes) -> dict[str, Any]:
    host, _, port = (scope.server or ":").rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rsplit(":", 1)[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for key, value in scope.headers.items():
        name = key.upper().replace("-", "_")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
        else:
            prior = environ.get(f"HTTP_{name}")
            environ[f"HTTP_{name}"] = f"{prior},{value}" if prior else value
    return environ


def _call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, list, bytes]:
    answered: list[Any] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
        answered[:] = [int(status.split(" ", 1)[0]), headers]
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answered[0], answered[1], data
