"""Order independence where a guest's records reach it through a neighbourhood (issue 21):
the three classes of records whose guests still depended on their order at 100,000
generated records, each with the records of the people beside it, as the generator made
them (seed 1). Every order of a case gives one clustering."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import combinations

import pytest

from guestsync.models import Entity, Guest, SourceRecord
from guestsync.process.resolve import Resolver
from guestsync.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rec(ext: str, name: str, email: str = "", phone: str = "", **more) -> SourceRecord:
    guest = Guest(full_name=name, email=email or None, phone=phone or None, **more)
    return SourceRecord(
        source=ext.split("-")[0], stream="guests", external_id=ext, entity=Entity.guest, guest=guest
    )


# "Ling Wang" with the family phone only: a partial name of 王如玲 and of her sister
# "Wang Ling Ru" (王玲如: the given name reversed). A later "Ling Wang" with 王如玲's email
# regrouped 王如玲's guest without the sister, and the phone-only record joined it.
REVERSAL = [
    _rec("opentable-121", "Wang Ling Ru", "guest5564.16@msa.hinet.net", "+886928213688"),
    _rec("pos-7333", "Ling Wang", phone="+886928213688"),
    _rec("booking_tw-7471", "王如玲", "guest5563.30@yahoo.com.tw", "+886928213688"),
    _rec(
        "booking_tw-21688",
        "王如玲",
        "guest5563.30@yahoo.com.tw",
        "+886928213688",
        birthday=date(1961, 4, 9),
    ),
    _rec("pos-71484", "Ling Wang", "guest5563.30@yahoo.com.tw"),
    _rec("delivery-12362", "許Irene", "guest5562.36@hotmail.com", "+886916948618"),
    _rec("booking_tw-41397", "Xu Irene", "guest5562.36@hotmail.com", "+886916948618"),
]

# "ZhenCheng Zhong" (email only) shares no key with "Cheng Zhong", whose email has a slip
# ("guest15279i10@"), yet the two score a merge: only 钟振承's name finds the first. When
# "Cheng Zhong" came after it, nothing looked it up.
SLIPPED_EMAIL = [
    _rec("delivery-12785", "钟振承", phone="+886937211954", address="台北市忠孝東路2段27號14樓"),
    _rec("booking_tw-26683", "鍾振承", phone="+886937211954", birthday=date(1968, 3, 28)),
    _rec("opentable-33678", "ZhenCheng Zhong", "guest15279.10@gmail.com"),
    _rec("delivery-40681", "钟振承", phone="+886937211954", address="台北市忠孝東路2段27號14樓"),
    _rec("pos-60652", "Cheng Zhong", "guest15279i10@gmail.com", "+886937211954"),
    _rec("pos-18322", "Wendy Yeh", "guest15278.62@hotmail.com", "+886932080998"),
]

# A chain of typos of "Logan Lin": "Lugan Lin" (phone only) is close to "Logun Lin" but
# differs from "Loan Lin" on the same phone; joined last it was bridged through "Logan",
# joined first it stayed apart.
TYPO_CHAIN = [
    _rec("app_cn-22840", "Lugan Lin", phone="+886959137325"),
    _rec("app_cn-42373", "Loan Lin", "guest9316.82@outlook.com", "+886959137325"),
    _rec(
        "loyalty-46398",
        "Logun Lin",
        "guest9316.82@outlook.com",
        "+886959137325",
        loyalty_ids=["club:109316"],
    ),
    _rec("loyalty-58763", "Lin Logan", "guest9316.82@outlook.com", loyalty_ids=["club:109316"]),
    _rec("loyalty-67392", "Louan Lin", "guest9316.82@outlook.com", loyalty_ids=["club:109316"]),
    _rec("pos-13439", "Logan Lin", "guest9316.82@outlook.com", loyalty_ids=["club:109316"]),
    _rec("pos-49089", "Logn Lin", "guest9316.82@outlook.com", loyalty_ids=["club:109316"]),
]


def _pairs(records: list[SourceRecord]) -> frozenset[tuple[str, str]]:
    store = Store.open(":memory:")
    r = Resolver(store)
    with store.atomic():
        for i, rec in enumerate(records):
            r.resolve(rec, T0 + timedelta(seconds=i))
    groups: dict[str, list[str]] = {}
    for ext, gid in store.link_map().items():
        groups.setdefault(gid, []).append(ext)
    return frozenset(p for g in groups.values() for p in combinations(sorted(g), 2))


@pytest.mark.parametrize(
    "case", [REVERSAL, SLIPPED_EMAIL, TYPO_CHAIN], ids=["reversal", "slipped_email", "typo_chain"]
)
def test_every_order_gives_one_clustering(case):
    """Before, 2 clusterings in 100 orders for each (orders 5, 6, 10, 17 of these seeds)."""
    seen = {_pairs(case), _pairs(case[::-1])}
    for k in range(30):
        order = case[:]
        random.Random(k).shuffle(order)
        seen.add(_pairs(order))
    assert len(seen) == 1


def test_the_neighbourhood_decides_what_the_evidence_allows():
    """The one clustering keeps the ambiguous phone-only "Ling Wang" apart from both
    sisters, and finds the slipped email's guest."""
    reversal = _pairs(REVERSAL)
    assert not any("pos-7333" in p for p in reversal)
    assert ("booking_tw-7471", "pos-71484") in reversal
    assert ("opentable-33678", "pos-60652") in _pairs(SLIPPED_EMAIL)
