"""A record is validated in one call; where the canonical model refuses it, the reasons
read as they did part by part (#20): the guest's first, then the entity's, then the
record's, each without its part's name."""

from __future__ import annotations

import textwrap

import pytest

from guestsync.errors import BadRecordError
from guestsync.mapping.compiler import compile_mapping
from guestsync.mapping.context import Context
from guestsync.yamlfile import load_yaml

MAPPING = compile_mapping(
    load_yaml(
        "m.yaml",
        text=textwrap.dedent(
            """\
            entity: reservation
            fields:
              id: {column: ID}
              updated_at: {column: Updated}
              deleted: {column: Gone}
              guest.email: {column: Email}
              guest.marketing_consent: {column: OK, transforms: [bool]}
              start_at: {column: When, transforms: [datetime]}
              party_size: {column: N}
              venue: {column: Venue}
            """
        ),
    ),
    Context(),
)
WHEN = "2026-12-01T19:00:00+08:00"


def _apply(raw: dict) -> object:
    return MAPPING.apply({"ID": "1", "When": WHEN, **raw}, source="s", stream="x", external_id="1")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"N": 0}, "party_size: Input should be greater than or equal to 1 (value: 0)"),
        # the guest's part is validated first, and alone reported
        ({"N": 0, "Email": 5, "Venue": 7}, "email: Input should be a valid string (value: 5)"),
        ({"Updated": "yesterday", "Venue": 7}, "venue: Input should be a valid string (value: 7)"),
        (
            {"Gone": "maybe"},
            "deleted: Input should be a valid boolean, unable to interpret input (value: 'maybe')",
        ),
        (
            {"Updated": "2026-12-01T10:00:00", "OK": "no"},
            "updated_at: Input should have timezone info (value: '2026-12-01T10:00:00')",
        ),
    ],
)
def test_refused_records_give_the_reasons_as_before(raw: dict, reason: str) -> None:
    with pytest.raises(BadRecordError) as info:
        _apply(raw)
    assert info.value.render() == reason


def test_a_removal_refused_by_the_model_is_still_a_removal() -> None:
    record = _apply({"Gone": True, "N": 0})
    assert record.deleted and record.reservation is None  # type: ignore[attr-defined]


def test_an_accepted_record_is_the_part_by_part_one() -> None:
    record = _apply({"N": "3", "Email": "a@b.com", "OK": "yes", "Updated": 1764586800})
    assert record.guest.model_fields_set == {"email", "marketing_consent"}  # type: ignore[attr-defined]
    assert record.guest.marketing_consent.granted is True  # type: ignore[attr-defined]
    assert record.reservation.party_size == 3  # type: ignore[attr-defined]
    assert record.reservation.model_fields_set == {"start_at", "party_size"}  # type: ignore[attr-defined]
