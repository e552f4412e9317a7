"""Comparison levels per field, the family guard as evidence, term-frequency adjustment
(the matching issue: recall where names carry the evidence, numbered emails kept apart)."""

from __future__ import annotations

from datetime import date

import pytest

from guestsync.identity import IdentityConfig, Scorer, features
from guestsync.identity.compare import compare
from guestsync.identity.names import name_form
from guestsync.models import Guest


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("陳小明", "陈小明", "exact"),
        ("Smith, John", "John Smith", "exact"),
        ("陳小明", "Chen Xiao Ming", "romanized"),
        ("陳小明", "Xiaoming Chen", "romanized"),
        ("Amy Lin", "林Amy", "romanized"),
        ("陳小明", "Ming Chen", "partial"),
        ("J Smith", "John Smith", "initials"),
        # Latin names that read as pinyin syllables stay whole: a typo is close
        ("Anna Lee", "Ana Lee", "close"),
        ("Dean Wong", "Deen Wong", "close"),
        ("Logan Chan", "Logen Chan", "close"),
        ("Sebastian Lau", "Sebatian Lau", "close"),
        # short tokens: a swap is a typo
        ("Amy Lin", "Amy Lni", "close"),
        ("Tony Wu", "Tony Uw", "close"),
        ("Tony Wu", "Tony Wo", "differ"),
        # a reversed given name is a sibling, in any script
        ("施美玉", "施玉美", "differ"),
        ("施美玉", "Yu Mei Shi", "differ"),
        ("施美玉", "Mei Yu Shi", "romanized"),
        ("John Smith", "Mary Smith", "differ"),
        # a space slipped one letter over: the same letters run together
        ("Yan gFrank", "楊Frank", "close"),
        ("WangA llen", "Allen Wang", "close"),
        ("Che nXiaoming", "陳小明", "close"),
        # Latin given syllables keep their order: 翁玲柏 and 翁柏玲 are two people
        ("Weng Ling Bai", "Weng Bai Ling", "differ"),
        ("Lin Amy", "Amy Lin", "exact"),
        ("Yu Cai", "Cai Yuyu", "close"),
    ],
)
def test_name_levels(a, b, level):
    assert compare("name", name_form(a), name_form(b), 0.92)[0] == level
    assert compare("name", name_form(b), name_form(a), 0.92)[0] == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("nina.hung1935@gmail.com", "nina.hung1898@gmail.com", "differ"),
        ("guest408.55@gmail.com", "guest408.56@gmail.com", "differ"),
        ("nina.hung1976@gmail.com", "nina.hung1967@gmail.com", "differ"),  # digits swapped
        ("ming.chen@example.com", "mign.chen@example.com", "close"),
        ("amy.lin88@gmail.com", "amy.lin88@yahoo.com.tw", "same_user"),
        # a digit typed as a letter could be either namesake's number (nina.hung19e5 is one
        # slip from nina.hung1935 and from nina.hung1985): tried, it merged namesakes at 100k
        ("nina.hung19e5@gmail.com", "nina.hung1935@gmail.com", "differ"),
    ],
)
def test_email_levels_treat_a_differing_number_as_disagreement(a, b, level):
    assert compare("email", a, b, 0.92)[0] == level


def test_phone_and_date_levels():
    assert compare("phone", "+886912345678", "+8612345678", 0.9)[0] == "last8"
    assert compare("phone", "+886912345678", "+886912345679", 0.9)[0] == "close"
    assert compare("date", "1985-03-14", "1985-03-17", 0.9)[0] == "typo"
    assert compare("date", "1985-03-04", "1985-04-03", 0.9)[0] == "swapped"
    assert compare("date", "1985-03-14", "1991-07-02", 0.9)[0] == "differ"


def _score(a: Guest, b: Guest, config: IdentityConfig | None = None):
    return Scorer(config or IdentityConfig()).score(features(a), features(b))


def test_numbered_namesakes_at_one_provider_do_not_merge():
    a = Guest(full_name="Nina Hung", email="nina.hung1935@gmail.com", phone="+886912000001")
    b = Guest(full_name="Nina Hung", email="nina.hung1898@gmail.com", phone="+886933000002")
    s = _score(a, b)
    assert s.fields["email"].level == "differ"
    assert Scorer(IdentityConfig()).outcome(s) == "new"


def test_strong_identifiers_outweigh_a_name_that_differs():
    """The issue's 25.6-bit pair: same birthday, loyalty number and address."""
    common = {"birthday": date(1980, 4, 2), "address": "台北市信義路3段1號", "loyalty_ids": ["c:9"]}
    s = _score(Guest(full_name="Chen Mei Hua", **common), Guest(full_name="Lisa Wang", **common))
    assert s.fields["name"].level == "differ"
    assert not s.guarded
    assert Scorer(IdentityConfig()).outcome(s) == "merge"


def test_a_shared_phone_with_different_given_names_stays_apart_unless_an_id_agrees():
    home = {"phone": "+886912345678", "address": "台北市信義路3段1號"}
    s = _score(Guest(full_name="陳小明", **home), Guest(full_name="陳美玲", **home))
    assert s.guarded and "household" in s.reason
    assert s.fields["phone"].weight == 0 and s.fields["phone"].dropped > 10
    assert Scorer(IdentityConfig()).outcome(s) == "new"
    with_email = _score(
        Guest(full_name="陳小明", email="m@example.com", **home),
        Guest(full_name="陳曉華", email="m@example.com", **home),
    )
    assert not with_email.guarded and "email agree" in with_email.reason
    # configurable: without the guard the shared phone and address count
    off = IdentityConfig.model_validate({"guard": {"enabled": False}})
    s_off = _score(Guest(full_name="陳小明", **home), Guest(full_name="陳美玲", **home), off)
    assert s_off.total > s.total and not s_off.reason


def test_a_common_name_is_weaker_evidence_than_a_rare_one():
    phone = {"phone": "+886912345678"}
    common = _score(Guest(full_name="Amy Chen", **phone), Guest(full_name="Chen Amy", **phone))
    rare = _score(Guest(full_name="鍾宜蓁", **phone), Guest(full_name="Zhong Yi Zhen", **phone))
    assert common.fields["name"].tf < 0 < rare.fields["name"].tf
    assert common.fields["name"].weight < rare.fields["name"].weight
    assert "tf" in common.as_json()["name"]
    off = IdentityConfig.model_validate({"term_frequency": {"enabled": False}})
    assert (
        _score(Guest(full_name="Amy Chen"), Guest(full_name="Amy Chen"), off).fields["name"].tf == 0
    )


def test_an_older_weights_block_without_the_new_levels_still_loads():
    cfg = IdentityConfig.model_validate(
        {
            "fields": {
                "name": {
                    "comparison": "name",
                    "m": {"exact": 0.7, "partial": 0.1, "close": 0.15, "differ": 0.05},
                    "u": {"exact": 0.002, "partial": 0.005, "close": 0.01, "differ": 0.983},
                }
            }
        }
    )
    assert set(cfg.fields["name"].m) >= {"romanized", "initials"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("||yuyu cai", "||yu cai"),
        ("||yi shen", "||shen yi yi"),
        ("||qiang liu", "||qiangqiang liu"),
    ],
)
def test_a_doubled_given_syllable_written_once_is_close(a, b):
    """蔡雨雨 romanized by a POS that dropped the repeat: the guard used to read these as
    different people on one phone (issue 21)."""
    from guestsync.identity.namecmp import compare_forms

    assert compare_forms(a, b)[0] == "close"
    assert compare_forms("||anna lee", "||an lee")[0] != "close"  # "anna" is not "an" doubled
