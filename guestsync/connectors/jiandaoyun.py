"""Jiandaoyun (简道云) forms source: signed webhook pushes, and a pull over API v5 for backfill.

Webhook ✅ (https://hc.jiandaoyun.com/open/11507): `POST /webhooks/<source>?timestamp=…&nonce=…`
is served by the webhook endpoint like every signed source (guestsync/webhooks/receiver.py):
the signature is `JiandaoyunScheme` in webhooks/schemes.py, the body's shape is the
`jiandaoyun` profile in webhooks/profiles.py, deduped on `X-JDY-DeliverId`. `receive()`
here runs the same two pieces without HTTP.

Every pushed or pulled entry becomes one inbox row shaped `{"op", "opTime", "deliverId",
"data": <the entry, "_widget_<id>" keys>}`, external id `data._id`, so one mapping profile
serves both channels (config/mappings/jiandaoyun_feedback.yaml). The mapping sets
`deleted: {path: "op == 'data_remove'"}`: the process stage then marks the linked source
record removed and keeps the guest; data_recover clears the mark.

API ✅ (https://hc.jiandaoyun.com/open/11261): base https://api.jiandaoyun.com/api, POST JSON,
`Authorization: Bearer <key>`, 400 `{"code": 8303}` = too fast, 429 = too many at once.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict

from ..config.connectors import JiandaoyunSourceOptions, RetryOptions
from ..errors import ConfigError, RateLimitedError, RetryableError
from ..models import InboxEntry
from ..webhooks.profiles import JDY_DELIVERY_HEADER, jiandaoyun_record
from ..webhooks.schemes import JiandaoyunScheme, SignatureError, SignedRequest
from .http import USER_AGENT, classify
from .retry import call_with_retry

# ⚠️ /api/v5/app/entry/data/list is not in the reference: body {app_id, entry_id, data_id
# (the last _id seen, for the next page), limit <= 100 ✅}, answer {"data": [entries]}.
LIST_PATH = "/api/v5/app/entry/data/list"
PAGE_SIZE = 100
TOO_FAST = 8303


@dataclass(frozen=True)
class Page:
    """One page of a pull: raw records, their ids, and the cursor after them."""

    records: list[dict[str, Any]]
    ids: list[str]
    cursor: str


def _entry(source: str, stream: str, raw: dict[str, Any], origin: str) -> InboxEntry:
    return InboxEntry.of(
        source=source, stream=stream, external_id=str(raw["data"]["_id"]), record=raw, origin=origin
    )


class JiandaoyunSource:
    def __init__(
        self,
        name: str,
        options: JiandaoyunSourceOptions,
        *,
        base_dir: Path | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryOptions | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.session = session or requests.Session()
        self.sleep = sleep
        self.retry = retry or RetryOptions()
        self.clock = clock
        hook = options.webhook
        self.scheme = JiandaoyunScheme.from_options(hook) if hook is not None else None

    def files(self) -> list[Path]:
        """No files: entries arrive by webhook or by `read()`."""
        return []

    # -- webhook (the endpoint runs the same scheme and profile) -------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """SignatureError (-> 401) unless the push is signed with the configured secret."""
        if self.scheme is None:
            raise SignatureError(f"source {self.name!r} has no webhook secret configured")
        url = "?" + urlencode(dict(query))
        req = SignedRequest(body, CaseInsensitiveDict(headers), url)
        self.scheme.verify(req, now=self.clock())

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboxEntry]:
        """The push as one inbox entry; ValueError (ShapeError, -> 400) when it is not a
        form event."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"body is not JSON: {exc}") from None
        raw = jiandaoyun_record(payload, CaseInsensitiveDict(headers).get(JDY_DELIVERY_HEADER))
        return [_entry(self.name, self.options.stream, raw, "webhook")]

    def receive(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[InboxEntry]:
        """verify + parse: what the webhook endpoint does with a push before the inbox write."""
        self.verify(body, headers, query)
        return self.parse(body, headers)

    # -- pull --------------------------------------------------------------------------

    def streams(self) -> list[str]:
        """The pull stream, only when the API is configured (webhook-only otherwise)."""
        o = self.options
        return [o.stream] if o.api_key and o.app_id and o.entry_id else []

    def _page(self, after: str | None) -> list[dict[str, Any]]:
        o = self.options
        if not (o.api_key and o.app_id and o.entry_id):
            raise ConfigError(
                "a Jiandaoyun backfill needs api_key, app_id and entry_id", field=self.name
            )
        body: dict[str, Any] = {"app_id": o.app_id, "entry_id": o.entry_id, "limit": PAGE_SIZE}
        if after:
            body["data_id"] = after
        url = str(o.base_url).rstrip("/") + LIST_PATH
        headers = {
            "Authorization": f"Bearer {o.api_key.get_secret_value()}",
            "User-Agent": USER_AGENT,
        }
        try:
            resp = self.session.post(url, json=body, headers=headers, timeout=o.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(f"{self.name}: {type(exc).__name__} calling {url}") from None
        if resp.status_code == 400:
            try:
                code = resp.json().get("code")
            except (ValueError, AttributeError):
                code = None
            if code == TOO_FAST:
                raise RateLimitedError(f"{self.name}: 400 code 8303 (too fast)", status=400)
        classify(resp, target=self.name)
        try:
            rows = resp.json().get("data")
        except (ValueError, AttributeError):
            rows = None
        if not isinstance(rows, list):
            raise RetryableError(f"{self.name}: list answer without a `data` array")
        return rows

    def read(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """Pages of entries, 100 per call, after `cursor` (the last `_id` stored); a short
        page is the last. Entries are ordered by `_id`, i.e. by creation, so a later run
        picks up new entries; changes to old ones arrive by webhook."""
        after = cursor
        while True:
            rows = call_with_retry(
                functools.partial(self._page, after), self.retry, sleep=self.sleep
            )
            kept = [r for r in rows if isinstance(r, dict) and r.get("_id")]
            if rows:
                after = str(rows[-1]["_id"])
                yield Page(
                    records=[{"op": "backfill", "data": r} for r in kept],
                    ids=[str(r["_id"]) for r in kept],
                    cursor=after,
                )
            if len(rows) < PAGE_SIZE:
                return
