"""Blocking (issue 4, cost per record): the name alone does not look candidates up, the
compound keys find what it found, and stores resolved before them get them back."""

from __future__ import annotations

import random
import string

import pytest

from guestsync.identity import IdentityConfig, features, keys_for, probe_keys
from guestsync.identity.keys import halves, two_thirds
from guestsync.models import Guest
from guestsync.store import Store

from .test_identity_resolution import clusters, rec, resolve_all


@pytest.mark.parametrize("split", [halves, two_thirds])
@pytest.mark.parametrize("text", ["ming.chen", "amy.lin88", "12345678", "ab"])
def test_one_typo_anywhere_leaves_one_part_intact(split, text):
    typos = [text[:i] + "x" + text[i + 1 :] for i in range(len(text))]
    typos += [text[:i] + text[i + 1] + text[i] + text[i + 2 :] for i in range(len(text) - 1)]
    for typo in typos:
        assert set(split(typo)) & set(split(text)), typo


def test_the_name_alone_is_stored_but_not_probed():
    f = features(Guest(full_name="陳小明", email="m@example.com", phone="+886912345678"))
    keys = keys_for(f)
    assert ("name", "chen ming xiao") in keys
    probes = probe_keys(f, keys)
    assert ("name", "chen ming xiao") not in [k for k in probes if k[0] in _default_blocking()]
    # Only records of the name without an email and without a phone are looked up.
    assert sorted(v for k, v in probes if k == "name_has") == [
        "chen ming xiao|",
        "chen ming xiao|b",
    ]


def _default_blocking() -> list[str]:
    return IdentityConfig().blocking


def test_a_mistyped_email_with_the_same_name_merges_without_a_phone(store):
    resolve_all(
        store,
        [
            rec("a", full_name="陳小明", email="ming.chen@example.com"),
            rec("b", source="pos", full_name="Chen Xiao Ming", email="ming.chen@exmaple.com"),
            rec("c", source="pos", full_name="陈小明", email="mign.chen@example.com"),
        ],
    )
    assert clusters(store) == {frozenset({"a", "b", "c"})}


def test_a_phone_one_digit_off_with_the_same_name_merges_without_an_email(store):
    resolve_all(
        store,
        [
            rec("a", full_name="陳小明", phone="+886912345678"),
            rec("b", source="pos", full_name="Chen Xiao Ming", phone="+886912345679"),
        ],
    )
    assert clusters(store) == {frozenset({"a", "b"})}


def test_homonyms_with_their_own_phones_are_not_compared(store):
    rng = random.Random(7)
    records = [
        rec(
            f"r{i}",
            full_name="陳小明",
            phone=f"+8869{rng.randrange(10**8):08d}",
            email=f"{''.join(rng.choices(string.ascii_lowercase, k=8))}@example.com",
        )
        for i in range(40)
    ]
    r = resolve_all(store, records)
    assert r.stats.comparisons < 10 and len(clusters(store)) == 40  # a half may collide
    # Configured back in, the name alone compares each record with every earlier one.
    s2 = Store.open(":memory:")
    try:
        with_name = IdentityConfig(blocking=[*_default_blocking(), "name"])
        r2 = resolve_all(s2, records, with_name)
        assert r2.stats.comparisons > 100 and len(clusters(s2)) == 40
    finally:
        s2.close()


def test_the_migration_gives_older_guests_the_compound_keys(store):
    # Imported once the store is open: importing a migration registers it (in order).
    from guestsync.store.schema.m0014_blocking_keys import m0014_keys

    resolve_all(store, [rec("a", full_name="陳小明", email="ming.chen@example.com")])
    gid = store.link_state(("site", "s", "a"))[0]
    new_kinds = ("name_email", "name_phone", "name_has")
    store.conn.execute(
        f"DELETE FROM guest_keys WHERE kind IN ({','.join('?' * len(new_kinds))})", new_kinds
    )
    m0014_keys(store.db)
    m0014_keys(store.db)  # twice: keys already there are kept, nothing doubles
    kinds = [
        k for (k,) in store.conn.execute("SELECT kind FROM guest_keys WHERE guest_id = ?", (gid,))
    ]
    assert sorted(kinds) == sorted(
        k for k, _ in keys_for(features(Guest(full_name="陳小明", email="ming.chen@example.com")))
    )
    resolve_all(store, [rec("b", full_name="陈小明", email="ming.chen@exmaple.com")])
    assert clusters(store) == {frozenset({"a", "b"})}


def test_a_name_shared_by_several_possible_guests_is_not_reviewed(store):
    # One Jonas Weber with only an email: a phone-only booking of that name is reviewed.
    one = [rec("a", full_name="Jonas Weber", email="jonas@example.de")]
    resolve_all(store, [*one, rec("p", full_name="Jonas Weber", phone="+886933444555")])
    assert store.count_reviews() == 1
    # Two of them: the name alone cannot tell which (max_name_only_candidates: 1).
    s2 = Store.open(":memory:")
    try:
        two = [*one, rec("b", full_name="Jonas Weber", email="weber.j@example.de")]
        r = resolve_all(s2, [*two, rec("p", full_name="Jonas Weber", phone="+886933444555")])
        assert s2.count_reviews() == 0 and r.stats.skipped_keys >= 1
        s3 = Store.open(":memory:")
        try:
            config = IdentityConfig(max_name_only_candidates=2)
            resolve_all(
                s3, [*two, rec("p", full_name="Jonas Weber", phone="+886933444555")], config
            )
            assert s3.count_reviews() == 1  # the best of the two
        finally:
            s3.close()
    finally:
        s2.close()
