"""Membership programmes (issue 27): points movements, stated balances, tiers and coupons
per guest, across sources, duplicates, out-of-order arrival, merges and unmerges."""

from __future__ import annotations

import random
from decimal import Decimal

from rich.console import Console

from guestsync.actions import guests as guest_admin
from guestsync.actions import report
from guestsync.actions.forget import forget
from guestsync.actions.report_html import html

from .activity_fixtures import NOW, feed
from .loyalty_fixtures import (
    coupon,
    guest_of,
    hub,
    loyalty_of,
    member,
    move,
    payload,
    statement,
)

ANN = member("1001", "陳美玲", "+886912000001", tier="金卡", since=NOW.replace(year=2025))
BEN = member("1002", "林志明", "+886912000002", tier="銀卡")


def _ledger(no: str, n: int, seed: int) -> list:
    """n movements of one member over the last 300 days: earns, redemptions, an expiry."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choice(["earn", "earn", "earn", "redeem", "expire", "adjust"])
        pts = rng.randint(1, 200) * (-1 if kind == "adjust" and rng.random() < 0.5 else 1)
        out.append(move(f"{no}-{i}", no, kind, pts, rng.uniform(1, 300)))
    return out


def _sum(records: list) -> Decimal:
    return sum((r.points.delta() for r in records), Decimal(0))


def test_movements_before_their_member_are_kept_and_linked_when_the_member_arrives():
    store, targets, st = hub()
    ledger = _ledger("1001", 20, seed=1)
    feed(store, ledger, targets=targets, activity=st)
    assert len(store.all_guest_ids()) == 1  # one member number, one (still nameless) guest
    feed(store, [ANN], targets=targets, activity=st)
    gid = guest_of(store, "club:1001")
    assert store.all_guest_ids() == [gid]
    assert store.get_guest(gid).full_name == "陳美玲"  # type: ignore[union-attr]
    loy = loyalty_of(store, gid)
    assert loy.member and loy.balances == {"club": _sum(ledger)}
    assert loy.tier == "金卡" and loy.tier_basis == "source"
    p = payload(store, gid)
    assert p["gs_tier"] == "金卡" and p["gs_points_balance"] == str(_sum(ledger))


def test_the_same_movement_twice_counts_once_from_a_retry_or_another_channel():
    store, targets, st = hub()
    earn = move("T-1", "1001", "earn", 100, 3)
    feed(store, [ANN, earn, move("T-2", "1001", "redeem", 30, 2)], targets=targets, activity=st)
    # a webhook retry of T-1 with a changed envelope, and the same movement via a CSV export
    again = earn.model_copy(update={"updated_at": NOW})
    feed(store, [again, move("T-1", "1001", "earn", 100, 3, source="app_csv")], activity=st)
    gid = guest_of(store, "club:1001")
    assert loyalty_of(store, gid).balances == {"club": Decimal(70)}
    assert store._one("SELECT count(*) FROM points_movements") == 2


def test_out_of_order_movements_give_the_same_figures_as_in_order():
    ledger = _ledger("1001", 40, seed=7)
    # the source states each balance after the movement, in time order
    ordered = sorted(ledger, key=lambda r: r.points.at)
    running = Decimal(0)
    stated = []
    for r in ordered:
        running += r.points.delta()
        stated.append(
            r.model_copy(update={"points": r.points.model_copy(update={"balance_after": running})})
        )
    results = []
    for seed in (1, 2, 3):
        store, targets, st = hub()
        shuffled = stated[:]
        random.Random(seed).shuffle(shuffled)
        for i in range(0, len(shuffled), 7):  # arriving in small, out-of-order batches
            feed(store, shuffled[i : i + 7], targets=targets, activity=st)
        feed(store, [ANN], targets=targets, activity=st)
        loy = loyalty_of(store, guest_of(store, "club:1001"))
        assert loy.discrepancies == []  # each balance_after agrees with the ledger before it
        results.append((loy.balances, loy.earned_12m, loy.redeemed_12m, loy.last_redemption))
    assert results[0] == results[1] == results[2]
    assert results[0][0] == {"club": running}


def test_a_balance_statement_newer_than_the_ledger_wins_and_the_disagreement_is_reported():
    store, targets, st = hub()
    ledger = [move("E1", "1001", "earn", 500, 40), move("R1", "1001", "redeem", 100, 30)]
    # the app says 350 on day 20 (the ledger says 400), then one more earn on day 10
    feed(store, [ANN, *ledger, statement("1001", 350, 20), move("E2", "1001", "earn", 50, 10)],
         targets=targets, activity=st)  # fmt: skip
    gid = guest_of(store, "club:1001")
    loy = loyalty_of(store, gid)
    assert loy.balances == {"club": Decimal(400)}  # 350 stated + 50 after it
    (d,) = loy.discrepancies
    assert (d.stated, d.ledger, d.member) == (Decimal(350), Decimal(400), "1001")
    shown = guest_admin.profile(store, gid)["membership"]
    assert shown["balance check club:1001"].startswith("stated 350")
    assert store.balance_discrepancies() == 1  # counted in the report
    assert store.points_liability() == {"club": (Decimal(400), 1)}


def test_a_statement_older_than_the_ledger_is_the_base_of_the_movements_after_it():
    store, targets, st = hub()
    feed(store, [ANN, statement("1001", 1000, 50), move("E1", "1001", "earn", 20, 5)],
         targets=targets, activity=st)  # fmt: skip
    loy = loyalty_of(store, guest_of(store, "club:1001"))
    assert loy.balances == {"club": Decimal(1020)} and loy.discrepancies == []


def test_merging_two_members_of_one_programme_adds_balances_keeps_history_and_unmerges():
    store, targets, st = hub()
    a_ledger, b_ledger = _ledger("1001", 12, seed=3), _ledger("1002", 9, seed=4)
    feed(store, [ANN, BEN, *a_ledger, *b_ledger], targets=targets, activity=st)
    ann, ben = guest_of(store, "club:1001"), guest_of(store, "club:1002")
    assert ann != ben
    admin = guest_admin.Admin(store, targets)
    admin.merge(ann, ben)
    loy = loyalty_of(store, ann)
    assert loy.balances == {"club": _sum(a_ledger) + _sum(b_ledger)}
    n = store._one("SELECT count(*) FROM points_movements WHERE guest_id = ?", (ann,))
    assert n == len(a_ledger) + len(b_ledger)  # the history is kept, on the keeper
    assert store.get_loyalty_aggregates(ben) is None  # the guest merged away keeps none
    assert payload(store, ann)["gs_points_balance"] == str(_sum(a_ledger) + _sum(b_ledger))

    admin.unmerge(ann, "app:members:M1002")  # the merge is undone: Ben's records go back
    ben = guest_of(store, "club:1002")
    assert ben != ann
    assert loyalty_of(store, ann).balances == {"club": _sum(a_ledger)}
    assert loyalty_of(store, ben).balances == {"club": _sum(b_ledger)}
    assert loyalty_of(store, ben).tier == "銀卡"


def test_coupons_open_redeemed_expired_rate_and_last_redemption():
    store, targets, st = hub()
    feed(
        store,
        [
            ANN,
            coupon("C1", "1001", "birthday", issued_at=NOW.replace(month=1)),
            coupon("C2", "1001", "winback", issued_at=NOW.replace(month=1),
                   redeemed_at=NOW.replace(month=2), order_ref="B-9"),
            coupon("C3", "1001", "winback", issued_at=NOW.replace(month=1),
                   expires_at=NOW.replace(month=3, day=1)),
        ],
        targets=targets,
        activity=st,
    )  # fmt: skip
    gid = guest_of(store, "club:1001")
    loy = loyalty_of(store, gid)
    assert (loy.open_coupons, loy.redeemed_coupons, loy.expired_coupons) == (1, 1, 1)
    assert loy.coupon_redemption_rate == Decimal("0.3333")
    assert loy.last_redemption == NOW.replace(month=2)
    # the coupon sent again once redeemed: one coupon, now redeemed
    feed(store, [coupon("C1", "1001", "birthday", issued_at=NOW.replace(month=1),
                        redeemed_at=NOW)], targets=targets, activity=st)  # fmt: skip
    loy = loyalty_of(store, gid)
    assert (loy.open_coupons, loy.redeemed_coupons, loy.last_redemption) == (0, 2, NOW)
    assert store.coupons_by_campaign(NOW) == {
        "winback": {"issued": 2, "redeemed": 1, "expired": 1, "open": 0},
        "birthday": {"issued": 1, "redeemed": 1, "expired": 0, "open": 0},
    }
    assert store.members_and_others() == (1, 0)
    assert payload(store, gid)["gs_open_coupons"] == "0"


def test_a_movement_its_source_removed_stops_counting_and_forget_erases_the_programme():
    store, targets, st = hub()
    feed(store, [ANN, move("E1", "1001", "earn", 100, 5), move("E2", "1001", "earn", 40, 4)],
         targets=targets, activity=st)  # fmt: skip
    gid = guest_of(store, "club:1001")
    assert loyalty_of(store, gid).balances == {"club": Decimal(140)}
    voided = move("E2", "1001", "earn", 40, 4).model_copy(update={"deleted": True})
    feed(store, [voided], targets=targets, activity=st)
    assert loyalty_of(store, gid).balances == {"club": Decimal(100)}
    assert payload(store, gid)["gs_points_balance"] == "100"

    forget(store, {}, guest_id=gid)
    for table in ("points_movements", "memberships", "loyalty_aggregates", "tier_events"):
        assert store._one(f"SELECT count(*) FROM {table}") == 0, table


def test_the_report_shows_members_tiers_liability_and_coupons():
    store, targets, st = hub()
    feed(store, [ANN, BEN, move("E1", "1001", "earn", 100, 5), coupon("C1", "1002", "生日禮")],
         targets=targets, activity=st)  # fmt: skip
    rep = report.build(store, now=NOW, tz=st.tz, lang="zh-TW")
    sections = {s.key: s for s in rep.sections}
    assert sections["members"].rows == [["會員", "2"], ["非會員", "0"]]
    by_segment = sections["members-by-segment"]
    assert by_segment.columns[1:] == ["會員", "非會員"]
    assert sum(int(r[1]) for r in by_segment.rows) == 2  # both members, in their segments
    assert all(r[2] == "0" for r in by_segment.rows)
    assert store.members_by_segment() == {s: (n, 0) for s, n in store.guests_by_segment().items()}
    assert sections["tiers"].rows == [["金卡", "1"], ["銀卡", "1"]]
    assert sections["points-liability"].rows == [["club", "100", "1"]]
    assert sections["coupons"].rows == [["生日禮", "1", "0", "0", "1", "0.0 %"]]
    assert sorted(store.tier_changes_since(NOW.replace(day=1))) == [
        ("upgrade", "-", "金卡", 1),
        ("upgrade", "-", "銀卡", 1),
    ]
    console = Console(record=True, width=120)
    report.render(rep, console)
    text = console.export_text()
    assert "點數負債" in text and "生日禮" in text and "升等" in text
    page = html(rep)
    assert "各活動優惠券使用率" in page and "club" in page


def test_a_ledger_starting_mid_way_opens_at_its_first_balance_and_a_wrong_one_is_reported():
    store, targets, st = hub()
    recs = [
        move("E1", "1001", "earn", 100, 9, balance_after=Decimal(600)),  # opened at 500
        move("E2", "1001", "earn", 50, 8, balance_after=Decimal(700)),  # 650 by the ledger
        move("R1", "1001", "redeem", 200, 7),
    ]
    feed(store, [ANN, *recs], targets=targets, activity=st)
    loy = loyalty_of(store, guest_of(store, "club:1001"))
    assert loy.balances == {"club": Decimal(500)}  # 700 stated, less the 200 redeemed after
    assert [(d.stated, d.ledger) for d in loy.discrepancies] == [(Decimal(700), Decimal(650))]
