"""Estimating Fellegi-Sunter weights from the data (expectation-maximisation).

Input: the agreement levels of compared pairs (what `match_log` keeps per decision).
Each pair is a match with unknown probability; EM alternates between that probability
per pair (E) and the m/u frequencies of each level among matches and non-matches (M),
starting from the configured weights. Identical level patterns are counted once, so a
million pairs cost as much as their few hundred distinct patterns.

The pairs are candidates that shared a blocking key, not random pairs, so u comes out
higher than in the whole population: the estimate is conservative (lower weights).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .settings import LEVELS, IdentityConfig

_EPS = 1e-4


@dataclass
class Estimate:
    prior: float  # share of compared pairs that are matches
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]


def estimate(
    pairs: Sequence[dict[str, Any]], config: IdentityConfig, *, iterations: int = 20
) -> Estimate:
    """`pairs`: per pair, field -> {"level": ...} (a missing field is simply absent)."""
    fields = list(config.fields)
    patterns = Counter(
        tuple(p[f]["level"] if f in p and p[f].get("level") != "missing" else None for f in fields)
        for p in pairs
    )
    m = {f: dict(config.fields[f].m) for f in fields}
    u = {f: dict(config.fields[f].u) for f in fields}
    prior = 0.1
    for _ in range(iterations):
        post: list[tuple[tuple[str | None, ...], int, float]] = []
        for pattern, n in patterns.items():
            lm, lu = math.log(prior), math.log(1 - prior)
            for f, level in zip(fields, pattern, strict=True):
                if level is not None:
                    lm += math.log(m[f][level])
                    lu += math.log(u[f][level])
            p = 1 / (1 + math.exp(max(-700.0, min(700.0, lu - lm))))
            post.append((pattern, n, p))
        total = sum(n for _, n, _ in post)
        matches = sum(n * p for _, n, p in post)
        prior = min(1 - _EPS, max(_EPS, matches / total))
        for i, f in enumerate(fields):
            levels = LEVELS[config.fields[f].comparison]
            cm = dict.fromkeys(levels, _EPS)
            cu = dict.fromkeys(levels, _EPS)
            for pattern, n, p in post:
                level = pattern[i]
                if level in cm:
                    cm[level] += n * p
                    cu[level] += n * (1 - p)
            sm, su = sum(cm.values()), sum(cu.values())
            m[f] = {k: _clip(v / sm) for k, v in cm.items()}
            u[f] = {k: _clip(v / su) for k, v in cu.items()}
    return Estimate(prior, m, u)


def _clip(x: float) -> float:
    return min(1 - _EPS, max(_EPS, x))


def to_yaml(est: Estimate, config: IdentityConfig) -> str:
    """An `identity:` block with the estimated weights, ready to paste."""
    lines = ["identity:", "  fields:"]
    for f, rule in config.fields.items():
        lines.append(f"    {f}:")
        lines.append(f"      comparison: {rule.comparison}")
        for name, probs in (("m", est.m[f]), ("u", est.u[f])):
            body = ", ".join(f"{k}: {v:.4g}" for k, v in probs.items())
            lines.append(f"      {name}: {{{body}}}")
    return "\n".join(lines)
