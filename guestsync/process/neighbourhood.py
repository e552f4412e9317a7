"""The guests a record's arrival can regroup, found through the store as the Resolver
finds candidates (`guests_sharing_keys` with the per-key caps, `candidate_links`).

Which guests hold which records must not depend on the order the records came in. The
clusters are `identity.cluster` of each neighbourhood: records joined by pairs that score
a merge. A record's own keys find its direct neighbours; `through` finds those that only
the keys of the guest it joined reach (the pair shares no key, a third record bridges
them), and `around` grows a set of guests to its whole neighbourhood, to a fixed point,
so that `cluster` decides all of it and not the part this order happened to bring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import identity
from ..identity import IdentityConfig, Scorer
from ..identity.keys import Features, Key, lookup_keys
from ..identity.prepare import Prepared
from ..store import Store
from ..store.identity import Ref
from .window import WindowStore

# A neighbourhood decided again together grows to at most this many records.
RECORDS = 80

Links = list[tuple[str, Ref, Any]]


class Neighbourhood:
    def __init__(self, config: IdentityConfig, scorer: Scorer) -> None:
        self.config = config
        self.scorer = scorer
        self.fields = tuple(config.fields)
        self.blocking = set(config.blocking)
        self.cap, self.caps = config.max_candidates_per_key, config.key_caps()
        # by id of lookup_keys' tuple (kept, so the id names it): those of blocking rules
        self._probes: dict[int, tuple[tuple[Key, ...], tuple[Key, ...]]] = {}
        # the same by id of the features dict (kept likewise): a window's links share one
        # dict per distinct features (process/window.py), met again by each of the guest's
        # records, and lookup_keys would make their signature each time
        self._of: dict[int, tuple[Features, tuple[Key, ...]]] = {}

    def features(self, f: Any) -> Features:
        """A link's features (a link stored before features holds its record: folded)."""
        return f if isinstance(f, dict) else identity.features(f, self.fields)

    def probe(self, f: Features) -> tuple[Key, ...]:
        """The keys a linked record looks its candidates up by (as when it came in)."""
        known = self._of.get(id(f))
        if known is not None and known[0] is f:
            return known[1]
        if len(self._of) >= 1 << 16:
            self._of.clear()
        probe = self._of[id(f)] = (f, self._blocking_probe(f))
        return probe[1]

    def _blocking_probe(self, f: Features) -> tuple[Key, ...]:
        keys = lookup_keys(f)
        found = self._probes.get(id(keys))
        if found is None or found[0] is not keys:  # (a tuple the memo let go of)
            if len(self._probes) >= 1 << 16:
                self._probes.clear()
            found = self._probes[id(keys)] = (keys, tuple(k for k in keys if k[0] in self.blocking))
        return found[1]

    def probes(self, records: Sequence[tuple[str, Features]]) -> set[Key]:
        """The keys these records look up by, together. (A guest's repeat records often
        share one features dict: the bulk lane's window parses each distinct JSON once.)"""
        distinct = {id(f): f for _, f in records}.values()
        return set().union(*{id(p): p for p in map(self.probe, distinct)}.values())

    def sharing(
        self, store: Store | WindowStore, keys: set[Key], skip: set[str]
    ) -> list[tuple[str, Ref, Features]]:
        """The links of the guests not in `skip` sharing a key, their features folded."""
        new = store.others_sharing_keys(keys, skip, cap=self.cap, caps=self.caps)
        return [(g, r, self.features(f)) for g, r, f in store.candidate_links(new)] if new else []

    def through(
        self,
        store: Store | WindowStore,
        mine: Sequence[tuple[str, Features]],
        prepared: Prepared,
        skip: set[str],
    ) -> list[str]:
        """Guests (not in `skip`) the record scores a merge with that only the keys of
        the guest it joined (`mine`: its other records) find: a mistyped email beside a
        name another record of the guest shares. Had the record come first, they would
        have found it."""
        keys = self.probes(mine).difference(prepared.probe)
        if not keys:
            return []
        skip = skip | {g for g, _ in mine}
        others = [(g, f) for g, _, f in self.sharing(store, keys, skip)]
        return identity.merging([("", prepared.features)], others, self.scorer)

    def around(self, store: Store | WindowStore, guests: list[str], gone: set[str]) -> list[str]:
        """`guests` and every guest holding a record that scores a merge with one of
        theirs, to a fixed point or RECORDS. Not a guest `gone`, kept apart from one of
        them or shaped by a person (a pinned link): those stay as they are."""
        links = [(g, self.features(f)) for g, _, f in store.candidate_links(guests)]
        frontier, probed = links, set[Key]()
        while frontier and len(links) < RECORDS:
            keys = self.probes(frontier) - probed
            probed |= keys
            near = self.sharing(store, keys, gone | set(guests))
            found = [(g, f) for g, _, f in near]
            add = [
                g
                for g in identity.merging(links, found, self.scorer)
                if not any(store.kept_apart(g, h) for h in guests)
            ]
            if add:
                states = store.link_states(r for g, r, _ in near if g in add)
                add = [g for g in add if not any(p for h, p in states.values() if h == g)]
            guests = [*guests, *add]
            frontier = [x for x in found if x[0] in add]
            links += frontier
        return guests
