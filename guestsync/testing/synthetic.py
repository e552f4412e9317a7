"""Seeded synthetic restaurant guests with realistic dirt, and their ground truth.

N people, each seen by about M source records across several sources, the way a Taipei
restaurant group sees them: 陳小明 on the booking site, 陈小明 on a mainland app, "Chen Xiao
Ming" on OpenTable, "Ming Chen" at the POS; families sharing one phone (and address);
mistyped emails and names; phones as 0912-345-678, +886 912 345 678 or 0912345678;
birthdays with day and month swapped; missing fields. Every row carries the id of the
person it really is (`truth`), so clustering quality can be measured.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..identity.names import simplified
from ..models import Entity, Guest, SourceRecord
from ..normalize import email_address, phone_e164

SURNAMES = (
    "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周葉蘇莊呂江"
    "何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴"
)
GIVEN = (
    "小明美玲志強雅婷建國淑芬家豪怡君俊傑佩珊宗翰詩涵冠宇欣怡承恩品妤柏翰宜蓁子軒婉婷"
    "文華秀英偉成麗娟國華玉蘭振宇心怡嘉慧世傑雨萱思妤育誠靜宜健民惠如宏達淑惠"
)
LATIN_FIRST = (  # noqa: SIM905
    "Amy David Kevin Sophie Jason Grace Eric Vivian Allen Cindy Peter Irene Tony Joyce Ryan "
    "Emma Leo Nina Oscar Tina Victor Wendy Henry Iris Frank Linda Jack Sandy Ken Mandy"
).split()
DOMAINS = ["gmail.com", "yahoo.com.tw", "hotmail.com", "outlook.com", "qq.com", "msa.hinet.net"]
STREETS = [
    "忠孝東路",
    "信義路",
    "敦化南路",
    "中山北路",
    "民生東路",
    "松仁路",
    "復興南路",
    "南京東路",
]
SOURCES = ["booking_tw", "app_cn", "opentable", "pos", "delivery", "loyalty"]


@dataclass
class Person:
    id: int
    family: str  # traditional characters
    given: str
    latin_first: str | None  # a Latin given name (Amy Lin) instead of a CJK one
    email: str
    phone: str  # local digits, 09xxxxxxxx
    birthday: date | None
    address: str | None
    loyalty: str | None

    def romanized(self) -> tuple[str, list[str]]:
        from pypinyin import lazy_pinyin

        fam = lazy_pinyin(simplified(self.family))[0].capitalize()
        if self.latin_first:
            return fam, [self.latin_first]
        return fam, [s.capitalize() for s in lazy_pinyin(simplified(self.given))]


def _people(n: int, rng: random.Random) -> list[Person]:
    people: list[Person] = []
    while len(people) < n:
        i = len(people)
        family = rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(2))
        latin = rng.choice(LATIN_FIRST) if rng.random() < 0.15 else None
        bday = date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
        addr = (
            f"台北市{rng.choice(STREETS)}{rng.randint(1, 4)}段{rng.randint(1, 300)}號"
            f"{rng.randint(1, 20)}樓"
            if rng.random() < 0.4
            else None
        )
        p = Person(
            id=i,
            family=family,
            given=given,
            latin_first=latin,
            email=f"guest{i}.{rng.randint(10, 99)}@{rng.choice(DOMAINS)}",
            phone=f"09{rng.randint(0, 99_999_999):08d}",
            birthday=bday if rng.random() < 0.5 else None,
            address=addr,
            loyalty=f"club:{100000 + i}" if rng.random() < 0.3 else None,
        )
        people.append(p)
        if rng.random() < 0.1 and len(people) < n:  # a family member on the same phone
            other = "".join(rng.choice(GIVEN) for _ in range(2))
            people.append(
                Person(
                    id=i + 1,
                    family=family,
                    given=other if other != given else other[::-1],
                    latin_first=None,
                    email=f"guest{i + 1}.{rng.randint(10, 99)}@{rng.choice(DOMAINS)}",
                    phone=p.phone,
                    birthday=None,
                    address=p.address,
                    loyalty=None,
                )
            )
    return people


def _typo(text: str, rng: random.Random) -> str:
    """One adjacent swap or one changed letter, as fingers do."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("aeiounst") + text[i + 1 :]


def _name(p: Person, source: str, rng: random.Random) -> str:
    fam, given = p.romanized()
    if p.latin_first:
        name = rng.choice([f"{given[0]} {fam}", f"{fam} {given[0]}", f"{p.family}{given[0]}"])
        return _typo(name, rng) if rng.random() < 0.08 else name
    if source == "booking_tw":
        return p.family + p.given
    if source == "app_cn":
        return simplified(p.family + p.given)
    if source == "opentable":
        return rng.choice([f"{fam} {' '.join(given)}", f"{''.join(given)} {fam}"])
    if source == "pos":
        return rng.choice([f"{given[-1]} {fam}", p.family + p.given])
    return rng.choice([p.family + p.given, simplified(p.family + p.given)])


def _phone(digits: str, rng: random.Random) -> str:
    d = digits
    return rng.choice(
        [f"{d[:4]}-{d[4:7]}-{d[7:]}", f"+886 {d[1:4]} {d[4:7]} {d[7:]}", d, f"{d[:4]} {d[4:]}"]
    )


def rows(
    guests: int, per_guest: float = 3.0, *, seed: int = 1
) -> Iterator[tuple[dict[str, Any], int]]:
    """(raw row, true person id) for about guests * per_guest rows, in a shuffled order."""
    rng = random.Random(seed)
    people = _people(guests, rng)
    plan = []
    for p in people:
        k = max(1, min(8, round(rng.expovariate(1 / per_guest))))
        plan += [p] * k
    rng.shuffle(plan)
    for n, p in enumerate(plan):
        source = rng.choice(SOURCES)
        row: dict[str, Any] = {"source": source, "id": f"{source}-{n}"}
        row["name"] = _name(p, source, rng)
        email = p.email if rng.random() < 0.93 else _typo(p.email, rng)
        phone = _phone(p.phone, rng)
        has_email, has_phone = rng.random() < 0.7, rng.random() < 0.8
        if not (has_email or has_phone or (p.loyalty and source == "loyalty")):
            has_phone = True  # a record with no contact point at all is rare in practice
        row["email"] = email if has_email else ""
        row["phone"] = phone if has_phone else ""
        if p.birthday and source in ("loyalty", "booking_tw", "app_cn") and rng.random() < 0.7:
            b = p.birthday
            swap = rng.random() < 0.15 and b.day <= 12
            row["birthday"] = (date(b.year, b.day, b.month) if swap else b).isoformat()
        if p.address and source == "delivery":
            row["address"] = p.address
        if p.loyalty and source in ("loyalty", "pos"):
            row["loyalty"] = p.loyalty
        yield row, p.id


def to_record(row: dict[str, Any], *, region: str = "TW") -> SourceRecord:
    """A raw row as the mapping stage would make it (phone to E.164, email normalized)."""

    def clean(fn: Any, v: str) -> str | None:
        try:
            return fn(v, region) if fn is phone_e164 else fn(v)
        except ValueError:
            return None

    guest = Guest(
        full_name=row.get("name") or None,
        email=clean(email_address, row["email"]) if row.get("email") else None,
        phone=clean(phone_e164, row["phone"]) if row.get("phone") else None,
        birthday=date.fromisoformat(row["birthday"]) if row.get("birthday") else None,
        address=row.get("address") or None,
        loyalty_ids=[row["loyalty"]] if row.get("loyalty") else [],
    )
    return SourceRecord(
        source=row["source"],
        stream="guests",
        external_id=row["id"],
        entity=Entity.guest,
        guest=guest,
    )


def pairwise_quality(predicted: dict[str, str], truth: dict[str, int]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering (record -> cluster) against the
    truth (record -> person), counted without listing pairs."""
    from collections import Counter

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter((predicted[r], truth[r]) for r in truth))
    pred = pairs(Counter(predicted[r] for r in truth))
    true = pairs(Counter(truth.values()))
    precision = both / pred if pred else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true}


def write(out_dir: Any, guests: int, per_guest: float = 3.0, *, seed: int = 1) -> int:
    """records.jsonl (raw rows) and truth.csv (id,person) in `out_dir`; returns rows."""
    import csv
    import json
    from pathlib import Path

    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    n = 0
    with (
        (d / "records.jsonl").open("w", encoding="utf-8") as rec,
        (d / "truth.csv").open("w", newline="", encoding="utf-8") as tru,
    ):
        w = csv.writer(tru)
        w.writerow(["id", "person"])
        for row, person in rows(guests, per_guest, seed=seed):
            rec.write(json.dumps(row, ensure_ascii=False) + "\n")
            w.writerow([row["id"], person])
            n += 1
    return n
