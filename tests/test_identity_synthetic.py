"""The extended generator: every category of the matching issue is present, impossible
birthdays reach the resolver as no birthday (the record is kept), and per-category
pairwise figures are counted right."""

from __future__ import annotations

from collections import Counter

from guestsync.testing.synthetic import (
    CATEGORIES,
    dataset,
    pairwise_quality,
    quality_by_category,
    to_record,
)


def test_every_category_is_generated_with_its_dirt():
    data = dataset(2000, 3.0, seed=7)
    people = Counter(data.categories.values())
    assert set(people) == set(CATEGORIES)
    by_cat: dict[str, list[dict]] = {}
    for row, person in data.rows:
        by_cat.setdefault(data.categories[person], []).append(row)
    assert all(not r["email"] and not r["phone"] for r in by_cat["western"])
    assert any(r.get("birthday", "").endswith(("-02-30", "-04-31")) for r in by_cat["bad_date"])
    numbered = [r["email"] for r in by_cat["numbered"] if r["email"]]
    assert numbered and all(any(c.isdigit() for c in e.split("@")[0]) for e in numbered)


def test_namesakes_and_reversed_siblings_are_distinct_people():
    data = dataset(3000, 3.0, seed=3)
    names: dict[str, set[int]] = {}
    for row, person in data.rows:
        if data.categories[person] == "numbered":
            names.setdefault(row["name"], set()).add(person)
    assert any(len(p) > 1 for p in names.values())  # one name, several people
    reversal = {p for p in data.categories if data.categories[p] == "reversal"}
    assert len(reversal) >= 2


def test_an_impossible_birthday_is_dropped_and_the_record_kept():
    rec = to_record(
        {
            "source": "s",
            "id": "1",
            "name": "Amy Lin",
            "email": "",
            "phone": "0912345678",
            "birthday": "1990-02-30",
        }
    )
    assert rec.guest.birthday is None and rec.guest.phone == "+886912345678"


def test_quality_by_category_counts_pairs_touching_the_category():
    truth = {"a1": 1, "a2": 1, "b1": 2, "b2": 2, "c1": 3}
    cats = {1: "x", 2: "y", 3: "y"}
    pred = {"a1": "g", "a2": "g", "b1": "h", "b2": "k", "c1": "g"}  # c1 absorbed by a's guest
    q = quality_by_category(pred, truth, cats)
    assert q["all"] == pairwise_quality(pred, truth)
    assert q["x"]["recall"] == 1.0 and q["x"]["precision"] == 1 / 3  # a1-a2 of a1-a2, a1-c1, a2-c1
    assert q["y"]["recall"] == 0.0 and q["y"]["precision"] == 0.0
