"""Identity resolution: which golden guest a source record belongs to. Pure: no I/O.

`features` folds a record into comparable values, `keys_for` gives its blocking keys and
`probe_keys` the keys to look its candidates up by; `Scorer` weighs a pair Fellegi-Sunter style;
`decide` judges all candidates of a record; `golden` recomputes a guest's profile from all
of its linked source records; `em.estimate` learns m/u weights from compared pairs.
"""

from .keys import features, keys_for, probe_keys
from .resolver import (
    CandidateRecord,
    Decision,
    Judgement,
    cluster,
    decide,
    differs_within,
    held_out,
    merging,
)
from .scoring import DISTINCT, MERGE, REVIEW, Score, Scorer
from .settings import IdentityConfig
from .survivorship import Linked, golden

__all__ = [
    "DISTINCT",
    "MERGE",
    "REVIEW",
    "CandidateRecord",
    "Decision",
    "IdentityConfig",
    "Judgement",
    "Linked",
    "Score",
    "Scorer",
    "cluster",
    "decide",
    "differs_within",
    "features",
    "golden",
    "held_out",
    "keys_for",
    "merging",
    "probe_keys",
]
