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

from .keys import Features
from .scoring import DISTINCT, MERGE, REVIEW, Score, Scorer

_RANK = {MERGE: 2, REVIEW: 1, DISTINCT: 0}


@dataclass(frozen=True)
class CandidateRecord:
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

    @property
    def merge_with(self) -> list[str]:
        """Guests this record belongs to, in candidate order (oldest guest first)."""
        return [j.guest_id for j in self.judgements if j.outcome == MERGE]

    @property
    def review(self) -> Judgement | None:
        """The best between-thresholds candidate, when nothing merges."""
        if self.merge_with:
            return None
        pending = [j for j in self.judgements if j.outcome == REVIEW]
        return max(pending, key=lambda j: j.score.total) if pending else None


def decide(record: Features, candidates: Sequence[CandidateRecord], scorer: Scorer) -> Decision:
    """`candidates` grouped by guest in the order guests should win (oldest first)."""
    best: dict[str, Judgement] = {}
    for c in candidates:
        s = scorer.score(record, c.features)
        j = Judgement(c.guest_id, c.ref, s, scorer.outcome(s))
        cur = best.get(c.guest_id)
        if cur is None or (_RANK[j.outcome], s.total) > (_RANK[cur.outcome], cur.score.total):
            best[c.guest_id] = j
    return Decision(list(best.values()))
