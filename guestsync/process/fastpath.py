"""The bulk lane's fast path: a record that meets nobody becomes a new guest directly.

A record new to the store (no link yet) whose probe keys meet no guest at all (none
stored, none linked earlier in the window: the window's key-hash index says so) has no
candidate. The `Resolver` would read no candidate links, decide on nothing (no judgement,
no merge, no review, nothing held out to regroup), create a guest, link the record with
its keys, and log one `distinct` row. Here the window is asked for exactly those writes,
in the same order, and the same match-log row is buffered: same guest, same links and
keys, same log, without the scoring machinery (`tests/test_bulk_lane.py` holds both lanes
to the same outcome). Everything else goes to the `Resolver`.
"""

from __future__ import annotations

from datetime import datetime

from .. import identity
from ..identity.prepare import Prepared
from ..models import Guest
from ..store.identity import Ref
from .resolve import Resolver
from .window import WindowStore


def new_alone(
    resolver: Resolver, window: WindowStore, ref: Ref, prepared: Prepared, seen: datetime
) -> str | None:
    """The new guest's id, or None when the record is for the `Resolver` (it was linked
    before, was folded with other fields, or one of its probe keys meets a guest or is
    not known to the window)."""
    if ref not in resolver.unlinked or prepared.fields != resolver.fields:
        return None
    blocking = resolver.blocking
    if not window.meets_nobody([k for k in prepared.probe if k[0] in blocking]):
        return None
    # as Resolver.resolve does it for a record with no candidate (and Resolver._link)
    home = window.new_guest_id()
    window.save_guest(Guest(id=home))
    window.save_link(
        ref,
        guest_id=home,
        record_json=prepared.record_json,
        features_json=prepared.features_json,
        seen_at=seen,
    )
    window.add_guest_keys(home, prepared.keys)
    resolver.unlinked.discard(ref)
    resolver.touched.add(home)
    row = {"ref": ref, "guest_id": home, "outcome": identity.DISTINCT}
    if resolver.log_buffer is not None:
        resolver.log_buffer.append(row)
    else:
        window.log_matches([row])
    return home
