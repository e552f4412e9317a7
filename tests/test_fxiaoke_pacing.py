"""Fxiaoke pacing has one knob, `rate` (default 2.9/s, burst 1), applied to every data call:
no 20-second window ever holds more than 59 calls (Fxiaoke allows 60 per 20 s), whether
the target paces itself or the engine hands it the account's shared budget
(`pace_requests`), and the engine does not pace its batches on top."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import responses

from guestsync.config import load_config
from guestsync.config.connectors import DeliveryRetryOptions, FxiaokeTargetOptions
from guestsync.connectors.fxiaoke import CREATE_PATH, QUERY_PATH, TOKEN_PATH, FxiaokeTarget
from guestsync.delivery.batches import deliver
from guestsync.delivery.rate_budget import pacer_for
from guestsync.models import OutboxItem
from guestsync.store import Store
from guestsync.sync_engine import Hub

from .conftest import write_config

BASE = "https://open.fxiaoke.com"
RETRY = DeliveryRetryOptions(max_attempts=3, initial_wait=0, max_wait=0)


class FakeTime:
    """A clock that only moves when slept on; both wall and monotonic for the target."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


def _options(**kw) -> FxiaokeTargetOptions:
    return FxiaokeTargetOptions(
        type="fxiaoke",
        app_id="FSAID_test",
        app_secret="app-secret",
        permanent_code="perm-code",
        open_user_id="FSUID_admin",
        base_url=BASE,
        **kw,
    )


def _mock_api(clock: FakeTime) -> list[float]:
    """Answer token, query (nothing found) and create; return the times of data calls."""
    seen: list[float] = []
    ids = itertools.count(1)

    def data(body: dict) -> tuple[int, dict, str]:
        seen.append(clock())
        return 200, {}, json.dumps(body)

    responses.post(
        BASE + TOKEN_PATH,
        json={"errorCode": 0, "corpAccessToken": "tok", "corpId": "FSCID", "expiresIn": 7200},
    )
    responses.add_callback(
        "POST",
        BASE + QUERY_PATH,
        callback=lambda req: data({"errorCode": 0, "data": {"dataList": []}}),
    )
    responses.add_callback(
        "POST",
        BASE + CREATE_PATH,
        callback=lambda req: data({"errorCode": 0, "dataId": f"d{next(ids)}"}),
    )
    return seen


def _max_in_window(times: list[float], window: float = 20.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def _items(n: int) -> list[OutboxItem]:
    return [
        OutboxItem(
            i, "fxk", f"g{i}", {"guestsync_id__c": f"g{i}", "name": f"n{i}"}, f"h{i}", 0, None
        )
        for i in range(n)
    ]


def test_rate_is_the_one_knob_and_its_old_name_sets_the_same_knob():
    assert _options().rate == 2.9
    assert _options(rate=1.5).rate == 1.5
    assert _options(rate=None).rate is None
    old = _options(requests_per_second=2.0)
    assert old.rate == 2.0 and "requests_per_second" not in old.model_dump()
    assert FxiaokeTarget("fxk", old).rate == 2.0


@responses.activate
def test_alone_the_target_never_makes_more_than_59_calls_in_20_seconds():
    clock = FakeTime()
    seen = _mock_api(clock)
    t = FxiaokeTarget("fxk", _options(), clock=clock, sleep=clock.sleep, pace_clock=clock)
    results = t.upsert(_items(150))  # 300 data calls: lookup + create each
    assert all(r.ok for r in results) and len(seen) == 300
    assert 57 <= _max_in_window(seen) <= 59  # close to the limit, never over it
    # and it does not crawl either: 300 calls at 2.9/s take about 103 s
    assert seen[-1] - seen[0] == pytest.approx(299 / 2.9, rel=0.01)


@responses.activate
def test_through_the_engine_every_call_takes_a_token_of_the_shared_budget(tmp_path: Path):
    clock = FakeTime()
    seen = _mock_api(clock)
    store = Store.open(tmp_path / "hub.db")
    with store.atomic():
        for it in _items(120):
            store.enqueue("fxk", it.guest_id, it.payload, it.payload_hash)
    options = _options(batch_size=20)
    t = FxiaokeTarget("fxk", options, clock=clock, sleep=clock.sleep)  # real monotonic bucket
    shared = pacer_for(store, "fxk", t, options, clock=clock, sleep=clock.sleep)
    assert shared is not None
    tokens: list[float] = []

    def pace() -> object:
        tokens.append(clock())
        return shared()

    stats = deliver(store, t, RETRY, sleep=clock.sleep, pace=pace)
    assert stats.pushed == 120 and stats.batches == 6 and len(seen) == 240
    assert len(tokens) == 240  # one token per data call, none more per batch
    assert _max_in_window(seen) <= 59
    # the shared budget (2.9/s less the 3% safety margin) set the pace, not the local one
    assert seen[-1] - seen[0] == pytest.approx(239 / (2.9 * 0.97), rel=0.01)
    store.close()


def test_two_targets_on_one_tenant_share_a_budget_and_rate_null_turns_pacing_off():
    a = FxiaokeTarget("a", _options())
    b = FxiaokeTarget("b", _options(object_api_name="AccountObj"))
    assert a.account == b.account and "perm-code" not in a.account
    assert FxiaokeTarget("c", _options(rate=None)).rate is None


def test_the_hub_wires_the_shared_budget_into_the_target(tmp_path: Path):
    path = write_config(
        tmp_path,
        """\
        version: 1
        store: {path: hub.db}
        sources: {}
        targets:
          fxiaoke:
            type: fxiaoke
            app_id: FSAID_test
            app_secret: s
            permanent_code: p
            open_user_id: admin
            rate: 2.0
        """,
    )
    hub = Hub(load_config(path))
    try:
        target = hub.targets["fxiaoke"]
        local = target._pace
        (stats,) = hub.deliver()  # nothing pending: the budget is handed over all the same
        assert stats.stopped is None
        assert target._pace is not local and target._pace.__self__.rate == pytest.approx(1.94)
        target.pace_requests(None)  # outside the engine the target paces itself again
        assert target._pace is local
    finally:
        hub.close()
