"""Golden names in one Chinese script per guest (issue 21): each name field survives by
its own rule, which mixed 欧阳 (a POS in simplified) with 歐陽娜娜 (a booking site)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guestsync.identity import Linked, golden
from guestsync.identity.settings import Survivorship
from guestsync.models import Guest

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _records(*guests: Guest) -> list[Linked]:
    return [Linked("src", T0 + timedelta(days=i), g, f"src:s:{i}") for i, g in enumerate(guests)]


OUYANG = _records(
    Guest(full_name="歐陽娜娜", phone="+886912345678"),
    Guest(full_name="歐陽娜娜"),
    Guest(family_name="欧阳", given_name="娜娜"),  # the most recent: the family name survives
)


def test_most_frequent_script_writes_every_name_field_in_it():
    g = golden("g1", OUYANG)
    assert (g.full_name, g.family_name, g.given_name) == ("歐陽娜娜", "歐陽", "娜娜")


@pytest.mark.parametrize(
    ("rule", "full", "family"),
    [("traditional", "歐陽娜娜", "歐陽"), ("simplified", "欧阳娜娜", "欧阳")],
)
def test_a_configured_script(rule, full, family):
    g = golden("g1", OUYANG, Survivorship(script=rule))
    assert (g.full_name, g.family_name) == (full, family)


def test_a_record_own_spelling_beats_a_conversion():
    # 鐘 folds to 钟, which OpenCC writes back as 鍾: the spelling a record used is kept
    recs = _records(Guest(full_name="鐘小美"), Guest(full_name="钟小美"), Guest(full_name="钟小美"))
    assert golden("g1", recs, Survivorship(script="traditional")).full_name == "鐘小美"


def test_names_without_a_script_are_left_alone():
    recs = _records(Guest(full_name="林淑芬", family_name="Lin"), Guest(given_name="Amy"))
    g = golden("g1", recs)
    assert (g.full_name, g.family_name, g.given_name) == ("林淑芬", "Lin", "Amy")
