"""`membership.refresh` computes the figures of guests with no loyalty rows once per
kind and shares them: each guest must still get what `loyalty.compute` gives it alone,
tiers by rule (with their per-guest `tier_since`) included."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from guestsync.config.crm import CrmConfig
from guestsync.models import Guest, PointsKind
from guestsync.restaurant import loyalty, membership
from guestsync.restaurant.aggregates import Aggregates
from guestsync.store.loyalty import LoyaltyActivity, MovementRow

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CRM = CrmConfig.model_validate({"tiers": {"rules": {"vip": {"spend_12m": 1000}}}})


class FakeStore:
    def __init__(self, acts: dict[str, LoyaltyActivity], before: dict[str, Any]) -> None:
        self.acts, self.before = acts, before
        self.rows: list[tuple[str, str, str | None, str | None, bool]] = []
        self.events: list[Any] = []

    def loyalty_activities(self, ids: Sequence[str]) -> dict[str, LoyaltyActivity]:
        return {g: self.acts.get(g, LoyaltyActivity()) for g in ids}

    def loyalty_tiers(self, ids: Sequence[str]) -> dict[str, Any]:
        return {g: self.before[g] for g in ids if g in self.before}

    def save_loyalty_aggregates(self, rows: Any, stamp: str) -> None:
        self.rows += rows

    def add_tier_events(self, rows: Any) -> None:
        self.events += rows

    def recheck_no_later_than(self, days: Any) -> None:
        pass


def test_guests_without_loyalty_rows_get_their_own_figures() -> None:
    spend = {"a": "0", "b": "0", "c": "1500", "d": "1500", "e": "0", "f": "0", "g": "2000"}
    aggs = {g: Aggregates(spend_12m=Decimal(s)) for g, s in spend.items()}
    goldens = {g: Guest(id=g, loyalty_ids=["club:1"] if g in "ef" else []) for g in spend}
    moves = [MovementRow("club", "1", PointsKind.earn, Decimal(5), None, NOW, "m1")]
    acts = {"f": LoyaltyActivity(movements=moves)}
    before = {"d": ("vip", "2026-01-02"), "b": ("vip", "2026-01-02")}
    store = FakeStore(acts, before)
    out = membership.refresh(store, aggs, goldens, now=NOW, tz=UTC, crm=CRM)  # type: ignore[arg-type]
    saved = {r[0]: r for r in store.rows}
    for g in spend:
        alone = loyalty.compute(
            goldens[g], acts.get(g, LoyaltyActivity()), aggs[g], now=NOW, tz=UTC, crm=CRM
        )
        if alone.tier is not None:  # as refresh dates it
            was, since = before.get(g, (None, None))
            alone.tier_since = datetime.fromisoformat(since).date() if was else NOW.date()
        assert out[g] == alone, g
        assert saved[g][1] == alone.model_dump_json(), g
    assert out["c"].tier_since == NOW.date() and out["d"].tier_since.isoformat() == "2026-01-02"
    assert out["c"] is not out["d"]  # a tier is never shared
    assert out["a"] is out["b"] and out["e"] is not out["a"]  # member or not
    assert [(e[0], e[2], e[3]) for e in store.events] == [
        ("b", "vip", None),
        ("c", None, "vip"),
        ("g", None, "vip"),
    ]
