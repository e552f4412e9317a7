"""Compile a mapping file once into pre-bound functions; apply them per record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import ValidationError

from ..errors import BadRecordError, ConfigError, ConfigErrors
from ..models import ENTITY_MODELS, Entity, Guest, SourceRecord, canonical_fields
from ..yamlfile import YamlDoc, load_yaml
from .spec import FieldSpec, MappingSpec
from .transforms import TRANSFORMS, Context, Fn

Getter = Callable[[Any], Any]


@dataclass(frozen=True)
class _Field:
    name: str
    origin: str  # "column Phone" / "path customer.phone", for error messages
    get: Getter
    chain: tuple[Fn, ...]
    default: Any
    required: bool


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or v == []


def content_hash(raw: Any) -> str:
    """A stable hash of a raw record (key order does not matter)."""
    blob = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CompiledMapping:
    """A mapping ready to run. `apply()` does no parsing and no compiling."""

    def __init__(self, spec: MappingSpec, fields: list[_Field], *, name: str) -> None:
        self.spec = spec
        self.entity = spec.entity
        self.name = name
        self._fields = fields
        self._id = next((f for f in fields if f.name == "id"), None)
        self.columns = {s.column for s in spec.fields.values() if s.column}
        self.required_columns = {s.column for s in spec.fields.values() if s.column and s.required}

    def external_id(self, raw: Any) -> str:
        """The record's id in its source: the `id` field, else a hash of its content."""
        if self._id is not None:
            try:
                value = self._value(self._id, raw)
            except BadRecordError:
                value = None
            if value is not None:
                return str(value)
        return "sha256:" + content_hash(raw)[:32]

    def _value(self, f: _Field, raw: Any) -> Any:
        try:
            v = f.get(raw)
        except (KeyError, TypeError, AttributeError):
            v = None
        original = v
        if not _is_empty(v):
            for fn in f.chain:
                try:
                    v = fn(v)
                except ValueError as exc:
                    raise BadRecordError(str(exc), field=f.name, value=original) from None
                if _is_empty(v):
                    break
        if _is_empty(v):
            v = f.default
        if f.required and _is_empty(v):
            raise BadRecordError(
                f"required value is missing ({f.origin})", field=f.name, value=original
            )
        return v

    def map(self, raw: Any) -> dict[str, Any]:
        """Every canonical field's value; all field errors are collected into one error."""
        out: dict[str, Any] = {}
        problems: list[BadRecordError] = []
        for f in self._fields:
            try:
                out[f.name] = self._value(f, raw)
            except BadRecordError as exc:
                problems.append(exc)
        if problems:
            err = BadRecordError("; ".join(p.render() for p in problems))
            err.problems = problems  # type: ignore[attr-defined]
            raise err
        return out

    def apply(self, raw: Any, *, source: str, stream: str, external_id: str) -> SourceRecord:
        values = self.map(raw)
        guest: dict[str, Any] = {}
        entity: dict[str, Any] = {}
        for key, v in values.items():
            if v is None or key in ("id", "updated_at", "deleted"):
                continue
            if self.entity is Entity.guest:
                guest[key] = v
            elif key.startswith("guest."):
                guest[key[6:]] = v
            else:
                entity[key] = v
        try:
            return SourceRecord(
                source=source,
                stream=stream,
                external_id=external_id,
                entity=self.entity,
                updated_at=values.get("updated_at"),
                deleted=bool(values.get("deleted")),
                guest=Guest(**guest),
                **(
                    {self.entity.value: ENTITY_MODELS[self.entity](**entity)}
                    if self.entity is not Entity.guest
                    else {}
                ),
            )
        except ValidationError as exc:
            reasons = []
            for e in exc.errors():
                loc = [str(p) for p in e["loc"]]
                if loc and loc[0] == self.entity.value and self.entity is not Entity.guest:
                    loc = loc[1:]
                reasons.append(f"{'.'.join(loc)}: {e['msg']} (value: {e.get('input')!r})")
            raise BadRecordError("; ".join(reasons)) from None


def _transform_chain(spec: FieldSpec, ctx: Context, doc: YamlDoc, loc: tuple) -> tuple[Fn, ...]:
    chain = []
    for i, t in enumerate(spec.transforms):
        if isinstance(t, str):
            name, args = t, None
        elif isinstance(t, dict) and len(t) == 1:
            name, args = next(iter(t.items()))
        else:
            raise doc.error(
                "a transform is a name or a one-key mapping {name: args}", (*loc, "transforms", i)
            )
        factory = TRANSFORMS.get(name)
        if factory is None:
            raise doc.error(
                f"unknown transform {name!r}; known: {', '.join(sorted(TRANSFORMS))}",
                (*loc, "transforms", i),
            )
        try:
            chain.append(factory(args, ctx))
        except (ValueError, TypeError, KeyError) as exc:
            raise doc.error(f"transform {name}: {exc}", (*loc, "transforms", i)) from None
    return tuple(chain)


def _getter(spec: FieldSpec, doc: YamlDoc, loc: tuple) -> tuple[Getter, str]:
    if spec.column is not None:
        col = spec.column

        def get(raw: Any) -> Any:
            return raw.get(col)

        return get, f"column {col!r}"
    if spec.path is not None:
        try:
            expr = jmespath.compile(spec.path)
        except JMESPathError as exc:
            raise doc.error(f"bad JMESPath {spec.path!r}: {exc}", (*loc, "path")) from None
        return expr.search, f"path {spec.path!r}"
    return (lambda raw: None), "default"


def compile_mapping(doc: YamlDoc, ctx: Context) -> CompiledMapping:
    try:
        spec = MappingSpec.model_validate(doc.data)
    except ValidationError as exc:
        errs = [
            doc.error(
                e["msg"] if e["type"] != "extra_forbidden" else "unknown setting", tuple(e["loc"])
            )
            for e in exc.errors()
        ]
        raise ConfigErrors(errs) from None
    allowed = canonical_fields(spec.entity)
    fields = []
    for name, fspec in spec.fields.items():
        loc = ("fields", name)
        if name not in allowed:
            raise doc.error(
                f"unknown canonical field for entity {spec.entity.value}; "
                f"known: {', '.join(sorted(allowed))}",
                loc,
            )
        get, origin = _getter(fspec, doc, loc)
        chain = _transform_chain(fspec, ctx, doc, loc)
        fields.append(_Field(name, origin, get, chain, fspec.default, fspec.required))
    if spec.entity is Entity.reservation and "start_at" not in spec.fields:
        raise doc.error("a reservation mapping needs a `start_at` field", ("fields",))
    return CompiledMapping(spec, fields, name=doc.file)


def load_mapping(path: Path | str, ctx: Context) -> CompiledMapping:
    """Read, validate and compile one mapping file; errors name the file and line."""
    return compile_mapping(load_yaml(path), ctx)


__all__ = ["CompiledMapping", "ConfigError", "compile_mapping", "content_hash", "load_mapping"]
