"""The declarative REST source: every pagination kind, every auth kind, incremental cursors,
resume after a crash, and back-off on 429. HTTP is mocked with `responses`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from responses import matchers

from guestsync.config.pull import RestSourceOptions
from guestsync.connectors.rest_source import RestSource
from guestsync.intake.pull import PullStats, pull, pull_stream
from guestsync.store import Store

BASE = "https://api.example.test"


def source(stream: dict, *, auth: dict | None = None, sleeps: list | None = None, **kw):
    clock = kw.pop("clock", None)
    opts = {
        "type": "rest",
        "base_url": BASE,
        "streams": {"guests": {"path": "v1/guests", "mapping": "m.yaml", **stream}},
        "rate": None,
        "retry": {"max_attempts": 5, "initial_wait": 0, "max_wait": 30},
        **kw,
    }
    if auth:
        opts["auth"] = auth
    waits = sleeps if sleeps is not None else []
    extra = {"clock": clock} if clock else {}
    return RestSource("api", RestSourceOptions.model_validate(opts), sleep=waits.append, **extra)


def read_all(src: RestSource, cursor: str | None = None) -> tuple[list[str], str | None]:
    ids, last = [], cursor
    for page in src.read("guests", cursor):
        ids.extend(page.ids)
        last = page.cursor
    return ids, last


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


# -- pagination ------------------------------------------------------------------------


@responses.activate
def test_page_number_pagination_stops_on_a_short_page():
    for page, ids in ((1, ["a", "b"]), (2, ["c", "d"]), (3, ["e"])):
        responses.get(
            f"{BASE}/v1/guests",
            json={"data": [{"id": i} for i in ids]},
            match=[matchers.query_param_matcher({"page": str(page), "per_page": "2"})],
        )
    src = source(
        {
            "records": "data",
            "pagination": {"type": "page_number", "size_param": "per_page", "size": 2},
        }
    )
    ids, _ = read_all(src)
    assert ids == ["a", "b", "c", "d", "e"]
    assert len(responses.calls) == 3


@responses.activate
def test_offset_limit_pagination():
    for offset, ids in ((0, ["a", "b", "c"]), (3, ["d", "e", "f"]), (6, [])):
        responses.get(
            f"{BASE}/v1/guests",
            json=[{"uid": i} for i in ids],
            match=[matchers.query_param_matcher({"offset": str(offset), "limit": "3"})],
        )
    src = source({"id": "uid", "pagination": {"type": "offset", "limit": 3}})
    assert read_all(src)[0] == ["a", "b", "c", "d", "e", "f"]


@responses.activate
def test_cursor_token_from_the_body_sent_back_in_a_post_body():
    responses.post(
        f"{BASE}/v1/guests",
        json={"items": [{"id": "a"}], "meta": {"next": "T2"}},
        match=[matchers.json_params_matcher({"limit": 1})],
    )
    responses.post(
        f"{BASE}/v1/guests",
        json={"items": [{"id": "b"}], "meta": {"next": None}},
        match=[matchers.json_params_matcher({"limit": 1, "paging": {"token": "T2"}})],
    )
    src = source(
        {
            "method": "POST",
            "body": {"limit": 1},
            "records": "items",
            "pagination": {
                "type": "cursor",
                "token_path": "meta.next",
                "param": "paging.token",
                "in": "body",
            },
        }
    )
    assert read_all(src)[0] == ["a", "b"]


@responses.activate
def test_rfc5988_link_header_pagination_follows_rel_next():
    nxt = f"{BASE}/v1/guests?page_info=xyz"
    responses.get(
        f"{BASE}/v1/guests",
        json=[{"id": "a"}],
        headers={"Link": f'<{nxt}>; rel="next", <{BASE}/v1/guests>; rel="first"'},
        match=[matchers.query_param_matcher({"status": "any"})],
    )
    responses.get(
        nxt, json=[{"id": "b"}], match=[matchers.query_param_matcher({"page_info": "xyz"})]
    )
    src = source({"params": {"status": "any"}, "pagination": {"type": "link"}})
    assert read_all(src)[0] == ["a", "b"]


@responses.activate
def test_record_without_id_gets_a_content_hash_id():
    responses.get(f"{BASE}/v1/guests", json=[{"name": "x"}])
    (rid,) = read_all(source({}))[0]
    assert rid.startswith("sha256:")


# -- auth ------------------------------------------------------------------------------


def _auth_header(call) -> str:
    return call.request.headers.get("Authorization", "")


@responses.activate
def test_bearer_basic_and_api_key_auth():
    responses.get(f"{BASE}/v1/guests", json=[])
    read_all(source({}, auth={"type": "bearer", "token": "tok"}))
    read_all(source({}, auth={"type": "basic", "username": "u", "password": "p"}))
    read_all(source({}, auth={"type": "api_key", "name": "X-Key", "value": "k1"}))
    read_all(source({}, auth={"type": "api_key", "name": "key", "value": "k2", "in": "query"}))
    c = responses.calls
    assert _auth_header(c[0]) == "Bearer tok"
    assert _auth_header(c[1]) == "Basic dTpw"  # base64("u:p")
    assert c[2].request.headers["X-Key"] == "k1"
    assert query(c[3]) == {"key": "k2"}


@responses.activate
def test_oauth2_client_credentials_token_is_reused_then_refreshed_before_expiry():
    now = [0.0]
    tokens = iter(["t1", "t2"])

    def token_cb(request):
        form = parse_qs(request.body)
        assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["read"]
        return 200, {}, json.dumps({"access_token": next(tokens), "expires_in": 3600})

    responses.add_callback(responses.POST, "https://auth.example.test/token", callback=token_cb)
    responses.get(f"{BASE}/v1/guests", json=[])
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": "https://auth.example.test/token",
        "client_id": "cid",
        "client_secret": "sec",
        "scope": "read",
    }
    src = source({}, auth=auth, clock=lambda: now[0])
    read_all(src)
    read_all(src)
    now[0] = 3600 - 30  # inside the refresh margin: fetch a new token first
    read_all(src)
    used = [_auth_header(c) for c in responses.calls if "/v1/guests" in c.request.url]
    assert used == ["Bearer t1", "Bearer t1", "Bearer t2"]


@responses.activate
def test_oauth2_refresh_token_refreshes_once_on_401_and_keeps_the_rotated_token():
    seen_refresh = []

    def token_cb(request):
        form = parse_qs(request.body)
        seen_refresh.append(form["refresh_token"][0])
        n = len(seen_refresh)
        return 200, {}, json.dumps({"access_token": f"a{n}", "refresh_token": f"r{n + 1}"})

    responses.add_callback(responses.POST, "https://auth.example.test/token", callback=token_cb)
    responses.get(f"{BASE}/v1/guests", status=401, json={"error": "expired"})
    responses.get(f"{BASE}/v1/guests", json=[{"id": "a"}])
    auth = {
        "type": "oauth2_refresh_token",
        "token_url": "https://auth.example.test/token",
        "client_id": "cid",
        "refresh_token": "r1",
    }
    src = source({}, auth=auth)
    assert read_all(src)[0] == ["a"]
    assert seen_refresh == ["r1", "r2"]  # the second refresh used the rotated token
    used = [_auth_header(c) for c in responses.calls if "/v1/guests" in c.request.url]
    assert used == ["Bearer a1", "Bearer a2"]


@responses.activate
def test_a_second_401_after_refresh_is_an_auth_error():
    from guestsync.errors import AuthError

    responses.post("https://auth.example.test/token", json={"access_token": "a"})
    responses.get(f"{BASE}/v1/guests", status=401, json={"error": "nope"})
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": "https://auth.example.test/token",
        "client_id": "cid",
        "client_secret": "s",
    }
    with pytest.raises(AuthError):
        read_all(source({}, auth=auth))


# -- incremental cursor ------------------------------------------------------------------


@responses.activate
def test_incremental_bookmark_is_the_largest_change_time_and_comes_back_with_lookback():
    responses.get(
        f"{BASE}/v1/guests",
        json=[
            {"id": "a", "updated": "2026-03-01T10:00:00Z"},
            {"id": "b", "updated": "2026-03-02T08:00:00Z"},
            {"id": "c", "updated": "2026-02-27T00:00:00Z"},  # APIs need not sort
        ],
        match=[matchers.query_param_matcher({"since": "2026-01-01T00:00:00Z"})],
    )
    responses.get(
        f"{BASE}/v1/guests",
        json=[],
        match=[matchers.query_param_matcher({"since": "2026-03-02T07:00:00Z"})],
    )
    inc = {"field": "updated", "param": "since", "start": "2026-01-01T00:00:00Z", "lookback": 3600}
    src = source({"incremental": inc})
    ids, cursor = read_all(src)
    assert ids == ["a", "b", "c"]
    assert json.loads(cursor) == {"bookmark": "2026-03-02T08:00:00Z"}
    ids, again = read_all(src, cursor)
    assert ids == [] and json.loads(again) == json.loads(cursor)  # nothing new: unchanged


@responses.activate
def test_window_mode_walks_start_time_windows_up_to_now_plus_ahead():
    responses.get(f"{BASE}/v1/guests", json={"items": [{"id": "x"}]})
    now = datetime(2026, 3, 10, tzinfo=UTC)
    opts = {
        "type": "rest",
        "base_url": BASE,
        "rate": None,
        "streams": {
            "guests": {
                "path": "v1/guests",
                "mapping": "m.yaml",
                "records": "items",
                "incremental": {
                    "param": "min",
                    "end_param": "max",
                    "start": "2026-03-01T00:00:00Z",
                    "window": 5 * 86400,
                    "ahead": 86400,
                },
            }
        },
    }
    src = RestSource("api", RestSourceOptions.model_validate(opts), now=lambda: now)
    pages = list(src.read("guests", None))
    windows = [(query(c)["min"], query(c)["max"]) for c in responses.calls]
    assert windows == [
        ("2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z"),
        ("2026-03-06T00:00:00Z", "2026-03-11T00:00:00Z"),  # reaches now + 1 day: last
    ]
    # The bookmark never passes now: future bookings are read again next run.
    assert json.loads(pages[-1].cursor) == {"bookmark": "2026-03-10T00:00:00Z"}


# -- resume and back-off -------------------------------------------------------------------


def _five_pages():
    token_for = {None: "p2", "p2": "p3", "p3": "p4", "p4": "p5", "p5": None}
    for page, nxt in token_for.items():
        base = {"p2": 2, "p3": 3, "p4": 4, "p5": 5}.get(page, 1)
        match = [matchers.query_param_matcher({"cursor": page} if page else {})]
        body = {"data": [{"id": f"r{base}-{i}"} for i in range(3)], "next": nxt}
        responses.get(f"{BASE}/v1/guests", json=body, match=match)


@responses.activate
def test_crash_in_the_middle_of_page_3_loses_nothing_and_duplicates_nothing(monkeypatch):
    _five_pages()
    stream = {
        "records": "data",
        "pagination": {"type": "cursor", "token_path": "next", "param": "cursor"},
    }
    store = Store.open(":memory:")
    src = source(stream)
    real_set_cursor = store.set_cursor
    calls = []

    def crash_on_third(source_name, stream_name, value):
        calls.append(value)
        if len(calls) == 3:  # page 3's rows are written, then the process dies
            raise KeyboardInterrupt("power cut")
        real_set_cursor(source_name, stream_name, value)

    monkeypatch.setattr(store, "set_cursor", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        pull_stream(store, src, "guests", PullStats())
    assert store.inbox_counts() == {"pending": 6}  # pages 1-2 only; page 3 rolled back
    monkeypatch.setattr(store, "set_cursor", real_set_cursor)
    responses.calls.reset()
    stats = pull(store, source(stream))
    requested = [query(c).get("cursor") for c in responses.calls]
    assert requested == ["p3", "p4", "p5"]  # resumed at page 3, pages 1-2 not re-read
    assert stats.new == 9 and store.inbox_counts() == {"pending": 15}
    ids = [r.external_id for r in store.pending_inbox(limit=100)]
    assert sorted(ids) == sorted(f"r{p}-{i}" for p in range(1, 6) for i in range(3))
    assert json.loads(store.get_cursor("api", "guests")) == {}


@responses.activate
def test_429_backs_off_honouring_retry_after_then_succeeds():
    responses.get(
        f"{BASE}/v1/guests",
        status=429,
        headers={"Retry-After": "7"},
        json={"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED"}]},
    )
    responses.get(f"{BASE}/v1/guests", status=503, json={})
    responses.get(f"{BASE}/v1/guests", json=[{"id": "a"}])
    waits: list[float] = []
    src = source({}, sleeps=waits)
    assert read_all(src)[0] == ["a"]
    assert len(waits) == 2 and waits[0] >= 7  # Retry-After is a floor on the wait
    assert len(responses.calls) == 3


@responses.activate
def test_a_failing_stream_is_reported_and_keeps_its_cursor():
    responses.get(f"{BASE}/v1/guests", status=400, json={"message": "bad filter"})
    store = Store.open(":memory:")
    stats = pull(store, source({}))
    assert "HTTP 400: bad filter" in stats.errors[0]
    assert store.get_cursor("api", "guests") is None


@responses.activate
def test_requests_are_paced_by_the_source_rate_limit():
    counter = iter(range(1, 100))
    responses.add_callback(
        responses.GET,
        f"{BASE}/v1/guests",
        callback=lambda req: (200, {}, json.dumps({"items": [{"id": "a"}], "next": next(counter)})),
    )
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    opts = {
        "type": "rest",
        "base_url": BASE,
        "rate": 2,
        "max_pages": 5,
        "streams": {
            "guests": {
                "path": "v1/guests",
                "mapping": "m.yaml",
                "records": "items",
                "pagination": {"type": "cursor", "token_path": "next", "param": "c"},
            }
        },
    }
    src = RestSource(
        "api", RestSourceOptions.model_validate(opts), sleep=sleep, clock=lambda: now[0]
    )
    pages = list(src.read("guests", None))
    assert len(pages) == 5 and len(responses.calls) == 5
    assert now[0] == pytest.approx(1.5)  # 2 at once (the burst), then one every 0.5 s
