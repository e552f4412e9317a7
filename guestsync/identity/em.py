"""Estimating Fellegi-Sunter weights from the data, as splink does: u from random pairs,
m by expectation-maximisation over the blocked pairs.

- u (how often a level is seen between two different people) is counted on random pairs
  of records (`random_u`): almost all of them are different people, so no EM is needed,
  and unlike blocked pairs they are not biased towards agreement (two records that share
  a phone agree on it by construction).
- m (how often a level is seen between two records of one person) comes from the pairs
  the resolver compared (the match log): each is a match with an unknown probability;
  EM alternates that probability per pair (E) and m among the likely matches (M), with u
  held fixed. The configured m is a prior (Dirichlet pseudo-counts, `prior_strength`
  pairs' worth), so a level seen in few pairs stays near its configured value.
- It stops when m moves less than `tolerance`, and says whether it got there.

Sanity checks, so that pasting the result never makes matching silently worse: a field
with fewer than `min_pairs` observed pairs keeps its configured weights (no data), and so
does a field where an agreeing level would weigh against a match, or a differing value
would weigh for one. Each such field is listed with the reason (`Estimate.kept`).

Identical level patterns are counted once, so a million pairs cost as much as their few
hundred distinct patterns.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .compare import COMPARISONS
from .keys import Features
from .scoring import form
from .settings import LEVELS, IdentityConfig

_EPS = 1e-6


@dataclass
class Estimate:
    prior: float  # share of compared pairs that are matches
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    iterations: int = 0
    converged: bool = False
    change: float = 0.0  # the largest move of an m in the last iteration
    u_pairs: int = 0  # random pairs u was counted on (0: u from the blocked pairs)
    kept: dict[str, str] = field(default_factory=dict)  # field -> why it kept its weights
    merge: float = 0.0  # thresholds to paste with the weights (`calibrate`)
    review: float = 0.0
    changed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (now, then): pairs


def random_u(
    records: Sequence[Features], config: IdentityConfig, *, pairs: int = 200_000, seed: int = 0
) -> tuple[dict[str, dict[str, float]], int]:
    """u per field and level, counted on `pairs` random pairs of distinct records (with
    half a pair added per level, so a level never seen is rare, not impossible)."""
    n = len(records)
    counts = {f: Counter[str]() for f in config.fields}
    rng = random.Random(seed)
    drawn = 0
    for _ in range(pairs if n > 1 else 0):
        i, j = rng.randrange(n), rng.randrange(n - 1)
        j += j >= i
        a, b = records[i], records[j]
        drawn += 1
        for f, rule in config.fields.items():
            name = rule.comparison == "name"
            va, vb = (form(a, f), form(b, f)) if name else (a.get(f), b.get(f))
            if va in (None, "", []) or vb in (None, "", []):
                continue
            counts[f][COMPARISONS[rule.comparison](va, vb, rule.close)[0]] += 1
    u = {}
    for f, rule in config.fields.items():
        levels = LEVELS[rule.comparison]
        total = sum(counts[f].values()) + 0.5 * len(levels)
        u[f] = {lvl: _clip((counts[f][lvl] + 0.5) / total) for lvl in levels}
    return u, drawn


def estimate(
    pairs: Sequence[dict[str, Any]],
    config: IdentityConfig,
    *,
    u: dict[str, dict[str, float]] | None = None,
    u_pairs: int = 0,
    iterations: int = 200,
    tolerance: float = 1e-5,
    prior_strength: float = 20.0,
    min_pairs: int = 30,
) -> Estimate:
    """`pairs`: per compared pair, field -> {"level": ...} (a missing field is absent).
    `u`: from `random_u`; without it u is estimated by EM too, from the blocked pairs
    (biased towards agreement: weights come out lower)."""
    fields = list(config.fields)
    patterns = Counter(
        tuple(p[f]["level"] if f in p and p[f].get("level") != "missing" else None for f in fields)
        for p in pairs
    )
    seen = {
        f: sum(n for pat, n in patterns.items() if pat[i] is not None) for i, f in enumerate(fields)
    }
    m = {f: dict(config.fields[f].m) for f in fields}
    fixed_u = u is not None
    uu = (
        {f: dict(u[f]) for f in fields}
        if u is not None
        else {f: dict(config.fields[f].u) for f in fields}
    )
    prior, change, done, it = 0.1, 0.0, False, 0
    for it in range(1, iterations + 1):  # noqa: B007 (reported)
        post = []
        for pattern, n in patterns.items():
            lm, lu = math.log(prior), math.log(1 - prior)
            for f, level in zip(fields, pattern, strict=True):
                if level is not None:
                    lm += math.log(m[f][level])
                    lu += math.log(uu[f][level])
            post.append((pattern, n, 1 / (1 + math.exp(max(-700.0, min(700.0, lu - lm))))))
        total = sum(n for _, n, _ in post) or 1
        prior = min(1 - 1e-4, max(1e-4, sum(n * p for _, n, p in post) / total))
        change = 0.0
        for i, f in enumerate(fields):
            levels = LEVELS[config.fields[f].comparison]
            cm = {lvl: prior_strength * config.fields[f].m[lvl] for lvl in levels}
            cu = dict.fromkeys(levels, 0.5)
            for pattern, n, p in post:
                level = pattern[i]
                if level is not None and level in cm:
                    cm[level] += n * p
                    cu[level] += n * (1 - p)
            sm, su = sum(cm.values()), sum(cu.values())
            new = {k: _clip(v / sm) for k, v in cm.items()}
            change = max(change, *(abs(new[k] - m[f][k]) for k in levels))
            m[f] = new
            if not fixed_u:
                uu[f] = {k: _clip(v / su) for k, v in cu.items()}
        if change < tolerance:
            done = True
            break
    est = Estimate(prior, m, uu, it, done, change, u_pairs if fixed_u else 0)
    _sanity(est, config, seen, min_pairs)
    calibrate(est, pairs, config)
    return est


def calibrate(est: Estimate, pairs: Sequence[dict[str, Any]], config: IdentityConfig) -> None:
    """Thresholds for the estimated weights, and what would change with them.

    Weights with u from random pairs are on another scale than the configured ones (two
    strangers rarely share a name; two records that met on a blocking key often do), so
    the configured thresholds would merge far too much with them (10k generated records:
    F1 0.989 -> 0.969). The thresholds move together by the shift that keeps the most
    logged decisions as they were; the decisions that still change are counted in
    `changed`, so the user sees what pasting would do before doing it."""
    w_old = {
        f: {lvl: math.log2(r.m[lvl] / r.u[lvl]) for lvl in r.m} for f, r in config.fields.items()
    }
    w_new = {f: {lvl: math.log2(est.m[f][lvl] / est.u[f][lvl]) for lvl in est.m[f]} for f in w_old}
    totals = []
    for p in pairs:
        old = new = 0.0
        for f, v in p.items():
            if f not in w_old or not isinstance(v, dict) or v.get("level") not in w_old[f]:
                continue
            w = float(v.get("w", 0.0))
            old += w
            if not v.get("dropped"):  # the guard did not count it: it still does not
                new += w + w_new[f][v["level"]] - w_old[f][v["level"]]
        totals.append((old, new))
    t = config.thresholds

    def outcome(x: float, merge: float, review: float) -> str:
        return "merge" if x >= merge else "review" if x >= review else "new"

    best: tuple[int, float] | None = None
    for step in range(-40, 81):  # shifts of -10 to +20 bits, a quarter bit apart
        d = step / 4
        diff = sum(
            outcome(o, t.merge, t.review) != outcome(n, t.merge + d, t.review + d)
            for o, n in totals
        )
        if best is None or (diff, abs(d)) < (best[0], abs(best[1])):
            best = (diff, d)
    shift = best[1] if best else 0.0
    est.merge, est.review = t.merge + shift, t.review + shift
    est.changed = Counter(
        (outcome(o, t.merge, t.review), outcome(n, est.merge, est.review))
        for o, n in totals
        if outcome(o, t.merge, t.review) != outcome(n, est.merge, est.review)
    )


def _sanity(est: Estimate, config: IdentityConfig, seen: dict[str, int], min_pairs: int) -> None:
    """Fields failing a check keep their configured m and u (module docstring)."""
    for f, rule in config.fields.items():
        w = {lvl: math.log2(est.m[f][lvl] / est.u[f][lvl]) for lvl in est.m[f]}
        why = ""
        if seen[f] < min_pairs:
            why = f"only {seen[f]} compared pairs have it (fewer than {min_pairs})"
        elif bad := [lvl for lvl, x in w.items() if lvl != "differ" and x < 0]:
            why = f"agreement ({', '.join(bad)}) would weigh against a match"
        elif w.get("differ", -1.0) > 0:
            why = "a differing value would weigh for a match"
        if why:
            est.kept[f] = why
            est.m[f], est.u[f] = dict(rule.m), dict(rule.u)


def _clip(x: float) -> float:
    return min(1 - _EPS, max(_EPS, x))


def weight_table(est: Estimate, config: IdentityConfig) -> list[tuple[str, str, float, float, str]]:
    """(field, level, weight now, estimated weight, note) per level, weights in bits."""
    rows = []
    for f, rule in config.fields.items():
        for lvl in LEVELS[rule.comparison]:
            before = math.log2(rule.m[lvl] / rule.u[lvl])
            after = math.log2(est.m[f][lvl] / est.u[f][lvl])
            note = "kept: " + est.kept[f] if f in est.kept else ""
            rows.append((f, lvl, before, after, note))
    return rows


def to_yaml(est: Estimate, config: IdentityConfig) -> str:
    """An `identity:` block with the estimated weights, ready to paste."""
    lines = ["identity:", f"  thresholds: {{merge: {est.merge:g}, review: {est.review:g}}}"]
    lines.append("  fields:")
    for f, rule in config.fields.items():
        lines.append(f"    {f}:")
        lines.append(f"      comparison: {rule.comparison}")
        if rule.close != 0.92:
            lines.append(f"      close: {rule.close}")
        for name, probs in (("m", est.m[f]), ("u", est.u[f])):
            body = ", ".join(f"{k}: {v:.4g}" for k, v in probs.items())
            lines.append(f"      {name}: {{{body}}}")
    return "\n".join(lines)
