"""WindowStore (process/window.py) answers a key it did not read when the window began
as the store would after a flush: the store's guests and those the window gave the key,
with no flush in between."""

from __future__ import annotations

import itertools
import random

from guestsync.models import Guest
from guestsync.process.window import WindowStore
from guestsync.store import Store

EMAIL = ("email", "mei@example.com")


def _store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    store = Store.open(tmp_path / "s.db")
    for gid in ("g1", "g2"):
        store.save_guest(Guest(id=gid))
    store.add_guest_keys("g1", [EMAIL])
    return store


def test_a_key_not_read_meets_the_stores_guests_and_the_windows(tmp_path):
    store = _store(tmp_path)
    window = WindowStore(store, [[("phone", "+886912345678")]], [], cap=5, caps={})
    window.add_guest_keys("g2", [EMAIL])  # buffered: the window never read this key
    assert store.guests_sharing_keys([EMAIL], cap=5) == (["g1"], [])
    assert window.guests_sharing_keys([EMAIL], cap=5) == (["g1", "g2"], [])
    assert store.guests_sharing_keys([EMAIL], cap=5) == (["g1"], [])  # still not flushed
    window.flush()
    assert store.guests_sharing_keys([EMAIL], cap=5) == (["g1", "g2"], [])


def test_a_key_not_read_counts_the_windows_guests_against_its_cap(tmp_path):
    store = _store(tmp_path)
    window = WindowStore(store, [], [], cap=1, caps={})
    window.add_guest_keys("g2", [EMAIL])
    window.add_guest_keys("g2", [EMAIL])  # a repeat booking's keys: counted once
    assert window.guests_sharing_keys([EMAIL], cap=1) == ([], [EMAIL])
    assert window.guests_sharing_keys([EMAIL], cap=2) == (["g1", "g2"], [])


def test_keys_not_read_asked_together_are_read_in_one_query(tmp_path, monkeypatch):
    store = _store(tmp_path)
    phone, name = ("phone", "+886912345678"), ("name", "陳美玲")
    store.add_guest_keys("g2", [phone])
    window = WindowStore(store, [], [], cap=5, caps={})
    window.add_guest_keys("g1", [name])  # buffered: the store does not have it yet
    reads: list[dict[int, int]] = []
    real = store.guests_of_keys
    counted = lambda limits: reads.append(limits) or real(limits)  # noqa: E731
    monkeypatch.setattr(store, "guests_of_keys", counted)
    assert window.guests_sharing_keys([EMAIL, phone, name], cap=5) == (["g1", "g2"], [])
    assert len(reads) == 1 and len(reads[0]) == 3
    assert window.guests_sharing_keys([EMAIL, phone], cap=5) == (["g1", "g2"], [])
    assert len(reads) == 1  # read once, then answered from memory


def test_holds_only_answers_as_the_look_up_would(tmp_path):
    """`holds_only` (Neighbourhood.through's shortcut) is True exactly when the look-up
    would find no guest outside the given ones, with keys over their cap skipped; a key
    the window never read is read as the look-up reads it, in one query."""
    store = _store(tmp_path)
    keys = [("phone", f"+88691234567{i}") for i in range(4)] + [EMAIL, ("name", "陳美玲")]
    for gid in ("g3", "g4"):
        store.save_guest(Guest(id=gid))
    store.add_guest_keys("g2", keys[:2])
    store.add_guest_keys("g3", [keys[1], keys[2]])
    store.add_guest_keys("g4", [keys[1], keys[5]])
    caps = {"name": 0, "email": 1}
    window = WindowStore(store, [keys[:5]], [], cap=2, caps=caps)
    window.add_guest_keys("g1", [keys[3]])
    rng = random.Random(7)
    guests = ["g1", "g2", "g3", "g4"]
    tried = 0
    for n in range(1, 4):
        for some in itertools.combinations(keys[:5], n):
            skip = set(rng.sample(guests, rng.randrange(len(guests))))
            found, _ = window.guests_sharing_keys(list(some), cap=2, caps=caps)
            expected = not [g for g in found if g not in skip]
            assert window.holds_only(some, skip, 2, caps) == expected, (some, skip)
            tried += expected
    assert tried  # some sets hold only the skipped guests
    assert window.holds_only([keys[5]], set(), 2, caps)  # `name` is not looked up (cap 0)


def test_holds_only_reads_keys_the_window_has_not_read(tmp_path, monkeypatch):
    """Keys the window never read: one query for them together, as the look-up makes,
    then its memory answers, for `holds_only` and the look-up alike; a guest the window
    gave such a key since counts too."""
    store = _store(tmp_path)  # g1 holds EMAIL in the store
    phone, name = ("phone", "+886912345678"), ("name", "陳美玲")
    window = WindowStore(store, [], [], cap=5, caps={})
    window.add_guest_keys("g2", [phone])  # buffered, a key the window never read
    reads: list[dict[int, int]] = []
    real = store.guests_of_keys
    monkeypatch.setattr(store, "guests_of_keys", lambda lim: reads.append(lim) or real(lim))
    assert window.holds_only([EMAIL, phone, name], {"g1", "g2"}, 5, {})
    assert len(reads) == 1 and len(reads[0]) == 3
    assert not window.holds_only([EMAIL, phone], {"g1"}, 5, {})  # g2 has the phone
    assert not window.holds_only([EMAIL], {"g2"}, 5, {})  # the store's g1 has the email
    assert window.guests_sharing_keys([EMAIL, phone, name], cap=5) == (["g1", "g2"], [])
    assert len(reads) == 1  # all answered from what the first call read
