"""The match log's `fields` text, built from encoded fragments (Score.as_json_text), is
the text json.dumps gives the judgement's as_json(): every pair of a generated dataset
with typos, families on one phone and cross-script names, guarded pairs included."""

from __future__ import annotations

import itertools
import json

from guestsync.identity import IdentityConfig, Scorer, features
from guestsync.identity.scoring import FieldScore, Score
from guestsync.testing.synthetic import dataset, to_record


def test_text_is_json_dumps_of_as_json_over_generated_pairs() -> None:
    config = IdentityConfig()
    scorer = Scorer(config)
    fields = tuple(config.fields)
    rows = dataset(60, seed=7).rows
    feats = [features(to_record(r).guest, fields) for r, _ in rows]
    guarded = 0
    for a, b in itertools.combinations(feats, 2):
        s = scorer.score(a, b)
        guarded += bool(s.reason)
        # floats only: the fragments are remembered by value, and 1 == 1.0
        assert all(type(x) is float for f in s.fields.values() for x in f[1:])
        assert s.as_json_text() == json.dumps(s.as_json(), ensure_ascii=False)
    assert guarded  # the guard's reason is part of the text too


def test_rounding_and_optional_parts() -> None:
    s = Score(
        1.0,
        {
            "name": FieldScore("close", 0.91234, 2.3456, tf=0.123, dropped=0.0),
            "phone": FieldScore("exact", 1, 0.0, dropped=4.5678),
            "email": FieldScore("differ", 0.0, -3.0),
        },
        reason="名字不同",
    )
    assert s.as_json_text() == json.dumps(s.as_json(), ensure_ascii=False)
    assert s.as_json_text() == Score(1.0, dict(s.fields), reason="名字不同").as_json_text()
