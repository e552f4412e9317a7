"""Golden files for the bundled mapping profiles (issue 3).

Each profile in config/mappings/ maps its sample in config/mappings/samples/ to exactly
the records (or the rejections) in tests/golden/<profile>.json. After an intended change,
regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_mapping_profiles.py` and
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from guestsync.errors import BadRecordError
from guestsync.mapping import load_mapping
from guestsync.mapping.context import Context
from guestsync.mapping.samples import read_sample
from guestsync.webhooks.profiles import PROFILES as WEBHOOK_SPLIT

from .conftest import MAPPINGS

GOLDEN = Path(__file__).resolve().parent / "golden"
TAIWAN = Context(region="TW", timezone="Asia/Taipei")
PROFILES = {
    "square_customers": ("square_customers.json", TAIWAN),
    "square_bookings": ("square_bookings.json", TAIWAN),
    "booking_en": ("booking_en.csv", TAIWAN),
    "booking_zh": ("booking_zh.csv", TAIWAN),
    "booking_zh_hans": ("booking_zh_hans.csv", Context(region="CN", timezone="Asia/Shanghai")),
    # POS bills and survey answers: the demo's samples in config/samples/.
    "pos_orders_zh": ("../../samples/pos_orders_zh.csv", TAIWAN),
    "survey_zh": ("../../samples/survey_zh.csv", TAIWAN),
    # A loyalty app's members, points ledger and coupons (issue 27), in three languages.
    **{
        f"loyalty_{kind}_{lang}": (f"loyalty_{kind}_{lang}.csv", ctx)
        for kind in ("members", "points", "coupons")
        for lang, ctx in (
            ("zh", TAIWAN),
            ("zh_hans", Context(region="CN", timezone="Asia/Shanghai")),
            ("en", Context(region="HK", timezone="Asia/Hong_Kong")),
        )
    },
}


# Webhook profiles map one event of a webhook body, as the platform's splitter cuts it
# (guestsync.webhooks.profiles); their samples are the bodies in config/samples/webhooks/.
WEBHOOK_SAMPLES = MAPPINGS.parent / "samples" / "webhooks"
WEBHOOK_PROFILES = {
    "square_webhook_customers": ("square_customer_updated.json", "square"),
    "square_webhook_bookings": ("square_booking_created.json", "square"),
    "inline_reservations": ("inline_reservations.json", "inline"),
    "toast_guests": ("toast_guest.json", "toast"),
    "generic_booking": ("generic_booking.json", None),
    "generic_points": ("generic_points.json", None),
    # Jiandaoyun: the records its source cuts from a push ({op, opTime, data}), as a list.
    "jiandaoyun_signup": ("jiandaoyun_signup.json", None),
    "jiandaoyun_reservation": ("jiandaoyun_reservation.json", None),
    "jiandaoyun_feedback": ("jiandaoyun_feedback.json", None),
}


def samples(profile: str) -> list[tuple[str, Any]]:
    if profile in PROFILES:
        return list(read_sample(MAPPINGS / "samples" / PROFILES[profile][0]))
    sample, platform = WEBHOOK_PROFILES[profile]
    body = json.loads((WEBHOOK_SAMPLES / sample).read_text("utf-8"))
    if platform is None:
        records = body if isinstance(body, list) else [body]
    else:
        records = [e.record for e in WEBHOOK_SPLIT[platform].events(body, False)]
    return [(f"event {i}", r) for i, r in enumerate(records, 1)]


SHANGHAI = Context(region="CN", timezone="Asia/Shanghai")


def run_profile(profile: str) -> list[dict[str, Any]]:
    if profile in PROFILES:
        ctx = PROFILES[profile][1]
    else:
        ctx = SHANGHAI if profile.startswith("jiandaoyun") else TAIWAN
    mapping = load_mapping(MAPPINGS / f"{profile}.yaml", ctx)
    out: list[dict[str, Any]] = []
    for origin, raw in samples(profile):
        ext = mapping.external_id(raw)
        try:
            rec = mapping.apply(raw, source="sample", stream="s", external_id=ext)
        except BadRecordError as exc:
            out.append({"origin": origin, "external_id": ext, "error": exc.render()})
            continue
        out.append({"origin": origin, "record": rec.model_dump(mode="json", exclude_none=True)})
    return out


def test_every_profile_has_a_golden_test():
    assert {p.stem for p in MAPPINGS.glob("*.yaml")} == set(PROFILES) | set(WEBHOOK_PROFILES)


@pytest.mark.parametrize("profile", sorted(PROFILES) + sorted(WEBHOOK_PROFILES))
def test_profile_matches_golden(profile):
    got = run_profile(profile)
    path = GOLDEN / f"{profile}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(path.read_text("utf-8"))


def test_golden_files_show_what_the_issue_asks_for():
    """Spot checks, so a regenerated golden file cannot silently bless a regression."""
    cust = {r["record"]["external_id"]: r["record"] for r in run_profile("square_customers")[:3]}
    amy = cust["JDKYHBWT1D4F8MFH63DBMEN8Y4"]["guest"]
    assert amy["birthday"] == "1904-05-01" and amy["email"] == "amy.lin@example.com"
    assert amy["email_consent"] == {  # email only: Square says nothing of SMS
        "granted": True,
        "at": "2026-11-20T09:15:00Z",
        "source": "sample",
    }
    assert amy["loyalty_ids"] == ["square:JDKYHBWT1D4F8MFH63DBMEN8Y4", "square_ref:VIP-0042"]
    ming = cust["A537H7KAQWSAF8M8EM1Y23E16M"]["guest"]
    assert ming["email_consent"]["granted"] is False and ming["phone"] == "+886912000111"
    wing = cust["R4X1Y7ZQ9Q0B0BN2J3KD7T6G2H"]
    assert wing["guest"]["phone"] == "ext. 12" and "phone: kept as written" in (wing["warnings"][0])

    zh = {r["origin"]: r for r in run_profile("booking_zh")}
    first = zh["line 2"]["record"]
    assert first["guest"]["phone"] == "+886912345678"  # 手機 before 電話
    assert (first["guest"]["family_name"], first["guest"]["given_name"]) == ("陳", "小明")
    second = zh["line 3"]["record"]
    assert second["guest"]["phone"] == "+886223450000"  # no 手機: 電話
    assert second["guest"]["family_name"] == "歐陽" and second["reservation"]["status"] == "no_show"
    assert "guest.phone" in zh["line 5"]["error"]

    bookings = {
        r.get("external_id") or r["record"]["external_id"]: r
        for r in run_profile("square_bookings")
    }
    ok = bookings["zkras0xv0xwswx"]["record"]
    assert ok["guest"]["loyalty_ids"] == ["square:JDKYHBWT1D4F8MFH63DBMEN8Y4"]
    assert ok["reservation"]["start_at"] == "2026-12-24T11:30:00Z"
    assert "WAITLISTED" in bookings["b4unknown"]["error"]


def test_toast_order_event_without_a_customer_is_rejected_not_an_empty_guest():
    # issue 23: the shipped profile read details.customer and fell back to the event guid,
    # so every real order event (customer at details.order.checks[].customer) became an
    # empty guest
    mapping = load_mapping(MAPPINGS / "toast_guests.yaml", TAIWAN)
    raw = {
        "timestamp": "2026-11-20T10:00:00.000Z",
        "eventType": "order_updated",
        "guid": "evt-1",
        "details": {"order": {"guid": "o-1", "checks": [{"guid": "c-1", "customer": None}]}},
    }
    with pytest.raises(BadRecordError):
        mapping.apply(raw, source="t", stream="s", external_id=mapping.external_id(raw))


@pytest.mark.parametrize(
    ("profile", "row"),
    [
        (
            "booking_zh_hans.yaml",
            {"姓名": "王小红", "手机": "13800138000", "电子邮箱": "hong@example.cn",
             "预订日期": "2026/12/24", "预订时间": "19:30", "人数": "4"},
        ),
        (
            "booking_zh.yaml",
            {"姓名": "陳小明", "手機": "0912-345-678", "電子郵件": "ming@example.tw",
             "預約日期": "2026/12/24", "預約時間": "19:30", "人數": "4"},
        ),
    ],
)  # fmt: skip
def test_chinese_exports_with_other_headers_and_no_id_column(profile, row):
    """Issue 24: mainland exports write 预订日期/预订时间, some have no booking id, and
    email headers vary; the row's content then gives it a stable id."""
    m = load_mapping(MAPPINGS / profile, Context())
    rid = m.external_id(row)
    rec = m.apply(row, source="pos", stream="bookings", external_id=rid)
    assert rid.startswith("sha256:") and rid == m.external_id(dict(reversed(row.items())))
    assert rec.reservation is not None and rec.reservation.start_at is not None
    assert rec.reservation.start_at.strftime("%Y-%m-%d %H:%M") == "2026-12-24 19:30"
    assert rec.guest.email and rec.guest.phone and rec.guest.family_name in ("王", "陳")
