"""Fxiaoke target: token cache and single flight, errorCode-in-200 handling, lookup before
create, quota stop; unit tests through `responses`, end to end against the fake."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import responses

from guestsync.config.connectors import DeliveryRetryOptions, FxiaokeTargetOptions
from guestsync.connectors.fxiaoke import (
    CREATE_PATH,
    QUERY_PATH,
    TOKEN_PATH,
    UPDATE_PATH,
    FxiaokeTarget,
)
from guestsync.delivery.batches import deliver
from guestsync.errors import AuthError, QuotaExhaustedError, RateLimitedError, RetryableError
from guestsync.models import Guest, OutboxItem
from guestsync.store import Store
from guestsync.testing import FakeFxiaoke, FaultPlan, ServerThread

BASE = "https://open.fxiaoke.com"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _options(base: str = BASE, **kw) -> FxiaokeTargetOptions:
    return FxiaokeTargetOptions(
        type="fxiaoke",
        app_id="FSAID_test",
        app_secret="app-secret",
        permanent_code="perm-code",
        open_user_id="FSUID_admin",
        base_url=base,
        rate=None,
        **kw,
    )


def _target(base: str = BASE, clock: Clock | None = None, **kw) -> FxiaokeTarget:
    return FxiaokeTarget("fxk", _options(base, **kw), clock=clock or Clock(), sleep=lambda s: None)


def _item(gid: str, crm_id: str | None = None, **fields) -> OutboxItem:
    payload = {"guestsync_id__c": gid, "name": f"guest {gid}", **fields}
    return OutboxItem(1, "fxk", gid, payload, f"h-{gid}", 0, crm_id)


def _token(n: int = 1, ttl: int = 7200) -> None:
    for i in range(n):
        responses.post(
            BASE + TOKEN_PATH,
            json={
                "errorCode": 0,
                "corpAccessToken": f"tok{i}",
                "corpId": "FSCID",
                "expiresIn": ttl,
            },
        )


def _bodies(path: str) -> list[dict]:
    return [json.loads(c.request.body) for c in responses.calls if c.request.url.endswith(path)]


def test_projection_uses_the_configured_api_names():
    t = _target(phone_field="tel", email_field=None)
    fields = t.project(Guest(id="g1", full_name="陳小明", phone="+8613800138000", email="a@b.cn"))
    assert fields == {"guestsync_id__c": "g1", "name": "陳小明", "tel": "+8613800138000"}


@responses.activate
def test_looks_up_then_creates_and_keeps_the_data_id():
    _token()
    responses.post(BASE + QUERY_PATH, json={"errorCode": 0, "data": {"dataList": []}})
    responses.post(BASE + QUERY_PATH, json={"errorCode": 0, "data": {"dataList": []}})
    responses.post(BASE + CREATE_PATH, json={"errorCode": 0, "dataId": "d1"})
    [r] = _target().upsert([_item("g1", mobile1="+8613800138000")])
    assert (r.ok, r.crm_id, r.created) == (True, "d1", True)
    q_id, q_phone = _bodies(QUERY_PATH)
    assert q_id["corpAccessToken"] == "tok0" and q_id["currentOpenUserId"] == "FSUID_admin"
    assert q_id["data"]["search_query_info"]["filters"] == [
        {"field_name": "guestsync_id__c", "field_values": ["g1"], "operator": "EQ"}
    ]
    assert q_phone["data"]["search_query_info"]["filters"][0]["field_name"] == "mobile1"
    [create] = _bodies(CREATE_PATH)
    assert create["data"]["object_data"]["dataObjectApiName"] == "ContactObj"
    assert create["data"]["object_data"]["guestsync_id__c"] == "g1"


@responses.activate
def test_a_phone_match_owned_by_another_guest_is_not_taken_over():
    _token()
    responses.post(BASE + QUERY_PATH, json={"errorCode": 0, "data": {"dataList": []}})
    responses.post(
        BASE + QUERY_PATH,
        json={
            "errorCode": 0,
            "data": {"dataList": [{"_id": "other", "guestsync_id__c": "g9"}, {"_id": "free"}]},
        },
    )
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    [r] = _target().upsert([_item("g1", mobile1="+8613800138000")])
    assert (r.ok, r.crm_id, r.created) == (True, "free", False)
    assert _bodies(UPDATE_PATH)[0]["data"]["object_data"]["_id"] == "free"


@responses.activate
def test_known_crm_id_skips_the_lookup():
    _token()
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    [r] = _target().upsert([_item("g1", crm_id="d7")])
    assert (r.ok, r.crm_id, r.created) == (True, "d7", False)
    assert not _bodies(QUERY_PATH)


@responses.activate
def test_token_is_cached_until_expiry_then_fetched_again():
    _token(2, ttl=7200)
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    clock = Clock()
    t = _target(clock=clock)
    t.upsert([_item("g1", crm_id="d1"), _item("g2", crm_id="d2")])
    assert t.token_fetches == 1
    clock.t += 7200
    t.upsert([_item("g3", crm_id="d3")])
    assert t.token_fetches == 2
    assert _bodies(UPDATE_PATH)[-1]["corpAccessToken"] == "tok1"


@responses.activate
def test_token_invalid_refreshes_once_and_retries():
    _token(2)
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 20016, "errorMessage": "token无效"})
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    [r] = _target().upsert([_item("g1", crm_id="d1")])
    assert r.ok
    assert [b["corpAccessToken"] for b in _bodies(UPDATE_PATH)] == ["tok0", "tok1"]


@responses.activate
def test_a_refresh_right_after_a_fetch_waits_for_the_token_endpoint_limit():
    _token(2)
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 20016, "errorMessage": "token无效"})
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    waits: list[float] = []
    clock = Clock()
    t = FxiaokeTarget("fxk", _options(), clock=clock, sleep=waits.append)
    assert t.upsert([_item("g1", crm_id="d1")])[0].ok
    assert waits == [6.0]  # <= 10 token calls a minute


@responses.activate
def test_an_answer_that_is_not_json_is_transient():
    _token()
    responses.post(BASE + UPDATE_PATH, body="<html>502 Bad Gateway</html>")
    with pytest.raises(RetryableError, match="not a JSON object"):
        _target().upsert([_item("g1", crm_id="d1")])


@responses.activate
def test_token_refused_twice_is_an_auth_error():
    _token(2)
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 20016, "errorMessage": "token无效"})
    with pytest.raises(AuthError, match="20016"):
        _target().upsert([_item("g1", crm_id="d1")])
    assert len(_bodies(UPDATE_PATH)) == 2


@responses.activate
def test_bad_app_credentials_are_an_auth_error():
    responses.post(BASE + TOKEN_PATH, json={"errorCode": 20013, "errorMessage": "appSecret错误"})
    with pytest.raises(AuthError, match="appSecret错误"):
        _target().upsert([_item("g1", crm_id="d1")])


@pytest.mark.parametrize("code", [14001, 30004])
@responses.activate
def test_too_frequent_is_rate_limited(code):
    _token()
    responses.post(BASE + UPDATE_PATH, json={"errorCode": code, "errorMessage": "过于频繁"})
    with pytest.raises(RateLimitedError):
        _target().upsert([_item("g1", crm_id="d1")])


@responses.activate
def test_unknown_error_code_rejects_only_that_record():
    _token()
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 320001400, "errorMessage": "邮箱格式"})
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    # a refused update of a linked record first checks that the link still holds
    responses.post(BASE + QUERY_PATH, json={"errorCode": 0, "data": {"dataList": [{"_id": "d2"}]}})
    results = _target().upsert(
        [_item("g1", crm_id="d1"), _item("g2", crm_id="d2"), _item("g3", crm_id="d3")]
    )
    assert [(r.guest_id, r.ok, r.retryable) for r in results] == [
        ("g1", True, False),
        ("g2", False, False),
        ("g3", True, False),
    ]
    assert "邮箱格式" in (results[1].error or "")


@responses.activate
def test_a_stale_link_is_looked_up_again_and_recreated():
    _token()
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 320001404, "errorMessage": "数据不存在"})
    responses.post(BASE + QUERY_PATH, json={"errorCode": 0, "data": {"dataList": []}})
    responses.post(BASE + CREATE_PATH, json={"errorCode": 0, "dataId": "d9"})
    [r] = _target().upsert([_item("g1", crm_id="gone")])
    assert (r.ok, r.crm_id, r.created) == (True, "d9", True)


@responses.activate
def test_daily_quota_stops_the_target_until_midnight_in_the_quota_zone():
    _token()
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 30002, "errorMessage": "配额已用完"})
    zone = ZoneInfo("Asia/Shanghai")
    clock = Clock(datetime(2026, 11, 23, 22, 0, tzinfo=zone).timestamp())
    t = _target(clock=clock)
    with pytest.raises(QuotaExhaustedError) as info:
        t.upsert([_item("g1", crm_id="d1")])
    assert info.value.resets_at == datetime(2026, 11, 24, tzinfo=zone)
    assert info.value.retry_after == 2 * 3600
    calls = len(responses.calls)
    with pytest.raises(QuotaExhaustedError):  # no call until the reset
        t.upsert([_item("g1", crm_id="d1")])
    assert len(responses.calls) == calls
    clock.t += 2 * 3600
    responses.replace(responses.POST, BASE + UPDATE_PATH, json={"errorCode": 0})
    assert t.upsert([_item("g1", crm_id="d1")])[0].ok


# -- end to end against the fake ---------------------------------------------------------


def _store_with(n: int, target: str = "fxk") -> Store:
    store = Store.open(":memory:")
    with store.atomic():
        for i in range(n):
            gid = f"g{i:03d}"
            store.enqueue(target, gid, {"guestsync_id__c": gid, "name": f"客人{i}"}, f"h{i}")
    return store


RETRY = DeliveryRetryOptions(max_attempts=20, initial_wait=0, max_wait=0)


def test_every_guest_lands_once_through_throttles_token_expiry_and_500s():
    faults = FaultPlan(script=[None, 30004, 20016, None, 500, "drop"], rate_429=0.1, seed=3)
    crm = FakeFxiaoke(faults=faults)
    store = _store_with(40)
    with ServerThread(crm.app) as srv:
        t = FxiaokeTarget("fxk", _options(srv.url, batch_size=7), sleep=lambda s: None)
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.stopped is None and stats.pushed == 40
        for i in range(40):
            assert len(crm.find("guestsync_id__c", f"g{i:03d}")) == 1
        assert store.count_crm_links("fxk") == 40
        # a changed guest is updated in place, through its stored dataId, without a lookup
        crm_id = store.crm_id("fxk", "g000")
        with store.atomic():
            store.enqueue("fxk", "g000", {"guestsync_id__c": "g000", "name": "新名字"}, "h-new")
        queries = crm.counts["queries"]
        assert deliver(store, t, RETRY, sleep=lambda s: None).pushed == 1
        assert crm.counts["queries"] == queries
        assert crm.records["ContactObj"][crm_id]["name"] == "新名字"
    assert crm.counts["created"] == 40


def test_a_lost_answer_does_not_create_twice():
    crm = FakeFxiaoke()
    store = _store_with(3)
    with ServerThread(crm.app) as srv:
        t = FxiaokeTarget("fxk", _options(srv.url), sleep=lambda s: None)
        first = t.upsert(store.pending_outbox("fxk", limit=10))
        assert all(r.ok for r in first)
        # a new process that never heard the answers (no crm_id, no memory) pushes again
        again = FxiaokeTarget("fxk", _options(srv.url), sleep=lambda s: None)
        second = again.upsert(store.pending_outbox("fxk", limit=10))
        assert [r.crm_id for r in second] == [r.crm_id for r in first]
        assert not any(r.created for r in second)
    assert crm.counts["created"] == 3


def test_quota_exhaustion_pauses_without_dead_letters_or_attempts():
    crm = FakeFxiaoke(daily_quota=5)
    store = _store_with(6)
    with ServerThread(crm.app) as srv:
        t = FxiaokeTarget("fxk", _options(srv.url, batch_size=2), sleep=lambda s: None)
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.stopped and "quota used up" in stats.stopped
        assert store.dead_letters() == []
        pending = store.pending_outbox("fxk", limit=10)
        assert pending and all(i.attempts == 0 for i in pending)
        assert crm.counts["quota_refused"] == 1  # one call, one clear message
        crm.reset_quota()
        crm.daily_quota = 100
        t._paused_until = None  # midnight has come, for the target and the engine
        assert store.get_meta("quota_paused_until:fxk")
        with store.atomic():
            store.set_meta("quota_paused_until:fxk", "2000-01-01T00:00:00.000000+00:00")
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.stopped is None
    assert all(len(crm.find("guestsync_id__c", f"g{i:03d}")) == 1 for i in range(6))


def test_the_token_endpoint_is_never_called_concurrently():
    crm = FakeFxiaoke(token_delay=0.05)
    with ServerThread(crm.app) as srv:
        t = FxiaokeTarget("fxk", _options(srv.url), sleep=lambda s: None)
        errors: list[BaseException] = []

        def push(i: int) -> None:
            try:
                t.upsert([OutboxItem(i, "fxk", f"g{i}", {"name": f"n{i}"}, f"h{i}", 0, None)])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=push, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
    assert crm.counts["token"] == 1 and crm.token_max_in_flight == 1
    assert crm.counts["created"] == 8


def test_rejected_record_is_dead_lettered_with_the_crm_message():
    crm = FakeFxiaoke()
    store = Store.open(":memory:")
    with store.atomic():
        store.enqueue("fxk", "good", {"guestsync_id__c": "good", "name": "A"}, "h1")
        store.enqueue("fxk", "bad", {"guestsync_id__c": "bad", "name": "B", "email": "x"}, "h2")
    with ServerThread(crm.app) as srv:
        t = FxiaokeTarget("fxk", _options(srv.url), sleep=lambda s: None)
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert (stats.pushed, stats.dead) == (1, 1)
    [dead] = store.dead_letters()
    assert dead.guest_id == "bad" and "邮箱格式不正确" in dead.error


def test_single_name_prefers_the_parts_surname_first_for_cjk():
    from guestsync.connectors.names import single_name

    assert (
        single_name(Guest(id="1", given_name="小明", family_name="陳", full_name="x")) == "陳小明"
    )
    assert single_name(Guest(id="1", given_name="Mei", family_name="Wang", full_name="x")) == (
        "Mei Wang"
    )
    assert single_name(Guest(id="1", full_name="歐陽娜娜")) == "歐陽娜娜"
    assert single_name(Guest(id="g9", phone="+886912345678")) == "+886912345678"


@responses.activate
def test_the_memory_of_written_records_is_bounded():
    _token()
    responses.post(BASE + UPDATE_PATH, json={"errorCode": 0})
    t = _target(batch_size=2)
    for i in range(30):
        assert t.upsert([_item(f"g{i}", crm_id=f"d{i}")])[0].ok
    assert len(t._written) == 20 and ("g29", "h-g29") in t._written
    assert ("g0", "h-g0") not in t._written
    calls = len(responses.calls)
    assert t.upsert([_item("g29", crm_id="d29")])[0].crm_id == "d29"
    assert len(responses.calls) == calls  # a batch retried at once is not written again


# -- issue 23 ------------------------------------------------------------------------------


def test_writes_trigger_no_approval_flow_and_updates_leave_the_owner_alone():
    from guestsync.connectors.fxiaoke import FxiaokeTarget

    t = FxiaokeTarget("fxk", _options(extra_fields={"owner": ["FSUID_admin"], "source": "web"}))
    create = t._object_data({"name": "Amy"})
    update = t._object_data({"name": "Amy"}, "id-1")
    for body in (create, update):
        assert body["triggerApprovalFlow"] is False and body["triggerWorkFlow"] is False
    assert create["data"]["object_data"]["owner"] == ["FSUID_admin"]
    assert "owner" not in update["data"]["object_data"]
    assert update["data"]["object_data"]["source"] == "web"


def test_lookups_ask_only_for_the_fields_they_read():
    from guestsync.connectors.fxiaoke import query_body

    info = query_body("ContactObj", "mobile1", "+886912345678", ("_id", "guestsync_id__c"))
    assert info["data"]["search_query_info"]["fieldProjection"] == ["_id", "guestsync_id__c"]
