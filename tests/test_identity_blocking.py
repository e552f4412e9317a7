"""Blocking (issue 4, cost per record): the name alone does not look candidates up, the
compound keys find what it found, and stores resolved before them get them back."""

from __future__ import annotations

import random
import string
from datetime import date

import pytest

from guestsync.identity import IdentityConfig, features, keys_for, probe_keys
from guestsync.identity.keys import halves, two_thirds
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.store.keyhash import key_hash

from .test_identity_resolution import T0, clusters, rec, resolve_all, store_before


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


def test_the_migrations_give_older_guests_the_compound_keys_as_hashes(tmp_path):
    # A store from before 0014 (compound keys) and 0019 (hashed keys): a guest whose link
    # has features but no key rows yet.
    from sqlite_utils import Database

    from guestsync.identity.prepare import features_json
    from guestsync.store.schema import load_all
    from guestsync.store.schema.m0014_blocking_keys import m0014_keys

    path = tmp_path / "old.db"
    db = Database(path)
    load_all().apply(db, stop_before="0014_blocking_keys")
    old = Store(db)
    amy = Guest(full_name="陳小明", email="ming.chen@example.com")
    old.save_guest(Guest(id="g-old"))
    old.save_link(
        ("site", "s", "a"),
        guest_id="g-old",
        record_json=amy.model_dump_json(exclude_none=True),
        features_json=features_json(features(amy)),
        seen_at=T0,
    )
    m0014_keys(db)
    m0014_keys(db)  # twice: keys already there are kept, nothing doubles
    (rows,) = db.conn.execute("SELECT count(*) FROM guest_keys").fetchone()
    assert rows == len(keys_for(features(amy)))
    db.conn.commit()
    db.close()
    store = Store.open(path)  # applies the rest, 0019 included
    try:
        stored = store.conn.execute("SELECT key FROM guest_keys WHERE guest_id = 'g-old'")
        assert {k for (k,) in stored} == {key_hash(k, v) for k, v in keys_for(features(amy))}
        resolve_all(store, [rec("b", full_name="陈小明", email="ming.chen@exmaple.com")])
        assert clusters(store) == {frozenset({"a", "b"})}
    finally:
        store.close()


def test_key_hashes_are_stable_integers():
    # Stored in the database: the same in every process and release (not Python's hash()).
    assert key_hash("email", "amy@example.com") == key_hash("email", "amy@example.com")
    assert key_hash("email", "amy@example.com") != key_hash("email_user", "amy@example.com")
    assert -(2**63) <= key_hash("name", "chen ming xiao") < 2**63
    assert key_hash("name", "chen ming xiao") == 3127420479549887006  # pinned
    # The keys of one name share their high 32 bits: they sit together in the table.
    assert (
        key_hash("name_has", "chen ming xiao|e") >> 32 == key_hash("name", "chen ming xiao") >> 32
    )
    assert key_hash("email", "ming@example.com") >> 32 == key_hash("email_user", "ming") >> 32
    assert key_hash("phone", "+886912345678") >> 32 != key_hash("name", "chen") >> 32


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


def test_migration_0024_gives_older_guests_their_birthday_key(tmp_path):
    """A Western guest with no email or phone, linked before `dob` keys: a later record
    with a mistyped name and the same birthday must still find it."""
    laura = Guest(full_name="Laura Walker", birthday=date(1971, 3, 9))
    store = store_before(tmp_path, "0024_birthday_keys", laura, "dob")
    try:
        stored = {k for (k,) in store.conn.execute("SELECT key FROM guest_keys")}
        assert key_hash("dob", "1971:3:9") in stored
        resolve_all(
            store, [rec("b", full_name="Lura Walkr", birthday=date(1971, 3, 9), address="x")]
        )
        assert clusters(store) == {frozenset({"a", "b"})}
    finally:
        store.close()
