"""The `identity:` block of guestsync.yaml: what is compared, how, with which weights, the
two thresholds, and which value of each field survives. The defaults work out of the box.

Weights are Fellegi-Sunter m/u probabilities per agreement level: m is how often the
level is seen when two records are the same guest, u when they are not. A level adds
log2(m/u) to the score; a field missing on either side adds nothing. `guestsync guests
weights` estimates m and u from your own data (EM) and prints a block to paste here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .keys import KEY_KINDS

Comparison = Literal["name", "email", "phone", "date", "text", "exact", "set"]
Rule = Literal["most_recent", "source_priority", "most_frequent", "first_non_empty"]

# The agreement levels each comparison can answer (besides "missing", which weighs 0).
LEVELS: dict[str, tuple[str, ...]] = {
    "name": ("exact", "partial", "close", "differ"),
    "email": ("exact", "close", "differ"),
    "phone": ("exact", "close", "differ"),
    "date": ("exact", "swapped", "differ"),
    "text": ("exact", "close", "differ"),
    "exact": ("exact", "differ"),
    "set": ("exact", "differ"),
}


class FieldRule(BaseModel):
    """How one field is compared and weighed."""

    model_config = ConfigDict(extra="forbid")
    comparison: Comparison
    close: float = Field(
        default=0.92, gt=0, le=1, description="Similarity (0-1) from which values are 'close'."
    )
    m: dict[str, float]
    u: dict[str, float]

    @model_validator(mode="after")
    def _levels(self) -> FieldRule:
        levels = set(LEVELS[self.comparison])
        for name, probs in (("m", self.m), ("u", self.u)):
            if set(probs) != levels:
                raise ValueError(
                    f"{name} needs exactly the levels {sorted(levels)} for a "
                    f"{self.comparison!r} comparison (got {sorted(probs)})"
                )
            bad = [k for k, v in probs.items() if not 0 < v < 1]
            if bad:
                raise ValueError(f"{name} probabilities must be between 0 and 1: {bad}")
        return self


def _rule(comparison: Comparison, m: dict[str, float], u: dict[str, float]) -> FieldRule:
    return FieldRule(comparison=comparison, m=m, u=u)


def default_fields() -> dict[str, FieldRule]:
    return {
        "name": _rule(
            "name",
            {"exact": 0.70, "partial": 0.12, "close": 0.15, "differ": 0.03},
            {"exact": 0.002, "partial": 0.005, "close": 0.01, "differ": 0.983},
        ),
        "email": _rule(
            "email",
            {"exact": 0.85, "close": 0.05, "differ": 0.10},
            {"exact": 0.0001, "close": 0.0005, "differ": 0.9994},
        ),
        "phone": _rule(
            "phone",
            {"exact": 0.85, "close": 0.03, "differ": 0.12},
            {"exact": 0.0005, "close": 0.002, "differ": 0.9975},
        ),
        "birthday": _rule(
            "date",
            {"exact": 0.90, "swapped": 0.05, "differ": 0.05},
            {"exact": 0.003, "swapped": 0.003, "differ": 0.994},
        ),
        "address": _rule(
            "text",
            {"exact": 0.60, "close": 0.30, "differ": 0.10},
            {"exact": 0.001, "close": 0.005, "differ": 0.994},
        ),
        "loyalty_ids": _rule(
            "set", {"exact": 0.95, "differ": 0.05}, {"exact": 0.00001, "differ": 0.99999}
        ),
    }


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # 10.5: one agreeing phone (log2(0.85/0.0005) = 10.7) with nothing against it merges, as a
    # POS bill or survey answer that carries only the phone must; a clearly different name
    # (-5.0) sends the pair below review.
    merge: float = Field(default=10.5, description="Score at or above which records merge.")
    review: float = Field(
        default=6.0, description="Score from which a pair goes to the review queue."
    )

    @model_validator(mode="after")
    def _order(self) -> Thresholds:
        if self.review > self.merge:
            raise ValueError("thresholds.review must not be above thresholds.merge")
        return self


_DEFAULT_FIELD_RULES: dict[str, Rule] = {"full_name": "most_frequent", "birthday": "most_frequent"}


class Survivorship(BaseModel):
    """Which value of a field the golden guest keeps when sources disagree."""

    model_config = ConfigDict(extra="forbid")
    default: Rule = "most_recent"
    fields: dict[str, Rule] = Field(default_factory=lambda: _DEFAULT_FIELD_RULES.copy())
    source_priority: list[str] = Field(
        default_factory=list, description="Most trusted source first (for source_priority)."
    )


class IdentityConfig(BaseModel):
    """Identity resolution settings (`identity:` in guestsync.yaml)."""

    model_config = ConfigDict(extra="forbid")
    fields: dict[str, FieldRule] = Field(default_factory=default_fields)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    max_candidates_per_key: int = Field(
        default=25,
        ge=1,
        description="A blocking key shared by more guests than this (a front-desk phone, a "
        "very common name) is skipped for candidate lookup: it would cost a comparison with "
        "each of them and tells nothing on its own.",
    )
    max_name_only_candidates: int = Field(
        default=1,
        ge=0,
        description="A record that shares nothing but its name with guests (none of them "
        "has an email, phone or birthday it could contradict: the `name_has` key) is "
        "compared with them only if at most this many could be it; with more, the name "
        "alone cannot single one out, and comparing with all of them would cost more as "
        "common names fill up. 0: never.",
    )
    blocking: list[str] = Field(
        default_factory=lambda: [k for k in KEY_KINDS if k != "name"],
        description="Key kinds used to find candidates. Add 'name' to also compare every "
        "record with all guests of the same folded name: it finds few matches the "
        "other keys miss (a name alone is below the merge threshold) and costs more as the "
        "data grows, since common names are shared by more and more guests.",
    )
    survivorship: Survivorship = Field(default_factory=Survivorship)

    def key_caps(self) -> dict[str, int]:
        """Blocking key kinds with their own cap (else `max_candidates_per_key`)."""
        return {"name_has": self.max_name_only_candidates}
