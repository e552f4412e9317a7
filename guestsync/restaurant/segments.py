"""RFM segments: recency (days since the last visit or order), frequency (visits plus
takeout/delivery orders) and money (total spend in `crm.currency`).

The first rule that matches wins; thresholds come from `crm.segments` in guestsync.yaml
(defaults in brackets):

| segment   | rule                                                                  |
|-----------|-----------------------------------------------------------------------|
| prospect  | no visit and no order yet (only bookings, cancellations, no-shows)    |
| lapsed    | last activity more than `lapsed_days` ago [180]                       |
| new       | first activity within `new_days` [30]                                 |
| at_risk   | at least `regular_visits` [2], last one more than `at_risk_days` [60] |
| vip       | at least `vip_visits` [10], or spend >= `vip_spend` [off]             |
| one_time  | exactly one visit or order                                            |
| regular   | at least `regular_visits` [2], seen within `at_risk_days`             |
| occasional| anything else (only if `regular_visits` > 2)                          |
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..config.crm import SegmentThresholds

SEGMENTS = (
    "vip",
    "regular",
    "new",
    "at_risk",
    "lapsed",
    "one_time",
    "occasional",
    "prospect",
)


def segment_for(
    *,
    frequency: int,
    first_activity: date | None,
    last_activity: date | None,
    spend: Decimal,
    today: date,
    t: SegmentThresholds,
) -> str:
    if frequency == 0 or last_activity is None or first_activity is None:
        return "prospect"
    recency = (today - last_activity).days
    if recency > t.lapsed_days:
        return "lapsed"
    if (today - first_activity).days <= t.new_days:
        return "new"
    if frequency >= t.regular_visits and recency > t.at_risk_days:
        return "at_risk"
    if frequency >= t.vip_visits or (t.vip_spend is not None and spend >= t.vip_spend):
        return "vip"
    if frequency == 1:
        return "one_time"
    if frequency >= t.regular_visits:
        return "regular"
    return "occasional"
