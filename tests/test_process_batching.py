"""What the process stage does once per batch instead of once per row gives what the row
by row way gave: records new to the store skip their link and consent look-ups (a record
seen earlier in the same batch is looked up), the match log is written at the end of the
batch (a rejected row's part dropped), the mapping worker folds records for identity, and
the first run into an empty store projects each guest once."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import Any

from guestsync.actions.import_csv import import_files
from guestsync.config import load_config
from guestsync.identity import IdentityConfig
from guestsync.identity.prepare import prepare
from guestsync.models import Consent, Entity, Guest, SourceRecord
from guestsync.process.batch import process_pending
from guestsync.process.mapping_pool import checkpoints_aside
from guestsync.process.resolve import Resolver
from guestsync.restaurant import hooks
from guestsync.store import Store
from guestsync.store.wal import BACKSTOP_PAGES
from guestsync.sync_engine import Hub

from .activity_fixtures import RecordMapping, feed, settings, to_inbox
from .conftest import SAMPLES, SITE_CSV_CONFIG, write_config


def rec(ext: str, name: str, email: str | None = None, **guest: Any) -> SourceRecord:
    return SourceRecord(
        source="pos",
        stream="guests",
        external_id=ext,
        entity=Entity.guest,
        guest=Guest(full_name=name, email=email, **guest),
    )


RECORDS = [
    rec("X", "Amy Lin", "amy.lin@example.com", email_consent=Consent(granted=True)),
    rec("Y", "Bob Wu", "bob.wu@example.com", phone="+886912345678"),
    rec("Z", "Amy Lin", phone="+886922111222"),
    # X again, now Bob's: in the same batch as its first state, or in a later one
    rec("X", "Bob Wu", "bob.wu@example.com", sms_consent=Consent(granted=False)),
    rec("W", "Amy Lin", "amy.lin@example.com", phone="+886922111222"),
]


def snapshot(store: Store) -> list[tuple]:
    """Guests as their records, consent statements and match log size (ids aside)."""
    groups: dict[str, list[str]] = {}
    for ext, gid in store.link_map().items():
        groups.setdefault(gid, []).append(ext)
    out = []
    for gid, exts in groups.items():
        said = sorted((c, g) for c, g, _, _ in store.consent_statements(gid))
        outcomes = sorted(str(m["outcome"]) for m in store.match_log_for(gid))
        out.append((tuple(sorted(exts)), tuple(said), tuple(outcomes)))
    return sorted(out)


def test_one_batch_gives_what_one_row_per_batch_gives():
    one, each = Store.open(":memory:"), Store.open(":memory:")
    for r in RECORDS:  # one inbox row per record state, in this order
        to_inbox(one, [r])
        to_inbox(each, [r])
    lump = process_pending(one, lambda s, st: RecordMapping(), {}, settings=settings())
    rows = process_pending(each, lambda s, st: RecordMapping(), {}, batch_size=1)
    assert lump.processed == rows.processed == len(RECORDS)
    assert snapshot(one) == snapshot(each)
    assert ("X", "Y") in [s[0] for s in snapshot(one)]  # X moved to Bob, consent with it
    # a later run, X changed again: a record linked before is looked up as before
    for store in (one, each):
        to_inbox(store, [rec("X", "Amy Lin", "amy.lin@example.com")])
        process_pending(store, lambda s, st: RecordMapping(), {})
    assert snapshot(one) == snapshot(each)


def test_refs_absent_tells_records_without_link_or_consent():
    store = Store.open(":memory:")
    feed(store, RECORDS[:2])
    refs = [("pos", "guests", "X"), ("pos", "guests", "Y"), ("pos", "guests", "new")]
    unlinked, no_consent = store.refs_absent([*refs, ("other", "s", "X")])
    assert unlinked == {("pos", "guests", "new"), ("other", "s", "X")}
    assert no_consent == {("pos", "guests", "Y"), ("pos", "guests", "new"), ("other", "s", "X")}


def test_a_row_rejected_after_resolving_leaves_no_match_log(monkeypatch):
    store = Store.open(":memory:")
    real, rolled_back = hooks.record, []

    def record(store: Store, r: SourceRecord, guest_id: str, *a: Any, **k: Any) -> None:
        if r.external_id == "Y":
            rolled_back.append(guest_id)
            raise ValueError("no room for Bob")
        real(store, r, guest_id, *a, **k)

    monkeypatch.setattr(hooks, "record", record)
    stats = feed(store, RECORDS[:3])
    assert stats.rejected == 1 and stats.processed == 2
    assert store.match_log_for(rolled_back[0]) == []
    assert sorted(store.link_map()) == ["X", "Z"]
    assert all(store.match_log_for(g) for g in set(store.link_map().values()))


def test_batches_ramp_up_and_are_mapped_ahead_without_changing_the_result():
    plain, ramped = Store.open(":memory:"), Store.open(":memory:")
    records = [rec(f"R{i}", f"Guest {i % 4}", f"g{i % 4}@example.com") for i in range(11)]
    for store in (plain, ramped):
        to_inbox(store, records)
    a = process_pending(plain, lambda s, st: RecordMapping(), {}, batch_size=500)
    b = process_pending(
        ramped,
        lambda s, st: RecordMapping(),
        {},
        batch_size=3,
        ahead=True,
        ramp=(1, 2),
        lookahead=2,
    )
    assert a.processed == b.processed == 11 and ramped.count_pending() == 0
    assert snapshot(plain) == snapshot(ramped) and len(snapshot(plain)) == 4


def test_the_resolver_folds_the_record_itself_when_prepared_with_other_fields():
    store = Store.open(":memory:")
    config = IdentityConfig()
    resolver = Resolver(store, config)
    r = rec("X", "陳小明", "ming@example.com")
    mine = prepare(r, resolver.fields)
    other = prepare(r, ("language",))
    assert mine.features["name"] == "chen ming xiao"
    with store.atomic():
        res = resolver.resolve(r, datetime.now(UTC), other)
    link = store.link_of(("pos", "guests", "X"))
    assert link is not None and link.guest_id == res.guest_id
    assert link.features == mine.features


def _import(tmp_path, *, parallel: bool) -> tuple[dict, int]:
    write_config(tmp_path, SITE_CSV_CONFIG)
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "site.csv")
    hub = Hub(load_config(tmp_path / "guestsync.yaml"))
    hub.parallel_min_rows = 0 if parallel else 10**9  # 0: the worker starts before ingest
    projected: list[int] = []
    real = hooks.enrich

    def enrich(*a: Any, **k: Any) -> Any:
        projected.append(1)
        return real(*a, **k)

    hooks.enrich = enrich  # type: ignore[assignment]
    try:
        report = import_files(hub, "site", [str(tmp_path / "site.csv")])
    finally:
        hooks.enrich = real  # type: ignore[assignment]
    assert hub._pool is None  # stopped after the run
    assert hub.store.autocheckpoint() == 1000  # commits checkpoint again (SQLite's default)
    links = {}
    for ext in hub.store.link_map():
        link = hub.store.link_of(("site", "bookings", ext))
        assert link is not None
        links[ext] = (link.record.model_dump(), link.features)
    guests = hub.store.count_guests()
    hub.close()
    assert report.process is not None and len(projected) == guests  # each guest once
    return links, guests


def test_links_made_from_the_worker_fold_equal_those_folded_in_process(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    serial = _import(tmp_path / "a", parallel=False)
    parallel = _import(tmp_path / "b", parallel=True)
    assert parallel == serial and serial[1] > 5


def test_checkpoints_go_aside_while_processing_and_the_setting_comes_back(tmp_path):
    store = Store.open(tmp_path / "hub.db")
    store.defer_checkpoints()  # as `serve` sets its webhook writer: it must stay so
    with checkpoints_aside(store):
        assert store.autocheckpoint() == BACKSTOP_PAGES
        feed(store, RECORDS)
    assert store.autocheckpoint() == BACKSTOP_PAGES
    store.autocheckpoint(1000)
    with checkpoints_aside(store):
        assert store.autocheckpoint() == BACKSTOP_PAGES
    assert store.autocheckpoint() == 1000
    store.close()


def test_an_import_processes_with_a_larger_page_cache_then_puts_it_back(tmp_path):
    """A bulk import's windows dirty more pages than SQLite's default cache holds
    (IMPORT_CACHE_MIB, process/mapping_pool.py): the cache is larger while it processes, and
    as it was afterwards; the per-record lane leaves it alone."""
    write_config(tmp_path, SITE_CSV_CONFIG)
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "site.csv")
    hub = Hub(load_config(tmp_path / "guestsync.yaml"))
    cache = lambda: hub.store.conn.execute("PRAGMA cache_size").fetchone()[0]  # noqa: E731
    before, seen = cache(), []
    real = hub.process

    def process(*a: Any, **k: Any) -> Any:
        seen.append(cache())
        return real(*a, **k)

    hub.process = process  # type: ignore[method-assign]
    import_files(hub, "site", [str(tmp_path / "site.csv")])
    hub.bulk = False
    import_files(hub, "site", [str(tmp_path / "site.csv")], force=True)
    assert seen == [-hub.import_cache_mib * 1024, before] and cache() == before
    assert -hub.import_cache_mib * 1024 < before < 0  # larger (KiB, negative)
    hub.close()
