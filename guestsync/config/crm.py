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
```
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..restaurant.properties import VALUES


class SegmentThresholds(BaseModel):
    """RFM segments, first rule that matches wins (see `segments.py`)."""

    model_config = ConfigDict(extra="forbid")
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


class PrivacyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mask_logs: bool = Field(default=True, description="Mask emails and phones in log lines.")


class CrmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Field(default="TWD", min_length=3, max_length=3)
    upcoming_days: int = Field(default=14, ge=0, le=366)
    segments: SegmentThresholds = Field(default_factory=SegmentThresholds)
    properties: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per target name: CRM property -> value name. Replaces the target"
        " type's default set; `{}` sends no computed properties.",
    )
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)

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
