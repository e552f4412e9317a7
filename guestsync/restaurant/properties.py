"""Which guestsync values go to which CRM property, per target.

A target's own `project(guest)` builds the contact (names, email, phone…). On top of it
the engine adds the computed values (aggregates, segment, consent) under the property
names configured in `crm.properties.<target>`, or the defaults for the target's type
below. Because they are part of the payload, they are part of its hash: a guest whose
segment changes is pushed again; one whose values did not change is not.

A property name with a dot nests (`custom_fields.visits` -> {"custom_fields": {"visits": …}})
for CRMs that keep custom values in an object.

The custom properties the defaults need must exist in the CRM first: `guestsync targets
setup --print` lists them (and `--create` creates them in HubSpot).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..config.crm import VALUES


def _title(name: str) -> str:
    return "_".join(w.capitalize() for w in name.split("_"))


# Values the hub computes (aggregates.py): an empty one clears the CRM property.
AGGREGATE_VALUES = frozenset(list(VALUES)[list(VALUES).index("segment") :]) - {
    n for n in VALUES if "_opt_" in n or "_consent_" in n
}

_COMPUTED = (
    "segment",
    "first_visit",
    "last_visit",
    "visit_count",
    "covers",
    "total_spend",
    "average_spend",
    "spend_currency",
    "no_show_count",
    "no_show_rate",
    "cancellation_count",
    "favourite_items",
    "preferred_weekday",
    "preferred_time_slot",
    "average_rating",
    "last_feedback",
    "upcoming_birthday",
    "upcoming_anniversary",
    "allergies",
    "anniversary",
    # membership (loyalty.py)
    "tier",
    "tier_since",
    "points_balance",
    "open_coupons",
    "last_redemption",
)

# HubSpot: all custom contact properties (platform-apis.md §4.3: visits, spend, allergies,
# anniversary are custom properties ✅). HubSpot's own opt-out lives in its subscription
# API, not a contact property (❓ in §4.3), so consent goes to custom properties too.
HUBSPOT = {f"gs_{v}": v for v in _COMPUTED} | {
    "gs_email_opt_in": "email_opt_in",
    "gs_sms_opt_in": "sms_opt_in",
}
# Salesforce Contact: custom fields end in __c. `HasOptedOutOfEmail` is a standard Contact
# field, but whether an integration user may write it is ❓ in §4.3: one place to change.
SALESFORCE = {f"GS_{_title(v)}__c": v for v in _COMPUTED} | {
    "HasOptedOutOfEmail": "email_opt_out",
    "GS_Sms_Opt_In__c": "sms_opt_in",
}
# Zoho Contacts: `Email_Opt_Out` is a standard field ✅ (§4.3); the rest are custom fields.
ZOHO = {f"GS_{_title(v)}": v for v in _COMPUTED} | {
    "Email_Opt_Out": "email_opt_out",
    "GS_Sms_Opt_In": "sms_opt_in",
}
# BottleCRM contacts keep org-defined values in `custom_fields{}` ✅ (§4.3); keys the org
# has not defined (Settings > Custom fields, target Contact) are dropped by the CRM, not
# refused, so these defaults are harmless until the fields exist. `do_not_call` is about
# calls, not email or SMS marketing: consent goes to custom fields too.
BOTTLECRM = {f"custom_fields.gs_{v}": v for v in _COMPUTED} | {
    "custom_fields.gs_email_opt_in": "email_opt_in",
    "custom_fields.gs_sms_opt_in": "sms_opt_in",
}
DEFAULTS: dict[str, dict[str, str]] = {
    "hubspot": HUBSPOT,
    "salesforce": SALESFORCE,
    "zoho": ZOHO,
    "bottlecrm": BOTTLECRM,
}
# Standard fields of each CRM that `targets setup` must not try to create.
STANDARD: dict[str, set[str]] = {
    "hubspot": set(),
    "salesforce": {"HasOptedOutOfEmail"},
    "zoho": {"Email_Opt_Out"},
    "bottlecrm": set(),
}
# Types whose API wants every property value as a string (HubSpot ✅ §1.1 example).
STRING_VALUED = {"hubspot"}
# Longest text the field type `targets setup` lists can hold: Salesforce Text(255), Zoho
# Single Line (255). A longer value (a long last comment) would fail the whole record
# (Salesforce STRING_TOO_LONG), so it is cut, ending in "…".
TEXT_LIMIT = {"salesforce": 255, "zoho": 255}


def property_map(
    target_name: str, target_type: str | None, configured: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """CRM property -> value name for one target: its `crm.properties` entry, else the
    defaults of its type, else nothing."""
    if target_name in configured:
        return dict(configured[target_name])
    return dict(DEFAULTS.get(target_type or "", {}))


def _format(value: Any, *, as_string: bool) -> Any:
    if isinstance(value, bool):
        return ("true" if value else "false") if as_string else value
    if isinstance(value, Decimal):
        if as_string:
            return format(value, "f")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, int | float) and as_string:
        return str(value)
    return value


def properties(
    props: Mapping[str, str], view: Mapping[str, Any], *, target_type: str | None
) -> dict[str, Any]:
    """The CRM properties of one guest from its flat `view` (see `hooks.guest_view`).

    An empty computed value is sent as a clear ("" for HubSpot, where "" clears a
    property ✅ platform-apis.md §1.1; null elsewhere): a birthday no longer "upcoming"
    must disappear from the CRM, not linger from the last push. Empty guest fields and
    unknown consent are left out, as `project()` does: the hub never clears what it does
    not know (an unknown consent must not overwrite an opt-out made in the CRM).
    """
    as_string = (target_type or "") in STRING_VALUED
    limit = TEXT_LIMIT.get(target_type or "")
    empty = "" if as_string else None
    out: dict[str, Any] = {}
    for prop, name in props.items():
        v = view.get(name)
        if v is None or v == "" or v == []:
            if name not in AGGREGATE_VALUES:
                continue
            v = empty
        elif type(v) is not str:  # a str is sent as it is (most values: no call)
            v = _format(v, as_string=as_string)
        if limit and isinstance(v, str) and len(v) > limit:
            v = v[: limit - 1] + "…"
        if "." in prop:  # nested: custom_fields.gs_visits
            _put(out, prop, v)
        else:
            out[prop] = v
    return out


def _put(out: dict[str, Any], dotted: str, value: Any) -> None:
    if "." not in dotted:  # most properties: no nesting to walk
        out[dotted] = value
        return
    head, _, rest = dotted.partition(".")
    if not rest:
        out[head] = value
        return
    sub = out.setdefault(head, {})
    if isinstance(sub, dict):
        _put(sub, rest, value)


def merge(payload: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`payload` with `extra` laid over it (nested dicts merged, not replaced)."""
    out = {**payload, **extra}
    for k in payload.keys() & extra.keys():  # only a key both have may nest (most: none)
        if isinstance(v := extra[k], dict) and isinstance(payload[k], dict):
            out[k] = merge(payload[k], v)
    return out
