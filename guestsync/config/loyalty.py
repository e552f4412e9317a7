"""`crm.tiers`: member tiers by rule, for groups whose POS or loyalty app has none.

```yaml
crm:
  tiers:
    rules:                     # in order; the first rule whose conditions all hold wins
      vip:    {spend_12m: 30000}          # spend in `crm.currency`, last 12 months
      senior: {visits_12m: 6}             # visits in the last 12 months
      member: {}                          # no condition: everyone else (optional)
    prefer_stated: true        # a tier a source states (a membership) wins over the rules
    order: [vip, senior, member]   # highest first: upgrade or downgrade (default: the rules)
    programme: ocard           # the programme whose balance is `points_balance`
```

The last 12 months are the 365 local days ending today (`defaults.timezone`); a
condition holds at its threshold (`spend_12m: 30000` holds at exactly 30000). Rules may
also be a list (`- {tier: vip, spend_12m: 30000}`), which lets one tier have two rules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from .base import Options

WINDOW_DAYS = 365  # "12 months" of spend_12m, visits_12m, points_12m


class TierRule(Options):
    tier: str = Field(min_length=1)
    spend_12m: Decimal | None = Field(default=None, ge=0, description="Spend at least this.")
    visits_12m: int | None = Field(default=None, ge=0, description="Visits at least this.")
    points_12m: Decimal | None = Field(
        default=None, ge=0, description="Points earned at least this."
    )


class TiersConfig(Options):
    rules: list[TierRule] = Field(default_factory=list)
    prefer_stated: bool = Field(
        default=True, description="A tier a source states wins over the rules."
    )
    order: list[str] = Field(
        default_factory=list, description="Tier names, highest first (default: the rules')."
    )
    programme: str | None = Field(
        default=None, description="The programme whose balance is points_balance."
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _mapping_form(cls, v: Any) -> Any:
        """`{vip: {spend_12m: 30000}}` (ordered as written) is `[{tier: vip, ...}]`."""
        if isinstance(v, dict):
            return [{"tier": k, **(c or {})} for k, c in v.items()]
        return v

    def rank(self) -> list[str]:
        """Tier names, highest first."""
        return self.order or list(dict.fromkeys(r.tier for r in self.rules))
