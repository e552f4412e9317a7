"""Merges and unmerges working with the other stages: CRM merge through the Hub and the
fake HubSpot, activity (bookings, consent, aggregates) following the links, `guests show`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.delivery.batches import deliver
from guestsync.sync_engine import Hub
from guestsync.testing import FakeHubSpot, ServerThread

from .conftest import slice_config
from .test_delivery_engine import RETRY, Stub, _queue

HEADER = "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
# Two bookings of one person that share nothing but the name: two guests, two contacts.
# The phone-only one came first, so it is the keeper and takes the other's email.
TWO = (
    "BK-5001,Jonas Weber,,0933 444 555,2026-01-10,19:00,2,Completed,Xinyi,\n"
    "BK-5002,Jonas Weber,jonas.weber@example.de,,2026-02-10,19:00,4,Completed,Xinyi,\n"
)
LINKING = "BK-5003,Jonas Weber,jonas.weber@example.de,0933444555,2026-03-10,19:00,2,,Xinyi,\n"


@pytest.fixture
def crm():
    fake = FakeHubSpot()
    with ServerThread(fake.app) as server:
        yield fake, server.url


def _setup(make_config, tmp_path: Path, url: str) -> Path:
    d = tmp_path / "bookings"
    d.mkdir()
    (d / "a.csv").write_text(HEADER + TWO, "utf-8")
    return make_config(slice_config(url))


def _hub(cfg: Path) -> Hub:
    return Hub(load_config(cfg), sleep=lambda _s: None)


def _pair(hub: Hub) -> tuple[str, str]:
    keep = hub.store.link_state(("site", "bookings", "BK-5001"))[0]
    lose = hub.store.link_state(("site", "bookings", "BK-5002"))[0]
    return keep, lose


def _first_sync(cfg: Path, fake: FakeHubSpot) -> tuple[str, str]:
    hub = _hub(cfg)
    try:
        hub.sync()
        keep, lose = _pair(hub)
        assert keep != lose
        assert len(fake.contacts) == 2
        assert hub.store.crm_id("hubspot", keep) and hub.store.crm_id("hubspot", lose)
    finally:
        hub.close()
    return keep, lose


def _one_contact_after_sync(cfg: Path, fake: FakeHubSpot, keep: str) -> None:
    hub = _hub(cfg)
    try:
        summary = hub.sync()
        (d,) = summary.deliveries
        assert d.dead == 0 and d.merged == 1, d
        assert fake.counts["merged"] == 1 and len(fake.contacts) == 1
        (contact,) = fake.contacts.values()
        assert contact["guestsync_id"] == keep
        assert contact["email"] == "jonas.weber@example.de" and contact["phone"] == "+886933444555"
        assert list(hub.store.crm_links_of(keep)) == ["hubspot"]
        # Nothing left to do: another sync merges nothing more and sends nothing.
        again = hub.sync().deliveries[0]
        assert again.merged == 0 and again.pushed == 0 and fake.counts["merged"] == 1
    finally:
        hub.close()


def test_a_record_linking_two_pushed_guests_merges_their_contacts_once(make_config, tmp_path, crm):
    fake, url = crm
    cfg = _setup(make_config, tmp_path, url)
    keep, lose = _first_sync(cfg, fake)
    (tmp_path / "bookings" / "b.csv").write_text(HEADER + LINKING, "utf-8")
    _one_contact_after_sync(cfg, fake, keep)
    hub = _hub(cfg)
    try:
        assert hub.store.merged_into(lose) == keep
    finally:
        hub.close()


def test_guests_merge_command_merges_the_two_contacts_at_the_next_sync(make_config, tmp_path, crm):
    fake, url = crm
    cfg = _setup(make_config, tmp_path, url)
    keep, lose = _first_sync(cfg, fake)
    result = CliRunner().invoke(cli, ["-c", str(cfg), "guests", "merge", keep, lose])
    assert result.exit_code == 0, result.output
    _one_contact_after_sync(cfg, fake, keep)


def test_review_accept_merges_the_two_contacts_at_the_next_sync(make_config, tmp_path, crm):
    fake, url = crm
    cfg = _setup(make_config, tmp_path, url)
    keep, lose = _first_sync(cfg, fake)
    hub = _hub(cfg)
    try:
        (item,) = hub.store.reviews()  # same name, nothing else: a person decides
        assert {item.guest_id, item.candidate} == {keep, lose}
    finally:
        hub.close()
    result = CliRunner().invoke(cli, ["-c", str(cfg), "review", "accept", str(item.id)])
    assert result.exit_code == 0, result.output
    _one_contact_after_sync(cfg, fake, keep)


def test_an_unmerge_before_delivery_cancels_the_crm_merge(make_config, tmp_path, crm):
    fake, url = crm
    cfg = _setup(make_config, tmp_path, url)
    keep, lose = _first_sync(cfg, fake)
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(cfg), "guests", "merge", keep, lose]).exit_code == 0
    result = runner.invoke(
        cli, ["-c", str(cfg), "guests", "unmerge", keep, "--link", "site:BK-5002"]
    )
    assert result.exit_code == 0, result.output
    hub = _hub(cfg)
    try:
        d = hub.sync().deliveries[0]
        assert d.merged == 0 and d.dead == 0
        assert fake.counts["merged"] == 0 and len(fake.contacts) == 2
        assert hub.store.planned_merges("hubspot") == []
    finally:
        hub.close()


def test_merge_and_unmerge_move_bookings_consent_and_aggregates(make_config, tmp_path):
    d = tmp_path / "bookings"
    d.mkdir()
    (d / "a.csv").write_text(HEADER + TWO, "utf-8")
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    hub = _hub(cfg)
    try:
        hub.sync(deliver=False)
        keep, lose = _pair(hub)
        with hub.store.atomic():
            hub.store.save_consent(
                source="site",
                stream="bookings",
                external_id="BK-5002",
                guest_id=lose,
                statements=[("email", True, datetime(2026, 2, 10, tzinfo=UTC), "site")],
            )
        visits = {g: hub.store.get_aggregates(g)["visit_count"] for g in (keep, lose)}
        assert visits == {keep: 1, lose: 1}
    finally:
        hub.close()
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(cfg), "guests", "merge", keep, lose]).exit_code == 0
    hub = _hub(cfg)
    try:
        s = hub.store
        assert s.get_aggregates(keep)["visit_count"] == 2 and s.get_aggregates(lose) is None
        assert {r[1] for r in s.consent_statements(keep)} == {True}
        assert not s.consent_statements(lose)
    finally:
        hub.close()
    shown = json.loads(
        runner.invoke(cli, ["-c", str(cfg), "guests", "show", keep, "--json"]).output
    )
    assert shown["activity"]["visits"] == "2"
    assert shown["activity"]["email marketing"].startswith("opt-in")
    assert len(shown["links"]) == 2
    text = runner.invoke(cli, ["-c", str(cfg), "guests", "show", keep]).output
    assert "segment" in text and "visits: 2" in text
    result = runner.invoke(
        cli, ["-c", str(cfg), "guests", "unmerge", keep, "--link", "site:BK-5002"]
    )
    assert result.exit_code == 0, result.output
    hub = _hub(cfg)
    try:
        s = hub.store
        assert s.get_aggregates(keep)["visit_count"] == 1
        assert s.get_aggregates(lose)["visit_count"] == 1
        assert not s.consent_statements(keep) and s.consent_statements(lose)
        assert [r.external_id for r in s.guest_activity(lose).reservations] == ["BK-5002"]
        assert [r.external_id for r in s.guest_activity(keep).reservations] == ["BK-5001"]
    finally:
        hub.close()


class NoMergeStub(Stub):
    """A CRM without a merge API (Salesforce, Zoho, REST, Fxiaoke, Kingdee targets)."""

    merge = None


def test_a_target_without_merge_leaves_the_loser_named_for_a_person(tmp_path):
    from guestsync.actions import guests as guest_admin
    from guestsync.store import Store

    store = Store.open(tmp_path / "s.db")
    t = NoMergeStub()
    _queue(store, t, ["keep", "lose"])
    deliver(store, t, RETRY, sleep=lambda s: None)
    with store.atomic():
        store.record_guest_merge("keep", "lose")
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.merged == 0 and stats.dead == 0
    assert store.crm_id("stub", "lose") is None and store.crm_id("stub", "keep") == "c-keep"
    assert store.crm_duplicates_of("keep") == [
        {"target": "stub", "merged_guest": "lose", "crm_id": "c-lose"}
    ]
    assert guest_admin.PROFILE_SECTIONS["crm_duplicates"](store, "keep")[0]["crm_id"] == "c-lose"
    store.close()


def test_an_unmerge_after_the_crm_merge_names_the_record_to_split(make_config, tmp_path, crm):
    fake, url = crm
    cfg = _setup(make_config, tmp_path, url)
    keep, lose = _first_sync(cfg, fake)
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(cfg), "guests", "merge", keep, lose]).exit_code == 0
    _one_contact_after_sync(cfg, fake, keep)
    (contact_id,) = fake.contacts
    result = runner.invoke(
        cli, ["-c", str(cfg), "guests", "unmerge", keep, "--link", "site:BK-5002"]
    )
    assert result.exit_code == 0, result.output
    assert f"hubspot: record {contact_id} already holds both {keep} and {lose}" in result.output
