"""The bulk lane's store for identity resolution: one window of records resolved with no
query per record.

Before the window's records are resolved, everything the resolver will ask the store is
read set-based (`store/window.py`): the guests sharing each of the window's probe keys,
those guests' links and ages, and the window's own links (a key no record of the window
probes, such as another key of a guest a record joins, is read when first asked: one
indexed look-up, with the guests the window gave it). The resolver then runs exactly
as in the per-record lane, on this object instead of the store: its reads are answered
from memory, kept current as records are linked; its links and keys are buffered and
written with executemany when the window ends, or before any other operation reaches the
store (a merge, a refresh), so that the store is never behind what it is asked. The
window's bookings (hooks.record) are buffered and written the same way.

Both lanes run the same `Resolver` and so decide the same way; `tests/test_bulk_lane.py`
holds them to the same guests. A record new to the store whose probe keys meet no guest
(`meets_nobody`) skips the Resolver: process/fastpath.py makes its guest with the same
writes and match-log row.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..identity.keys import Key
from ..models import Guest, Reservation
from ..store import Store, utcnow
from ..store.base import ts
from ..store.identity import Ref
from ..store.keyhash import key_hash

LinkList = list[tuple[Ref, Any]]  # (ref, features) of one guest's records

# Key hashes across windows: a guest's keys come back with each of its bookings, in later
# windows too. Bounded: it starts over past _HASHES_MAX keys (about 15 MB). Unbounded,
# a 50k-row import hashed 150k keys instead of 390k, for 3.8% less CPU (#20); but a
# guest's bookings are spread over the file, so the reuse is across the whole import,
# and at 1M rows it would hold some 3M keys (~700 MB). At 200k rows, 250k keys would
# still miss 1.43M of 1.88M look-ups (50k: 1.80M): not worth its 50 MB.
_HASHES: dict[Key, int] = {}
_HASHES_MAX = 50_000
# past key_hash's own small cache, which a window's thousands of new keys only churn
_key_hash = key_hash.__wrapped__


def hashed(key: Key) -> int:
    """`key_hash` of a blocking key, remembered across windows."""
    h = _HASHES.get(key)  # (not try/except: most keys miss, and a raise costs 0.4 us)
    if h is None:
        if len(_HASHES) >= _HASHES_MAX:
            _HASHES.clear()
        h = _HASHES[key] = _key_hash(*key)
    return h


class WindowStore:
    """A `Store` stand-in for one `Resolver` over one window (see the module docstring).
    Operations it does not answer itself go to the store, after the buffered writes."""

    def __init__(
        self,
        store: Store,
        probes: Iterable[Sequence[Key]],
        refs: Iterable[Ref],
        *,
        cap: int,
        caps: Mapping[str, int],
        hashes: Mapping[Key, int] | None = None,
    ) -> None:
        self._store = store
        self._cap, self._caps = cap, caps  # (not changed: the caller's, compared by identity)
        # features by their JSON: repeat records share one dict (and `decide` sees a
        # repeat as the same candidate record: process/resolve.py), parsed once
        self._features: dict[str, Any] = {}
        # the window's keys and their hashes, for as long as the window lives: a key is
        # looked up when the window is read, again when its record is resolved, and
        # stored when it is linked (the cross-window cache may have started over since);
        # `hashes`: those the mapping worker computed (process/handover.py)
        self._hash: dict[Key, int] = dict(hashes) if hashes else {}
        # each record's probe keys at the window's caps, by the keys: (key, hash, cap),
        # made once per distinct set of keys (a guest's repeat bookings probe the same
        # keys) as the window is read, and looked up again as each record is resolved
        self._probes: dict[tuple[Key, ...], list[tuple[Key, int, int]]] = {}
        wanted: dict[int, int] = {}
        for keys in probes:
            if (tk := tuple(keys)) not in self._probes:
                cut = self._probes[tk] = self._cut(tk, cap, self._caps)
                wanted.update((h, limit + 1) for _, h, limit in cut)
        # key hash -> its guests, as far as the store's own query would count them; a key
        # whose count reached its limit is "full" (the store may hold more than we read)
        self._guests: dict[int, list[str]] = store.guests_of_keys(wanted)
        self._full = {h for h, g in self._guests.items() if len(g) >= wanted[h]}
        self._links, self._ages = store.links_and_ages(
            {g for gs in self._guests.values() for g in gs}, parse=self.features
        )
        # the guest each link in memory is listed under (a merge moves links by ref)
        self._owner = {ref: g for g, links in self._links.items() for ref, _ in links}
        self._state = store.link_states(refs)
        self._new: set[str] = set()  # guests this window created
        self._links_out: dict[Ref, tuple[Ref, str, str, str, datetime]] = {}
        self._keys_out: set[tuple[int, str]] = set()
        # of those, the guests given a key the window has not read (by its hash): the
        # store holds them once the window flushes
        self._unread: dict[int, list[str]] = {}
        self._bookings: list[tuple[str, str, str, Reservation, datetime | None]] = []
        self._guests_out: list[tuple[Guest, datetime]] = []  # created by the window
        self._stored: dict[tuple[Key, ...], list[int]] = {}

    # -- reads answered from memory ----------------------------------------------------

    def guests_sharing_keys(
        self,
        keys: Sequence[tuple[str, str]],
        *,
        cap: int,
        caps: Mapping[str, int] | None = None,
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """As the store answers it (`cut_at_caps`): the guests of the keys within their
        cap, sorted, and the keys over it."""
        caps = caps or {}
        if cap == self._cap and (caps is self._caps or caps == self._caps):
            probe = self._probe(keys)
        else:
            probe = self._cut(keys, cap, caps)
        gids: set[str] = set()
        over: list[tuple[str, str]] = []
        guests = self._guests
        self._read_keys(probe)  # those not of this window's probes: read together
        for k, h, limit in probe:
            gs = guests[h]
            if len(gs) > limit:
                over.append(k)
            else:
                gids.update(gs)
        return sorted(gids), over

    def _read_keys(self, cut: Sequence[tuple[Key, int, int]]) -> None:
        """The guests of those of these keys (`_cut`: key, hash, cap) the window has not
        read: the store's (up to cap + 1, in one query: `Neighbourhood.through` asks a
        few keys at once, once for most records at 50k rows, #20) and those the window
        gave them since it last flushed. No flush needed: the window buffers no other
        change to `guest_keys` (a drop flushes first). Read with the window instead
        (every candidate's records' probe keys), at 200k rows they were 595,772 keys
        more for the 208,408 that 34,715 of these reads asked: 356/371 -> 411/385 CPU
        us a row (#20, alternating runs). Not kept."""
        limits = {h: limit for _, h, limit in cut if h not in self._guests}
        if not limits:
            return
        found = self._store.guests_of_keys({h: limit + 1 for h, limit in limits.items()})
        for h, gs in found.items():
            gs += [g for g in self._unread.pop(h, ()) if g not in gs]
            self._guests[h] = gs
            if len(gs) > limits[h]:
                self._full.add(h)

    def others_sharing_keys(
        self,
        keys: Iterable[Key],
        skip: Container[str],
        *,
        cap: int,
        caps: Mapping[str, int] | None = None,
    ) -> list[str]:
        """As the store answers it: the guests `guests_sharing_keys(keys)` answers that
        are not in `skip`, sorted; keys the window has not read are read first, as the
        look-up reads them (`_read_keys`). Straight from the window's key index, without
        the look-up's lists: `Neighbourhood.through` asks it for the keys of the guest a
        record joined, at 50k rows 21,857 times, and 7 found a guest (#20)."""
        known = self._guests
        cut = self._cut(list(keys), cap, caps or {})
        self._read_keys(cut)
        found = {
            g for _, h, limit in cut if len(gs := known[h]) <= limit for g in gs if g not in skip
        }
        return sorted(found)

    def meets_nobody(self, keys: Sequence[tuple[str, str]]) -> bool:
        """Whether these probe keys, at the window's caps, meet no guest: none stored and
        none linked earlier in the window (`guests_sharing_keys` would answer no guest and
        no key over its cap). False when a key is not known to the window."""
        guests = self._guests
        for _, h, _ in self._probe(keys):
            gs = guests.get(h)
            if gs is None or gs:
                return False
        return True

    def _probe(self, keys: Sequence[tuple[str, str]]) -> list[tuple[Key, int, int]]:
        """Probe keys at the window's caps: (key, hash, cap), remembered."""
        probe = self._probes.get(tk := tuple(keys))
        if probe is None:
            probe = self._probes[tk] = self._cut(keys, self._cap, self._caps)
        return probe

    def _cut(
        self, keys: Sequence[tuple[str, str]], cap: int, caps: Mapping[str, int]
    ) -> list[tuple[Key, int, int]]:
        return [
            (k, self._hashed(k), limit)
            for k in dict.fromkeys(keys)
            if (limit := caps.get(k[0], cap)) > 0
        ]

    def candidate_links(self, guest_ids: Sequence[str]) -> list[tuple[str, Ref, Any]]:
        if not guest_ids:
            return []
        unknown = [g for g in guest_ids if g not in self._links]
        if unknown:
            self.flush()
            links, ages = self._store.links_and_ages(unknown, parse=self.features)
            for g, found in links.items():
                self._take(g, found)
            self._ages.update(ages)
        rows = [(g, ref, f) for g in dict.fromkeys(guest_ids) for ref, f in self._links[g]]
        # as the store orders them: oldest guest first when there are several
        if len({g for g, _, _ in rows}) > 1:
            rows = [r for r in rows if r[0] in self._ages]
            rows.sort(key=lambda r: (self._ages[r[0]] or "", r[0], *r[1]))
        else:
            rows.sort(key=lambda r: r[1])
        return rows

    def link_state(self, ref: Ref) -> tuple[str, bool] | None:
        return self._state.get(ref)

    # -- writes kept in memory until the window ends -------------------------------------

    def save_link(
        self, ref: Ref, *, guest_id: str, record_json: str, features_json: str, seen_at: datetime
    ) -> None:
        before = self._state.get(ref)
        self._state[ref] = (guest_id, before[1] if before else False)
        self._move({ref: self.features(features_json)}, guest_id)
        self._links_out[ref] = (ref, guest_id, record_json, features_json, seen_at)

    def add_guest_keys(self, guest_id: str, keys: Iterable[tuple[str, str]]) -> None:
        keys = tuple(keys)
        hashes = self._stored.get(keys)  # hashed once per distinct set of keys
        if hashes is None:
            hashes = self._stored[keys] = [self._hashed(k) for k in keys]
        for h in hashes:
            gs = self._guests.get(h)
            if gs is None:
                self._keys_out.add((h, guest_id))
                unread = self._unread.setdefault(h, [])
                if guest_id not in unread:
                    unread.append(guest_id)
            elif guest_id not in gs:  # a few guests per key
                gs.append(guest_id)
                self._keys_out.add((h, guest_id))
            # else: the store has it, or this window wrote it (a repeat booking's keys)

    def upsert_reservation(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        reservation: Reservation,
        updated_at: datetime | None,
    ) -> None:
        self._bookings.append((source, external_id, guest_id, reservation, updated_at))

    def save_guest(self, guest: Guest, *, now: datetime | None = None) -> None:
        assert guest.id
        now = now or utcnow()
        if guest.id in self._new and guest.id not in self._ages:  # created now: no links yet
            self._ages[guest.id] = ts(now)  # as the store records it
            self._take(guest.id, [])
            self._guests_out.append((guest, now))  # written first when the window flushes
            return
        self.flush()
        self._store.save_guest(guest, now=now)

    def flush(self) -> None:
        """Write the buffered new guests, bookings (in order), links and keys (in key
        order), with executemany."""
        if self._guests_out:  # before what refers to them
            self._store.save_new_guests(self._guests_out)
            self._guests_out.clear()
        if self._bookings:
            self._store.upsert_reservations(self._bookings)
            self._bookings.clear()
        if self._links_out:
            self._store.save_links(list(self._links_out.values()))
            self._links_out.clear()
        if self._keys_out:
            self._store.add_key_hashes(self._keys_out)
            self._keys_out.clear()
            self._unread.clear()

    # -- what the buffered writes cannot change: straight to the store ------------------

    def new_guest_id(self) -> str:
        gid = self._store.new_guest_id()
        self._new.add(gid)
        return gid

    def kept_apart(self, a: str, b: str) -> bool:
        return self._store.kept_apart(a, b)

    def add_review(self, **item: Any) -> None:
        self._store.add_review(**item)

    # -- writes that go to the store at once, with memory kept in step -----------------

    def drop_guest_keys(self, guest_id: str, keys: Iterable[tuple[str, str]]) -> None:
        keys = list(keys)
        self.flush()
        self._store.drop_guest_keys(guest_id, keys)
        for k in keys:
            h = self._hashed(k)
            if h in self._full:  # the store may hold guests we never read: ask it again
                self._guests.pop(h, None)
                self._full.discard(h)
            elif (gs := self._guests.get(h)) is not None and guest_id in gs:
                gs.remove(guest_id)

    def move_keys(self, lose: str, keep: str, keys: Iterable[tuple[str, str]]) -> None:
        keys = list(keys)
        self.add_guest_keys(keep, keys)
        self.drop_guest_keys(lose, keys)

    def move_links(self, refs: Iterable[Ref], guest_id: str, *, pin: bool = False) -> None:
        refs = list(refs)
        self.flush()
        self._store.move_links(refs, guest_id, pin=pin)
        features = {}
        for r in refs:
            owner = self._owner.get(r)
            found = [f for x, f in self._links.get(owner, []) if x == r] if owner else []
            if found:
                features[r] = found[0]
            else:  # a link of a guest never read: that guest is read whole next time
                self._links.pop(guest_id, None)
            if r in self._state:
                self._state[r] = (guest_id, self._state[r][1] or pin)
        self._move(features, guest_id)

    # -- the links in memory ---------------------------------------------------------

    def _hashed(self, key: Key) -> int:
        h = self._hash.get(key)
        if h is None:
            h = self._hash[key] = hashed(key)
        return h

    def features(self, features_json: str) -> Any:
        """The features stored as this JSON: one dict per distinct JSON in the window
        (never changed in place: a guest's links share them)."""
        f = self._features.get(features_json)
        if f is None:
            f = self._features[features_json] = json.loads(features_json)
        return f

    def _take(self, guest_id: str, links: LinkList) -> None:
        self._links[guest_id] = list(links)
        self._owner.update((ref, guest_id) for ref, _ in links)

    def _move(self, links: Mapping[Ref, Any], guest_id: str) -> None:
        """These links now belong to `guest_id`: off their old guest's list, onto its own
        (if its links are known; a guest never read stays unread)."""
        for ref, features in links.items():
            old = self._owner.pop(ref, None)
            if old is not None and old in self._links:
                self._links[old] = [x for x in self._links[old] if x[0] != ref]
            if guest_id in self._links:
                self._links[guest_id].append((ref, features))
                self._owner[ref] = guest_id

    def __getattr__(self, name: str) -> Any:
        """Every other operation: the store's own, once it holds what is buffered."""
        self.flush()
        return getattr(self._store, name)
