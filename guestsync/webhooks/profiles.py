"""Platform profiles: how one verified webhook body becomes an event id and inbox records.

A profile is plain data plus two small functions; the `webhook:` options can override its
event id and record list paths. One request may carry several events (inline): each
becomes its own inbox row. Event types a profile does not handle are acknowledged and
counted, not stored (e.g. inline `voucher-*`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jmespath

from .schemes import Headers


class ShapeError(ValueError):
    """Valid JSON, but not the shape the platform documents (quarantined, 400)."""


@dataclass(frozen=True)
class Event:
    stream: str
    record: Any
    needs_fetch: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    event_id: Callable[[Any, Headers], str | None]
    # (payload, can fetch, *, headers=, stream=) -> events; `stream` is the source's own
    # stream name, for profiles whose records all go to one configurable stream
    events: Callable[..., list[Event]]


def _square_event_id(payload: Any, headers: Headers) -> str | None:
    return payload.get("event_id") if isinstance(payload, dict) else None


def _square_events(payload: Any, can_fetch: bool, **_: Any) -> list[Event]:
    """Square: one event per request, `type` like booking.updated or customer.created
    (square/square-python-sdk: src/square/types/*_event.py)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ShapeError("a Square event has `type` and a `data` object")
    kind = str(payload.get("type", "")).split(".")[0]
    stream = {"booking": "bookings", "customer": "customers"}.get(kind)
    if stream is None:
        return []
    obj = payload["data"].get("object")
    id_only = not isinstance(obj, dict) or kind not in obj
    # A booking names its guest only by customer_id: with API access the worker fetches
    # the customer; an id-only event ("booking.updated id=…") is fetched whole.
    fetch = can_fetch and (id_only or stream == "bookings")
    return [Event(stream, payload, needs_fetch=fetch)]


def _inline_event_id(payload: Any, headers: Headers) -> str | None:
    return None  # inline sends no delivery id: the body hash is the key


def _inline_events(payload: Any, can_fetch: bool, **_: Any) -> list[Event]:
    """inline: {"timestamp", "events": [{"type", "timestamp", "data"}]}
    (inlineapps/docs: integrations/webhook_en.md)."""
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise ShapeError("an inline webhook has an `events` list")
    out = []
    for e in events:
        if not isinstance(e, dict) or not isinstance(e.get("data"), dict):
            raise ShapeError("each inline event has `type` and a `data` object")
        if str(e.get("type", "")).startswith("reservation-"):
            out.append(Event("reservations", e))
    return out


def _toast_event_id(payload: Any, headers: Headers) -> str | None:
    return payload.get("guid") if isinstance(payload, dict) else None


def _toast_events(payload: Any, can_fetch: bool, **_: Any) -> list[Event]:
    """Toast: {"timestamp", "eventCategory", "eventType", "guid", "details"}
    (https://doc.toasttab.com/doc/devguide/apiHttpHeaders.html)."""
    if not isinstance(payload, dict) or "details" not in payload:
        raise ShapeError("a Toast event has `eventType` and `details`")
    category = str(payload.get("eventCategory") or "orders").lower()
    return [Event(category, payload)]


JDY_OPS = frozenset({"data_create", "data_update", "data_remove", "data_recover"})
JDY_DELIVERY_HEADER = "X-JDY-DeliverId"


def jiandaoyun_record(payload: Any, deliver_id: str | None) -> dict[str, Any]:
    """A Jiandaoyun push `{"op", "data", "opTime"}` as the inbox record that pushes and the
    API backfill share: `{"op", "opTime", "deliverId", "data"}`, external id `data._id`
    (https://hc.jiandaoyun.com/open/11507). ShapeError when it is not a form event."""
    if not isinstance(payload, dict) or payload.get("op") not in JDY_OPS:
        raise ShapeError(f"not a Jiandaoyun form event (op must be one of {sorted(JDY_OPS)})")
    data = payload.get("data")
    if not isinstance(data, dict) or not data.get("_id"):
        raise ShapeError("a Jiandaoyun event has data._id")
    return {
        "op": payload["op"],
        "opTime": payload.get("opTime"),
        "deliverId": deliver_id,
        "data": data,
    }


def _jdy_event_id(payload: Any, headers: Headers) -> str | None:
    return headers.get(JDY_DELIVERY_HEADER)


def _jdy_events(
    payload: Any,
    can_fetch: bool,
    *,
    headers: Headers | None = None,
    stream: str = "entries",
    **_: Any,
) -> list[Event]:
    deliver_id = (headers or {}).get(JDY_DELIVERY_HEADER)
    return [Event(stream, jiandaoyun_record(payload, deliver_id))]


PROFILES: dict[str, Profile] = {
    "square": Profile("square", _square_event_id, _square_events),
    "inline": Profile("inline", _inline_event_id, _inline_events),
    "toast": Profile("toast", _toast_event_id, _toast_events),
    "jiandaoyun": Profile("jiandaoyun", _jdy_event_id, _jdy_events),
}


@dataclass(frozen=True)
class Splitter:
    """A source's profile combined once with its options."""

    profile: Profile | None
    stream: str
    event_id_path: str | None
    event_id_header: str | None
    records_path: str | None
    can_fetch: bool = False

    def event_id(self, payload: Any, headers: Headers, body: bytes) -> str:
        value: Any = None
        if self.event_id_header:
            value = headers.get(self.event_id_header)
        if value is None and self.event_id_path:
            value = jmespath.search(self.event_id_path, payload)
        if value is None and self.profile is not None:
            value = self.profile.event_id(payload, headers)
        if value is None:
            value = headers.get("webhook-id")  # Standard Webhooks' message id
        if value is None or value == "":
            return "sha256:" + hashlib.sha256(body).hexdigest()
        return str(value)

    def events(self, payload: Any, headers: Headers | None = None) -> list[Event]:
        if self.records_path:
            found = jmespath.search(self.records_path, payload)
            if found is None:
                raise ShapeError(f"no records at {self.records_path!r}")
            records = found if isinstance(found, list) else [found]
            return [Event(self.stream, r) for r in records]
        if self.profile is not None:
            return self.profile.events(
                payload, self.can_fetch, headers=headers or {}, stream=self.stream
            )
        if not isinstance(payload, dict | list):
            raise ShapeError("expected a JSON object or a list of objects")
        return [
            Event(self.stream, r) for r in (payload if isinstance(payload, list) else [payload])
        ]


def splitter_for(options: Any) -> Splitter:
    hook = options.webhook
    return Splitter(
        # `type: webhook` sources name their platform; others (jiandaoyun) are their type
        profile=PROFILES.get(getattr(options, "platform", options.type)),
        stream=options.stream,
        event_id_path=hook.event_id_path,
        event_id_header=hook.event_id_header,
        records_path=hook.records_path,
        can_fetch=getattr(options, "api", None) is not None,
    )
