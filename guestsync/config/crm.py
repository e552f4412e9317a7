"""The `crm:` block of guestsync.yaml: segment thresholds, property mapping per target,
consent and privacy settings. Pure pydantic, so the config validates without the engine.

```yaml
crm:
  currency: TWD            # orders without a currency; RFM money is counted in this one
  upcoming_days: 14        # "birthday within N days"
  segments:                # RFM thresholds (days since last visit/order, visits, spend)
    new_days: 30
    at_risk_days: 60
    lapsed_days: 180
    regular_visits: 2
    vip_visits: 10
    vip_spend: 30000       # optional: total spend in `currency` that also makes a VIP
  properties:              # per target name: CRM property -> guestsync value (see below)
    hubspot:
      gs_segment: segment
      gs_visits: visit_count
  privacy:
    mask_logs: true
  tiers:                   # member tiers by rule (config/loyalty.py)
    rules: {vip: {spend_12m: 30000}, senior: {visits_12m: 6}}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import Field, field_validator

from .base import Options
from .loyalty import TiersConfig

# Every value a CRM property can be filled from (`crm.properties`), with its kind and
# label. Kinds map to CRM field types in `actions/crm_setup.py`: string, number, date,
# datetime, bool.


@dataclass(frozen=True)
class Value:
    kind: str
    label: str


VALUES: dict[str, Value] = {
    # canonical guest fields
    "full_name": Value("string", "Full name"),
    "given_name": Value("string", "First name"),
    "family_name": Value("string", "Last name"),
    "email": Value("string", "Email"),
    "phone": Value("string", "Phone"),
    "birthday": Value("date", "Birthday"),
    "anniversary": Value("date", "Anniversary"),
    "language": Value("string", "Language"),
    "tags": Value("string", "Tags"),
    "dietary_notes": Value("string", "Dietary notes"),
    "allergies": Value("string", "Allergies"),
    "notes": Value("string", "Notes"),
    "address": Value("string", "Address"),
    "loyalty_ids": Value("string", "Loyalty numbers"),
    # aggregates (aggregates.py)
    "segment": Value("string", "Guest segment"),
    "first_visit": Value("date", "First visit"),
    "last_visit": Value("date", "Last visit"),
    "visit_count": Value("number", "Visits"),
    "covers": Value("number", "Covers"),
    "order_count": Value("number", "Orders"),
    "total_spend": Value("number", "Total spend"),
    "average_spend": Value("number", "Average spend per order"),
    "spend_currency": Value("string", "Spend currency"),
    "spend_by_currency": Value("string", "Spend by currency"),
    "reservation_count": Value("number", "Reservations"),
    "no_show_count": Value("number", "No-shows"),
    "no_show_rate": Value("number", "No-show rate"),
    "cancellation_count": Value("number", "Cancellations"),
    "cancellation_rate": Value("number", "Cancellation rate"),
    "favourite_items": Value("string", "Favourite dishes"),
    "preferred_weekday": Value("string", "Preferred weekday"),
    "preferred_time_slot": Value("string", "Preferred time slot"),
    "average_rating": Value("number", "Average rating"),
    "last_rating": Value("number", "Last rating"),
    "last_feedback": Value("string", "Last feedback"),
    "last_feedback_at": Value("datetime", "Last feedback at"),
    "upcoming_birthday": Value("date", "Upcoming birthday"),
    "upcoming_anniversary": Value("date", "Upcoming anniversary"),
    # consent (consent.py): the effective state per channel
    "email_opt_in": Value("bool", "Email marketing opt-in"),
    "email_opt_out": Value("bool", "Email marketing opt-out"),
    "email_consent_at": Value("datetime", "Email consent changed at"),
    "email_consent_source": Value("string", "Email consent source"),
    "sms_opt_in": Value("bool", "SMS marketing opt-in"),
    "sms_opt_out": Value("bool", "SMS marketing opt-out"),
    "sms_consent_at": Value("datetime", "SMS consent changed at"),
    # membership programmes (restaurant/loyalty.py)
    "spend_12m": Value("number", "Spend in the last 12 months"),
    "visits_12m": Value("number", "Visits in the last 12 months"),
    "is_member": Value("bool", "Member of a programme"),
    "tier": Value("string", "Member tier"),
    "tier_since": Value("date", "Tier since"),
    "points_balance": Value("number", "Points balance"),
    "points_by_programme": Value("string", "Points by programme"),
    "points_earned_12m": Value("number", "Points earned in the last 12 months"),
    "points_redeemed_12m": Value("number", "Points redeemed in the last 12 months"),
    "open_coupons": Value("number", "Open coupons"),
    "redeemed_coupons": Value("number", "Redeemed coupons"),
    "expired_coupons": Value("number", "Expired coupons"),
    "coupon_redemption_rate": Value("number", "Coupon redemption rate"),
    "last_redemption": Value("datetime", "Last redemption"),
}


class SegmentThresholds(Options):
    """RFM segments, first rule that matches wins (see `segments.py`)."""

    new_days: int = Field(default=30, ge=0, description="First visit within N days: new.")
    at_risk_days: int = Field(
        default=60, ge=1, description="A repeat guest not seen for N days: at_risk."
    )
    lapsed_days: int = Field(default=180, ge=1, description="Not seen for N days: lapsed.")
    regular_visits: int = Field(default=2, ge=2, description="Visits (or orders) for regular.")
    vip_visits: int = Field(default=10, ge=2, description="Visits (or orders) for vip.")
    vip_spend: Decimal | None = Field(
        default=None, ge=0, description="Total spend in `crm.currency` that also makes a vip."
    )


class PrivacyConfig(Options):
    mask_logs: bool = Field(default=True, description="Mask emails and phones in log lines.")


class CrmConfig(Options):
    currency: str = Field(default="TWD", min_length=3, max_length=3)
    upcoming_days: int = Field(default=14, ge=0, le=366)
    segments: SegmentThresholds = Field(default_factory=SegmentThresholds)
    properties: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per target name: CRM property -> value name. Replaces the target"
        " type's default set; `{}` sends no computed properties.",
    )
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    tiers: TiersConfig = Field(default_factory=TiersConfig)

    @field_validator("currency")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()

    @field_validator("properties")
    @classmethod
    def _known_values(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for target, props in v.items():
            for prop, value in props.items():
                if value not in VALUES:
                    raise ValueError(
                        f"{target}.{prop}: unknown value {value!r}; valid values: "
                        + ", ".join(sorted(VALUES))
                    )
        return v
