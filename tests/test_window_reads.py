"""WindowStore (process/window.py) answers a key it did not read when the window began
as the store would after a flush: the store's guests and those the window gave the key,
with no flush in between."""

from __future__ import annotations

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
