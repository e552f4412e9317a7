"""What happens in a webhook request, and nothing more: size and content-type checks,
signature verification, JSON parse, split into records, one inbox transaction.

Answers: 202 stored; 200 duplicate event id; 400 unparseable (body quarantined);
401 signature; 404 unknown source; 413 too large; 415 not JSON. Framework-free: the Flask
route passes the request's parts in (tests and benchmarks can call it directly).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..config import Config
from ..config.connectors import JiandaoyunSourceOptions
from ..config.webhooks import WebhookSourceOptions
from ..mapping import CompiledMapping, load_mapping
from ..mapping.context import Context
from ..metrics import Metrics
from ..models import InboxEntry
from ..store.protocols import IntakeStore, WebhookWriter
from ..webhooks.profiles import ShapeError, Splitter, splitter_for
from ..webhooks.schemes import Headers, Scheme, SignatureError, SignedRequest, build_scheme
from .group_commit import GroupCommit

_DROP_HEADERS = {"authorization", "cookie", "proxy-authorization"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Checked:
    """A verified, parsed webhook: the rows its one transaction commits."""

    source: str
    event_id: str
    entries: list[tuple[InboxEntry, bool]]


@dataclass
class Endpoint:
    name: str
    scheme: Scheme
    splitter: Splitter
    max_body: int
    mappings: dict[str, CompiledMapping]
    default_mapping: CompiledMapping

    def mapping(self, stream: str) -> CompiledMapping:
        return self.mappings.get(stream, self.default_mapping)


def endpoints(config: Config) -> dict[str, Endpoint]:
    """One endpoint per source with a `webhook:` block; mappings compiled once."""
    ctx = Context(region=config.defaults.region, timezone=config.defaults.timezone)
    out = {}
    for name, src in config.sources.items():
        if not isinstance(src, WebhookSourceOptions | JiandaoyunSourceOptions):
            continue  # CSV and pulled sources take no webhooks
        hook = src.webhook
        if hook is None:
            continue
        out[name] = Endpoint(
            name=name,
            scheme=build_scheme(hook),
            splitter=splitter_for(src),
            max_body=hook.max_body,
            mappings={
                s: load_mapping(config.resolve(p), ctx)
                for s, p in getattr(src, "stream_mappings", {}).items()
            },
            default_mapping=load_mapping(config.resolve(src.mapping), ctx),
        )
    return out


def is_json(content_type: str | None) -> bool:
    mime = (content_type or "").split(";")[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


class Receiver:
    def __init__(
        self,
        config: Config,
        store: IntakeStore,
        *,
        lock: threading.Lock | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        intake: WebhookWriter | None = None,
    ) -> None:
        """`intake`: where webhooks are committed when not `store` itself (serve's intake
        file, store/intake.py: its own connection, so its own lock); quarantined bodies
        always go to `store`."""
        self.store = store
        self.lock = lock or threading.Lock()  # one connection: one writer at a time
        self.metrics = metrics or Metrics()
        self.clock = clock
        self.endpoints = endpoints(config)
        self.writer = (
            GroupCommit(intake, threading.Lock(), self.metrics)
            if intake is not None
            else GroupCommit(store, self.lock, self.metrics)
        )
        self._counters: dict[str, tuple[Any, Any, Any]] = {}

    def _counters_for(self, source: str) -> tuple[Any, Any, Any]:
        """received, accepted, duplicates of a known source (labels() looked up once)."""
        m = self.metrics
        counters = (
            m.received.labels(source),
            m.accepted.labels(source),
            m.duplicates.labels(source),
        )
        self._counters[source] = counters
        return counters

    def _reject(self, source: str, reason: str, status: int, message: str) -> Answer:
        self.metrics.rejected.labels(source, reason).inc()
        return Answer(status, {"error": message})

    def handle(
        self,
        source: str,
        *,
        stream: IO[bytes],
        content_length: int | None,
        content_type: str | None,
        headers: Headers,
        url: str | Callable[[], str],
    ) -> Answer:
        """One request, answered after its rows committed (the WSGI routes). The steps
        are public for serve's RSGI app (serve/rsgi.py), which reads the body and awaits
        the commit itself: `admit`, read at most `max_body + 1` bytes, `check`, commit,
        `settle`."""
        ep = self.admit(source, content_length)
        if isinstance(ep, Answer):
            return ep
        checked = self.check(ep, stream.read(ep.max_body + 1), content_type, headers, url)
        if isinstance(checked, Answer):
            return checked
        return self.settle(checked, self.writer.submit(source, checked.event_id, checked.entries))

    def admit(self, source: str, content_length: int | None) -> Endpoint | Answer:
        """Before the body is read: 404 unknown source, 413 by Content-Length; else the
        source's endpoint (the request counted as received)."""
        ep = self.endpoints.get(source)
        if ep is None:
            # One label for every unknown name: a scanner must not grow the metrics.
            return self._reject("_unknown", "unknown_source", 404, "no webhook source by that name")
        counters = self._counters.get(source) or self._counters_for(source)
        counters[0].inc()
        if content_length is not None and content_length > ep.max_body:
            return self._reject(source, "too_large", 413, f"body above {ep.max_body} bytes")
        return ep

    def check(
        self,
        ep: Endpoint,
        body: bytes,
        content_type: str | None,
        headers: Headers,
        url: str | Callable[[], str],
    ) -> Checked | Answer:
        """`body`: at most `ep.max_body + 1` bytes of it. 413, 415, 401, 400 (quarantined),
        or the rows to commit."""
        source = ep.name
        if len(body) > ep.max_body:
            return self._reject(source, "too_large", 413, f"body above {ep.max_body} bytes")
        if not is_json(content_type):
            return self._reject(source, "content_type", 415, "send Content-Type: application/json")
        try:
            ep.scheme.verify(SignedRequest(body, headers, url), now=self.clock())
        except SignatureError as exc:
            return self._reject(source, "signature", 401, exc.reason)
        try:
            payload = json.loads(body)
            event_id = ep.splitter.event_id(payload, headers, body)
            events = ep.splitter.events(payload, headers)
            entries = [
                (
                    InboxEntry.of(
                        source=source,
                        stream=e.stream,
                        external_id=ep.mapping(e.stream).external_id(e.record),
                        record=e.record,
                        origin=f"webhook:{event_id}",
                    ),
                    e.needs_fetch,
                )
                for e in events
            ]
        except (ValueError, ShapeError) as exc:  # JSONDecodeError and UnicodeError are too
            reason = f"{type(exc).__name__}: {exc}"[:500]
            kept = {k: v for k, v in headers.items() if k.lower() not in _DROP_HEADERS}
            with self.lock:
                qid = self.store.quarantine(
                    source, reason=reason, body=body, content_type=content_type or "", headers=kept
                )
            self.metrics.rejected.labels(source, "unparseable").inc()
            return Answer(400, {"error": f"unparseable body, kept as quarantine #{qid}: {reason}"})
        return Checked(source, event_id, entries)

    def settle(self, checked: Checked, new: bool) -> Answer:
        """The answer once the rows' transaction committed: `new`, the event id unseen."""
        counters = self._counters[checked.source]
        if not new:
            counters[2].inc()
            return Answer(200, {"status": "duplicate", "event_id": checked.event_id})
        counters[1].inc()
        return Answer(
            202,
            {"status": "accepted", "event_id": checked.event_id, "records": len(checked.entries)},
        )
