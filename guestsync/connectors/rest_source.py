"""The declarative REST source: any JSON API described in guestsync.yaml.

Contract (DESIGN.md, Connectors): `streams()` and `read(stream, cursor)`, which yields
pages of records, each with the cursor to store *with* that page. The engine stores the
page and the cursor in one transaction, so a crash anywhere resumes at the first page
not stored: nothing is lost, nothing is read twice.

The cursor is a small JSON document:
    {"bookmark": "2026-01-01T00:00:00Z"}                       between runs
    {"bookmark": …, "since": …, "max": …, "page": <state>}     in the middle of a run
`bookmark` is the high-water mark of the record change time (field mode) or of the
request window (window mode); it only moves once the whole run has been read, because
most APIs do not sort by change time, so a page's largest value is no safe restart point.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jmespath
import requests

from ..config.pull import (
    CursorToken,
    Incremental,
    LinkHeader,
    OffsetLimit,
    PageNumber,
    RestSourceOptions,
    StreamOptions,
)
from ..errors import AuthError, PermanentError
from ..hashing import content_id
from ..ratelimit import TokenBucket
from .http import HttpClient
from .rest_auth import build_auth
from .retry import call_with_retry


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    ids: list[str]
    cursor: str  # JSON; store it in the same transaction as the records


# -- cursor values: ISO times or numbers -----------------------------------------------


def _parse_time(v: Any) -> datetime | None:
    if not isinstance(v, str) or len(v) < 10 or v[4] != "-":
        return None
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def fmt_time(dt: datetime) -> str:
    """RFC 3339 in UTC with a Z, the form most APIs accept."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _order(v: Any) -> tuple[int, Any]:
    t = _parse_time(v)
    if t is not None:
        return (2, t)
    try:
        return (1, float(v))
    except (TypeError, ValueError):
        return (0, str(v))


def later(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return b if _order(b) > _order(a) else a


def minus(v: Any, seconds: float) -> Any:
    """A cursor value moved back by `seconds` (the lookback); other values unchanged."""
    if not seconds or v is None:
        return v
    t = _parse_time(v)
    if t is not None:
        return fmt_time(t - timedelta(seconds=seconds))
    if isinstance(v, int | float) or (isinstance(v, str) and v.isdigit()):
        return type(v)(int(float(v) - seconds)) if isinstance(v, str) else v - seconds
    return v


# Parameters fixed for a whole request sequence: (where, name) -> value, where being
# "query" or "body" (a dotted path in the JSON body).
Fixed = dict[tuple[str, str], Any]


def set_param(
    params: dict[str, Any], body: dict[str, Any] | None, where: str, name: str, value: Any
) -> None:
    """Put a parameter in the query, or at a dotted path in the JSON body."""
    if where == "query" or body is None:
        params[name] = value
        return
    node = body
    *parents, last = name.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value


# -- pagination -------------------------------------------------------------------------


def first_page(p: Any) -> Any:
    if isinstance(p, PageNumber):
        return p.start
    if isinstance(p, OffsetLimit):
        return 0
    return None


def page_params(p: Any, page: Any, params: dict[str, Any], body: dict[str, Any] | None) -> None:
    if isinstance(p, PageNumber):
        params[p.param] = page
        if p.size_param and p.size:
            params[p.size_param] = p.size
    elif isinstance(p, OffsetLimit):
        params[p.offset_param] = page
        params[p.limit_param] = p.limit
    elif isinstance(p, CursorToken) and page:
        set_param(params, body, p.location, p.param, page)


def next_page(p: Any, page: Any, resp: requests.Response, body: Any, n: int) -> Any:
    """The pagination state of the next page, or None when this was the last."""
    if isinstance(p, PageNumber):
        full = n >= p.size if p.size else n > 0
        return page + 1 if full else None
    if isinstance(p, OffsetLimit):
        return page + n if n >= p.limit else None
    if isinstance(p, CursorToken):
        token = jmespath.search(p.token_path, body) if isinstance(body, dict) else None
        return token or None
    if isinstance(p, LinkHeader):
        return (resp.links.get("next") or {}).get("url") or None
    return None


class RestSource:
    """Pull records from a JSON REST API as declared in `RestSourceOptions`."""

    def __init__(
        self,
        name: str,
        options: RestSourceOptions,
        *,
        base_dir: Path | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.options = options
        self.sleep = sleep
        self.now = now
        session = session or requests.Session()
        self.http = HttpClient(
            options.base_url,
            target=name,
            headers=dict(options.headers),
            timeout=options.timeout,
            session=session,
        )
        self.auth = build_auth(
            options.auth, name=name, session=session, timeout=options.timeout, clock=clock
        )
        self.bucket = TokenBucket(options.rate, clock=clock, sleep=sleep) if options.rate else None
        self.requests = 0

    def streams(self) -> list[str]:
        return list(self.options.streams)

    # -- one HTTP call --------------------------------------------------------------------

    def _send(
        self, s: StreamOptions, params: dict[str, Any], body: Any, url: str | None
    ) -> requests.Response:
        def once() -> requests.Response:
            headers: dict[str, str] = {}
            q = {} if url else dict(params)
            self.auth.apply(headers, q)
            if self.bucket:
                self.bucket.acquire()
            self.requests += 1
            kw: dict[str, Any] = {"params": q, "headers": headers}
            if body is not None and not url:
                kw["json"] = body
            return self.http.request(s.method if not url else "GET", url or s.path, **kw)

        def with_auth_retry() -> requests.Response:
            try:
                return once()
            except AuthError as exc:
                if exc.status == 401 and self.auth.invalidate():
                    return once()  # expired token: refresh once, then give up
                raise

        return call_with_retry(with_auth_retry, self.options.retry, sleep=self.sleep)

    def _records(self, s: StreamOptions, body: Any) -> tuple[list[dict[str, Any]], list[str]]:
        found = jmespath.search(s.records, body)
        if found is None:
            return [], []
        if not isinstance(found, list):
            raise PermanentError(
                f"{self.name}: `records: {s.records}` did not select a list in the answer",
                target=self.name,
            )
        records = [r for r in found if isinstance(r, dict)]
        ids = []
        for r in records:
            v = jmespath.search(s.id, r)
            ids.append(str(v) if v not in (None, "") else content_id(r))
        return records, ids

    def _pages(
        self, s: StreamOptions, fixed: Fixed, start_page: Any
    ) -> Iterator[tuple[list[dict[str, Any]], list[str], Any]]:
        """Every page of one request sequence: (records, ids, next page state or None)."""
        p = s.pagination
        page = start_page if start_page is not None else first_page(p)
        for _ in range(self.options.max_pages):
            params = dict(s.params)
            body = copy.deepcopy(s.body) if s.body is not None else None
            if body is None and s.method == "POST":
                body = {}
            for (where, name), value in fixed.items():
                set_param(params, body, where, name, value)
            url = page if isinstance(p, LinkHeader) and page else None
            page_params(p, page, params, body)
            resp = self._send(s, params, body, url)
            try:
                data = resp.json() if resp.content else None
            except ValueError:
                raise PermanentError(
                    f"{self.name}: {s.path} answered HTTP {resp.status_code} without JSON",
                    target=self.name,
                ) from None
            records, ids = self._records(s, data)
            nxt = next_page(p, page, resp, data, len(records))
            if nxt == page:
                nxt = None  # a server repeating itself would loop forever
            yield records, ids, nxt
            if nxt is None:
                return
            page = nxt

    # -- the contract -----------------------------------------------------------------------

    def read(self, stream: str, cursor: str | None) -> Iterator[Page]:
        s = self.options.streams[stream]
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        inc = s.incremental
        if inc is not None and inc.end_param:
            yield from self._read_windows(s, inc, inc.end_param, state)
            return
        bookmark = state.get("bookmark")
        if "since" in state:  # resume a run that stopped between pages
            since, top, page = state["since"], state.get("max"), state.get("page")
        else:
            since = minus(bookmark, inc.lookback) if bookmark and inc else None
            since, top, page = since or (inc.start if inc else None), None, None
        fixed: Fixed = {(inc.location, inc.param): since} if inc and since is not None else {}
        for records, ids, nxt in self._pages(s, fixed, page):
            if inc is not None and inc.field:
                for r in records:
                    top = later(top, jmespath.search(inc.field, r))
            if nxt is None:
                new = {"bookmark": later(bookmark, top)} if inc else {}
            else:
                new = {"bookmark": bookmark, "since": since, "max": top, "page": nxt}
            yield Page(records, ids, json.dumps(new))

    def _read_windows(
        self, s: StreamOptions, inc: Incremental, end_param: str, state: dict[str, Any]
    ) -> Iterator[Page]:
        now = self.now()
        bookmark = state.get("bookmark") or inc.start
        start = _parse_time(bookmark) if bookmark else now
        if start is None:
            raise PermanentError(f"{self.name}: cursor {bookmark!r} is not an ISO time")
        if "since" in state:
            win, page = _parse_time(state["since"]) or start, state.get("page")
        else:
            win, page = start - timedelta(seconds=inc.lookback), None
        horizon = now + timedelta(seconds=inc.ahead)
        step = timedelta(seconds=inc.window)
        while True:
            end = win + step
            fixed: Fixed = {(inc.location, inc.param): fmt_time(win)}
            fixed[(inc.location, end_param)] = fmt_time(end)
            last_window = end >= horizon
            for records, ids, nxt in self._pages(s, fixed, page):
                if nxt is not None:
                    new = {"bookmark": bookmark, "since": fmt_time(win), "page": nxt}
                else:
                    bookmark = fmt_time(max(min(end, now), start))
                    new = {"bookmark": bookmark}
                    if not last_window:
                        new["since"] = fmt_time(end)
                        new["page"] = None
                yield Page(records, ids, json.dumps(new))
            if last_window:
                return
            win, page = end, None
