"""Id-only webhooks: the worker fetches the full record through the platform's pull API
before the row is processed. Never in the request: the webhook row waits in the inbox with
status `fetch`, and the process stage only takes `pending` rows.

A fetcher is `(source options, raw event, session) -> completed raw event`; it raises
`RetryableError` (try again next cycle) or `PermanentError` / `BadRecordError` (the row is
marked `error` with the reason, replayable). Add a platform: one function + one line in
`FETCHERS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..connectors.http import HttpClient
from ..errors import BadRecordError, PermanentError, RetryableError
from ..store.protocols import IntakeStore
from ..store.replay import FETCH_FAILED

Fetcher = Callable[[Any, dict[str, Any], requests.Session], dict[str, Any]]


def square_fetch(options: Any, event: dict[str, Any], session: requests.Session) -> dict[str, Any]:
    """Square booking/customer events: fill data.object.<kind> if the event carried only
    the id, and for bookings add data.object.customer (a booking names its guest only by
    customer_id). GET v2/bookings/{id}, GET v2/customers/{id} (square-python-sdk
    src/square/bookings/raw_client.py, src/square/customers/raw_client.py)."""
    api = options.api
    client = HttpClient(
        str(api.base_url),
        target="square",
        headers={"Authorization": f"Bearer {api.access_token.get_secret_value()}"},
        timeout=api.timeout,
        session=session,
    )
    data = event.get("data") or {}
    kind = str(event.get("type", "")).split(".")[0]
    if kind not in ("booking", "customer") or not data.get("id"):
        raise BadRecordError(f"cannot fetch a Square {event.get('type')!r} event without data.id")
    obj = dict(data.get("object") or {})
    if not isinstance(obj.get(kind), dict):
        obj[kind] = client.request("GET", f"v2/{kind}s/{data['id']}").json()[kind]
    customer_id = obj[kind].get("customer_id") if kind == "booking" else None
    if customer_id and not isinstance(obj.get("customer"), dict):
        obj["customer"] = client.request("GET", f"v2/customers/{customer_id}").json()["customer"]
    return {**event, "data": {**data, "object": obj}}


FETCHERS: dict[str, Fetcher] = {"square": square_fetch}


@dataclass
class FetchStats:
    fetched: int = 0
    failed: int = 0
    deferred: int = 0


def fetch_pending(
    store: IntakeStore,
    sources: Mapping[str, Any],
    session: requests.Session,
    *,
    limit: int = 100,
) -> FetchStats:
    """Complete the id-only rows waiting in the inbox; stop at the first transient error."""
    stats = FetchStats()
    for row in store.rows_to_fetch(limit=limit):
        options = sources.get(row.source)
        fetcher = FETCHERS.get(getattr(options, "platform", ""))
        try:
            if options is None or fetcher is None or getattr(options, "api", None) is None:
                raise BadRecordError(f"source {row.source!r} has no API to fetch this record")
            raw = fetcher(options, json.loads(row.raw), session)
        except RetryableError:
            stats.deferred += 1
            break
        except (PermanentError, BadRecordError, KeyError, ValueError) as exc:
            reason = exc.render() if isinstance(exc, BadRecordError) else str(exc)
            store.mark_inbox_error(row.id, FETCH_FAILED + reason)  # replay fetches again
            stats.failed += 1
            continue
        store.fetched(row.id, json.dumps(raw, ensure_ascii=False))
        stats.fetched += 1
    return stats
