"""Blocking as a union of named rules (issue 21): the partial-name keys, the config that
picks the rules and caps them, the report of what each rule produces, and m0025 giving
records linked before the keys existed their keys."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from guestsync.identity import IdentityConfig, features, keys_for
from guestsync.identity.blocking import report
from guestsync.identity.keys import PARTIAL_NAME_KINDS, partial_name_keys
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.store.keyhash import key_hash

from .test_identity_resolution import clusters, rec, resolve_all, store_before


def _kinds(g: Guest, kind: str) -> set[str]:
    return {v for k, v in partial_name_keys(features(g)) if k == kind}


def test_partial_name_keys_survive_a_mistyped_or_reordered_name():
    phone = "+886912345678"
    a, b, c = (Guest(full_name=n, phone=phone) for n in ("Nina He", "NinaiHe", "何Nina"))
    assert _kinds(a, "phonetic_phone") == _kinds(b, "phonetic_phone") == _kinds(c, "phonetic_phone")
    born = date(1971, 3, 9)
    d = Guest(full_name="Laura Walker", birthday=born)
    e = Guest(full_name="Walker Lura", birthday=date(1971, 9, 3))
    assert _kinds(d, "surname_year") & _kinds(e, "surname_year") == {"walker|1971"}
    f = Guest(full_name="陳小明", address="106台北市大安區")
    g = Guest(full_name="Chen Xiaoming", address="106 台北市 大安區 忠孝東路")
    assert _kinds(f, "given_postcode") & _kinds(g, "given_postcode") == {"xia|106"}


def test_rules_are_checked_and_capped_from_config():
    with pytest.raises(ValidationError, match="unknown blocking rule"):
        IdentityConfig(blocking=["email", "surname"])
    c = IdentityConfig(blocking=["email", "surname_year"], blocking_caps={"surname_year": 3})
    assert c.key_caps()["surname_year"] == 3


def test_the_rules_that_grow_with_the_store_have_caps_of_their_own():
    """`dob` and `surname_year` keys are shared by more guests as the store grows (#20):
    capped low by default; a config's own caps go over the defaults, not instead of them."""
    default = IdentityConfig()
    assert default.key_caps()["dob"] == 3 and default.key_caps()["surname_year"] == 2
    assert "phone" not in default.key_caps()  # the others: max_candidates_per_key
    mine = IdentityConfig(blocking_caps={"phone": 4, "dob": 10})
    assert mine.key_caps()["surname_year"] == 2 and mine.key_caps()["dob"] == 10
    born = date(1971, 3, 9)
    same_day = [features(Guest(full_name=f"Guest {n}", birthday=born)) for n in "ABCDE"]
    dob = {r.rule: r for r in report(same_day, default).rules}["dob"]
    assert dob.capped == 1 and dob.pairs == 0  # the fifth would meet 4 guests: over 3
    wide = {r.rule: r for r in report(same_day, mine).rules}["dob"]
    assert wide.capped == 0 and wide.pairs == 10


def test_a_rule_alone_finds_a_guest_the_others_miss():
    """No email, phone or shared birthday: only `surname_year` brings them together."""
    only = IdentityConfig(blocking=["surname_year"])
    a = rec("a", full_name="Laura Walker", birthday=date(1971, 3, 9), address="12 Oak St")
    b = rec("b", full_name="Lura Walker", birthday=date(1971, 3, 9), address="12 Oak St")
    store = Store.open(":memory:")
    resolve_all(store, [a, b], config=only)
    assert clusters(store) == {frozenset({"a", "b"})}
    none = Store.open(":memory:")
    resolve_all(none, [a, b], config=IdentityConfig(blocking=["email"]))
    assert clusters(none) == {frozenset({"a"}), frozenset({"b"})}


def test_the_report_counts_pairs_per_rule_and_records_alone():
    people = [
        Guest(full_name="Amy Lin", email="amy@example.com", phone="+886912000111"),
        Guest(full_name="Lin Amy", email="amy@example.com"),
        Guest(full_name="Amy Lim", phone="+886912000111"),
        Guest(full_name="王大同"),
    ]
    rep = report([features(g) for g in people], IdentityConfig())
    by = {r.rule: r for r in rep.rules}
    assert by["email"].pairs == 1 and by["phone"].pairs == 1 and by["email"].enabled
    assert not by["name"].enabled  # stored, not used for lookup by default
    assert rep.records == 4 and rep.alone == 1  # 王大同 shares nothing
    assert rep.union_pairs >= 2
    capped = report([features(g) for g in people], IdentityConfig(blocking_caps={"email": 1}))
    assert {r.rule: r for r in capped.rules}["email"].capped == 0
    tight = IdentityConfig(max_candidates_per_key=1, blocking_caps={"phone": 1})
    rep3 = report([features(people[0])] * 3, tight)
    assert {r.rule: r for r in rep3.rules}["phone"].capped == 1


def test_migration_0025_gives_older_links_their_partial_name_keys(tmp_path):
    laura = Guest(full_name="Laura Walker", birthday=date(1971, 3, 9))
    store = store_before(tmp_path, "0025_partial_name_keys", laura, *PARTIAL_NAME_KINDS)
    try:
        stored = {k for (k,) in store.conn.execute("SELECT key FROM guest_keys")}
        assert key_hash("surname_year", "walker|1971") in stored
    finally:
        store.close()


def test_migration_0028_gives_older_links_their_email_flat_key(tmp_path):
    amy = Guest(full_name="Amy Lin", email="guest711.10@yahoo.com.tw")
    store = store_before(tmp_path, "0028_email_flat_keys", amy, "email_flat")
    try:
        stored = {k for (k,) in store.conn.execute("SELECT key FROM guest_keys")}
        assert key_hash("email_flat", "guest711.10yahoo.com.tw") in stored
        # the slipped "@" of a new record finds the old guest by that key
        slipped = features(Guest(full_name="Amy Lin", email="guest711.10y@ahoo.com.tw"))
        assert ("email_flat", "guest711.10yahoo.com.tw") in keys_for(slipped)
    finally:
        store.close()


def test_migration_0040_gives_older_links_their_dob_initials_key(tmp_path):
    """A store that grew past `dob`'s cap: the birthday with the name's initials still
    finds the older guest of a mistyped name with no email or phone."""
    laura = Guest(full_name="Laura Walker", birthday=date(1971, 3, 9))
    store = store_before(tmp_path, "0040_dob_initials_keys", laura, "dob_initials")
    try:
        stored = {k for (k,) in store.conn.execute("SELECT key FROM guest_keys")}
        assert key_hash("dob_initials", "1971:3:9|lw") in stored
        for typo in ("Walker, Lura", "Laura Walkr"):  # day and month swapped too
            g = Guest(full_name=typo, birthday=date(1971, 9, 3))
            assert ("dob_initials", "1971:3:9|lw") in keys_for(features(g))
    finally:
        store.close()
