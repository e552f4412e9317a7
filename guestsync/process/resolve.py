"""Identity resolution against the store: link each source record to its golden guest,
merge, unmerge, and settle the review queue.

Per record: fold it (`identity.features`), look up the guests sharing a blocking key (one
query, over-frequent keys skipped), read their linked records (one query), score the
record against each (Fellegi-Sunter), then link it, merging every guest it matches into
the oldest of them. Each decision goes to `match_log`; pairs between the thresholds go to
`review_queue`. Every merge is a `merges` row listing the links it moved, so `unmerge`
can put them back, and delivery can merge the two CRM contacts (SupportsMerge).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import identity
from ..errors import GuestsyncError
from ..identity import CandidateRecord, IdentityConfig, Linked, Scorer
from ..identity.keys import Key
from ..identity.prepare import Prepared, prepare
from ..identity.scoring import form
from ..models import Guest, SourceRecord
from ..store import Store
from ..store.identity import Ref
from .neighbourhood import RECORDS, Neighbourhood
from .window import WindowStore


class IdentityError(GuestsyncError):
    """A merge/unmerge/review request that cannot be done as asked (unknown id, ...)."""


def ref_text(ref: Ref) -> str:
    return f"{ref[0]}:{ref[1]}:{ref[2]}"


@dataclass
class Resolution:
    guest_id: str
    created: bool
    previous: str | None = None
    merged: list[str] = field(default_factory=list)


@dataclass
class ResolveStats:
    skipped_keys: int = 0  # over-frequent blocking keys not used for lookup
    comparisons: int = 0
    reviews: int = 0
    merges: int = 0


class Resolver:
    """One per batch (or CLI action); holds the compiled scorer and what it touched."""

    def __init__(self, store: Store | WindowStore, config: IdentityConfig | None = None) -> None:
        self.store = store
        self.config = config or IdentityConfig()
        self.scorer = Scorer(self.config)
        self.fields = tuple(self.config.fields)
        self.blocking = set(self.config.blocking)
        self.touched: set[str] = set()
        self.merged_away: set[str] = set()
        self.stats = ResolveStats()
        # Batch hints (process_batch): records known to have no link when the batch began
        # (no look-up needed), and where the match log goes until the batch writes it.
        self.unlinked: set[Ref] = set()
        self.log_buffer: list[dict[str, Any]] | None = None
        # Decisions by (features, candidates): only over a window (its feature dicts
        # stay alive, so their ids name them), see _decide and over().
        self._decisions: dict[tuple[Any, ...], tuple[identity.Decision, list[Any]]] | None
        self._decisions = None
        self.near = Neighbourhood(self.config, self.scorer)
        self.cap, self.caps = self.near.cap, self.near.caps  # one dict: the window's own

    def over(self, window: WindowStore) -> None:
        """Resolve this window's records (the bulk lane) from here on."""
        self.store = window
        self._decisions = {}

    def features(self, guest: Guest) -> dict[str, Any]:
        return identity.features(guest, self.fields)

    # -- automatic ---------------------------------------------------------------------

    def resolve(
        self, record: SourceRecord, seen: datetime, prepared: Prepared | None = None
    ) -> Resolution:
        """`prepared`: the record already folded (prepare.py), e.g. by the mapping worker."""
        store = self.store
        ref: Ref = (record.source, record.stream, record.external_id)
        if prepared is None or prepared.fields != self.fields:
            prepared = prepare(record, self.fields)
        state = None if ref in self.unlinked else store.link_state(ref)
        # Seen before: its old version's keys leave its guest unless another record has them.
        before = self._keys_of(state[0]) if state is not None else set()
        if state is not None and state[1]:  # pinned by a person: stays where it is
            res = self._link(ref, state[0], prepared, seen, created=False)
            self._resync_keys(state[0], before)
            return res
        block = [k for k in prepared.probe if k[0] in self.blocking]
        gids, skipped = store.guests_sharing_keys(block, cap=self.cap, caps=self.caps)
        self.stats.skipped_keys += len(skipped)
        links = store.candidate_links(gids)
        decision, log = self._decide(ref, prepared, links)
        matches = decision.merge_with
        home = state[0] if state is not None else (matches[0] if matches else None)
        created = home is None
        if home is None:
            home = store.new_guest_id()
            store.save_guest(Guest(id=home))
        res = self._link(ref, home, prepared, seen, created=created)
        if state is not None:
            self._resync_keys(state[0], before)
        for other in matches:
            if other != home and not store.kept_apart(home, other):
                self._merge(home, other, reason="auto", pin=False)
                res.merged.append(other)
        held = identity.held_out(decision, self.scorer)
        if matches:  # the guest joined: is it still one grouping whatever the order?
            mine = [(g, self.near.features(f)) for g, r, f in links if g in matches and r != ref]
            held += self.near.through(store, mine, prepared, {*gids, *self.merged_away})
            names = {form(f, "name") for _, f in mine} | {form(prepared.features, "name")}
            # (a guest too big to compare every pair of its records is left as it is)
            if not held and len(mine) < RECORDS and identity.differs_within(names, self.scorer):
                held.append(home)
        if held:
            res.guest_id = self._regroup(ref, [home, *held])
        review = decision.review
        if review is not None and not store.kept_apart(home, review.guest_id):
            store.add_review(
                guest_id=home,
                candidate=review.guest_id,
                record_ref=ref_text(ref),
                candidate_ref=review.ref,
                score=review.score.total,
                fields=review.score.as_json(),
            )
            self.stats.reviews += 1
        rows = [{"ref": ref, "guest_id": home, **j} for j in log] or [
            {"ref": ref, "guest_id": home, "outcome": identity.DISTINCT}
        ]
        if self.log_buffer is not None:
            self.log_buffer.extend(rows)
        else:
            store.log_matches(rows)
        return res

    def _decide(
        self, ref: Ref, prepared: Prepared, links: list[tuple[str, Ref, Any]]
    ) -> tuple[identity.Decision, list[dict[str, Any]]]:
        """`identity.decide` on the candidates' links, and its judgements as match-log
        fields. A guest's records with the same features (repeat bookings: in the bulk
        lane one dict per distinct features, process/window.py) are scored once: `decide`
        keeps a guest's first best record, so a second identical one changes nothing. The
        same features meeting the same candidates again (a guest's third booking) reuse
        the decision, in the bulk lane, whose feature dicts live as long as the window."""
        candidates: list[CandidateRecord] = []
        seen: set[tuple[str, int]] = set()
        memo = self._decisions
        for gid, r, f2 in links:
            if r == ref:
                continue
            self.stats.comparisons += 1
            if not isinstance(f2, dict):  # a link stored before features: folded now
                f2, memo = self.features(f2), None  # (a new dict: its id names nothing)
            feats = f2
            if (gid, id(feats)) not in seen:
                seen.add((gid, id(feats)))
                candidates.append(CandidateRecord(gid, ref_text(r), feats))
        key: tuple[Any, ...] = ()
        if memo is not None:
            key = (
                prepared.features_json,
                *((c.guest_id, c.ref, id(c.features)) for c in candidates),
            )
            if (found := memo.get(key)) is not None:
                return found
        decision = identity.decide(prepared.features, candidates, self.scorer)
        log = [
            {
                "candidate": j.guest_id,
                "candidate_ref": j.ref,
                "score": round(j.score.total, 3),
                "fields": j.score.as_json_text(),  # as stored
                "outcome": j.outcome,
            }
            for j in decision.judgements
        ]
        if memo is not None:
            memo[key] = (decision, log)
        return decision, log

    def _link(
        self,
        ref: Ref,
        guest_id: str,
        prepared: Prepared,
        seen: datetime,
        *,
        created: bool,
    ) -> Resolution:
        self.store.save_link(
            ref,
            guest_id=guest_id,
            record_json=prepared.record_json,
            features_json=prepared.features_json,
            seen_at=seen,
        )
        # visible to the next record of the batch
        self.store.add_guest_keys(guest_id, prepared.keys)
        self.unlinked.discard(ref)
        self.touched.add(guest_id)
        return Resolution(guest_id, created)

    def _merge(self, keep: str, lose: str, *, reason: str, pin: bool) -> None:
        store = self.store
        links = store.candidate_links([lose])  # one read for both refs and keys
        refs = [ref for _, ref, _ in links]
        keys = self._keys_from(links)
        store.move_links(refs, keep, pin=pin)
        store.move_keys(lose, keep, keys)
        store.repoint_entities(refs, keep)
        store.set_merged_into(lose, keep)
        store.record_merge(keep=keep, lose=lose, reason=reason, links=refs)
        # A pair waiting for a person whose two guests are now one needs no decision.
        store.close_reviews_within(sorted(store.merged_family([keep])))
        # Delivery merges the two CRM contacts (and cancels the loser's queued pushes);
        # the loser's reservations, orders, feedback and consent move to the keeper, whose
        # aggregates the caller recomputes (hooks.after_batch on the live guests).
        store.record_guest_merge(keep, lose)
        store.move_activity(lose, keep)
        self.touched.add(keep)
        self.merged_away.add(lose)
        self.touched.discard(lose)
        self.stats.merges += 1

    def _regroup(self, ref: Ref, guests: list[str]) -> str:
        """A guard rule kept guests apart from the one this record joined, or the guest
        holds names that differ: decide those guests' records again, with every guest of
        their neighbourhood (Neighbourhood.around: records joined by merge-scoring pairs),
        together and in the order of their refs (identity.cluster), so that which guest a
        record sits with does not depend on which came first. A
        guest whose records all go elsewhere is merged (recorded, undoable); records split
        off a guest start a new one. Guests a person shaped (pinned links, kept apart) are
        left as they are. Returns the guest `ref` ends up in. A single guest is decided again
        when the record joined it beside a name that differs from its own."""
        store = self.store
        guests = [g for g in dict.fromkeys(guests) if g not in self.merged_away]
        if not guests or any(
            store.kept_apart(a, b) for i, a in enumerate(guests) for b in guests[i + 1 :]
        ):
            return guests[0]
        guests = self.near.around(store, guests, self.merged_away)
        links = store.candidate_links(guests)
        owner = {ref_text(r): (g, r) for g, r, _ in links}
        if any(pinned for _, pinned in store.link_states(r for _, r, _ in links).values()):
            return guests[0]
        feats = [(ref_text(r), f if isinstance(f, dict) else self.features(f)) for _, r, f in links]
        groups = identity.cluster(feats, self.scorer)
        before = {g: self._keys_from([x for x in links if x[0] == g]) for g in guests}
        order = {g: i for i, g in enumerate(guests)}  # oldest first, as the store lists them
        taken: set[str] = set()
        target: dict[str, str] = {}
        for group in sorted(groups, key=len, reverse=True):
            held = sorted({owner[t][0] for t in group} - taken, key=order.__getitem__)
            gid = held[0] if held else store.new_guest_id()
            if not held:
                store.save_guest(Guest(id=gid))
                before[gid] = set()
            taken.add(gid)
            moved = [owner[t][1] for t in group if owner[t][0] != gid]
            if moved:
                store.move_links(moved, gid, pin=False)
                store.repoint_entities(moved, gid)
            for t in group:
                target[t] = gid
            self.touched.add(gid)
        for g in guests:
            if g in taken:
                continue
            mine = [r for t, (o, r) in owner.items() if o == g]
            keep = max(taken, key=lambda k: sum(target[ref_text(r)] == k for r in mine))
            store.set_merged_into(g, keep)
            store.record_merge(keep=keep, lose=g, reason="auto", links=mine)
            store.record_guest_merge(keep, g)
            store.move_activity(g, keep)
            self.merged_away.add(g)
            self.touched.discard(g)
            self.stats.merges += 1
        for g, keys in before.items():
            self._resync_keys(g, keys)
        return target[ref_text(ref)]

    # -- blocking keys -----------------------------------------------------------------

    def _keys_of(self, guest_id: str) -> set[Key]:
        """The blocking keys of a guest: those of its linked records' features. The store
        holds exactly these (m0023: no index by guest finds a guest's keys otherwise)."""
        return self._keys_from(self.store.candidate_links([guest_id]))

    def _keys_from(self, links: list[tuple[str, Ref, Any]]) -> set[Key]:
        """The blocking keys of these `candidate_links` rows."""
        return {
            k
            for _, _, f in links
            for k in identity.keys_for(f if isinstance(f, dict) else self.features(f))
        }

    def _resync_keys(self, guest_id: str, before: set[Key]) -> None:
        """After the guest's links changed: drop the keys only the old links had, add the
        new ones. `before`: `_keys_of` the guest before the change."""
        after = self._keys_of(guest_id)
        self.store.drop_guest_keys(guest_id, sorted(before - after))
        self.store.add_guest_keys(guest_id, sorted(after - before))

    # -- golden record -----------------------------------------------------------------

    def refresh(self, guest_id: str) -> Guest | None:
        """Recompute the golden record from all linked records (None: merged away, or
        rolled back with a rejected row)."""
        return self.refresh_many([guest_id]).get(guest_id)

    def refresh_many(self, guest_ids: Iterable[str]) -> dict[str, Guest]:
        """`refresh` for many guests at once: their states and links read in a few
        queries, their golden records written in one. Returns {guest id: golden record}
        for those not merged away."""
        store = self.store
        ids = sorted(store.live_ids(sorted(set(guest_ids))))
        linked: dict[str, list[Linked]] = {g: [] for g in ids}
        for gid, ref, seen, record in store.link_records(ids):
            linked[gid].append(Linked(ref[0], seen, record, ref_text(ref)))
        goldens = {g: identity.golden(g, linked[g], self.config.survivorship) for g in ids}
        store.save_guests(goldens.values())
        return goldens

    def live(self, guest_ids: set[str]) -> set[str]:
        """The guests to refresh and re-queue: those touched, minus those merged away."""
        return (guest_ids | self.touched) - self.merged_away

    # -- manual ------------------------------------------------------------------------

    def _current(self, guest_id: str) -> str:
        if not self.store.guest_exists(guest_id):
            raise IdentityError(f"no guest {guest_id!r} (see `guestsync guests search`)")
        seen = {guest_id}
        while (nxt := self.store.merged_into(guest_id)) is not None:
            if nxt in seen:
                break
            seen.add(nxt)
            guest_id = nxt
        return guest_id

    def merge(self, keep: str, lose: str, *, reason: str = "manual") -> set[str]:
        """Merge guest `lose` into `keep`; returns the guests to refresh and re-queue."""
        keep, lose = self._current(keep), self._current(lose)
        if keep == lose:
            raise IdentityError(f"{keep} and {lose} are already one guest")
        self._merge(keep, lose, reason=reason, pin=True)
        self.store.log_matches([{"guest_id": keep, "candidate": lose, "outcome": reason}])
        return {keep}

    def unmerge(self, guest_id: str, ref: Ref) -> set[str]:
        """Take source record `ref` out of `guest_id`.

        If it came in through a merge, that merge is undone: the merged guest comes back
        with its own id and every link the merge moved that is still here. Otherwise the
        record moves to a new guest. Both guests are recomputed from their links and kept
        apart from then on."""
        store = self.store
        state = store.link_state(ref)
        if state is None or state[0] != guest_id:
            raise IdentityError(f"{ref_text(ref)} is not linked to guest {guest_id}")
        links = store.candidate_links([guest_id])  # one read for both keys and refs
        before = self._keys_from(links)
        here = {r for _, r, _ in links}
        back: str | None = None
        for m in store.merges_into(guest_id):
            if ref in m.links:
                back = m.lose
                refs = [r for r in m.links if r in here]
                store.move_links(refs, back, pin=True)
                store.repoint_entities(refs, back)
                store.set_merged_into(back, None)
                store.mark_merge_undone(m.id)
                # A CRM merge not carried out yet must not happen any more.
                store.cancel_guest_merge(guest_id, back)
                break
        if back is None:
            back = store.new_guest_id()
            store.save_guest(Guest(id=back))
            store.move_links([ref], back, pin=True)
            store.repoint_entities([ref], back)
        self._resync_keys(guest_id, before)
        # `back` had no links (a merge moves them all, or it is new): no key to drop
        self._resync_keys(back, set())
        store.keep_apart(guest_id, back, "unmerge")
        store.log_matches(
            [{"ref": ref, "guest_id": back, "candidate": guest_id, "outcome": "unmerge"}]
        )
        self.merged_away.discard(back)
        self.touched |= {guest_id, back}
        return {guest_id, back}

    def accept(self, review_id: int) -> set[str]:
        item = self._open_review(review_id)
        touched = self.merge(item.candidate, item.guest_id, reason="review")
        self.store.decide_review(review_id, "accepted")
        return touched

    def reject(self, review_id: int) -> set[str]:
        item = self._open_review(review_id)
        self.store.decide_review(review_id, "rejected")
        self.store.keep_apart(item.guest_id, item.candidate, "review rejected")
        self.store.log_matches(
            [{"guest_id": item.guest_id, "candidate": item.candidate, "outcome": "rejected"}]
        )
        return set()

    def _open_review(self, review_id: int) -> Any:
        item = self.store.review(review_id)
        if item is None:
            raise IdentityError(f"no review item {review_id} (see `guestsync review list`)")
        if item.status != "open":
            raise IdentityError(f"review item {review_id} is already {item.status}")
        return item
