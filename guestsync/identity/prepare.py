"""The part of identity resolution that needs no store, done where the record is mapped.

Folding a record (names through OpenCC and pypinyin, emails, phones), its blocking and
probe keys, and the JSON its guest link stores depend on the record alone. The mapping
worker (process/mapping_pool.py) does them next to the mapping, on the second core, and
hands them over with the mapped rows (process/handover.py); the resolver
(process/resolve.py) uses them when they were made with its own compared fields, and
folds the record itself otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .. import identity
from ..hashing import compact_encoder
from ..models import SourceRecord
from .keys import Features, Key, stored_and_probe_keys


@dataclass(frozen=True, slots=True)
class Prepared:
    fields: tuple[str, ...]  # the compared fields it was folded with
    features: Features
    keys: list[Key]  # stored with the guest (identity.keys_for)
    probe: list[Key]  # looked up (identity.probe_keys)
    record_json: str  # the guest as the record describes it, as guest_links stores it
    features_json: str


features_json = compact_encoder()  # a record's features as guest_links stores them


# Folded records by (compared fields, the guest as the record describes it): a guest's
# repeat bookings carry the same guest, and folding (OpenCC, pypinyin) is the costly part.
_FOLDED: dict[tuple[tuple[str, ...], str], Prepared] = {}
_FOLDED_MAX = 8192  # about 3 KB each: ~25 MB when full (65536 made the import's worker 400 MB)


def prepare(record: SourceRecord, fields: tuple[str, ...]) -> Prepared:
    record_json = record.guest.model_dump_json(exclude_none=True)
    found = _FOLDED.get((fields, record_json))
    if found is not None:
        return found
    f = identity.features(record.guest, fields)
    keys, probe = stored_and_probe_keys(f)  # shared with other records of the same keys
    out = Prepared(fields, f, keys, probe, record_json, features_json(f))
    if len(_FOLDED) >= _FOLDED_MAX:
        _FOLDED.clear()
    _FOLDED[(fields, record_json)] = out
    return out


class MappedBatch(list[SourceRecord | str]):
    """Mapped rows (a rejected row is its reason), with each row's `Prepared` (None for
    a rejected row): what process_batch takes as `mapped`, from the mapping worker (as
    process/handover.py rebuilds it). `hashes`: blocking keys' hashes (store/keyhash.py)
    the worker computed, which the bulk lane's window takes instead of hashing them."""

    prepared: list[Prepared | None]
    hashes: dict[Key, int]

    def __init__(
        self,
        items: Iterable[SourceRecord | str],
        prepared: Sequence[Prepared | None],
        hashes: dict[Key, int] | None = None,
    ) -> None:
        super().__init__(items)
        self.prepared = list(prepared)
        self.hashes = hashes if hashes is not None else {}


def prepared_of(mapped: object, i: int) -> Prepared | None:
    """Row `i`'s prepared data, if `mapped` came with it."""
    prepared = getattr(mapped, "prepared", None)
    return prepared[i] if prepared is not None else None
