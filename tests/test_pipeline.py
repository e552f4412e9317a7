"""The foundation slice end to end: CSV in, deduplicated contacts out, with faults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guestsync.config import load_config
from guestsync.sync_engine import Hub
from guestsync.testing import FakeHubSpot, FaultPlan, ServerThread

from .conftest import SAMPLES, slice_config


def _hub(config_path: Path, waits: list[float] | None = None) -> Hub:
    sleeps = waits if waits is not None else []
    return Hub(load_config(config_path), sleep=sleeps.append)


@pytest.fixture
def bookings(tmp_path: Path) -> Path:
    d = tmp_path / "bookings"
    d.mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", d / "site.csv")
    return d


def test_every_guest_arrives_exactly_once_despite_429_and_500(make_config, bookings):
    crm = FakeHubSpot(faults=FaultPlan(script=[429, 500, None, 429, 429, 500]))
    with ServerThread(crm.app) as server:
        cfg = make_config(slice_config(server.url, batch_size=3))
        waits: list[float] = []
        hub = _hub(cfg, waits)
        first = hub.sync()
        (d,) = first.deliveries
        # 15 good rows, 1 with a bad phone; Amy Lin and David Wu booked twice.
        assert first.process.processed == 15 and first.process.rejected == 1
        assert first.guests_total == 13
        assert d.pushed == 13 and d.created == 13 and d.dead == 0 and d.deferred == 0
        # One retry per injected 429/500 (the other waits are pacing at the rate limit).
        assert d.retries == 5 and len(waits) >= 5
        assert len(crm.contacts) == 13
        for guest in hub.store.all_guests():
            assert len(crm.find("guestsync_id", guest.id)) == 1
        # The second run finds nothing changed and sends nothing.
        upserts_before = crm.counts["requests"]
        second = hub.sync()
        assert second.deliveries[0].pushed == 0 and second.process.queued == 0
        assert crm.counts["requests"] == upserts_before
        assert len(crm.contacts) == 13
        hub.close()


def test_dedupe_merges_phone_and_email_spellings_but_not_a_shared_family_phone(
    make_config, bookings
):
    with ServerThread(FakeHubSpot().app) as server:
        hub = _hub(make_config(slice_config(server.url)))
        hub.sync()
        by_name = {}
        for g in hub.store.all_guests():
            by_name.setdefault(g.full_name, []).append(g)
        assert len(by_name["Amy Lin"]) == 1  # "amy@" / "AMY@", "+886 912 000 111" / "0912000111"
        assert by_name["Amy Lin"][0].phone == "+886912000111"
        assert len(by_name["David Wu"]) == 1
        # 陳小明 and 陳美玲 share 0912-345-678 but are two people.
        assert len(by_name["陳小明"]) == 1 and len(by_name["陳美玲"]) == 1
        assert by_name["陳小明"][0].id != by_name["陳美玲"][0].id
        hub.close()


def test_crash_after_process_loses_nothing_and_duplicates_nothing(make_config, bookings):
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        cfg = make_config(slice_config(server.url, batch_size=4))
        hub = _hub(cfg)
        hub.sync(deliver=False)  # the process "crashes" before delivering
        hub.close()
        assert crm.counts["requests"] == 0

        # Half-way through delivery: the fake drops every connection after the 1st batch
        # (one failing batch alone no longer stops the target: two in a row do).
        crm.faults = FaultPlan(script=[None] + ["drop"] * 100)
        hub = _hub(cfg)
        partial = hub.sync()
        hub.close()
        assert partial.deliveries[0].pushed == 4
        assert partial.deliveries[0].stopped is not None
        assert len(crm.contacts) == 4

        crm.faults = FaultPlan()
        hub = _hub(cfg)
        rest = hub.sync()
        assert rest.deliveries[0].pushed == 9
        assert len(crm.contacts) == 13
        for guest in hub.store.all_guests():
            assert len(crm.find("guestsync_id", guest.id)) == 1
        hub.close()


def test_changed_guest_is_pushed_again_as_an_update(make_config, bookings):
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        cfg = make_config(slice_config(server.url))
        hub = _hub(cfg)
        hub.sync()
        (bookings / "more.csv").write_text(
            "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
            "BK-2001,Kevin Chang,kevin@example.com,0988 765 432,2027-02-01,19:00,2,Confirmed,,\n"
            "BK-2002,Sophie Huang,sophie.h@example.com,0910-222-333,2027-02-02,19:00,2,,,\n",
            "utf-8",
        )
        again = hub.sync()
        # Same guests, nothing new about them in the CRM payload: nothing pushed.
        assert again.process.processed == 2 and again.process.guests_created == 0
        assert again.deliveries[0].pushed == 0
        (bookings / "more2.csv").write_text(
            "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
            "BK-2003,Kevin Chang,kevin@example.com,+886 988 765 433,2027-02-03,19:00,2,,,\n",
            "utf-8",
        )
        third = hub.sync()
        assert third.deliveries[0].pushed == 1 and third.deliveries[0].created == 0
        assert crm.counts["updated"] == 1 and len(crm.contacts) == 13
        hub.close()


def test_permanently_rejected_record_is_a_dead_letter_with_the_crm_message(make_config, tmp_path):
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        cfg = make_config(slice_config(server.url))
        hub = _hub(cfg)
        store = hub.store
        from guestsync.models import Guest

        good = Guest(id="g-1", full_name="Amy", email="amy@example.com")
        bad = Guest(id="g-2", full_name="Bob", email="bob@example.com")
        for g in (good, bad):
            store.save_guest(g)
        target = hub.targets["hubspot"]
        payload_bad = {**target.project(bad), "email": "not-an-email"}
        store.enqueue("hubspot", "g-1", target.project(good), "h1")
        store.enqueue("hubspot", "g-2", payload_bad, "h2")
        (stats,) = hub.deliver()
        assert stats.pushed == 1 and stats.dead == 1
        (dl,) = store.dead_letters(target="hubspot")
        assert dl.guest_id == "g-2" and "not a valid email" in dl.error
        hub.close()
