"""Survivorship rules, consent, identity config and EM weight estimation (issue 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.identity import IdentityConfig, Linked, Scorer, features, golden
from guestsync.identity.em import estimate, to_yaml
from guestsync.identity.names import name_key
from guestsync.identity.settings import Survivorship
from guestsync.models import Consent, Guest

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _linked(source: str, minutes: int, **guest) -> Linked:
    return Linked(source, T0 + timedelta(minutes=minutes), Guest(**guest), f"{source}:{minutes}")


RECORDS = [
    _linked("pos", 0, full_name="陳小明", email="old@example.com", tags=["vip"]),
    _linked("booking", 1, full_name="Chen Xiao Ming", email="new@example.com"),
    _linked("pos", 2, full_name="陳小明", tags=["window"], notes="likes tea"),
]


@pytest.mark.parametrize(
    ("rule", "name", "email"),
    [
        ("most_recent", "陳小明", "new@example.com"),
        ("first_non_empty", "陳小明", "old@example.com"),
        ("most_frequent", "陳小明", "new@example.com"),  # emails tie: the most recent
        ("source_priority", "Chen Xiao Ming", "new@example.com"),
    ],
)
def test_survivorship_rules(rule, name, email):
    rules = Survivorship(default=rule, fields={}, source_priority=["booking", "pos"])
    g = golden("g", RECORDS, rules)
    assert (g.full_name, g.email) == (name, email)
    assert g.tags == ["vip", "window"]  # lists are the union of all records
    assert g.notes == "likes tea"


def test_consent_an_older_opt_in_never_overrides_a_newer_opt_out():
    no = Consent(granted=False, at=T0 + timedelta(days=2))
    yes_older = Consent(granted=True, at=T0 + timedelta(days=1))
    yes_same_time = Consent(granted=True, at=T0 + timedelta(days=2))
    recs = [
        _linked("a", 0, marketing_consent=no),
        _linked("b", 5, marketing_consent=yes_older),  # arrived later, stated earlier
        _linked("c", 6, marketing_consent=yes_same_time),  # same instant: opt-out wins
    ]
    assert golden("g", recs).marketing_consent == no
    # Without a statement time, the time the record was seen counts.
    later_yes = _linked("d", 3 * 24 * 60, marketing_consent=Consent(granted=True))
    assert golden("g", [*recs, later_yes]).marketing_consent.granted is True


def test_names_fold_across_scripts_romanization_and_order():
    same = ["陳小明", "陈小明", "Chen Xiao Ming", "Xiaoming Chen", "CHEN Xiao-Ming", "陳曉明"]
    assert {name_key(n) for n in same} == {"chen ming xiao"}
    assert name_key("Amy Lin") == name_key("lin amy") != name_key("Amy Lim")


def test_identity_config_errors_name_the_file_and_line(make_config):
    cfg = make_config(
        """\
        identity:
          thresholds: {merge: 5, review: 8}
          fields:
            phone: {comparison: phone, m: {exact: 0.9, near: 0.05}, u: {exact: 0.001}}
        """
    )
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    text = str(exc.value)
    assert "guestsync.yaml:" in text and "review must not be above" in text
    assert "near" in text and "last8" in text  # the unknown level, the levels it knows


def test_identity_block_is_optional_and_tunable(make_config):
    assert load_config(make_config("store: {path: a.db}\n")).identity == IdentityConfig()
    cfg = load_config(make_config("identity: {thresholds: {merge: 20}}\n"))
    assert cfg.identity.thresholds.merge == 20


def test_em_learns_that_agreement_marks_a_match():
    s = Scorer(IdentityConfig())
    same = [
        (
            Guest(full_name="陳小明", phone="+886912345678"),
            Guest(full_name="陈小明", phone="+886912345678"),
        ),
        (Guest(full_name="Amy Lin", email="a@x.com"), Guest(full_name="Lin Amy", email="a@x.com")),
    ]
    diff = [
        (
            Guest(full_name="陳小明", phone="+886912345678"),
            Guest(full_name="陳美玲", phone="+886912345678"),
        ),
        (Guest(full_name="Amy Lin", email="a@x.com"), Guest(full_name="王大同", email="b@x.com")),
    ]
    pairs = [s.score(features(a), features(b)).as_json() for a, b in same * 30 + diff * 70]
    est = estimate(pairs, IdentityConfig())
    assert 0.2 < est.prior < 0.45
    assert est.m["name"]["exact"] > est.u["name"]["exact"]
    assert est.u["name"]["differ"] > est.m["name"]["differ"]
    text = to_yaml(est, IdentityConfig())
    assert text.startswith("identity:") and "comparison: date" in text


def test_a_golden_name_keeps_the_best_formed_spelling_of_it():
    """Issue 23: the newest record's "AMY LIN" or "amy  lin" does not replace "Amy Lin"
    when a record spells the same name well; a different name still wins as the rule says."""
    from datetime import UTC, datetime, timedelta

    from guestsync.identity import Linked, golden
    from guestsync.models import Guest

    t = datetime(2026, 1, 1, tzinfo=UTC)

    def g(*names: str) -> Guest:
        recs = [
            Linked("s", t + timedelta(days=i), Guest(full_name=n, given_name=n.split()[0]), str(i))
            for i, n in enumerate(names)
        ]
        return golden("g1", recs)

    assert g("Amy Lin", "AMY LIN").full_name == "Amy Lin"
    assert g("Amy Lin", "amy  lin").full_name == "Amy Lin"
    assert g("Amy Lin", "AMY LIN").given_name == "Amy"
    assert g("AMY LIN").full_name == "AMY LIN"  # no better spelling: kept as written
    assert g("Amy Lin", "Amy Chen").full_name == "Amy Chen"  # another name: most recent
    assert g("陳小明", "陳小明").full_name == "陳小明"
