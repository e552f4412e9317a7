"""Fellegi-Sunter scoring: per-field agreement levels combined into one score.

score = sum over fields of log2(m/u) of the level seen (0 when a side is missing). Above
`thresholds.merge` two records are the same guest; from `thresholds.review` a person
should look; below, different guests. Guard rail: when both records have a name and the
names clearly differ, the pair is never merged automatically, whatever else they share (a
family on one phone, a couple on one email).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .compare import COMPARISONS
from .keys import Features
from .settings import IdentityConfig

MERGE, REVIEW, DISTINCT = "merge", "review", "new"


@dataclass(frozen=True)
class FieldScore:
    level: str
    similarity: float
    weight: float


@dataclass
class Score:
    total: float
    fields: dict[str, FieldScore] = field(default_factory=dict)
    guarded: bool = False  # names clearly differ: at most a review

    def as_json(self) -> dict[str, Any]:
        return {
            k: {"level": v.level, "sim": round(v.similarity, 3), "w": round(v.weight, 2)}
            for k, v in self.fields.items()
        }


class Scorer:
    """Compiled once from the config: weights are looked up, not recomputed, per pair."""

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self.merge_at = config.thresholds.merge
        self.review_at = config.thresholds.review

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

    def score(self, a: Features, b: Features) -> Score:
        total = 0.0
        fields: dict[str, FieldScore] = {}
        guarded = False
        for name, fn, close, weights, is_name in self._plan:
            va, vb = a.get(name), b.get(name)
            if not va or not vb:
                continue  # missing on either side: no evidence either way
            level, sim = fn(va, vb, close)
            w = weights[level]
            total += w
            fields[name] = FieldScore(level, sim, w)
            if is_name and level == "differ":
                guarded = True
        return Score(total, fields, guarded)

    def outcome(self, s: Score) -> str:
        if s.total >= self.merge_at and not s.guarded:
            return MERGE
        if s.total >= self.review_at:
            return REVIEW
        return DISTINCT
