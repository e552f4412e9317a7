"""Fellegi-Sunter scoring: per-field agreement levels combined into one score.

score = sum over fields of log2(m/u) of the level seen (0 when a side is missing), plus a
term-frequency adjustment of an agreeing name (tf.py: a common name is weaker evidence).
Above `thresholds.merge` two records are the same guest; from `thresholds.review` a
person should look; below, different guests.

The family guard (settings.Guard) is evidence, not a veto: when the names clearly differ
and the records share a household field (a family phone, a home address), that shared
field is not counted, unless an independent identifier (email, loyalty number, birthday
with address) agrees as well. The score then decides like any other: a pair that shares
a loyalty number, a birthday and an address merges even if its names differ, a mother
and son on one phone stay apart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from . import tf
from .compare import COMPARISONS
from .keys import Features
from .settings import IdentityConfig

MERGE, REVIEW, DISTINCT = "merge", "review", "new"
_NAME_AGREES = frozenset({"exact", "romanized"})
_NEAR = frozenset({"exact", "romanized", "close"})


class FieldScore(NamedTuple):
    """(A named tuple, not a frozen dataclass: made for every field of every pair
    scored, and a frozen dataclass's __init__ costs four times as much, #20.)"""

    level: str
    similarity: float
    weight: float  # what the field adds to the score (tf included, 0 when the guard drops it)
    tf: float = 0.0  # term-frequency adjustment included in `weight`
    dropped: float = 0.0  # the weight the guard did not count


@dataclass
class Score:
    total: float
    fields: dict[str, FieldScore] = field(default_factory=dict)
    guarded: bool = False  # the guard acted: names differ on a shared household field
    reason: str = ""  # why the guard acted (or let the pair be scored as usual)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: _field_json(v) for k, v in self.fields.items()}
        if self.reason:
            out["_guard"] = {"reason": self.reason}
        return out

    def as_json_text(self) -> str:
        """`json.dumps(self.as_json(), ensure_ascii=False)`, as the match log stores each
        judgement, from one encoded fragment per distinct (field, FieldScore): most pairs
        agree or differ alike on most fields, so a window encodes a few hundred fragments
        instead of a dict per field per judgement (~1.5% of a bulk import's CPU, #20).
        (Keyed by value: 1 == 1.0 would share a fragment, so a FieldScore's figures are
        floats, as the comparisons and weights give them.)"""
        parts = []
        for k, v in self.fields.items():
            frag = _FRAGMENTS.get((k, v))
            if frag is None:
                if len(_FRAGMENTS) >= _FRAGMENTS_MAX:
                    _FRAGMENTS.clear()
                frag = _FRAGMENTS[(k, v)] = _encode({k: _field_json(v)})[1:-1]
            parts.append(frag)
        if self.reason:
            parts.append(_encode({"_guard": {"reason": self.reason}})[1:-1])
        return "{" + ", ".join(parts) + "}"


def _field_json(v: FieldScore) -> dict[str, Any]:
    """One field's part of the match log's `fields`, rounded as stored."""
    item: dict[str, Any] = {
        "level": v.level,
        "sim": round(v.similarity, 3),
        "w": round(v.weight, 2),
    }
    if v.tf:
        item["tf"] = round(v.tf, 2)
    if v.dropped:
        item["dropped"] = round(v.dropped, 2)
    return item


_encode = json.JSONEncoder(ensure_ascii=False).encode
# (field, FieldScore) -> '"field": {...}', its part of the match log's JSON text
_FRAGMENTS: dict[tuple[str, FieldScore], str] = {}
_FRAGMENTS_MAX = 1 << 16


def form(f: Features, name: str) -> Any:
    """The value a field is compared on: a name by its structured form when it has one."""
    return f.get(f"{name}_form") or f.get(name)


class Scorer:
    """Compiled once from the config: weights are looked up, not recomputed, per pair."""

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self.merge_at = config.thresholds.merge
        self.review_at = config.thresholds.review
        self.guard = config.guard
        t = config.term_frequency
        self._tf = t if t.enabled else None
        self._surnames = {**tf.SURNAMES, **t.surnames}
        self._given = {**tf.GIVEN_NAMES, **t.given_names}
        self._tf_memo: dict[str, float] = {}  # by name form: a few hundred names recur

    @cached_property
    def weights(self) -> dict[str, dict[str, float]]:
        return {
            name: {lvl: math.log2(rule.m[lvl] / rule.u[lvl]) for lvl in rule.m}
            for name, rule in self.config.fields.items()
        }

    @cached_property
    def _plan(self) -> list[tuple[str, Any, float, dict[str, float], bool]]:
        return [
            (name, COMPARISONS[r.comparison], r.close, self.weights[name], r.comparison == "name")
            for name, r in self.config.fields.items()
        ]

    def tf_adjustment(self, name_form: str) -> float:
        t = self._tf
        if t is None:
            return 0.0
        found = self._tf_memo.get(name_form)
        if found is None:
            found = self._tf_memo[name_form] = tf.adjustment(
                name_form,
                typical=t.typical,
                max_down=t.max_down,
                max_up=t.max_up,
                surnames=self._surnames,
                given_names=self._given,
            )
        return found

    def _pair_tf(self, va: str, vb: str) -> float:
        """Symmetric: the CJK side's name when one is in CJK (its family name is certain),
        else the more common reading of the two."""
        ca, cb = va.split("|", 1)[0] if "|" in va else "", vb.split("|", 1)[0] if "|" in vb else ""
        if ca and not cb:
            return self.tf_adjustment(va)
        if cb and not ca:
            return self.tf_adjustment(vb)
        return min(self.tf_adjustment(va), self.tf_adjustment(vb))

    def score(self, a: Features, b: Features) -> Score:
        total = 0.0
        fields: dict[str, FieldScore] = {}
        names_differ = False
        for name, fn, close, weights, is_name in self._plan:
            va, vb = (form(a, name), form(b, name)) if is_name else (a.get(name), b.get(name))
            if not va or not vb:
                continue  # missing on either side: no evidence either way
            level, sim = fn(va, vb, close)
            w = weights[level]
            adj = 0.0
            if is_name and level in _NAME_AGREES:
                adj = self._pair_tf(va, vb)
            total += w + adj
            fields[name] = FieldScore(level, sim, w + adj, adj)
            if is_name and level == "differ":
                names_differ = True
        if names_differ and self.guard.enabled:
            return self._guard(total, fields)
        return Score(total, fields)

    def _guard(self, total: float, fields: dict[str, FieldScore]) -> Score:
        shared = [f for f in self.guard.household if f in fields and fields[f].level == "exact"]
        if not shared:
            return Score(total, fields)
        agree = [
            group
            for group in self.guard.independent
            if group and all(f in fields and fields[f].level == "exact" for f in group)
        ]
        if agree:
            ids = " and ".join("+".join(g) for g in agree)
            reason = f"names differ on a shared {', '.join(shared)}; {ids} agree: scored as usual"
            return Score(total, fields, reason=reason)
        for f in shared:
            fs = fields[f]
            if fs.weight > 0:
                total -= fs.weight
                fields[f] = FieldScore(fs.level, fs.similarity, 0.0, fs.tf, fs.weight)
        reason = (
            f"names differ on a shared {', '.join(shared)} (a household) and no independent "
            "identifier agrees: the shared field is not counted"
        )
        return Score(total, fields, guarded=True, reason=reason)

    def names_differ(self, a: str, b: str) -> bool:
        """Two name forms clearly differ (siblings, not a typo)."""
        return COMPARISONS["name"](a, b, 0.0)[0] == "differ"

    def names_near(self, a: str, b: str) -> bool:
        """Two name forms are one spelling apart at most (exact, romanized or close): the
        same person's name, where "differ" may be two typos of one name."""
        return COMPARISONS["name"](a, b, 0.0)[0] in _NEAR

    def outcome(self, s: Score) -> str:
        if s.total >= self.merge_at:
            return MERGE
        if s.total >= self.review_at:
            return REVIEW
        return DISTINCT
