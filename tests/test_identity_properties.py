"""Invariants of identity resolution (issue 4), checked with Hypothesis:
resolving the same records in any order yields the same clusters,
unmerge(merge(x)) restores the original links, and the stored blocking keys are always
exactly those of the linked records (m0023: nothing rebuilds them later)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestsync.identity import keys_for
from guestsync.models import Entity, Guest, SourceRecord
from guestsync.process.resolve import Resolver
from guestsync.store import Store
from guestsync.store.keyhash import key_hash

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rec(ext: str, **guest) -> SourceRecord:
    return SourceRecord(
        source="src", stream="s", external_id=ext, entity=Entity.guest, guest=Guest(**guest)
    )


MING = {"phone": "+886912345678"}
POOL = [
    _rec("m1", full_name="陳小明", email="ming@example.com", **MING),
    _rec("m2", full_name="陈小明", **MING),
    _rec("m3", full_name="Chen Xiao Ming", email="ming@example.com"),
    _rec("m4", full_name="Ming Chen", email="ming@exmaple.com", **MING),
    _rec("f1", full_name="陳美玲", **MING),  # same family phone, another person
    _rec("f2", full_name="Chen Mei Ling", email="meiling@example.com", **MING),
    _rec("a1", full_name="Amy Lin", email="amy@example.com"),
    _rec("a2", full_name="Lin Amy", phone="+886912000111", email="amy@example.com"),
    _rec("a3", full_name="Amy Lim", phone="+886912000111"),
    _rec("d1", full_name="David Wu", loyalty_ids=["club:7"]),
    _rec("d2", full_name="吳David", loyalty_ids=["club:7"], phone="+886933123456"),
    _rec("x1", full_name="王大同", email="wang@example.tw"),
    _rec("x2", full_name="林淑芬", email="wang@example.tw"),  # shared email, review only
]


# The same records seen again, changed: another name, phone, email or card.
CHANGED = [
    _rec("m2", full_name="王小明", phone="+886912888999"),
    _rec("m4", full_name="Ming Chen"),
    _rec("f1", full_name="陳美玲", email="meiling@example.com"),
    _rec("a3", full_name="Amy Lin", email="amy@example.com"),
    _rec("d2", full_name="吳David", loyalty_ids=["club:8"]),
    _rec("x2", full_name="王大同", email="wang@example.tw"),
]


def resolve(records: list[SourceRecord], store: Store | None = None, start: int = 0) -> Store:
    store = store or Store.open(":memory:")
    r = Resolver(store)
    with store.atomic():
        for i, rec in enumerate(records, start=start):
            r.resolve(rec, T0 + timedelta(minutes=i))
        for gid in r.live(set()):
            r.refresh(gid)
    return store


def draw_guest(store: Store, data: st.DataObject) -> str:
    """A guest, drawn by one of its records: guest ids are new on every run (time and
    random bits), so drawing among sorted ids would not replay the same case."""
    links = store.link_map()
    return links[data.draw(st.sampled_from(sorted(links)))]


def assert_keys_exact(store: Store) -> None:
    """guest_keys holds the keys of every linked record's features, and nothing else."""
    stored = set(store.conn.execute("SELECT key, guest_id FROM guest_keys"))
    derived = {
        (key_hash(*k), gid)
        for gid, f in store.conn.execute("SELECT guest_id, features FROM guest_links")
        for k in keys_for(json.loads(f))
    }
    assert stored == derived


def clusters(store: Store) -> set[frozenset[str]]:
    by_guest: dict[str, set[str]] = {}
    for ext, gid in store.link_map().items():
        by_guest.setdefault(gid, set()).add(ext)
    return {frozenset(v) for v in by_guest.values()}


EXPECTED = {
    frozenset({"m1", "m2", "m3", "m4"}),
    frozenset({"f1", "f2"}),
    frozenset({"a1", "a2", "a3"}),
    frozenset({"d1", "d2"}),
    frozenset({"x1"}),
    frozenset({"x2"}),
}


def test_the_pool_resolves_to_the_expected_people():
    assert clusters(resolve(POOL)) == EXPECTED


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(POOL))
def test_any_order_gives_the_same_clusters(order):
    store = resolve(list(order))
    assert clusters(store) == EXPECTED
    assert_keys_exact(store)
    store.close()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(POOL), min_size=2, max_size=8, unique_by=lambda r: r.external_id),
    st.data(),
)
def test_unmerge_of_a_merge_restores_the_links(records, data):
    store = resolve(records)
    before = store.link_map()
    guests = set(before.values())
    if len(guests) < 2:
        return
    keep, lose = draw_guest(store, data), draw_guest(store, data)
    if keep == lose:
        return
    moved = sorted(ext for ext, g in before.items() if g == lose)
    one = data.draw(st.sampled_from(moved))
    r = Resolver(store)
    with store.atomic():
        r.merge(keep, lose)
        assert set(store.link_map().values()) == set(guests) - {lose}
        r.unmerge(keep, ("src", "s", one))
        for gid in r.live(set()):
            r.refresh(gid)
    assert store.link_map() == before
    assert store.merged_into(lose) is None
    assert_keys_exact(store)
    store.close()


@settings(max_examples=40, deadline=None)
@given(
    st.permutations(POOL),
    st.lists(st.sampled_from(CHANGED), min_size=1, max_size=4),
    st.data(),
)
def test_keys_stay_exact_as_records_change_move_merge_and_unmerge(order, changed, data):
    store = resolve(list(order))
    for i, rec in enumerate(changed):  # each in its own batch, as updates come
        resolve([rec], store, start=100 + i)
        assert_keys_exact(store)
    keep, lose = draw_guest(store, data), draw_guest(store, data)
    r = Resolver(store)
    with store.atomic():
        if keep != lose:
            r.merge(keep, lose)
            assert_keys_exact(store)
        refs = sorted(ext for ext, g in store.link_map().items() if g == keep)
        if len(refs) > 1:
            r.unmerge(keep, ("src", "s", data.draw(st.sampled_from(refs))))
            assert_keys_exact(store)
    store.close()
