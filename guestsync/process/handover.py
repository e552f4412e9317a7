"""What the mapping worker hands the main process: plain columns, not pickled models.

A window's records pickled as pydantic models, with their `Prepared`, are unpickled in the
main process through each model's __setstate__ and each enum member's class call, in
Python (13 us a row at 20k rows with the collector off; under it, in the executor's
thread, more). Here a model travels as a dict of its fields that are not None (a nested
model as its own dict, an enum member as its value), which pickle writes and reads in C,
and the main process rebuilds it as `models.built` would: no validation, the worker
validated it. A window's distinct folded guests travel once each (a guest's repeat
bookings share one `Prepared`): the features as their dict (0.4 us to unpickle, where
json.loads of their JSON took 3.5), their JSON, keys and probe keys; with them the
blocking keys' hashes (store/keyhash.py), computed in the worker, so that the window
(process/window.py) need not hash them. Unpickled and rebuilt, with the hashes, ~12 us a
row (min of 7, same file).

`encode` and `decode` are exact: the records and `Prepared` that come out equal those
that went in (tests/test_handover.py, the benchmark's file among them).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from pydantic import BaseModel

from ..identity.keys import Key, remember
from ..identity.prepare import MappedBatch, Prepared
from ..models import SourceRecord

Row = dict[str, Any]  # a model's fields but None, nested models and enum members encoded
# (compared fields, per row: the record's fields or a rejected row's reason, per row: its
# folded guest's index or -1, the folded guests: Prepared's fields after `fields`, the
# keys' hashes)
Folded = tuple[dict[str, Any], list[Key], list[Key], str, str]
Handover = tuple[tuple[str, ...], list[Row | str], list[int], list[Folded], dict[Key, int]]

_new = object.__new__
_set = object.__setattr__


class _Codec:
    """One model class: for the fields that are not sent as they are (nested models,
    lists of them, enum members), how to encode and decode them."""

    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.names = frozenset(cls.model_fields)
        self.nones = dict.fromkeys(cls.model_fields)  # the fields not sent: None
        enc: list[tuple[str, Callable[[Any], Any]]] = []
        dec: list[tuple[str, Callable[[Any], Any]]] = []
        for name, info in cls.model_fields.items():
            pair = _convert(info.annotation)
            if pair is not None:
                enc.append((name, pair[0]))
                dec.append((name, pair[1]))
        self.enc, self.dec = tuple(enc), tuple(dec)

    def encode(self, model: BaseModel) -> Row:
        """The fields that are not None (most of a guest's are)."""
        d = {k: v for k, v in model.__dict__.items() if v is not None}
        for name, f in self.enc:
            if name in d:
                d[name] = f(d[name])
        return d

    def decode(self, sent: Row) -> Any:
        """The model of `sent`, as `models.built` makes one, without its check that every
        field is given: the fields not sent are None, in the fields' order."""
        for name, f in self.dec:
            if name in sent:
                sent[name] = f(sent[name])
        d = self.nones.copy()
        d.update(sent)
        model = _new(self.cls)
        _set(model, "__dict__", d)
        _set(model, "__pydantic_fields_set__", set(self.names))
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


_CODECS: dict[type[BaseModel], _Codec] = {}


def _codec(cls: type[BaseModel]) -> _Codec:
    found = _CODECS.get(cls)
    if found is None:
        found = _CODECS[cls] = _Codec(cls)
    return found


def _convert(annotation: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
    """(encode, decode) of a field's non-None values, or None: sent as they are (str,
    int, bool, Decimal, date, datetime, lists of str: what pickle reads in C)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        converted = [_convert(a) for a in args]
        if all(c is None for c in converted):
            return None
        assert len(args) == 1, f"a union of several special kinds: {annotation}"
        return converted[0]
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        inner = _convert(item)
        if inner is None:
            return None
        ienc, idec = inner
        return (lambda v: [ienc(x) for x in v]), (lambda v: [idec(x) for x in v])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        c = _codec(annotation)
        return c.encode, c.decode
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = annotation._value2member_map_
        return (lambda v: v.value), members.__getitem__
    return None


_RECORD = _codec(SourceRecord)


def encode(
    fields: tuple[str, ...],
    mapped: Iterable[SourceRecord | str],
    prepared: Iterable[Prepared | None],
    hash_key: Callable[[Key], int] | None = None,
) -> Handover:
    """A mapped window (a rejected row is its reason) and each row's `Prepared` (None for
    a rejected row), as plain values; `hash_key`: the blocking keys' hashes with them."""
    rows: list[Row | str] = []
    which: list[int] = []
    folded: list[Folded] = []
    index: dict[int, int] = {}  # by id(): `prepare` gives a guest's repeats one object
    hashes: dict[Key, int] = {}
    for m, p in zip(mapped, prepared, strict=True):
        if isinstance(m, str):
            rows.append(m)
            which.append(-1)
            continue
        assert p is not None and p.fields == fields
        rows.append(_RECORD.encode(m))
        k = index.get(id(p))
        if k is None:
            k = index[id(p)] = len(folded)
            folded.append((p.features, p.keys, p.probe, p.record_json, p.features_json))
            if hash_key is not None:
                for key in (*p.keys, *p.probe):
                    if key not in hashes:
                        hashes[key] = hash_key(key)
        which.append(k)
    return fields, rows, which, folded, hashes


def decode(handover: Handover) -> MappedBatch:
    """The window as `encode` took it: the records (unvalidated: the worker validated
    them) and their `Prepared`."""
    fields, rows, which, folded, hashes = handover
    preps = [Prepared(fields, *f) for f in folded]
    for p in preps:  # the main process looks up linked records' keys (neighbourhood.py)
        remember(p.features, p.keys, p.probe)
    record = _RECORD.decode
    return MappedBatch(
        [r if isinstance(r, str) else record(r) for r in rows],
        [preps[k] if k >= 0 else None for k in which],
        hashes,
    )
