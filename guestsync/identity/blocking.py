"""What blocking does on a set of records: how many candidate pairs each named rule
(a key kind of keys.py, listed in `identity.blocking`) produces, how many the union of
the configured rules produces, and how many records share no key with any other record
(they can only ever become guests of their own). Pure: no I/O; `guestsync guests
blocking` feeds it the stored links.

A key shared by more records than its cap (`max_candidates_per_key`, or the rule's own
in `blocking_caps`) is counted as capped and produces no pair, as the resolver skips it.
The resolver counts guests sharing a key and this report counts records, so on a store
where many records are already merged it is the more cautious of the two. `name_has`
pairs two records of one name only when neither has a field the other lacks has
(`probe_keys`), so it is counted by pairing its keys, not by equality.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from .keys import Features, keys_for
from .settings import IdentityConfig


@dataclass
class RuleCount:
    rule: str
    keys: int = 0  # distinct keys of this rule
    pairs: int = 0  # candidate pairs its uncapped keys produce
    capped: int = 0  # keys shared by more records than the cap: skipped
    enabled: bool = True  # in `identity.blocking`


@dataclass
class BlockingReport:
    records: int
    rules: list[RuleCount] = field(default_factory=list)
    union_pairs: int = 0  # distinct pairs of the enabled rules together
    alone: int = 0  # records sharing no uncapped key of an enabled rule with another


def report(records: Iterable[Features], config: IdentityConfig) -> BlockingReport:
    caps = {**config.key_caps(), **config.blocking_caps}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    n = 0
    for i, f in enumerate(records):
        n = i + 1
        for kind, value in keys_for(f):
            if kind == "name_has":
                name, _, has = value.rpartition("|")
                groups[("name_has", name)].append(i * 8 + _mask(has))
            else:
                groups[(kind, value)].append(i)
    enabled = set(config.blocking)
    kinds = sorted({k for k, _ in groups} | enabled, key=lambda k: (k not in enabled, k))
    counts = {k: RuleCount(k, enabled=k in enabled) for k in kinds}
    union: set[tuple[int, int]] = set()
    for (kind, _), members in groups.items():
        c = counts[kind]
        c.keys += 1
        pairs = _name_has_pairs(members) if kind == "name_has" else _pairs(members)
        if len(members) > caps.get(kind, config.max_candidates_per_key) + 1:
            c.capped += 1
            continue
        c.pairs += len(pairs)
        if c.enabled:
            union.update(pairs)
    paired = {i for p in union for i in p}
    return BlockingReport(n, list(counts.values()), len(union), n - len(paired))


def _pairs(members: list[int]) -> list[tuple[int, int]]:
    return list(combinations(sorted(set(members)), 2))


_LETTERS = {"e": 1, "p": 2, "b": 4}


def _mask(has: str) -> int:
    return sum(_LETTERS[x] for x in has)


def _name_has_pairs(members: list[int]) -> list[tuple[int, int]]:
    """Records of one name (index * 8 + which of email/phone/birthday they have) that
    `probe_keys` pairs: those whose fields do not overlap."""
    return [
        (a >> 3, b >> 3)
        for a, b in combinations(sorted(members), 2)
        if a >> 3 != b >> 3 and not (a & 7) & (b & 7)
    ]
