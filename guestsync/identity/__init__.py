"""Identity resolution: which golden guest a source record belongs to. Pure: no I/O.

`features` folds a record into comparable values and `keys_for` gives its blocking keys
(the store looks candidates up by them); `Scorer` weighs a pair Fellegi-Sunter style;
`decide` judges all candidates of a record; `golden` recomputes a guest's profile from all
of its linked source records; `em.estimate` learns m/u weights from compared pairs.
"""

from .keys import features, keys_for
from .resolver import CandidateRecord, Decision, Judgement, decide
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
    "decide",
    "features",
    "golden",
    "keys_for",
]
