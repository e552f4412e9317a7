"""The console's doors (issue 25): login, session, CSRF, headers, and what a decision
records. Flask's test client; the real browser is in test_console_browser.py."""

from __future__ import annotations

import re

import pytest

from guestsync.actions.guests import current_id
from guestsync.console.review import field_rows, guard_reason
from guestsync.sync_engine import Hub
from guestsync.webhook_server import create_app

from .console_fixtures import TOKEN, add_trouble, console_config, filled_store

PAGES = ["/console/", "/console/review", "/console/pipeline", "/console/guests"]
ACTIONS = [
    "/console/review/1/accept",
    "/console/review/1/reject",
    "/console/review/bulk-accept",
    "/console/dead-letters/retry",
    "/console/targets/hubspot/resume",
    "/console/guests/x/unmerge",
    "/console/guests/x/merge",
    "/console/logout",
]


@pytest.fixture
def env(tmp_path):
    config = console_config(tmp_path)
    store = filled_store(config)
    app = create_app(config, store=store, targets=Hub(config, store=store).targets)
    yield app, store
    store.close()


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def _login(client) -> str:
    page = client.get("/console/login").get_data(as_text=True)
    r = client.post("/console/login", data={"csrf": _csrf(page), "token": TOKEN})
    assert r.status_code == 302
    return _csrf(client.get("/console/review").get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_login(env, path):
    r = env[0].test_client().get(path)
    assert r.status_code == 302 and "/console/login" in r.headers["Location"]


@pytest.mark.parametrize("path", ACTIONS)
def test_actions_refuse_a_stranger(env, path):
    client = env[0].test_client()
    assert client.post(path).status_code == 403  # no CSRF token at all
    csrf = _csrf(client.get("/console/login").get_data(as_text=True))
    assert client.post(path, data={"csrf": csrf}).status_code == 401  # token, no login
    assert env[1].count_reviews("accepted") == 0


def test_a_post_without_the_csrf_token_is_refused_after_login(env):
    app, store = env
    client = app.test_client()
    _login(client)
    item = store.reviews()[0]
    assert client.post(f"/console/review/{item.id}/accept").status_code == 403
    bad = client.post(f"/console/review/{item.id}/accept", data={"csrf": "forged"})
    assert bad.status_code == 403
    assert store.review(item.id).status == "open"


def test_a_wrong_token_does_not_log_in_and_nothing_echoes_the_token(env):
    client = env[0].test_client()
    page = client.get("/console/login").get_data(as_text=True)
    r = client.post("/console/login", data={"csrf": _csrf(page), "token": "nope"})
    assert r.status_code == 401
    assert client.get("/console/review").status_code == 302
    _login(client)
    for path in [*PAGES, "/console/login", "/console/review?lang=zh-TW"]:
        r = client.get(path, follow_redirects=True)
        assert TOKEN not in r.get_data(as_text=True)
        assert TOKEN not in str(r.headers)
    # the session cookie is signed data, not the token
    cookie = client.get_cookie("guestsync_console")
    assert cookie is not None and TOKEN not in cookie.value


def test_pages_carry_secure_headers_and_the_cookie_is_httponly_samesite(env):
    client = env[0].test_client()
    page = client.get("/console/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    set_cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie


def test_the_console_is_off_without_a_token_and_answers_only_admin_from(tmp_path, env):
    app, _ = env
    r = app.test_client().get("/console/review", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 403
    config = console_config(tmp_path)
    server = config.server.model_copy(update={"admin_token": None})
    off = create_app(config.model_copy(update={"server": server}))
    assert off.test_client().get("/console/login").status_code == 404


def test_a_decision_is_recorded_as_the_cli_records_it(env):
    app, store = env
    client = app.test_client()
    csrf = _login(client)
    first, second = [
        i
        for i in store.reviews()
        if current_id(store, i.guest_id) != current_id(store, i.candidate)
    ][:2]
    r = client.post(f"/console/review/{first.id}/accept", data={"csrf": csrf})
    assert r.status_code == 302
    assert store.review(first.id).status == "accepted"
    assert store.merged_into(first.guest_id) == first.candidate  # as `review accept`
    assert store.outbox_depths()["hubspot"][0] > 0  # the merged guest is re-queued
    client.post(f"/console/review/{second.id}/reject", data={"csrf": csrf})
    assert store.review(second.id).status == "rejected"
    assert store.kept_apart(second.guest_id, second.candidate)
    again = client.post(f"/console/review/{first.id}/accept", data={"csrf": csrf})
    assert "already accepted" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_bulk_accept_takes_only_items_at_or_above_the_score(env):
    app, store = env
    client = app.test_client()
    csrf = _login(client)
    items = store.reviews(limit=1000)
    floor = sorted(i.score for i in items)[len(items) // 2]
    # items whose two guests a later record merged stay open, as `review accept` leaves them
    two = [i for i in items if current_id(store, i.guest_id) != current_id(store, i.candidate)]
    client.post("/console/review/bulk-accept", data={"csrf": csrf, "min_score": str(floor)})
    assert store.count_reviews("accepted") == sum(i.score >= floor for i in two) > 0
    assert all(i.score < floor or i not in two for i in store.reviews(limit=1000))


def test_review_page_shows_fields_levels_and_weights_in_each_language(env):
    app, store = env
    client = app.test_client()
    _login(client)
    item = store.reviews()[0]
    html = client.get("/console/review?lang=en").get_data(as_text=True)
    assert f"{item.score:.1f}" in html and "Accept (merge)" in html
    for name, field in item.fields.items():
        if not name.startswith("_"):
            assert field["level"] in html
            assert f"{field['w']:+.1f}" in html
    assert "接受（合併）" in client.get("/console/review?lang=zh-TW").get_data(as_text=True)
    assert "接受（合并）" in client.get("/console/review?lang=zh-CN").get_data(as_text=True)
    fresh = app.test_client()
    _login(fresh)
    chosen = fresh.get("/console/review", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "待审" in chosen.get_data(as_text=True)
    assert "到店次数" in chosen.get_data(as_text=True)  # the guests' activity, labelled too


def test_guest_search_show_and_unmerge(env):
    app, store = env
    client = app.test_client()
    csrf = _login(client)
    guest = next(g for g in store.all_guests() if g.phone and g.full_name)
    found = client.get("/console/guests", query_string={"q": guest.phone})
    assert guest.id in found.get_data(as_text=True)
    multi = next(
        gid
        for gid, n in store.conn.execute(
            "SELECT guest_id, count(*) FROM guest_links GROUP BY guest_id ORDER BY 2 DESC"
        )
        if n > 1
    )
    page = client.get(f"/console/guests/{multi}").get_data(as_text=True)
    link = re.search(r'name="link" value="([^"]+)"', page).group(1)
    r = client.post(f"/console/guests/{multi}/unmerge", data={"csrf": csrf, "link": link})
    assert r.status_code == 302
    assert len(store.links_of([multi])) < page.count('name="link"')
    assert client.get("/console/guests/no-such-guest").status_code == 404


def test_merge_another_guest_in_by_the_start_of_its_id(env):
    app, store = env
    client = app.test_client()
    csrf = _login(client)
    keep, lose = sorted(store.all_guest_ids())[:2]
    r = client.post(f"/console/guests/{keep}/merge", data={"csrf": csrf, "other": lose[:20]})
    assert r.status_code == 302
    assert store.merged_into(lose) == keep  # as `guests merge` records it
    page = client.get(f"/console/guests/{keep}").get_data(as_text=True)
    assert "CRM push(es) queued" in page
    again = client.post(f"/console/guests/{keep}/merge", data={"csrf": csrf, "other": lose})
    assert "already one guest" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_pipeline_retries_dead_letters_and_resumes_a_paused_target(env):
    app, store = env
    client = app.test_client()
    csrf = _login(client)
    add_trouble(store, error="HubSpot said: PROPERTY_DOESNT_EXIST")
    html = client.get("/console/pipeline").get_data(as_text=True)
    assert "PROPERTY_DOESNT_EXIST" in html and "2999-01-01" in html
    assert "<h2>Sources</h2>" in html  # with their cursors and webhooks (none configured here)
    client.post("/console/dead-letters/retry", data={"csrf": csrf})
    assert store.dead_letter_details() == []
    client.post("/console/targets/hubspot/resume", data={"csrf": csrf})
    assert "2999-01-01" not in client.get("/console/pipeline").get_data(as_text=True)


def test_the_match_logs_fields_become_rows_with_tf_and_the_guards_reason():
    fields = {
        "name": {"level": "exact", "sim": 1.0, "w": 9.52, "tf": -1.5},
        "phone": {"level": "exact", "w": 0.0, "dropped": 10.7},
        "_guard": {"reason": "shared phone, names differ"},
    }
    rows = field_rows(fields)
    assert [r["field"] for r in rows] == ["name", "phone"]
    assert rows[0]["tf"] == -1.5 and rows[1]["dropped"] == 10.7
    assert guard_reason(fields) == "shared phone, names differ"
    assert guard_reason({"name": fields["name"]}) is None
