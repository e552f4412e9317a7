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
from .quality import pairwise_quality, quality_by_category

__all__ = ["dataset", "pairwise_quality", "quality_by_category", "rows", "to_record", "write"]

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


# Categories of people (the list of what a matcher gets wrong), each reported on its
# own by benchmarks/bench_identity.py. "cjk" and "latin_first" are the classic mix.
CATEGORIES = (
    "cjk",  # 陳小明 / 陈小明 / Chen Xiao Ming / Ming Chen
    "latin_first",  # Amy Lin, 林Amy
    "family",  # two people on one phone (and address), different given names
    "western",  # John Smith with typos, no email or phone: birthday, address, loyalty only
    "numbered",  # same-name people, nina.hung1935@ / nina.hung1898@ at one provider
    "reversal",  # siblings 施美玉 / 施玉美 on one phone and address
    "bad_date",  # some records carry an impossible birthday (1990-02-30)
    "pinyin_like",  # Anna Lee / Ana Lee, Dean Wong / Deen Wong: Latin names of pinyin syllables
    "short_typo",  # Amy Lin / Amy Lni: a transposition in a three-letter surname
)
WESTERN_FIRST = (  # noqa: SIM905
    "John Mary Michael Sarah Robert Emily James Olivia Daniel Laura Thomas Rachel Matthew "
    "Hannah Christopher Jessica Andrew Katherine Benjamin Elizabeth Patrick Margaret"
).split()
WESTERN_LAST = (  # noqa: SIM905
    "Smith Johnson Williams Brown Taylor Anderson Thompson Walker Robinson Clarke Mitchell "
    "Harrison Campbell Fischer Schneider Müller O'Brien García Martínez Rossi Novak Dubois"
).split()
PINYIN_LIKE = (  # noqa: SIM905
    "Anna Dean Logan Amelia Sebastian Tiana Alice Diana Liane Juliana Damian Shannon"
).split()
ROMAN_SURNAMES = ("Lee", "Wong", "Chan", "Lau", "Lin", "Ho", "Yeh", "Wu", "Cheung", "Tsai")
SHORT_SURNAMES = ("Lin", "Liu", "Wu", "Ho", "Yeh", "Kuo", "Hsu", "Lai", "Tan", "Yu")


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
    category: str = "cjk"
    latin_last: str | None = None  # a whole Latin name (Western, pinyin-like, short typo)

    def romanized(self) -> tuple[str, list[str]]:
        from pypinyin import lazy_pinyin

        if self.latin_last:
            return self.latin_last, [self.latin_first or ""]
        fam = lazy_pinyin(simplified(self.family))[0].capitalize()
        if self.latin_first:
            return fam, [self.latin_first]
        return fam, [s.capitalize() for s in lazy_pinyin(simplified(self.given))]


def _address(rng: random.Random) -> str:
    return (
        f"台北市{rng.choice(STREETS)}{rng.randint(1, 4)}段{rng.randint(1, 300)}號"
        f"{rng.randint(1, 20)}樓"
    )


def _bday(rng: random.Random) -> date:
    return date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))


def _person(i: int, rng: random.Random, category: str = "cjk") -> Person:
    family = rng.choice(SURNAMES)
    latin = rng.choice(LATIN_FIRST) if category == "latin_first" else None
    return Person(
        id=i,
        family=family,
        given="".join(rng.choice(GIVEN) for _ in range(2)),
        latin_first=latin,
        email=f"guest{i}.{rng.randint(10, 99)}@{rng.choice(DOMAINS)}",
        phone=f"09{rng.randint(0, 99_999_999):08d}",
        birthday=_bday(rng) if rng.random() < 0.5 else None,
        address=_address(rng) if rng.random() < 0.4 else None,
        loyalty=f"club:{100000 + i}" if rng.random() < 0.3 else None,
        category=category,
    )


def _household(p: Person, i: int, rng: random.Random, *, reversed_given: bool) -> Person:
    """Another person on `p`'s phone and address: a sibling or spouse."""
    other = "".join(rng.choice(GIVEN) for _ in range(2))
    if reversed_given or other == p.given:
        other = p.given[::-1]
    return Person(
        id=i,
        family=p.family,
        given=other,
        latin_first=None,
        email=f"guest{i}.{rng.randint(10, 99)}@{rng.choice(DOMAINS)}",
        phone=p.phone,
        birthday=None if p.category == "family" else _bday(rng),
        address=p.address,
        loyalty=None,
        category=p.category,
    )


def _extended(i: int, rng: random.Random, category: str, used: set[str]) -> list[Person]:
    """One person (or a group of namesakes) of an extended category."""
    p = _person(i, rng, category)
    if category == "western":
        p.latin_first, p.latin_last = rng.choice(WESTERN_FIRST), rng.choice(WESTERN_LAST)
        p.birthday = _bday(rng)
        p.address = _address(rng) if rng.random() < 0.6 else None
        p.loyalty = f"club:{100000 + i}" if rng.random() < 0.5 else None
    elif category == "pinyin_like":
        p.latin_first, p.latin_last = rng.choice(PINYIN_LIKE), rng.choice(ROMAN_SURNAMES)
    elif category == "short_typo":
        p.latin_first, p.latin_last = rng.choice(LATIN_FIRST), rng.choice(SHORT_SURNAMES)
    elif category == "bad_date":
        p.birthday = _bday(rng)
    elif category == "numbered":
        first, last = rng.choice(LATIN_FIRST), rng.choice(ROMAN_SURNAMES)
        domain = rng.choice(DOMAINS)
        group = []
        for k in range(rng.choice((2, 2, 3))):
            q = _person(i + k, rng, category)
            q.latin_first, q.latin_last = first, last
            user = f"{first.lower()}.{last.lower()}{rng.randint(1940, 2005)}"
            while user in used:  # an address is one person's, at any provider
                user = f"{first.lower()}.{last.lower()}{rng.randint(1000, 9999)}"
            used.add(user)
            q.email = f"{user}@{domain}"
            group.append(q)
        return group
    elif category == "reversal":
        p.given = rng.choice(GIVEN) + rng.choice(GIVEN)
        while p.given[0] == p.given[1]:
            p.given = rng.choice(GIVEN) + rng.choice(GIVEN)
        p.address = p.address or _address(rng)
        p.birthday = _bday(rng)
        return [p, _household(p, i + 1, rng, reversed_given=True)]
    return [p]


# Share of people per extended category (the rest is the classic mix).
EXTENDED_SHARE = {
    "western": 0.08,
    "numbered": 0.05,
    "reversal": 0.04,
    "bad_date": 0.04,
    "pinyin_like": 0.05,
    "short_typo": 0.04,
}


def _people(n: int, rng: random.Random, *, extended: bool = True) -> list[Person]:
    people: list[Person] = []
    used: set[str] = set()
    while len(people) < n:
        i = len(people)
        roll = rng.random()
        category = None
        if extended:
            acc = 0.0
            for cat, share in EXTENDED_SHARE.items():
                acc += share
                if roll < acc:
                    category = cat
                    break
        if category is not None:
            people.extend(_extended(i, rng, category, used)[: n - i])
            continue
        p = _person(i, rng, "latin_first" if rng.random() < 0.15 else "cjk")
        people.append(p)
        if rng.random() < 0.1 and len(people) < n:  # a family member on the same phone
            p.category = "family"
            people.append(_household(p, i + 1, rng, reversed_given=False))
    return people


def _typo(text: str, rng: random.Random) -> str:
    """One adjacent swap or one changed letter, as fingers do."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("aeiounst") + text[i + 1 :]


def _word_typo(word: str, rng: random.Random) -> str:
    """A typo inside one word: a dropped, doubled-letter-lost, changed or swapped letter
    (Sebastian -> Sebatian, Anna -> Ana, Dean -> Deen, Logan -> Logen)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.35:
        return word[:i] + word[i + 1 :]
    if kind < 0.7:
        return word[:i] + rng.choice("aeiou") + word[i + 1 :]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _swap_last_two(word: str) -> str:
    return word[:-2] + word[-1] + word[-2] if len(word) >= 3 else word


def _name(p: Person, source: str, rng: random.Random) -> str:
    fam, given = p.romanized()
    if p.category in ("western", "pinyin_like", "short_typo", "numbered"):
        first, last = given[0], fam
        if p.category == "western" and rng.random() < 0.3:
            first, last = (
                (_word_typo(first, rng), last)
                if rng.random() < 0.5
                else (
                    first,
                    _word_typo(last, rng),
                )
            )
        elif p.category == "pinyin_like" and rng.random() < 0.4:
            first = _word_typo(first, rng)
        elif p.category == "short_typo" and rng.random() < 0.35:
            last = _swap_last_two(last)
        form = rng.random()
        if p.category == "western" and form < 0.15:
            return f"{last}, {first}"
        if form < 0.25:
            return f"{last} {first}"
        return f"{first} {last}"
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


def _impossible(b: date, rng: random.Random) -> str:
    """A birthday no calendar has, as forms let people type it."""
    return rng.choice([f"{b.year}-02-30", f"{b.year}-13-{b.day:02d}", f"{b.year}-04-31"])


@dataclass
class Dataset:
    """Rows with their truth, and each person's category."""

    rows: list[tuple[dict[str, Any], int]]
    categories: dict[int, str]


def dataset(
    guests: int, per_guest: float = 3.0, *, seed: int = 1, extended: bool = True
) -> Dataset:
    """About guests * per_guest rows of `guests` people, shuffled, with the truth."""
    rng = random.Random(seed)
    people = _people(guests, rng, extended=extended)
    plan = []
    for p in people:
        k = max(1, min(8, round(rng.expovariate(1 / per_guest))))
        plan += [p] * k
    rng.shuffle(plan)
    out = [(_row(n, p, rng), p.id) for n, p in enumerate(plan)]
    return Dataset(out, {p.id: p.category for p in people})


def _row(n: int, p: Person, rng: random.Random) -> dict[str, Any]:
    source = rng.choice(SOURCES)
    row: dict[str, Any] = {"source": source, "id": f"{source}-{n}"}
    row["name"] = _name(p, source, rng)
    email = p.email if rng.random() < 0.93 else _typo(p.email, rng)
    phone = _phone(p.phone, rng)
    has_email, has_phone = rng.random() < 0.7, rng.random() < 0.8
    if p.category == "western":  # no contact point: only name, birthday, address, card
        has_email = has_phone = False
    elif not (has_email or has_phone or (p.loyalty and source == "loyalty")):
        has_phone = True  # a record with no contact point at all is rare in practice
    row["email"] = email if has_email else ""
    row["phone"] = phone if has_phone else ""
    dated = source in ("loyalty", "booking_tw", "app_cn") or p.category in ("western", "bad_date")
    if p.birthday and dated and rng.random() < 0.7:
        b = p.birthday
        swap = rng.random() < 0.15 and b.day <= 12
        row["birthday"] = (date(b.year, b.day, b.month) if swap else b).isoformat()
        if p.category == "bad_date" and rng.random() < 0.4:
            row["birthday"] = _impossible(b, rng)
    if p.address and (source == "delivery" or (p.category == "western" and rng.random() < 0.5)):
        row["address"] = p.address
    if p.loyalty and (source in ("loyalty", "pos") or p.category == "western"):
        row["loyalty"] = p.loyalty
    if p.category == "western" and not (row.get("birthday") or row.get("loyalty")):
        row["birthday"] = p.birthday.isoformat() if p.birthday else ""
    return row


def rows(
    guests: int, per_guest: float = 3.0, *, seed: int = 1, extended: bool = True
) -> Iterator[tuple[dict[str, Any], int]]:
    """(raw row, true person id) for about guests * per_guest rows, in a shuffled order."""
    yield from dataset(guests, per_guest, seed=seed, extended=extended).rows


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
        birthday=_date(row.get("birthday")),
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


def _date(text: str | None) -> date | None:
    """A birthday, or None for an impossible one (as the `date` transform's `invalid: drop`
    does: the record keeps its name and phone)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


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
