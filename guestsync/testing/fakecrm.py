"""What every fake CRM shares: a seeded fault plan, a rolling-window rate limit answered
with the vendor's own throttle body, dropped connections, lost replies, per-record
rejections, expiring OAuth tokens, and counters a test can assert on.

A vendor fake subclasses `FakeCrm`, adds its routes in `routes(app)` and answers its own
error bodies in `throttled()` / `server_error()` / `unauthorized()`.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, request


@dataclass
class FaultPlan:
    """Which calls fail: first the `script` (one entry per call, None = answer normally),
    then at random with the given rates (seeded, so runs repeat).

    Entries: 429 (the vendor's throttle answer), 500, "drop" (connection closed before
    any processing), "lost" (processed, then the connection is closed before the answer:
    the client must not create the record twice when it sends it again).
    """

    script: list[int | str | None] = field(default_factory=list)
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_drop: float = 0.0
    rate_lost: float = 0.0
    retry_after: str | None = None  # Retry-After header on injected 429s
    seed: int = 7

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def next(self) -> int | str | None:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            roll = self._rng.random()
            for outcome, rate in (
                (429, self.rate_429),
                (500, self.rate_500),
                ("drop", self.rate_drop),
                ("lost", self.rate_lost),
            ):
                if roll < rate:
                    return outcome
                roll -= rate
            return None


class RateWindow:
    """At most `limit` requests in any rolling `window` seconds."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.times: deque[float] = deque()
        self.lock = threading.Lock()

    def allow(self) -> bool:
        with self.lock:
            now = self.clock()
            while self.times and self.times[0] <= now - self.window:
                self.times.popleft()
            if len(self.times) >= self.limit:
                return False
            self.times.append(now)
            return True


def drop_connection() -> Response:
    """Close the client's socket without an answer, as a reset connection would."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    return Response(status=500)


class FakeCrm:
    """Base of the fake CRMs. `api_prefix` marks the paths that count as API calls."""

    name = "crm"
    api_prefix = "/"

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        rate_limit: tuple[int, float] | None = None,
        token_uses: int | None = None,
        reject: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.faults = faults or FaultPlan()
        self.window = RateWindow(*rate_limit, clock=clock) if rate_limit else None
        self.token_uses = token_uses  # an access token expires after this many calls
        self.tokens: dict[str, int] = {}  # live access tokens -> calls made with it
        self.reject = dict(reject or {})  # external id -> the vendor's message
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.app = Flask(f"fake_{self.name}")
        self.app.before_request(self._before)
        self.app.after_request(self._after)
        self.routes(self.app)

    # -- hooks for vendor fakes ----------------------------------------------------------

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    def presented_token(self) -> str | None:
        return None

    def static_token_ok(self, token: str | None) -> bool:
        return False

    def throttled(self) -> Response:
        raise NotImplementedError

    def server_error(self) -> Response:
        raise NotImplementedError

    def unauthorized(self) -> Response:
        raise NotImplementedError

    # -- shared machinery ----------------------------------------------------------------

    def issue_token(self) -> str:
        token = secrets.token_hex(12)
        with self.lock:
            self.tokens[token] = 0
            self.counts["tokens_issued"] += 1
        return token

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def _token_valid(self) -> bool:
        token = self.presented_token()
        if self.static_token_ok(token):
            return True
        with self.lock:
            if token is None or token not in self.tokens:
                return False
            self.tokens[token] += 1
            if self.token_uses is not None and self.tokens[token] > self.token_uses:
                del self.tokens[token]
                return False
            return True

    def _before(self) -> Response | None:
        self.counts["requests"] += 1
        if not request.path.startswith(self.api_prefix):
            return None
        if not self._token_valid():
            self.counts["401"] += 1
            return self.unauthorized()
        if self.window is not None and not self.window.allow():
            self.counts["429"] += 1
            self.counts["429_rate"] += 1
            return self.throttled()
        fault = self.faults.next()
        g.fault = fault
        if fault == 429:
            self.counts["429"] += 1
            resp = self.throttled()
            if self.faults.retry_after:
                resp.headers["Retry-After"] = self.faults.retry_after
            return resp
        if fault == 500:
            self.counts["500"] += 1
            return self.server_error()
        if fault == "drop":
            self.counts["drop"] += 1
            return drop_connection()
        self.counts["api_calls"] += 1
        return None

    def _after(self, resp: Response) -> Response:
        if getattr(g, "fault", None) == "lost":
            self.counts["lost"] += 1
            return drop_connection()
        return resp

    @staticmethod
    def json(body: Any, status: int = 200) -> Response:
        import json

        return Response(
            json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
        )


class StaticBearerCrm(FakeCrm):
    """A fake whose API takes one static `Authorization: Bearer <token>` (`self.token`)."""

    token: str

    def presented_token(self) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    def static_token_ok(self, token: str | None) -> bool:
        return token is not None and token == self.token
