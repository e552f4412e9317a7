"""Square: Customers and Bookings, pulled incrementally. A thin connector: it only fills in
the declarative REST source with Square's defaults; the shipped mapping profiles
(config/mappings/square_customers.yaml, square_bookings.yaml) do the rest.

Facts (../shared/reference/platform-apis.md §2.1, from square/square-python-sdk):
- Customers: `POST v2/customers/search` with `query.filter.updated_at` (a time range);
  answers `{"customers": [...], "cursor": "..."}`; `limit` 1-100. Square cannot sort
  search results by updated_at, which is why the REST source only moves the bookmark
  once all pages are read. Polling on updated_at is marked partial there.
- Bookings: `GET v2/bookings` with `start_at_min` / `start_at_max` (default now and
  now + 31 days), so bookings are read in 31-day windows of start time, from the
  bookmark (minus the lookback) to `BOOKINGS_AHEAD` past now. The 31-day window size is
  the documented default span; that it is also the maximum is an assumption, kept here.
Webhooks (customer.*, booking.*) belong to the webhook server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.pull import (
    CursorToken,
    Incremental,
    RestSourceOptions,
    SquareSourceOptions,
    StreamOptions,
)
from .rest_source import RestSource

PAGE_SIZE = 100  # Square's maximum `limit` for both calls
BOOKINGS_WINDOW = 31 * 86400  # seconds; see the module docstring (assumption)
BOOKINGS_AHEAD = 93 * 86400  # read bookings up to ~3 months ahead


def rest_options(o: SquareSourceOptions, mappings: dict[str, str]) -> RestSourceOptions:
    """The declarative REST options equivalent to a `type: square` source."""
    streams: dict[str, StreamOptions] = {}
    if "customers" in o.streams:
        streams["customers"] = StreamOptions(
            path="v2/customers/search",
            method="POST",
            body={"limit": PAGE_SIZE},
            records="customers",
            id="id",
            mapping=mappings["customers"],
            incremental=Incremental(
                field="updated_at",
                param="query.filter.updated_at.start_at",
                location="body",
                start=o.start,
                lookback=o.lookback,
            ),
            pagination=CursorToken(
                type="cursor", token_path="cursor", param="cursor", location="body"
            ),
        )
    if "bookings" in o.streams:
        streams["bookings"] = StreamOptions(
            path="v2/bookings",
            params={"limit": PAGE_SIZE},
            records="bookings",
            id="id",
            mapping=mappings["bookings"],
            incremental=Incremental(
                param="start_at_min",
                end_param="start_at_max",
                start=o.start,
                lookback=o.lookback,
                window=BOOKINGS_WINDOW,
                ahead=BOOKINGS_AHEAD,
            ),
            pagination=CursorToken(type="cursor", token_path="cursor", param="cursor"),
        )
    auth: dict[str, Any] = {"type": "bearer", "token": o.token}
    return RestSourceOptions.model_validate(
        {
            "type": "rest",
            "base_url": o.base_url,
            "auth": auth,
            "streams": streams,
            "rate": o.rate,
            "timeout": o.timeout,
            "retry": o.retry,
            "schedule": o.schedule,
        }
    )


class SquareSource(RestSource):
    def __init__(
        self, name: str, options: SquareSourceOptions, *, base_dir: Path | None = None, **kw: Any
    ) -> None:
        self.square_options = options
        super().__init__(
            name, rest_options(options, options.mapping_files()), base_dir=base_dir, **kw
        )
