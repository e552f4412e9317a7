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


def test_others_sharing_keys_answers_as_the_look_up_would(tmp_path):
    """The window's `others_sharing_keys` (Neighbourhood's look-up) answers the guests the
    look-up finds outside `skip`, sorted, with keys over their cap skipped; a key the
    window never read is read as the look-up reads it. The store answers the same."""
    store = _store(tmp_path)
    keys = [("phone", f"+88691234567{i}") for i in range(4)] + [EMAIL, ("name", "陳美玲")]
    for gid in ("g3", "g4"):
        store.save_guest(Guest(id=gid))
    store.add_guest_keys("g2", keys[:2])
    store.add_guest_keys("g3", [keys[1], keys[2]])
    store.add_guest_keys("g4", [keys[1], keys[5]])
    caps = {"name": 0, "email": 1}
    window = WindowStore(store, [keys[:5]], [], cap=3, caps=caps)
    window.add_guest_keys("g1", [keys[3]])  # buffered: the store has it once flushed
    rng = random.Random(7)
    guests = ["g1", "g2", "g3", "g4"]
    asked = [
        (some, set(rng.sample(guests, rng.randrange(len(guests)))))
        for n in range(1, 4)
        for some in itertools.combinations(keys[:5], n)
    ]
    answers = []
    for some, skip in asked:
        found, _ = window.guests_sharing_keys(list(some), cap=3, caps=caps)
        expected = [g for g in found if g not in skip]
        assert window.others_sharing_keys(some, skip, cap=3, caps=caps) == expected
        answers.append(expected)
    assert [] in answers and any(len(a) > 1 for a in answers)  # nobody else; several
    window.flush()
    assert [store.others_sharing_keys(s, k, cap=3, caps=caps) for s, k in asked] == answers
    assert window.others_sharing_keys([keys[5]], set(), cap=3, caps=caps) == []  # cap 0
    assert window.others_sharing_keys([keys[1]], set(), cap=2, caps=caps) == []  # over cap


def test_others_sharing_keys_reads_keys_the_window_has_not_read(tmp_path, monkeypatch):
    """Keys the window never read: one query for them together, as the look-up makes,
    then its memory answers, for `others_sharing_keys` and the look-up alike; a guest the
    window gave such a key since counts too."""
    store = _store(tmp_path)  # g1 holds EMAIL in the store
    phone, name = ("phone", "+886912345678"), ("name", "陳美玲")
    window = WindowStore(store, [], [], cap=5, caps={})
    window.add_guest_keys("g2", [phone])  # buffered, a key the window never read
    reads: list[dict[int, int]] = []
    real = store.guests_of_keys
    monkeypatch.setattr(store, "guests_of_keys", lambda lim: reads.append(lim) or real(lim))
    assert window.others_sharing_keys([EMAIL, phone, name], {"g1", "g2"}, cap=5) == []
    assert len(reads) == 1 and len(reads[0]) == 3
    assert window.others_sharing_keys([EMAIL, phone], {"g1"}, cap=5) == ["g2"]  # the phone
    assert window.others_sharing_keys([EMAIL], {"g2"}, cap=5) == ["g1"]  # the store's email
    assert window.guests_sharing_keys([EMAIL, phone, name], cap=5) == (["g1", "g2"], [])
    assert len(reads) == 1  # all answered from what the first call read
