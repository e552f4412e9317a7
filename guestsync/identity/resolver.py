"""Deciding among candidates: which guests a record belongs to. Pure: no I/O.

A record is scored against every source record of every candidate guest (not against the
golden profile), and a guest scores its best record. So the clusters are exactly the
connected components of "these two records merge": every guest the record merges with is
merged into one (the oldest keeps its id). That is what makes the result independent of
the order records arrive in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .keys import Features
from .namecmp import latin_given
from .scoring import DISTINCT, MERGE, REVIEW, Score, Scorer, form

_RANK = {MERGE: 2, REVIEW: 1, DISTINCT: 0}
# A record matching two guests with incompatible names joins the better one only if it
# is this many bits (log2 odds) better; otherwise it is ambiguous and goes to review.
AMBIGUITY_MARGIN = 4.0


class CandidateRecord(NamedTuple):  # (made per candidate record per decision: cheap)
    guest_id: str
    ref: str  # "source:stream:external_id" of the linked record
    features: Features


@dataclass
class Judgement:
    """The best evidence for one candidate guest."""

    guest_id: str
    ref: str
    score: Score
    outcome: str


@dataclass
class Decision:
    judgements: list[Judgement] = field(default_factory=list)  # one per candidate guest
    merge_with: list[str] = field(default_factory=list)  # oldest first; the first keeps its id
    # Guests left apart of which a record scores a merge with a record of the guest this
    # record joins: they met only through this record, so they are decided again together.
    rejoin: list[str] = field(default_factory=list)

    @property
    def review(self) -> Judgement | None:
        """The best between-thresholds candidate, when nothing merges."""
        if self.merge_with:
            return None
        pending = [j for j in self.judgements if j.outcome == REVIEW]
        return max(pending, key=lambda j: j.score.total) if pending else None


def decide(
    record: Features, candidates: Sequence[CandidateRecord], scorer: Scorer, *, rejoin: bool = True
) -> Decision:
    """Judge every candidate guest; `candidates` come grouped by guest, oldest guest first.

    A guest scores its best record. Two guard rails keep families apart:
    - a guest holding any record whose name clearly differs from this record's is at most
      a review ("Mei Shi" on the family phone is not 施美娟 if 施文美 is in that guest);
    - when the record matches several guests, only those whose names are compatible with
      the best match and with one another are merged with it (the record alone never
      joins two siblings), and if a sibling fits about as well as the best, nothing
      merges: it goes to review.
    """
    best: dict[str, Judgement] = {}
    guarded: dict[str, list[str]] = {}  # guest -> its records' names the guard acted on
    names: dict[str, set[str]] = {}
    for c in candidates:
        s = scorer.score(record, c.features)
        name = form(c.features, "name")
        if name:
            names.setdefault(c.guest_id, set()).add(name)
        if s.guarded:
            guarded.setdefault(c.guest_id, []).append(name)
        j = Judgement(c.guest_id, c.ref, s, scorer.outcome(s))
        cur = best.get(c.guest_id)
        if cur is None or (_RANK[j.outcome], s.total) > (_RANK[cur.outcome], cur.score.total):
            best[c.guest_id] = j
    mine = form(record, "name") or ""
    for gid, differing in guarded.items():
        j = best[gid]
        group = names.get(gid, set())
        if j.outcome == MERGE and not all(_bridged(mine, d, group, scorer) for d in differing):
            j.outcome = REVIEW
    judgements = list(best.values())
    matched = [j for j in judgements if j.outcome == MERGE]
    if len(matched) > 1:
        top = max(matched, key=lambda j: j.score.total)  # ties: the oldest (first)
        # The guests joined must fit one another, not only the best: "ShiHui Shen" is
        # close to 沈怡惠 and the romanization of 沈世惠, sisters on one phone.
        joined = set(names.get(top.guest_id, set()))
        rivals = []
        for j in sorted(matched, key=lambda j: -j.score.total):
            if j is top:
                continue
            theirs = names.get(j.guest_id, set())
            if _compatible(mine, joined, theirs, scorer):
                joined |= theirs
            else:
                rivals.append(j)
        if rivals and top.score.total - max(j.score.total for j in rivals) < AMBIGUITY_MARGIN:
            rivals.append(top)  # two siblings fit equally well: a person decides
        for j in rivals:
            j.outcome = REVIEW
        matched = [j for j in matched if j.outcome == MERGE]
    merge_with = [j.guest_id for j in matched]
    if not rejoin:  # `cluster` reads only whom the record merges with
        return Decision(judgements, merge_with)
    again = _rejoin(candidates, set(merge_with), scorer)
    if merge_with:  # a guarded household beside the guest joined: decide them together
        again += [g for g in guarded if g not in merge_with and g not in again]
        # a name in the guest joined that differs from this record's (no household shared,
        # or the guard would have acted): had it come last, the guests' names would have
        # had to fit one another, so the guest is decided again with this record in it
        again += [
            g for g in merge_with if g not in again and _differs_inside(mine, names.get(g), scorer)
        ]
    return Decision(judgements, merge_with, again)


def _rejoin(candidates: Sequence[CandidateRecord], joined: set[str], scorer: Scorer) -> list[str]:
    """The guests not joined of which a record scores a merge with a record of a joined
    guest. Had the records come in another order, the two would have met directly; here
    only this record's keys found both."""
    if not joined:
        return []
    home = [c.features for c in candidates if c.guest_id in joined]
    out: list[str] = []
    for c in candidates:
        if c.guest_id in joined or (out and out[-1] == c.guest_id):
            continue
        if any(scorer.outcome(scorer.score(c.features, h)) == MERGE for h in home):
            out.append(c.guest_id)
    return list(dict.fromkeys(out))


def held_out(decision: Decision, scorer: Scorer) -> list[str]:
    """The guests a guard rule kept from merging: their best record scores a merge, but
    a differing name in the guest or a sibling match made it a review. Which guest holds
    which record then depends on the order the records came in, so `cluster` decides them
    again together. So are the guests the record's joining brought within a merge of its
    guest (`Decision.rejoin`)."""
    held = [
        j.guest_id
        for j in decision.judgements
        if j.outcome == REVIEW and scorer.outcome(j.score) == MERGE
    ]
    return list(dict.fromkeys([*held, *decision.rejoin]))


def differs_within(names: set[str], scorer: Scorer) -> bool:
    """Two of these name forms clearly differ (a bridged typo counts too): a guest holding
    them is one grouping of its records among others, and which one the records reached
    depends on their order, so the guest is decided again (`cluster`) as a whole."""
    ordered = sorted(n for n in names if n)
    return any(scorer.names_differ(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])


def merging(
    records: Sequence[tuple[str, Features]], others: Sequence[tuple[str, Features]], scorer: Scorer
) -> list[str]:
    """The guests of `others` (guest id, features) holding a record that scores a merge
    with one of `records`, in the order they come: the guests of one neighbourhood."""
    out: dict[str, None] = {}
    for gid, f in others:
        if gid not in out and any(scorer.outcome(scorer.score(f, h)) == MERGE for _, h in records):
            out[gid] = None
    return list(out)


def cluster(records: Sequence[tuple[str, Features]], scorer: Scorer) -> list[list[str]]:
    """Group records (ref text, features) as `decide` would if they arrived one by one in
    order of their refs: a function of the set, not of the order they really came in.
    Every pair is compared (the set is one neighbourhood, a few guests). Returns the
    groups, each sorted, in order of their first ref."""
    groups: list[list[tuple[str, Features]]] = []
    for ref, f in sorted(records, key=lambda r: r[0]):
        candidates = [CandidateRecord(str(i), r, g_f) for i, g in enumerate(groups) for r, g_f in g]
        into = [int(g) for g in decide(f, candidates, scorer, rejoin=False).merge_with]
        if not into:
            groups.append([(ref, f)])
            continue
        keep = groups[into[0]]
        keep.append((ref, f))
        for i in into[1:]:
            keep.extend(groups[i])
            groups[i] = []
        groups = [g for g in groups if g]
    return [sorted(r for r, _ in g) for g in groups]


def _compatible(mine: str, a: set[str], b: set[str], scorer: Scorer) -> bool:
    """No name of `a` differs from one of `b`, unless both are a spelling of the record's
    own name ("Tiaan Yeh" and "Teana Yeh" are two typos of "Tiana Yeh")."""
    return not any(
        scorer.names_differ(x, y) and not _spellings_of(mine, x, y, scorer) for x in a for y in b
    )


def _spellings_of(mine: str, x: str, y: str, scorer: Scorer) -> bool:
    """`x` and `y` differ but are both one slip from the record's Latin-spelled name.
    Two CJK given names that differ are two people (沈怡惠, 沈世惠), never two typos."""
    return (
        latin_given(x)
        and latin_given(y)
        and scorer.names_near(mine, x)
        and scorer.names_near(mine, y)
    )


def _differs_inside(mine: str, group: set[str] | None, scorer: Scorer) -> bool:
    """The guest holds a name that clearly differs from the record's and is not a second
    slip of the same Latin name."""
    group = group or set()
    return any(scorer.names_differ(mine, n) and not _bridged(mine, n, group, scorer) for n in group)


def _bridged(mine: str, other: str, group: set[str], scorer: Scorer) -> bool:
    """A name of the guest that differs from the record's is one spelling away from a name
    of the guest that is one spelling away from the record's: two typos of one name
    ("Dina Wong" and "Diaia Wong" for "Diana Wong"), not another person of the family."""
    if not (mine and latin_given(mine) and latin_given(other)):
        return False
    return any(scorer.names_near(mine, r) and scorer.names_near(r, other) for r in group)
