"""Records/s through a compiled 20-field mapping vs a hand-written Python function.

Both turn the same nested JSON booking (a webhook-style payload: booking, customer,
member) into the same canonical SourceRecord, using the same normalizers (phone, email,
name split), so the ratio is the cost of the mapping machinery itself: getters, transform
chains, defaults, error collection. The two alternate within each round (so the phone and
email caches are equally warm for both) and the ratio is taken per round; the median
round is reported. Target: compiled / hand-written <= 1.5.

Times are CPU time of this process (time.process_time): the machine is shared, and wall
clock time mostly measures the other processes. Usage: bench_mapping.py [N] [ROUNDS]
(defaults: 10000 records, 7 rounds).
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from guestsync import normalize
from guestsync.mapping import compile_mapping
from guestsync.mapping.context import Context
from guestsync.models import Consent, Entity, Guest, Reservation, SourceRecord
from guestsync.normalize import split_name
from guestsync.yamlfile import load_yaml

MAPPING = """
entity: reservation
fields:
  id:                      {path: id, required: true}
  updated_at:              {path: updated_at, transforms: [datetime]}
  start_at:                {path: reservationTime, transforms: [datetime], required: true}
  party_size:              {path: groupSize, transforms: [int]}
  status:
    path: state
    transforms: [{enum: {map: {booked: confirmed, seated: seated, done: completed,
                                cancelled: cancelled, no_show: no_show}, default: confirmed}}]
  venue:                   {path: branch.name, transforms: [strip]}
  channel:                 {path: createdFrom, transforms: [lower], default: online}
  requests:                {path: customerNote, transforms: [strip]}
  guest.full_name:         {path: customer.name, transforms: [strip]}
  guest.family_name:       {path: customer.name, transforms: [{name_split: family}]}
  guest.given_name:        {path: customer.name, transforms: [{name_split: given}]}
  guest.phone:             {path: customer.phoneNumber, transforms: [phone]}
  guest.email:             {first_of: [customer.email, member.email], transforms: [email]}
  guest.birthday:          {path: member.birthday, transforms: [date]}
  guest.language:          {path: customer.language, transforms: [lower], default: zh-tw}
  guest.tags:              {path: member.tags, transforms: [split]}
  guest.allergies:         {path: customer.allergies, transforms: [split]}
  guest.marketing_consent: {path: member.optIn, transforms: [bool]}
  guest.loyalty_ids:       {template: "inline:{{ member.memberId }}", transforms: [split]}
  guest.notes:             {path: note, transforms: [strip]}
"""

ZONE = ZoneInfo("Asia/Taipei")
STATUS = {"booked": "confirmed", "seated": "seated", "done": "completed"}
STATUS |= {"cancelled": "cancelled", "no_show": "no_show"}
TRUE = {"yes", "y", "true", "1", "是"}
SPLIT = re.compile(r"[,;、，；\n]")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _dt(v: str) -> datetime:
    d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=ZONE)


def _split(v: Any) -> list[str]:
    return [p.strip() for p in SPLIT.split(v) if p.strip()] if v else []


def hand_written(raw: dict[str, Any], *, source: str) -> SourceRecord:
    """What a careful developer writes for this one payload, without a mapping."""
    cust = raw.get("customer") or {}
    member = raw.get("member") or {}
    name = (cust.get("name") or "").strip() or None
    given, family = split_name(name) if name else (None, None)
    email = cust.get("email") or member.get("email")
    phone = cust.get("phoneNumber")
    updated = _dt(raw["updated_at"]) if raw.get("updated_at") else None
    guest: dict[str, Any] = {
        "full_name": name,
        "given_name": given,
        "family_name": family,
        "phone": normalize.phone_e164(phone, "TW") if not _blank(phone) else None,
        "email": normalize.email_address(email) if not _blank(email) else None,
        "birthday": date.fromisoformat(member["birthday"]) if member.get("birthday") else None,
        "language": (cust.get("language") or "zh-tw").lower(),
        "tags": _split(member.get("tags")),
        "allergies": _split(cust.get("allergies")),
        "notes": (raw.get("note") or "").strip() or None,
        "loyalty_ids": [f"inline:{member['memberId']}"] if member.get("memberId") else [],
    }
    if member.get("optIn") is not None:
        granted = str(member["optIn"]).strip().lower() in TRUE
        guest["marketing_consent"] = Consent(granted=granted, at=updated, source=source)
    size = raw.get("groupSize")
    res = Reservation(
        venue=((raw.get("branch") or {}).get("name") or "").strip() or None,
        start_at=_dt(raw["reservationTime"]),
        party_size=int(size) if size not in (None, "") else None,
        status=STATUS.get(str(raw.get("state", "")).strip().lower(), "confirmed"),
        channel=(raw.get("createdFrom") or "online").lower(),
        requests=(raw.get("customerNote") or "").strip() or None,
    )
    return SourceRecord(
        source=source,
        stream="bookings",
        external_id=str(raw["id"]),
        entity=Entity.reservation,
        updated_at=updated,
        guest=Guest(**{k: v for k, v in guest.items() if v not in (None, [])}),
        reservation=res,
    )


SURNAMES = ["陳", "林", "黃", "張", "李", "王", "歐陽", "司馬"]
GIVEN = ["小明", "美玲", "志強", "雅婷", "建國", "淑芬"]


def make_records(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        g = rng.randrange(max(1, n // 3))
        out.append(
            {
                "id": f"R{i}",
                "updated_at": "2026-12-01T10:00:00+08:00",
                "reservationTime": f"2026-12-{1 + i % 28:02d}T19:30:00+08:00",
                "groupSize": 1 + i % 8,
                "state": rng.choice(list(STATUS)),
                "branch": {"name": " 信義店 "},
                "createdFrom": "Google",
                "customerNote": rng.choice(["", "靠窗", "birthday cake"]),
                "customer": {
                    "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "phoneNumber": f"09{g % 100000000:08d}",
                    "email": f"guest{g}@example.com" if g % 3 else None,
                    "language": "zh-TW",
                    "allergies": "花生, 蝦" if g % 5 == 0 else "",
                },
                "member": {
                    "memberId": f"M{g}",
                    "email": f"member{g}@example.tw",
                    "birthday": f"19{60 + g % 40}-0{1 + g % 9}-1{g % 9}",
                    "tags": "vip、常客" if g % 7 == 0 else "",
                    "optIn": rng.choice(["yes", "no", "是"]),
                },
                "note": "",
            }
        )
    return out


def timed(fn: Any, records: list[dict[str, Any]]) -> float:
    t0 = time.process_time()
    for r in records:
        fn(r)
    return time.process_time() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    records = make_records(n)
    mapping = compile_mapping(load_yaml("bench.yaml", text=MAPPING), Context())

    def compiled(raw: dict[str, Any]) -> SourceRecord:
        return mapping.apply(raw, source="inline", stream="bookings", external_id=raw["id"])

    def by_hand(raw: dict[str, Any]) -> SourceRecord:
        return hand_written(raw, source="inline")

    # Same output, so the comparison is fair (and the mapping is right).
    for r in records[:200]:
        a, b = compiled(r), by_hand(r)
        assert a == b, (a, b)
    timed(compiled, records[:500])  # warm the normalizer caches for both
    ratios, ct, ht = [], [], []
    for i in range(rounds):
        if i % 2:
            h, c = timed(by_hand, records), timed(compiled, records)
        else:
            c, h = timed(compiled, records), timed(by_hand, records)
        ct.append(c)
        ht.append(h)
        ratios.append(c / h)
    c_med, h_med = statistics.median(ct), statistics.median(ht)
    print(f"records: {n}, rounds: {rounds}, fields: {len(mapping.fields)}")
    print(f"compiled mapping : {n / c_med:10.0f} records/s  ({c_med / n * 1e6:.1f} µs/record)")
    print(f"hand-written     : {n / h_med:10.0f} records/s  ({h_med / n * 1e6:.1f} µs/record)")
    print(
        f"ratio compiled/hand-written: median {statistics.median(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}; target <= 1.5)"
    )


if __name__ == "__main__":
    main()
