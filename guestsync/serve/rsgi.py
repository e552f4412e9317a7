"""serve's intake app on granian's RSGI interface (intake_server.py): POST
/webhooks/<source> answered on granian's event loop (uvloop), with the receiver's own
steps (intake/webhooks.py: admit, read at most max_body + 1 bytes, check, settle, as the
WSGI HotRoutes of the in-process serve) and the rows committed by LoopCommit in one
thread beside the loop (intake/loop_commit.py); every other request goes to the WSGI app
(Flask behind HotRoutes and AccessLog), called in a thread of a pool, its body streamed
to it as it reads (so it accepts what the Flask app accepts, no more buffered).

Why: under WSGI, granian hands each request from its runtime to one of its blocking
threads and builds a WSGI environ for it; py-spy put ~44% of the GIL-held time of an
intake process on that glue. Here a webhook never leaves the loop's thread, except for
its batch's commit.

Measured (issue 26), shared 2-core machine (load 7 to 12), wrk 16 connections:
- bench_webhooks.py 3 5 --no-drain, runs alternating WSGI / RSGI / WSGI / RSGI, guestsync
  / plain Flask + gunicorn (median of paired rounds): WSGI intake 1.23x and 1.18x (rounds
  1.45, 1.23, 0.99; 1.12, 1.56, 1.18), this app 1.46x and 1.63x (rounds 2.16, 1.46, 1.42;
  1.71, 1.63, 1.56). guestsync's durable POST/s 3,407 and 3,283 against 4,111 and 4,212;
  its /healthz (bridged here) 13,835/s and 5,409/s in the first pair. Two more runs of
  this app as kept (load 4 to 6): 1.69x and 1.53x (4,612 and 4,740 POST/s; /healthz
  8,481/s and 8,599/s).
- benchmarks/ab_rsgi.py (an EXPERIMENT, since removed; serve --no-worker, CPU of the
  process tree per row committed): WSGI 226.7 us/req, 3,944 POST/s; here, commits on the
  loop, asyncio 216.7 us, 4,540/s; uvloop 199.0 us, 4,722/s; commits in one thread,
  uvloop (kept) 217.1 us, 5,483/s; asyncio 1.24x the CPU. The gain is in throughput,
  not CPU per request: py-spy --gil still puts ~58% of the loop thread's GIL time on
  granian's glue (`proto.response_bytes` 38%, `await proto()` 20%).
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from werkzeug.sansio.utils import get_current_url

from ..intake.loop_commit import LoopCommit
from ..intake.webhooks import Answer, Receiver
from .wsgi import WSGIApp, json_body, log_access, webhook_source

log = logging.getLogger("guestsync.webhooks")


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


class _Body(io.RawIOBase):
    """wsgi.input of a bridged request: its body read from granian chunk by chunk, on the
    loop, as the WSGI app (in a thread of the pool) asks for it."""

    def __init__(self, proto: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._chunks = proto.__aiter__()
        self._loop = loop
        self._left = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left and not self._ended:
            chunk = asyncio.run_coroutine_threadsafe(self._next(), self._loop).result()
            self._left = memoryview(chunk)
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n

    async def _next(self) -> bytes:
        try:
            return bytes(await self._chunks.__anext__())
        except StopAsyncIteration:
            self._ended = True
            return b""


class RsgiApp:
    def __init__(self, wsgi: WSGIApp, receiver: Receiver, *, threads: int) -> None:
        self.wsgi = wsgi
        self.receiver = receiver
        self.commit = LoopCommit(receiver.writer)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="guestsync-wsgi")

    def __rsgi_del__(self, loop: Any) -> None:
        """At exit (granian drained the requests in flight): the batch being written
        commits; a bridged request still waiting for its body is not answered."""
        self.commit.close()
        self.pool.shutdown(wait=False, cancel_futures=True)

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
            log.exception("webhook for %s not stored", source)
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
        length = _length(raw.get("content-length"))
        ep = r.admit(source, length)
        if isinstance(ep, Answer):
            return ep
        body = await _read(proto, ep.max_body + 1, length)
        headers = _Headers(raw)
        checked = r.check(ep, body, raw.get("content-type"), headers, lambda: _url(scope))
        if isinstance(checked, Answer):
            return checked
        new = await self.commit.submit(source, checked.event_id, checked.entries)
        return r.settle(checked, new)

    async def bridge(self, scope: Any, proto: Any) -> None:
        """The request through the WSGI app, in a thread of the pool."""
        loop = asyncio.get_running_loop()
        body = io.BufferedReader(_Body(proto, loop))
        status, headers, data = await loop.run_in_executor(
            self.pool, _call_wsgi, self.wsgi, _environ(scope, body)
        )
        proto.response_bytes(status, headers, data)


def _url(scope: Any) -> str:
    host = scope.authority or scope.headers.get("host") or "localhost"
    return get_current_url(scope.scheme, host, None, scope.path, scope.query_string.encode())


def _environ(scope: Any, body: IO[bytes]) -> dict[str, Any]:
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
        "wsgi.input": body,
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
    written: list[bytes] = []  # by the legacy write() callable, ahead of the iterable's

    def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
        answered[:] = [int(status.split(" ", 1)[0]), headers]
        return written.append

    chunks = app(environ, start_response)
    try:
        written.extend(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answered[0], answered[1], b"".join(written)
