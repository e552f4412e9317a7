"""A list of plain paths (`[Date, Time]`) is read by dict lookups, with JMESPath's answer
for every shape of record (#20: the bulk lane maps without JMESPath's interpreter)."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest

from guestsync.mapping.getters import build_source
from guestsync.mapping.spec import FieldSpec
from guestsync.yamlfile import load_yaml

RECORDS: list[Any] = [
    {"Date": "2026-12-01", "Time": "18:30"},
    {"Date": "2026-12-01"},
    {},
    None,
    "text",
    ["a", "b"],
    {"Date": None, "Time": ""},
    {"a": {"b": 1, "c": [1]}, "d": "x"},
    {"a": "not an object", "d": None},
]


@pytest.mark.parametrize("path", ["[Date, Time]", "[a.b, d]", '["Date", a.c]', "[Date]"])
@pytest.mark.parametrize("raw", RECORDS)
def test_a_list_of_paths_gives_what_jmespath_gives(path: str, raw: Any):
    doc = load_yaml("m.yaml", text="entity: guest\n")
    source = build_source(FieldSpec(path=path), doc, ("fields", "x"))
    assert source.get(raw) == jmespath.search(path, raw)


def test_other_expressions_still_go_through_jmespath():
    doc = load_yaml("m.yaml", text="entity: guest\n")
    source = build_source(FieldSpec(path="[Date, Time] | join(' ', @)"), doc, ("fields", "x"))
    assert source.get({"Date": "2026-12-01", "Time": "18:30"}) == "2026-12-01 18:30"
