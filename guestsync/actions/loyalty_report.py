"""The membership part of `guestsync report`: members and non-members, guests per tier,
tier changes this month, points liability (outstanding balances), coupon redemption by
campaign, and how many stated balances disagree with their ledger. `report.py` calls
`build()` and puts `render()` / `html()` after its own sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape

from rich.console import Console
from rich.table import Table

from ..store import Store


@dataclass
class LoyaltyFigures:
    members: int = 0
    non_members: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    tier_changes: list[tuple[str, str, str, int]] = field(default_factory=list)
    liability: dict[str, tuple[Decimal, int]] = field(default_factory=dict)
    coupons: dict[str, dict[str, int]] = field(default_factory=dict)
    discrepancies: int = 0

    @property
    def empty(self) -> bool:
        return not (self.members or self.tiers or self.coupons)


def build(store: Store, *, now: datetime, month_start: datetime) -> LoyaltyFigures:
    members, others = store.members_and_others()
    return LoyaltyFigures(
        members=members,
        non_members=others,
        tiers=store.guests_by_tier(),
        tier_changes=store.tier_changes_since(month_start),
        liability=store.points_liability(),
        coupons=store.coupons_by_campaign(now),
        discrepancies=store.balance_discrepancies(),
    )


def redemption_rate(c: dict[str, int]) -> float | None:
    return c["redeemed"] / c["issued"] if c["issued"] else None


_NUMBERS = {"guests", "points", "members", "issued", "redeemed", "expired", "open", "rate"}


def _rows(f: LoyaltyFigures) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, columns, rows) of each table, shared by the terminal and the HTML page."""
    coupons = []
    for k, c in f.coupons.items():
        r = redemption_rate(c)
        counts = [str(c[x]) for x in ("issued", "redeemed", "expired", "open")]
        coupons.append([k, *counts, "n/a" if r is None else f"{r * 100:.1f} %"])
    members = [["members", str(f.members)], ["non-members", str(f.non_members)]]
    return [
        ("Members", ["", "guests"], members),
        ("Guests by tier", ["tier", "guests"], [[t, str(n)] for t, n in f.tiers.items()]),
        (
            "Tier changes this month",
            ["change", "from", "to", "guests"],
            [[d, a, b, str(n)] for d, a, b, n in f.tier_changes],
        ),
        (
            "Points liability (outstanding balances)",
            ["programme", "points", "members"],
            [[p, str(v), str(n)] for p, (v, n) in f.liability.items()],
        ),
        (
            "Coupon redemption by campaign",
            ["campaign", "issued", "redeemed", "expired", "open", "rate"],
            coupons,
        ),
    ]


def render(f: LoyaltyFigures, console: Console) -> None:
    if f.empty:
        return
    for title, cols, rows in _rows(f):
        tab = Table(title=title)
        for col in cols:
            tab.add_column(col, justify="right" if col in _NUMBERS else "left")
        for row in rows:
            tab.add_row(*row)
        console.print(tab)
    if f.discrepancies:
        console.print(
            f"{f.discrepancies} member(s) with a stated balance that disagrees with their"
            " points ledger: see `guestsync guests show`"
        )


def html(f: LoyaltyFigures) -> str:
    if f.empty:
        return ""
    parts = []
    for title, cols, rows in _rows(f):
        head = "".join(f"<th>{escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>"
            + "".join(f"<td{' class=n' if i else ''}>{escape(v)}</td>" for i, v in enumerate(row))
            + "</tr>"
            for row in rows
        )
        parts.append(f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>")
    if f.discrepancies:
        parts.append(
            f'<p class="muted">{f.discrepancies} member(s) with a stated balance that'
            " disagrees with their points ledger.</p>"
        )
    return "".join(parts)
