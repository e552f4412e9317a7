"""YAML options of the pull sources: the declarative REST source and Square.

A REST source is described in guestsync.yaml alone: base URL, auth, and per stream the
request, where the records are in the answer, their id, the incremental cursor and the
pagination. `connector_options` adds these models to the `SourceOptions` union.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from ..cron import check_cron
from .base import Options, RetryOptions


def check_jmespath(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        jmespath.compile(v)
    except JMESPathError as exc:
        raise ValueError(f"bad JMESPath {v!r}: {exc}") from None
    return v


# -- auth ------------------------------------------------------------------------------


class BearerAuth(Options):
    type: Literal["bearer"]
    token: SecretStr = Field(description="Write it as ${MY_TOKEN}.")


class BasicAuth(Options):
    type: Literal["basic"]
    username: str
    password: SecretStr


class ApiKeyAuth(Options):
    type: Literal["api_key"]
    name: str = Field(description="Header or query parameter name, e.g. X-API-Key.")
    value: SecretStr
    location: Literal["header", "query"] = Field(default="header", alias="in")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class OAuth2ClientCredentials(Options):
    type: Literal["oauth2_client_credentials"]
    token_url: str
    client_id: str
    client_secret: SecretStr
    scope: str | None = None
    refresh_margin: float = Field(
        default=60, ge=0, description="Seconds before expiry to fetch a new token."
    )


class OAuth2RefreshToken(Options):
    type: Literal["oauth2_refresh_token"]
    token_url: str
    client_id: str
    client_secret: SecretStr | None = None
    refresh_token: SecretStr
    refresh_margin: float = Field(default=60, ge=0)


AuthOptions = Annotated[
    BearerAuth | BasicAuth | ApiKeyAuth | OAuth2ClientCredentials | OAuth2RefreshToken,
    Field(discriminator="type"),
]

# -- streams ---------------------------------------------------------------------------

Location = Literal["query", "body"]


class Incremental(Options):
    """Read only what changed since the last run.

    Field mode: `field` is the record's change time (JMESPath); the largest value seen is
    the bookmark, sent next run in `param` minus `lookback` seconds (late updates).
    Window mode (`end_param` set): request windows [start, end) of `window` seconds from
    the bookmark to `ahead` seconds past now, e.g. Square bookings by start_at.
    """

    field: str | None = Field(default=None, description="Record field holding the change time.")
    param: str = Field(description="Request parameter (dotted path when in: body).")
    location: Location = Field(default="query", alias="in")
    start: str | None = Field(default=None, description="Value for the very first run.")
    lookback: float = Field(default=0, ge=0, description="Seconds re-read for late updates.")
    end_param: str | None = None
    window: float = Field(default=31 * 86400, gt=0, description="Seconds per window.")
    ahead: float = Field(default=0, ge=0, description="Window mode: read this far past now.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    _path = field_validator("field")(classmethod(lambda cls, v: check_jmespath(v)))

    @model_validator(mode="after")
    def _mode(self) -> Incremental:
        if self.field is None and self.end_param is None:
            raise ValueError("give `field` (record change time) or `end_param` (window mode)")
        return self


class PageNumber(Options):
    type: Literal["page_number"]
    param: str = "page"
    start: int = 1
    size_param: str | None = None
    size: int | None = Field(default=None, ge=1)


class OffsetLimit(Options):
    type: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, ge=1)


class CursorToken(Options):
    type: Literal["cursor"]
    token_path: str = Field(description="JMESPath of the next-page token in the answer.")
    param: str = Field(description="Request parameter taking the token.")
    location: Location = Field(default="query", alias="in")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    _path = field_validator("token_path")(classmethod(lambda cls, v: check_jmespath(v)))


class LinkHeader(Options):
    """RFC 5988 `Link: <url>; rel="next"`: the next page is that URL, as given."""

    type: Literal["link"]


PaginationOptions = Annotated[
    PageNumber | OffsetLimit | CursorToken | LinkHeader, Field(discriminator="type")
]


class StreamOptions(Options):
    path: str = Field(description="Path below base_url, e.g. v1/customers.")
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, Any] = Field(default_factory=dict, description="Fixed query parameters.")
    body: dict[str, Any] | None = Field(default=None, description="Fixed JSON body (POST).")
    records: str = Field(default="@", description="JMESPath of the record list in the answer.")
    id: str = Field(default="id", description="JMESPath of the record id.")
    mapping: str = Field(description="Mapping file for this stream (relative to the config).")
    incremental: Incremental | None = None
    pagination: PaginationOptions | None = None

    _paths = field_validator("records", "id")(classmethod(lambda cls, v: check_jmespath(v)))


class RestSourceOptions(Options):
    """Any JSON REST API, declared in YAML: auth, streams, cursor, pagination."""

    type: Literal["rest"]
    base_url: str
    auth: AuthOptions | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    streams: dict[str, StreamOptions]
    rate: float | None = Field(default=5.0, gt=0, description="Requests per second, at most.")
    timeout: float = Field(default=30.0, gt=0)
    retry: RetryOptions = Field(default_factory=RetryOptions)
    max_pages: int = Field(default=10_000, ge=1, description="Per stream per run (a safety).")
    schedule: str | None = Field(default=None, description="Cron expression, e.g. '*/15 * * * *'.")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    def mapping_files(self) -> dict[str, str]:
        return {name: s.mapping for name, s in self.streams.items()}


# Shipped profiles, relative to the config file (copy config/mappings/ beside it).
SQUARE_MAPPINGS = {
    "customers": "mappings/square_customers.yaml",
    "bookings": "mappings/square_bookings.yaml",
}


class SquareStream(Options):
    mapping: str | None = Field(default=None, description="Override the shipped profile.")


def _both_streams() -> dict[Literal["customers", "bookings"], SquareStream]:
    return {"customers": SquareStream(), "bookings": SquareStream()}


class SquareSourceOptions(Options):
    """Square Customers (search by updated_at) and Bookings (list by start_at window)."""

    type: Literal["square"]
    token: SecretStr = Field(description="Access token; write it as ${SQUARE_TOKEN}.")
    base_url: str = "https://connect.squareup.com"
    streams: dict[Literal["customers", "bookings"], SquareStream] = Field(
        default_factory=_both_streams
    )
    start: str | None = Field(default=None, description="First run: read from this time (ISO).")
    lookback: float = Field(default=3600, ge=0, description="Seconds re-read for late updates.")
    rate: float | None = Field(default=5.0, gt=0)
    timeout: float = Field(default=30.0, gt=0)
    retry: RetryOptions = Field(default_factory=RetryOptions)
    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    def mapping_files(self) -> dict[str, str]:
        return {n: s.mapping or SQUARE_MAPPINGS[n] for n, s in self.streams.items()}
