"""The `webhook:` block of a source, and the `type: webhook` source (pydantic models).

Imported by connector_options (kept beside the scheme registry so that adding a scheme
touches only schemes.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    HttpUrl,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..webhooks.profiles import JDY_DELIVERY_HEADER
from ..webhooks.schemes import SCHEMES, standard_secret
from .base import Options

MIB = 1024 * 1024


class WebhookOptions(Options):
    """How `POST /webhooks/<source>` checks and splits what a platform sends."""

    scheme: str = Field(description="Signature scheme: " + ", ".join(SCHEMES))
    secrets: list[SecretStr] = Field(
        min_length=1,
        max_length=2,
        description="Signing secret(s), as ${ENV}; two while rotating (either one verifies).",
    )
    tolerance: float | None = Field(
        default=None,
        ge=0,
        description="Seconds a signed timestamp may be off, either way (default 300; "
        "Toast 1200; 0 = off).",
    )
    max_body: int = Field(default=MIB, ge=1, description="Largest body accepted, in bytes.")
    # generic HMAC
    header: str | None = Field(default=None, description="hmac: header carrying the signature.")
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field(default="", description="hmac: text before the signature, e.g. sha256=")
    algorithm: Literal["sha256", "sha1", "sha512"] = "sha256"
    timestamp_header: str | None = Field(
        default=None, description="hmac: header with the signed Unix timestamp (seconds)."
    )
    template: str = Field(
        default="{body}",
        description="hmac: what is signed, from {body}, {timestamp}, {method} and {uri}, e.g. "
        "{timestamp}.{body} (Stripe style) or {method}{uri}{body}{timestamp} (HubSpot v3).",
    )
    signature_format: Literal["plain", "t_v1"] = Field(
        default="plain",
        description="hmac: `t_v1` for a Stripe-style header `t=<timestamp>,v1=<hex>` "
        "(the template then defaults to {timestamp}.{body}).",
    )
    timestamp_unit: Literal["s", "ms"] = Field(
        default="s", description="hmac: unit of the signed timestamp (HubSpot v3: ms)."
    )
    # Square (and hmac templates with {uri})
    notification_url: str | None = Field(
        default=None,
        description="square (required), hmac with {uri}: the URL exactly as subscribed at "
        "the sender, which signs it; behind a proxy it is not the URL we see.",
    )
    # splitting a body into records
    event_id_path: str | None = Field(
        default=None, description="JMESPath of the event id in the body (dedupe key)."
    )
    event_id_header: str | None = Field(default=None, description="Header with the event id.")
    records_path: str | None = Field(
        default=None, description="JMESPath of the list of records in one body."
    )
    remember_days: int = Field(
        default=30, ge=7, description="Days an event id is remembered (at least 7)."
    )

    @model_validator(mode="after")
    def _check(self) -> WebhookOptions:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {self.scheme!r}; valid: {', '.join(SCHEMES)}")
        if self.scheme == "standard":
            for s in self.secrets:
                standard_secret(s.get_secret_value())
        if "{body}" not in self.template:
            raise ValueError("template must contain {body}")
        if self.scheme == "square" and not self.notification_url:
            # Square signs notification URL + body (square/square-python-sdk:
            # legacy/src/square_legacy/utilities/webhooks_helper.py). The URL we see behind
            # a proxy or load balancer is not the subscribed one: every event would fail.
            raise ValueError(
                "square: notification_url is required: Square signs the URL exactly as "
                "subscribed in its Developer Console (e.g. https://hooks.example.com/webhooks/"
                "square), and behind a proxy the URL guestsync sees differs, so every event "
                "would be rejected as badly signed"
            )
        if self.signature_format == "t_v1" and self.template == "{body}":
            self.template = "{timestamp}.{body}"
        return self


class SquareApiOptions(Options):
    """Square's REST API, used by the worker to fetch the full record of id-only events
    and the booking's customer (booking events carry only `customer_id`)."""

    access_token: SecretStr = Field(description="Write it as ${SQUARE_TOKEN}.")
    base_url: HttpUrl = HttpUrl("https://connect.squareup.com")
    timeout: float = Field(default=30.0, gt=0)


# The streams each platform's events arrive on (webhooks/profiles.py), for checking
# `stream_mappings`; Toast (its eventCategory) and generic (`stream:`) are not checked.
PLATFORM_STREAMS: dict[str, tuple[str, ...]] = {
    "square": ("customers", "bookings"),
    "inline": ("reservations",),
}


class WebhookSourceOptions(Options):
    """A platform that calls us: Square, inline, Toast, or any signed POST (Zapier, n8n)."""

    type: Literal["webhook"]
    platform: Literal["square", "inline", "toast", "generic"] = "generic"
    mapping: str = Field(description="Mapping for the records (relative to this config).")
    stream_mappings: dict[str, str] = Field(
        default_factory=dict,
        description="Per-stream mappings, e.g. {customers: m/square_webhook_customers.yaml}.",
    )
    stream: str = Field(default="events", description="generic: name of the record stream.")
    webhook: WebhookOptions
    api: SquareApiOptions | None = Field(
        default=None, description="square: API access for id-only events and customers."
    )

    @field_validator("stream_mappings")
    @classmethod
    def _known_streams(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # A misspelt stream would never be used, silently: its events would get `mapping`.
        platform = info.data.get("platform", "generic")
        known = PLATFORM_STREAMS.get(platform, ())
        if known and (unknown := sorted(set(v) - set(known))):
            raise ValueError(
                f"no stream {', '.join(map(repr, unknown))} for platform {platform} "
                f"(its streams: {', '.join(known)})"
            )
        return v

    def mapping_files(self) -> dict[str, str]:
        """Each stream's mapping file; `mapping` for the events stream and any other."""
        return {self.stream: self.mapping, **self.stream_mappings}


def jiandaoyun_webhook(options: Any) -> WebhookOptions | None:
    """The `webhook:` block a Jiandaoyun source implies: its `secret` and
    `timestamp_tolerance` (0 = off), deduped on `X-JDY-DeliverId`. None without a secret
    (then it is a pull-only source and has no endpoint)."""
    if options.secret is None:
        return None
    return WebhookOptions(
        scheme="jiandaoyun",
        secrets=[options.secret, *filter(None, [options.previous_secret])],
        tolerance=options.timestamp_tolerance,
        event_id_header=JDY_DELIVERY_HEADER,
    )
