"""Fxiaoke and Kingdee through the whole hub, against their fakes on 127.0.0.1: the same
properties the other targets keep (every guest exactly once across faults, results per
record in batch order, nothing re-sent when nothing changed, auth failure stops the target
without dead letters). Until the shared contract suite lands, these are its stand-in."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from guestsync.config import load_config
from guestsync.models import OutboxItem
from guestsync.sync_engine import Hub
from guestsync.testing import FakeFxiaoke, FakeKingdee, FaultPlan, ServerThread

from .conftest import SAMPLES, write_config
from .test_jiandaoyun_source import SECRET, W, push


@dataclass
class Crm:
    fake: Any
    yaml: Callable[[str], str]  # server url -> target block
    count: Callable[[str], int]  # guest id -> records holding it
    spoil: Callable[[dict], dict]  # a payload -> one for guest "zz-bad" the CRM refuses


def _fxiaoke(faults: FaultPlan, **kw) -> Crm:
    fake = FakeFxiaoke(faults=faults, **kw)
    return Crm(
        fake,
        lambda url: (
            f"""\
          crm:
            type: fxiaoke
            app_id: FSAID_test
            app_secret: app-secret
            permanent_code: perm-code
            open_user_id: FSUID_admin
            base_url: {url}
            rate: null
            batch_size: 4
            retry: {{max_attempts: 12, initial_wait: 0, max_wait: 0}}
        """
        ),
        lambda gid: len(fake.find("guestsync_id__c", gid)),
        lambda p: {**p, "guestsync_id__c": "zz-bad", "email": "not-an-email"},
    )


def _kingdee(faults: FaultPlan, **kw) -> Crm:
    fake = FakeKingdee(faults=faults, **kw)
    return Crm(
        fake,
        lambda url: (
            f"""\
          crm:
            type: kingdee
            server_url: {url}/k3cloud/
            acct_id: 6500abc
            user_name: administrator
            app_id: 224466_X0dC0+tJzqGV1WxHwr9BTyws7hRa1vLI
            app_secret: kd-app-secret
            batch_size: 4
            retry: {{max_attempts: 12, initial_wait: 0, max_wait: 0}}
        """
        ),
        lambda gid: len(fake.find(f"GS{gid}")),
        lambda p: {**p, "FNumber": "GSzz-bad", "FEMAIL": "not-an-email"},
    )


FAULTS = {
    "fxiaoke": lambda: FaultPlan(script=[None, 30004, 500, 20016, "drop"], rate_429=0.1, seed=1),
    "kingdee": lambda: FaultPlan(script=[None, 500, "drop", 429], rate_500=0.15, seed=1),
}
MAKERS = {"fxiaoke": _fxiaoke, "kingdee": _kingdee}


@pytest.fixture(params=["fxiaoke", "kingdee"])
def crm(request) -> Iterator[tuple[Crm, ServerThread]]:
    c = MAKERS[request.param](FAULTS[request.param]())
    with ServerThread(c.fake.app) as srv:
        yield c, srv


def _config(head: str, targets: str) -> str:
    return textwrap.dedent(head) + textwrap.indent(textwrap.dedent(targets), "  ")


def _csv_hub(tmp_path: Path, target_yaml: str) -> Hub:
    (tmp_path / "bookings").mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "bookings" / "site.csv")
    cfg = write_config(
        tmp_path,
        _config(
            """\
            store: {path: hub.db}
            sources:
              site:
                type: csv
                paths: [bookings/*.csv]
                mapping: mappings/booking_en.yaml
            targets:
            """,
            target_yaml,
        ),
    )
    return Hub(load_config(cfg), sleep=lambda s: None)


def test_every_guest_lands_exactly_once_and_a_rerun_sends_nothing(crm, tmp_path):
    c, srv = crm
    hub = _csv_hub(tmp_path, c.yaml(srv.url))
    first = hub.sync()
    (d,) = first.deliveries
    assert d.stopped is None and d.dead == 0
    guests = list(hub.store.all_guests())
    assert d.pushed == len(guests) == 13
    assert all(c.count(g.id) == 1 for g in guests)
    second = hub.sync()
    assert second.deliveries[0].batches == 0 and second.process.queued == 0
    assert all(c.count(g.id) == 1 for g in guests)
    hub.close()


def test_results_come_back_one_per_item_in_batch_order(crm, tmp_path):
    c, srv = crm
    c.fake.faults = FaultPlan()
    hub = _csv_hub(tmp_path, c.yaml(srv.url))
    hub.sync(deliver=False)
    target = hub.targets["crm"]
    items = hub.store.pending_outbox("crm", limit=100)
    bad = OutboxItem(0, "crm", "zz-bad", c.spoil(items[1].payload), "hx", 0, None)
    batch = [items[0], bad, items[2]]
    results = target.upsert(batch)
    assert [r.guest_id for r in results] == [i.guest_id for i in batch]
    assert [r.ok for r in results] == [True, False, True]
    assert not results[1].retryable and results[1].error
    hub.close()


def test_wrong_credentials_stop_the_target_without_dead_letters(tmp_path):
    for name, wrong in (("fxiaoke", {"app_secret": "other"}), ("kingdee", {"app_secret": "x"})):
        c = MAKERS[name](FaultPlan(), **wrong)
        with ServerThread(c.fake.app) as srv:
            hub = _csv_hub(tmp_path / name, c.yaml(srv.url))
            (d,) = hub.sync().deliveries
            assert d.stopped and "credentials refused" in d.stopped, name
            assert hub.store.dead_letters() == [] and d.pushed == 0
            hub.close()


def test_shanghai_setup_jiandaoyun_feedback_to_fxiaoke(tmp_path, make_config):
    c = _fxiaoke(FaultPlan(script=[30004, None, 20016]))
    with ServerThread(c.fake.app) as srv:
        cfg = make_config(
            _config(
                f"""\
                store: {{path: hub.db}}
                defaults: {{region: CN, timezone: Asia/Shanghai}}
                sources:
                  feedback_form:
                    type: jiandaoyun
                    mapping: mappings/jiandaoyun_feedback.yaml
                    secret: {SECRET}
                    timestamp_tolerance: 0
                targets:
                """,
                c.yaml(srv.url),
            )
        )
        hub = Hub(load_config(cfg), sleep=lambda s: None)
        src = hub.sources["feedback_form"]
        people = [("张伟", "13800138001"), ("王芳", "13800138002"), ("张伟", "138-0013-8001")]
        for i, (name, phone) in enumerate(people):
            entry = push("data_create", f"{i:024x}", f"d{i}", **{f"{W}01": name, f"{W}02": phone})
            with hub.store.atomic():
                hub.store.add_to_inbox(src.receive(*entry))
        summary = hub.sync()
        assert summary.process.processed == 3 and summary.guests_total == 2
        assert summary.deliveries[0].pushed == 2
        for g in hub.store.all_guests():
            assert c.count(g.id) == 1
        hub.close()
