"""The `identity:` block of guestsync.yaml: what is compared, how, with which weights, the
two thresholds, and which value of each field survives. The defaults work out of the box.

Weights are Fellegi-Sunter m/u probabilities per agreement level: m is how often the
level is seen when two records are the same guest, u when they are not. A level adds
log2(m/u) to the score; a field missing on either side adds nothing. `guestsync guests
weights` estimates m and u from your own data (EM) and prints a block to paste here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .keys import KEY_KINDS

Comparison = Literal["name", "email", "phone", "date", "text", "exact", "set"]
Rule = Literal["most_recent", "source_priority", "most_frequent", "first_non_empty"]
Script = Literal["traditional", "simplified", "most_frequent"]

# The agreement levels each comparison can answer (besides "missing", which weighs 0).
# Strongest first; namecmp, compare and the sanity checks of em rely on this order.
LEVELS: dict[str, tuple[str, ...]] = {
    "name": ("exact", "romanized", "close", "partial", "initials", "differ"),
    "email": ("exact", "same_user", "close", "differ"),
    "phone": ("exact", "last8", "close", "differ"),
    "date": ("exact", "swapped", "typo", "differ"),
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
            unknown = set(probs) - levels
            if unknown:
                raise ValueError(
                    f"{name} has levels {sorted(unknown)} that a {self.comparison!r} "
                    f"comparison does not know (it has {list(LEVELS[self.comparison])})"
                )
            # A level the block does not name (one added in a later version, as name
            # "romanized") keeps its default: an older pasted block still loads.
            for level, value in DEFAULT_PROBS[self.comparison][name].items():
                probs.setdefault(level, value)
            bad = [k for k, v in probs.items() if not 0 < v < 1]
            if bad:
                raise ValueError(f"{name} probabilities must be between 0 and 1: {bad}")
        return self


# Default m/u per comparison kind and level: m how often the level is seen between two
# records of one guest, u between two different guests that share a blocking key.
DEFAULT_PROBS: dict[str, dict[str, dict[str, float]]] = {
    "name": {
        "m": {
            "exact": 0.55,
            "romanized": 0.15,
            "close": 0.10,
            "partial": 0.10,
            "initials": 0.03,
            "differ": 0.07,
        },
        "u": {
            "exact": 0.0015,
            "romanized": 0.0005,
            "close": 0.002,
            "partial": 0.003,
            "initials": 0.004,
            "differ": 0.989,
        },
    },
    "email": {
        "m": {"exact": 0.85, "same_user": 0.02, "close": 0.05, "differ": 0.08},
        "u": {"exact": 0.0001, "same_user": 0.0002, "close": 0.0005, "differ": 0.9992},
    },
    "phone": {
        "m": {"exact": 0.85, "last8": 0.02, "close": 0.01, "differ": 0.12},
        "u": {"exact": 0.0005, "last8": 0.0002, "close": 0.002, "differ": 0.9973},
    },
    "date": {
        "m": {"exact": 0.85, "swapped": 0.05, "typo": 0.04, "differ": 0.06},
        # a swapped day and month is as rare between strangers as an equal date
        "u": {"exact": 0.003, "swapped": 0.0005, "typo": 0.01, "differ": 0.9865},
    },
    "text": {
        "m": {"exact": 0.60, "close": 0.30, "differ": 0.10},
        "u": {"exact": 0.001, "close": 0.005, "differ": 0.994},
    },
    "exact": {"m": {"exact": 0.9, "differ": 0.1}, "u": {"exact": 0.01, "differ": 0.99}},
    "set": {"m": {"exact": 0.95, "differ": 0.05}, "u": {"exact": 0.00001, "differ": 0.99999}},
}


def _rule(comparison: Comparison, m: dict[str, float], u: dict[str, float]) -> FieldRule:
    return FieldRule(comparison=comparison, m=m, u=u)


def default_fields() -> dict[str, FieldRule]:
    kinds: dict[str, Comparison] = {
        "name": "name",
        "email": "email",
        "phone": "phone",
        "birthday": "date",
        "address": "text",
        "loyalty_ids": "set",
    }
    return {
        f: _rule(kind, dict(DEFAULT_PROBS[kind]["m"]), dict(DEFAULT_PROBS[kind]["u"]))
        for f, kind in kinds.items()
    }


class Guard(BaseModel):
    """The family guard, as evidence rather than a veto.

    A family shares a phone and an address; two of its members have different given
    names. When two records' names clearly differ ("differ") and they agree on a
    household field, that agreement is no evidence that they are one person: its weight
    is not counted, unless an independent identifier agrees too (each entry of
    `independent` is a set of fields that must all agree exactly: an email, a loyalty
    number, a birthday with an address). Then the score decides as for any pair, so
    strong identifiers outweigh a name that differs. `guestsync guests explain` shows
    the guard's reason whenever it acted."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    household: list[str] = Field(default_factory=lambda: ["phone", "address"])
    independent: list[list[str]] = Field(
        default_factory=lambda: [["email"], ["loyalty_ids"], ["birthday", "address"]]
    )


class TermFrequency(BaseModel):
    """Term-frequency adjustment of an agreeing name (identity.tf)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    typical: float = Field(
        default=1e-4, gt=0, lt=1, description="Share of people bearing a typical name."
    )
    max_down: float = Field(default=4.0, ge=0, description="Most bits a common name loses.")
    max_up: float = Field(default=1.0, ge=0, description="Most bits a rare name gains.")
    surnames: dict[str, float] = Field(
        default_factory=dict, description="Your own family-name shares (romanized, 0-1)."
    )
    given_names: dict[str, float] = Field(
        default_factory=dict, description="Your own given-name shares (0-1)."
    )


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


# Default caps of the rules whose keys grow with the store (issue 20: at 25 guests a key,
# `surname_year` and `dob` brought 1.2 and 0.3 strangers' records per record at 100k
# records, 4.7 and 1.3 at 400k, and next to no match the other rules miss:
# benchmarks/bench_identity.py, `guestsync guests blocking`).
RULE_CAPS: dict[str, int] = {"surname_year": 2, "dob": 3}

_DEFAULT_FIELD_RULES: dict[str, Rule] = {"full_name": "most_frequent", "birthday": "most_frequent"}


class Survivorship(BaseModel):
    """Which value of a field the golden guest keeps when sources disagree."""

    model_config = ConfigDict(extra="forbid")
    default: Rule = "most_recent"
    fields: dict[str, Rule] = Field(default_factory=lambda: _DEFAULT_FIELD_RULES.copy())
    source_priority: list[str] = Field(
        default_factory=list, description="Most trusted source first (for source_priority)."
    )
    script: Script = Field(
        default="most_frequent",
        description=(
            "The one Chinese script of a golden guest's names (full, given, family): "
            "traditional, simplified, or the one most of its records' names are written in. "
            "Each field survives by its own rule, so without this a family name 欧阳 could "
            "sit beside the full name 歐陽娜娜."
        ),
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
        description="The named blocking rules whose keys find candidates: a record is "
        "compared with the guests sharing a key of any of them (their union; "
        "`guestsync guests blocking` counts the pairs each produces). Among them the "
        "partial-name keys surname_year, given_postcode and phonetic_phone. Add 'name' to "
        "also compare every record with all guests of the same folded name: it finds few "
        "matches the other keys miss (a name alone is below the merge threshold) and costs "
        "more as the data grows, since common names are shared by more and more guests.",
    )
    blocking_caps: dict[str, int] = Field(
        default_factory=lambda: dict(RULE_CAPS),
        description="A rule's own cap on the guests sharing one of its keys (else "
        "`max_candidates_per_key`), e.g. {surname_year: 10}; merged over the defaults "
        f"{RULE_CAPS}. Those two rules' keys are made of few values (a birth date; a "
        "family name with a birth year), so the guests sharing one grow with the store: "
        "every record would be compared with more and more strangers, and the cost per "
        "record would grow with the data. A key shared by more guests than its cap is "
        "skipped (it singles no one out); their other keys still find the guest, and "
        "`guestsync guests blocking` counts what each rule finds.",
    )
    survivorship: Survivorship = Field(default_factory=Survivorship)
    guard: Guard = Field(default_factory=Guard)
    term_frequency: TermFrequency = Field(default_factory=TermFrequency)

    @field_validator("blocking")
    @classmethod
    def _known_rules(cls, rules: list[str]) -> list[str]:
        unknown = [r for r in rules if r not in KEY_KINDS]
        if unknown:
            raise ValueError(f"unknown blocking rule(s) {unknown}; known: {', '.join(KEY_KINDS)}")
        return rules

    @field_validator("blocking_caps")
    @classmethod
    def _known_caps(cls, caps: dict[str, int]) -> dict[str, int]:
        unknown = [r for r in caps if r not in KEY_KINDS]
        if unknown or any(v < 1 for v in caps.values()):
            raise ValueError(f"blocking_caps: rules from {', '.join(KEY_KINDS)}, caps >= 1")
        return {**RULE_CAPS, **caps}

    def key_caps(self) -> dict[str, int]:
        """Blocking key kinds with their own cap (else `max_candidates_per_key`)."""
        return {"name_has": self.max_name_only_candidates, **self.blocking_caps}
