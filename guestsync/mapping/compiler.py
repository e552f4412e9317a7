"""Compile a mapping file once into pre-bound functions; apply them per record.

Everything that can be checked without a record is checked here, with the file, line and
field of the mistake: unknown canonical fields, unknown transforms and bad arguments,
bad JMESPath, template syntax, defaults and enum values the canonical model would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import BadRecordError, ConfigError, ConfigErrors
from ..hashing import content_id
from ..models import ENTITY_MODELS, Consent, Entity, Guest, SourceRecord, canonical_fields
from ..yamlfile import YamlDoc, load_yaml
from .codegen import FieldCode, field_runner, record_runner
from .context import Context, Fn
from .getters import Source, build_source
from .spec import FieldSpec, MappingSpec
from .transforms import NO_OPTIONS, TRANSFORMS, with_invalid

META, GUEST, ENTITY = 0, 1, 2
Run = Callable[[Any, list[str]], Any]

# Guest fields where a mapped yes/no becomes a consent statement.
CONSENT_FIELDS = ("marketing_consent", "email_consent", "sms_consent")


@dataclass(frozen=True)
class CompiledField:
    name: str  # canonical name as written: "guest.phone", "start_at"
    source: Source
    chain: tuple[Fn, ...]
    default: Any
    required: bool
    dest: int  # META (id, updated_at, deleted), GUEST or ENTITY
    key: str  # the name inside its destination: "phone"
    run: Run  # raw record, warnings list -> value (BadRecordError when it cannot)
    code: FieldCode

    @property
    def origin(self) -> str:
        return self.source.origin


class CompiledMapping:
    """A mapping ready to run. `apply()` does no parsing and no compiling."""

    def __init__(self, spec: MappingSpec, fields: list[CompiledField], *, name: str) -> None:
        self.spec = spec
        self.entity = spec.entity
        self.name = name
        self.fields = fields
        self._values = record_runner(
            [f.code for f in fields], [f.dest for f in fields], [f.key for f in fields], name=name
        )
        self._id = next((f for f in fields if f.name == "id"), None)
        self._model = ENTITY_MODELS.get(spec.entity)
        self._part = spec.entity.value  # the field of SourceRecord the entity's part is in
        # Columns a CSV header is checked against; alternatives (`column: [a, b]`) are left
        # out, since any one of them may be absent.
        self.columns = {s.column for s in spec.fields.values() if isinstance(s.column, str)}
        self.required_columns = {
            s.column for s in spec.fields.values() if isinstance(s.column, str) and s.required
        }

    def external_id(self, raw: Any) -> str:
        """The record's id in its source: the `id` field, else a hash of its content."""
        if self._id is not None:
            try:
                value = self._id.run(raw, [])
            except BadRecordError:
                value = None
            if value is not None:
                return str(value)
        return content_id(raw)

    def map(self, raw: Any) -> dict[str, Any]:
        """Every canonical field's value; all field errors are collected into one error."""
        out: dict[str, Any] = {}
        problems: list[BadRecordError] = []
        for f in self.fields:
            try:
                out[f.name] = f.run(raw, [])
            except BadRecordError as exc:
                problems.append(exc)
        if problems:
            raise _combined(problems)
        return out

    def apply(self, raw: Any, *, source: str, stream: str, external_id: str) -> SourceRecord:
        warnings: list[str] = []
        (meta, guest, entity), problems = self._values(raw, warnings)
        if problems:
            if meta.get("deleted") is True and all(p.field != "id" for p in problems):
                # a removal needs only its id
                return self._removal(meta, source, stream, external_id)
            raise _combined(problems)
        updated_at = meta.get("updated_at")
        try:
            for key in CONSENT_FIELDS:  # all channels, or one (email_consent, sms_consent)
                consent = guest.get(key)
                if isinstance(consent, bool):  # a yes/no: a statement by this source, now
                    at = _aware(updated_at) if isinstance(updated_at, str) else updated_at
                    guest[key] = Consent(granted=consent, at=at, source=source)
            record = {
                "source": source,
                "stream": stream,
                "external_id": external_id,
                "entity": self.entity,
                "updated_at": updated_at,
                # validated as a bool (true/false, yes/no, 1/0), never truthiness: "no" is
                # not a removal
                "deleted": False if meta.get("deleted") is None else meta["deleted"],
                "guest": guest,
                "warnings": warnings,
            }
            if self._model is not None:
                record[self._part] = entity
            try:  # the record and its parts validated in one call (#20) ...
                return _RECORD(record)
            except ValidationError:
                pass
            # ... and part by part where one is refused, for the reasons as ever
            record["guest"] = Guest(**guest)
            if self._model is not None:
                record[self._part] = self._model(**entity)
            return SourceRecord(**record)
        except ValidationError as exc:
            if meta.get("deleted") is True:
                return self._removal(meta, source, stream, external_id)
            raise BadRecordError(self._reasons(exc)) from None

    def _removal(
        self, meta: dict[str, Any], source: str, stream: str, external_id: str
    ) -> SourceRecord:
        """The source removed this record (`deleted:` is true): what the removal needs
        is the record's id (and its time, for the out-of-order guard). The other fields
        may well be gone from a removal event (a Jiandaoyun data_remove carries only
        `_id` and times), so their errors do not reject it."""
        updated_at = meta.get("updated_at")
        if isinstance(updated_at, str):
            updated_at = _aware(updated_at)
        return SourceRecord(
            source=source,
            stream=stream,
            external_id=external_id,
            entity=self.entity,
            updated_at=updated_at,
            deleted=True,
            guest=Guest(),
        )

    def _reasons(self, exc: ValidationError) -> str:
        reasons = []
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            if loc and loc[0] == self.entity.value and self._model is not None:
                loc = loc[1:]
            reasons.append(f"{'.'.join(loc)}: {e['msg']} (value: {e.get('input')!r})")
        return "; ".join(reasons)


_RECORD = SourceRecord.model_validate
_UPDATED_AT = SourceRecord.model_fields["updated_at"].annotation
assert _UPDATED_AT is not None  # a declared field always has its annotation
_AWARE: TypeAdapter[Any] = TypeAdapter(_UPDATED_AT)


def _aware(text: str) -> Any:
    """`updated_at` given as text (no datetime transform); a bad one is reported by the
    record's own validation, so here it only means "no time"."""
    try:
        return _AWARE.validate_python(text)
    except ValidationError:
        return None


def _combined(problems: list[BadRecordError]) -> BadRecordError:
    if len(problems) == 1:
        return problems[0]
    err = BadRecordError("; ".join(p.render() for p in problems))
    err.problems = problems  # type: ignore[attr-defined]
    return err


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
        if name in NO_OPTIONS and args is not None and not _only_invalid(args):
            raise doc.error(
                f"transform {name} takes no options (write it as `{name}`)",
                (*loc, "transforms", i),
            )
        try:
            chain.append(with_invalid(name, args, ctx))
        except (ValueError, TypeError, KeyError) as exc:
            raise doc.error(f"transform {name}: {exc}", (*loc, "transforms", i)) from None
    return tuple(chain)


def _only_invalid(args: Any) -> bool:
    """`{email: {invalid: drop}}`: the one option a transform without options takes."""
    return isinstance(args, dict) and set(args) == {"invalid"}


def _annotation(entity: Entity, dest: int, key: str) -> Any:
    if dest == META:
        return SourceRecord.model_fields[key].annotation if key != "id" else str
    model = Guest if dest == GUEST else ENTITY_MODELS[entity]
    return model.model_fields[key].annotation


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a list-of-objects field (Order.items -> OrderItem), else None."""
    args = get_args(annotation)
    if get_origin(annotation) is list and args and isinstance(args[0], type):
        return args[0] if issubclass(args[0], BaseModel) else None
    return None


def _each(
    name: str,
    spec: dict[str, FieldSpec],
    model: type[BaseModel],
    ctx: Context,
    doc: YamlDoc,
    loc: tuple,
) -> Fn:
    """A transform mapping each element of a list with the `each:` sub-mapping."""
    codes, keys = [], []
    for sub, fspec in spec.items():
        sloc = (*loc, "each", sub)
        if sub not in model.model_fields or fspec.each is not None:
            raise doc.error(
                f"unknown field of {model.__name__}; known: {', '.join(model.model_fields)}", sloc
            )
        src = build_source(fspec, doc, sloc)
        chain = _transform_chain(fspec, ctx, doc, sloc)
        _check_value_list(model.model_fields[sub].annotation, fspec.default, chain, doc, sloc)
        codes.append(
            FieldCode(
                name=f"{name}.{sub}",
                origin=src.origin,
                keys=src.keys,
                get=src.get,
                chain=chain,
                default=fspec.default,
                required=fspec.required,
            )
        )
        keys.append(sub)
    values = record_runner(codes, [0] * len(codes), keys, name=f"{doc.file} {name}")

    def run(v: Any) -> list[dict[str, Any]]:
        items = v if isinstance(v, list) else [v]
        out = []
        for n, item in enumerate(items, 1):
            (item_values, _, _), problems = values(item, [])
            if problems:
                raise ValueError(f"item {n}: " + "; ".join(p.render() for p in problems))
            out.append(item_values)
        return out

    return run


def _check_value_list(
    annotation: Any, default: Any, chain: tuple[Fn, ...], doc: YamlDoc, loc: tuple
) -> None:
    """Defaults and enum targets must be values the canonical model accepts."""
    adapter = TypeAdapter(annotation)
    checks: list[tuple[Any, tuple]] = []
    if default is not None:
        checks.append((default, (*loc, "default")))
    for i, fn in enumerate(chain):
        for v in getattr(fn, "enum_values", ()):
            if v is not None:
                checks.append((v, (*loc, "transforms", i)))
    for value, where in checks:
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            raise doc.error(
                f"{value!r} is not a valid {loc[-1]}: {exc.errors()[0]['msg']}", where
            ) from None


def _check_values(entity: Entity, f: CompiledField, doc: YamlDoc, loc: tuple) -> None:
    if f.key not in CONSENT_FIELDS:  # a yes/no there becomes a Consent
        _check_value_list(_annotation(entity, f.dest, f.key), f.default, f.chain, doc, loc)


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
        if name in ("id", "updated_at", "deleted"):
            dest, key = META, name
        elif spec.entity is Entity.guest or name.startswith("guest."):
            dest, key = GUEST, name.removeprefix("guest.")
        else:
            dest, key = ENTITY, name
        src = build_source(fspec, doc, loc)
        chain = _transform_chain(fspec, ctx, doc, loc)
        if fspec.each is not None:
            model = _item_model(_annotation(spec.entity, dest, key))
            if model is None:
                raise doc.error("`each:` is for a list of objects, such as order items", loc)
            chain = (*chain, _each(name, fspec.each, model, ctx, doc, loc))
        code = FieldCode(
            name=name,
            origin=src.origin,
            keys=src.keys,
            get=src.get,
            chain=chain,
            default=fspec.default,
            required=fspec.required,
        )
        run = field_runner(code)
        f = CompiledField(name, src, chain, fspec.default, fspec.required, dest, key, run, code)
        _check_values(spec.entity, f, doc, loc)
        fields.append(f)
    if spec.entity is Entity.reservation and "start_at" not in spec.fields:
        raise doc.error("a reservation mapping needs a `start_at` field", ("fields",))
    return CompiledMapping(spec, fields, name=doc.file)


def load_mapping(path: Path | str, ctx: Context) -> CompiledMapping:
    """Read, validate and compile one mapping file; errors name the file and line."""
    return compile_mapping(load_yaml(path), ctx)


__all__ = [
    "CompiledField",
    "CompiledMapping",
    "ConfigError",
    "compile_mapping",
    "load_mapping",
]
