"""What the `guests` and `review` commands do, as library calls: look a guest up, explain
how it was resolved, and merge/unmerge/accept/reject with the affected guests recomputed
and re-queued for every target in the same transaction.

`profile()` builds `guests show` from sections; another area adds its own section (e.g.
aggregates) by appending a function to `PROFILE_SECTIONS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from ..connectors.base import Target
from ..identity import IdentityConfig, features
from ..identity.blocking import BlockingReport
from ..identity.blocking import report as blocking_counts
from ..identity.em import Estimate, estimate, random_u
from ..identity.names import name_key
from ..normalize import email_address, phone_e164
from ..process.batch import settle
from ..process.resolve import IdentityError, Resolver, ref_text
from ..restaurant import aggregates, membership
from ..store import Store
from ..store.identity import Ref

Section = Callable[[Store, str], Any]


def _links(store: Store, guest_id: str) -> list[dict[str, Any]]:
    return [
        {
            "link": ref_text(x.ref),
            "seen_at": x.seen_at.isoformat(),
            "pinned": x.pinned,
            "record": x.record.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        }
        for x in sorted(store.links_of([guest_id]), key=lambda x: x.seen_at)
    ]


def _reviews(store: Store, guest_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "with": r.candidate if r.guest_id == guest_id else r.guest_id,
            "score": r.score,
        }
        for r in store.reviews(status="open", limit=10_000)
        if guest_id in (r.guest_id, r.candidate)
    ]


PROFILE_SECTIONS: dict[str, Section] = {
    "activity": aggregates.summary,  # segment, visits, spend, consent in force
    "membership": membership.summary,  # tier and its changes, points, coupons
    "links": _links,
    "crm": lambda store, gid: store.crm_links_of(gid),  # target -> CRM record id
    # records of merged-away guests left in a CRM without a merge API, to merge by hand
    "crm_duplicates": lambda store, gid: store.crm_duplicates_of(gid),
    "open_reviews": _reviews,
}


SHORT_ID = 8  # the fewest characters shown of a guest id


def short_ids(store: Store, guest_ids: list[str]) -> dict[str, str]:
    """Each id's shortest prefix (at least SHORT_ID characters) that no other guest's
    id starts with, as git abbreviates hashes: what a person can type back.

    Guest ids are UUIDv7 (store/guests.py): the first 12 hex digits are the creation
    time, so guests created in the same minute share 8 characters, and a bulk import
    in the same millisecond shares 13; a fixed 8 named many guests at once."""
    out: dict[str, str] = {}
    for gid in dict.fromkeys(guest_ids):
        need = SHORT_ID
        for other in store.guest_id_neighbours(gid):
            if other is not None:
                need = max(need, _common(gid, other) + 1)
        if need < len(gid) and gid[need - 1] == "-":
            need += 1  # never end on a dash
        out[gid] = gid[: min(need, len(gid))]
    return out


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def expand_id(store: Store, text: str) -> str:
    """A guest id from what a person typed: the whole id, or a prefix only one guest's id
    starts with (as `review list` and `guests search` show them)."""
    text = text.strip()
    if not text:
        raise IdentityError("no guest id given")
    if store.guest_exists(text):
        return text
    if len(text) < 4:
        raise IdentityError(f"{text!r}: give at least 4 characters of the guest id")
    found = store.guest_ids_with_prefix(text, limit=4)
    if not found:
        raise IdentityError(f"no guest id starts with {text!r} (see `guestsync guests search`)")
    if len(found) > 1:
        shown = ", ".join(short_ids(store, found[:3]).values())
        more = ", …" if len(found) > 3 else ""
        raise IdentityError(
            f"{text!r} is the start of more than one guest id ({shown}{more}); type more of it"
        )
    return found[0]


def current_id(store: Store, guest_id: str) -> str:
    """Follow `merged_into` so an old id still finds its guest."""
    return Resolver(store)._current(guest_id)


def profile(store: Store, guest_id: str) -> dict[str, Any]:
    """The golden record plus every section (linked source records, open reviews, ...)."""
    gid = current_id(store, guest_id)
    guest = store.get_guest(gid)
    assert guest is not None
    out: dict[str, Any] = {
        "id": gid,
        "asked_for": guest_id if gid != guest_id else None,
        "golden": guest.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
    }
    for name, section in PROFILE_SECTIONS.items():
        out[name] = section(store, gid)
    return out


def explain(store: Store, guest_id: str) -> list[dict[str, Any]]:
    """Every logged decision about this guest: which record, compared with whom, the score
    per field and the outcome."""
    return store.match_log_for(current_id(store, guest_id))


def search(store: Store, text: str, *, region: str = "TW", limit: int = 20) -> list[Any]:
    """Guests by name (any script or romanization), email or phone, or a substring."""
    keys: list[tuple[str, str]] = []
    if key := name_key(text):
        keys.append(("name", key))
    for kind, fn in (("email", email_address), ("phone", lambda t: phone_e164(t, region))):
        with contextlib.suppress(ValueError):
            keys.append((kind, fn(text)))
    return store.search_guests(text, keys=keys, limit=limit)


def blocking(store: Store, config: IdentityConfig) -> BlockingReport:
    """`guests blocking`: the candidate pairs each blocking rule produces on the linked
    records, their union, and the records no key pairs (identity.blocking)."""
    fields = tuple(config.fields)
    folded = (f if isinstance(f, dict) else features(f, fields) for f in store.link_features())
    return blocking_counts(folded, config)


def weights(
    store: Store, config: IdentityConfig, *, iterations: int = 200, random_pairs: int = 200_000
) -> tuple[Estimate, int] | None:
    """`guests weights`: u from random pairs of the linked records, m by EM over the pairs
    the match log compared (identity.em). None when nothing was compared yet; else the
    estimate and the number of compared pairs it learnt from."""
    rows = store.match_field_levels()
    if not rows:
        return None
    fields = tuple(config.fields)
    records = [f if isinstance(f, dict) else features(f, fields) for f in store.link_features()]
    u, drawn = random_u(records, config, pairs=random_pairs)
    return estimate(rows, config, u=u, u_pairs=drawn, iterations=iterations), len(rows)


def parse_link(store: Store, text: str) -> Ref:
    """SOURCE:EXTERNAL_ID (or SOURCE:STREAM:EXTERNAL_ID) as a link reference."""
    source, sep, rest = text.partition(":")
    if not sep or not rest:
        raise IdentityError(f"--link wants SOURCE:EXTERNAL_ID, got {text!r}")
    found = store.find_links(source, rest)
    if not found and ":" in rest:
        stream, _, ext = rest.partition(":")
        found = [r for r in store.find_links(source, ext) if r[1] == stream]
    if not found:
        raise IdentityError(f"no source record {text!r} is linked to any guest")
    if len(found) > 1:
        raise IdentityError(
            f"{text!r} is in several streams; use one of: {', '.join(map(ref_text, found))}"
        )
    return found[0]


class Admin:
    """Manual identity operations, each in one transaction, re-queuing what changed."""

    def __init__(
        self, store: Store, targets: Mapping[str, Target], config: IdentityConfig | None = None
    ) -> None:
        self.store = store
        self.targets = targets
        self.config = config

    def _run(self, op: Callable[[Resolver], set[str]]) -> tuple[set[str], int]:
        with self.store.atomic():
            resolver = Resolver(self.store, self.config)
            # As a sync batch does: golden records, aggregates, segment and consent of
            # both guests, then their CRM payloads (a merged-away guest is not queued).
            touched = resolver.live(op(resolver))
            queued = settle(self.store, touched, self.targets, resolver)
        return touched, queued

    def merge(self, keep: str, lose: str) -> tuple[set[str], int]:
        return self._run(lambda r: r.merge(keep, lose))

    def unmerge(self, guest_id: str, link: str) -> tuple[set[str], int]:
        ref = parse_link(self.store, link)
        gid = current_id(self.store, guest_id)
        return self._run(lambda r: r.unmerge(gid, ref))

    def merged_in_crm(self, guest_id: str, touched: set[str]) -> list[str]:
        """After an unmerge: the CRM records that already merged the two guests (a CRM
        merge cannot be undone from here), as lines for a person to split them by hand."""
        gid = current_id(self.store, guest_id)
        return [
            f"{target}: record {crm_id or '?'} already holds both {gid} and {other}; "
            "split it by hand in the CRM"
            for other in sorted(touched - {gid})
            for target, crm_id in self.store.crm_merges_done(gid, other)
        ]

    def accept(self, review_id: int) -> tuple[set[str], int]:
        return self._run(lambda r: r.accept(review_id))

    def reject(self, review_id: int) -> tuple[set[str], int]:
        return self._run(lambda r: r.reject(review_id))
