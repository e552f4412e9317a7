"""Generate the per-record code of a mapping once, as plain Python.

A 20-field mapping run field by field through closures pays two or three Python calls per
field before any work is done; generated code does the lookups inline, as a hand-written
function would (benchmarks/bench_mapping.py measures the difference).

Safety: nothing from the mapping file is pasted into the source text. Keys, defaults,
getters and transforms are bound as constants in the namespace of the generated code and
referred to by generated names (K3_0, T3_1 …); the source only contains those names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..errors import BadRecordError
from .context import KeepRaw

# None, blank text and [] are empty; spelled out with class checks because this test runs
# several times per field per record.
EMPTY = (
    "v is None or (v.__class__ is str and (not v or v.isspace()))"
    " or (v.__class__ is list and not v)"
)


def _block(i: int, spec: FieldCode, ns: dict[str, Any], indent: str) -> list[str]:
    """Statements computing field i into `v` (raising BadRecordError when it cannot)."""
    ns[f"N{i}"], ns[f"O{i}"], ns[f"D{i}"] = spec.name, spec.origin, spec.default
    lines = ["try:"]
    if spec.keys is not None:
        lines.append("    v = raw")
        for j, key in enumerate(spec.keys):
            ns[f"K{i}_{j}"] = key
            lines.append(f"    v = v.get(K{i}_{j})")
    elif columns := getattr(spec.get, "columns", None):
        # a list of columns (`[Date, Time]`), looked up here in a record that is an object
        ns[f"G{i}"] = spec.get
        for j, key in enumerate(columns):
            ns[f"C{i}_{j}"] = key
        lookups = ", ".join(f"raw.get(C{i}_{j})" for j in range(len(columns)))
        lines += [
            f"    v = [{lookups}] if raw.__class__ is dict else G{i}(raw)",
        ]
    else:
        ns[f"G{i}"] = spec.get
        lines.append(f"    v = G{i}(raw)")
    lines += [
        "except (KeyError, TypeError, AttributeError):",
        "    v = None",
        "except ValueError as exc:",
        f"    raise BadRecordError(str(exc), field=N{i}, value=None) from None",
        "original = v",
    ]
    if spec.chain:
        # Each distinct raw text is transformed once (phones, emails, dates and names
        # repeat across a guest's bookings); only values that cannot be changed in place
        # are kept, and a value the chain refused or kept raw is transformed again, so its
        # warning or error is reported with every record that has it.
        # Several columns (a JMESPath list such as [Date, Time]) are remembered by their
        # texts together.
        ns[f"M{i}"] = {}
        lines += [
            f"if not ({EMPTY}):",
            "    mk = v if v.__class__ is str else LIST_KEY(v) if v.__class__ is list else None",
            f"    memo = M{i}.get(mk, MISS) if mk is not None else MISS",
            "    if memo is not MISS:",
            "        v = memo",
            "    else:",
            "      try:",
        ]
        pad = "        "
        for j, fn in enumerate(spec.chain):
            ns[f"T{i}_{j}"] = fn
            if j:
                lines.append(f"{pad}if not ({EMPTY}):")
                pad += "    "
            lines.append(f"{pad}v = T{i}_{j}(v)")
        lines += [
            "        if mk is not None and v.__class__ in IMMUTABLE:",
            f"            if len(M{i}) >= MEMO_SIZE:",
            f"                M{i}.clear()",
            f"            M{i}[mk] = v",
            # Bad input never crashes the batch: whatever a transform trips on is this
            # record's problem (ValueError is the usual one, with a readable reason).
            "      except (ValueError, TypeError, ArithmeticError, OSError) as exc:",
            f"        raise BadRecordError(str(exc) or repr(exc), field=N{i}, value=original)"
            " from None",
            "      except KeepRaw as keep:",
            f'        warnings.append(f"{{N{i}}}: {{keep.reason}} (value: {{original!r}})")',
            "        v = keep.value",
        ]
    lines.append(f"if {EMPTY}:")
    if spec.required and spec.default in (None, "", []):
        lines.append(
            f'    raise BadRecordError(f"required value is missing ({{O{i}}})", '
            f"field=N{i}, value=original)"
        )
    else:
        lines.append(f"    v = D{i}")
    return [indent + line for line in lines]


class FieldCode:
    """What the generator needs to know about one field."""

    def __init__(
        self,
        *,
        name: str,
        origin: str,
        keys: Sequence[str] | None,
        get: Callable[[Any], Any],
        chain: Sequence[Callable[[Any], Any]],
        default: Any,
        required: bool,
    ) -> None:
        self.name, self.origin, self.keys, self.get = name, origin, keys, get
        self.chain, self.default, self.required = tuple(chain), default, required


# Results a memo may hand to several records: none of them can be changed in place.
IMMUTABLE = frozenset({str, int, float, bool, Decimal, date, datetime})
MEMO_SIZE = 16384  # distinct raw values kept per field; the memo starts over past it


def _list_key(v: list[Any]) -> tuple[str, ...] | None:
    """A list of texts as a memo key (None: not only texts)."""
    for x in v:
        if x.__class__ is not str:
            return None
    return tuple(v)


def _namespace() -> dict[str, Any]:
    return {
        "LIST_KEY": _list_key,
        "BadRecordError": BadRecordError,
        "KeepRaw": KeepRaw,
        "MISS": _MISS,
        "IMMUTABLE": IMMUTABLE,
        "MEMO_SIZE": MEMO_SIZE,
        "__builtins__": __builtins__,
    }


_MISS = object()


def field_runner(spec: FieldCode) -> Callable[[Any, list[str]], Any]:
    """run(raw, warnings) -> the field's value, or BadRecordError."""
    ns = _namespace()
    src = ["def run(raw, warnings):", *_block(0, spec, ns, "    "), "    return v"]
    exec(compile("\n".join(src), f"<mapping field {spec.name}>", "exec"), ns)
    return ns["run"]


def record_runner(
    specs: Sequence[FieldCode], dests: Sequence[int], keys: Sequence[str], *, name: str
) -> Callable[[Any, list[str]], tuple[list[dict[str, Any]], list[BadRecordError] | None]]:
    """values(raw, warnings) -> ([meta, guest, entity] dicts, problems or None).

    Every field is computed even after one fails, so that a rejection lists all problems.
    """
    ns = _namespace()
    src = [
        "def values(raw, warnings):",
        "    out = [{}, {}, {}]",
        "    problems = None",
    ]
    for i, spec in enumerate(specs):
        ns[f"P{i}"] = keys[i]
        src += ["    try:", *_block(i, spec, ns, "        ")]
        src += [
            "        if v is not None:",
            f"            out[{int(dests[i])}][P{i}] = v",
            "    except BadRecordError as exc:",
            "        problems = [exc] if problems is None else [*problems, exc]",
        ]
    src.append("    return out, problems")
    exec(compile("\n".join(src), f"<mapping {name}>", "exec"), ns)
    return ns["values"]


__all__ = ["FieldCode", "field_runner", "record_runner"]
