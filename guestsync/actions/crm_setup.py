"""The custom CRM properties the property mapping needs, and creating them (HubSpot, BottleCRM).

`guestsync targets setup --print` lists, per target, every property the mapping writes
that the CRM does not have out of the box, with the type to create it as. HubSpot lets an
integration create contact properties (POST /crm/v3/properties/contacts, scope
`crm.schemas.contacts.write`; https://developers.hubspot.com/docs/api/crm/properties), so
`--create` does it there and in BottleCRM; Salesforce, Zoho and Fxiaoke custom fields are created
in their setup pages (the list says with which type).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..config import Config
from ..config.crm import VALUES
from ..connectors.http import HttpClient
from ..errors import AuthError, PermanentError
from ..restaurant.properties import DEFAULTS, STANDARD, property_map

HUBSPOT_PROPERTIES = "/crm/v3/properties/contacts"
HUBSPOT_GROUP = "contactinformation"  # the default contact property group

# Field type to create, per CRM and value kind.
FIELD_TYPES: dict[str, dict[str, str]] = {
    "hubspot": {
        "string": "string/text",
        "number": "number/number",
        "date": "date/date",
        "datetime": "datetime/date",
        "bool": "enumeration/booleancheckbox",
    },
    "salesforce": {
        "string": "Text(255)",
        "number": "Number(16, 2)",
        "date": "Date",
        "datetime": "Date/Time",
        "bool": "Checkbox",
    },
    "zoho": {
        "string": "Single Line",
        "number": "Decimal",
        "date": "Date",
        "datetime": "Date/Time",
        "bool": "Boolean",
    },
    # BottleCRM custom field types (Settings > Custom fields, target Contact).
    "bottlecrm": {
        "string": "text",
        "number": "number",
        "date": "date",
        "datetime": "text",
        "bool": "checkbox",
    },
    # 对象管理 field types (Fxiaoke custom fields end in __c; names unverified, §4.3 ❓).
    "fxiaoke": {
        "string": "单行文本",
        "number": "数字",
        "date": "日期",
        "datetime": "日期时间",
        "bool": "布尔值",
    },
}

DEFAULTS_TYPES = frozenset(DEFAULTS)

# Where a target type keeps the guestsync id, if in a field someone must create first:
# (options attribute, field type to create it as). Others need no custom field for it:
# HubSpot's `id_property` is listed apart (it can be created for you), BottleCRM keeps the
# id in its own `source_ref`, Kingdee in the customer number (FNumber = prefix + id),
# and a REST CRM's fields are whatever its API accepts.
ID_FIELDS: dict[str, tuple[str, str]] = {
    "salesforce": ("external_id_field", "Text(255), External ID + Unique"),
    "zoho": ("id_field", "Single Line, Do not allow duplicate values"),
    "fxiaoke": ("id_field", "单行文本 (custom field)"),
}
NO_CUSTOM_FIELDS: dict[str, str] = {
    "kingdee": "none needed: the guest id is in the customer number (FNumber)",
    "rest": "none needed: the request templates name the CRM's fields",
}


@dataclass(frozen=True)
class PropertySpec:
    target: str
    target_type: str
    name: str  # the CRM property / field API name
    label: str
    kind: str  # string | number | date | datetime | bool
    value: str  # the guestsync value it holds
    unique: bool = False

    field_type_override: str | None = None

    @property
    def field_type(self) -> str:
        if self.field_type_override:
            return self.field_type_override
        return FIELD_TYPES.get(self.target_type, {}).get(self.kind, self.kind)


def required(config: Config, targets: list[str] | None = None) -> list[PropertySpec]:
    """Custom properties each target needs (standard CRM fields are left out)."""
    out: list[PropertySpec] = []
    for name, opts in config.targets.items():
        if targets and name not in targets:
            continue
        ttype = opts.type
        id_prop = getattr(opts, "id_property", None)
        if ttype == "hubspot" and id_prop:
            out.append(
                PropertySpec(name, ttype, id_prop, "guestsync id", "string", "id", unique=True)
            )
        if ttype == "hubspot":
            # Not a default property of every portal: the target leaves it out where the
            # portal lacks it (connectors/hubspot.py), so birthdays reach HubSpot only once
            # it exists; `--create` answers "exists" where it does.
            out.append(
                PropertySpec(name, ttype, "date_of_birth", "Date of birth", "date", "birthday")
            )
        if ttype in ID_FIELDS:
            attr, ftype = ID_FIELDS[ttype]
            out.append(
                PropertySpec(
                    name,
                    ttype,
                    getattr(opts, attr),
                    "guestsync id",
                    "string",
                    "id",
                    unique=True,
                    field_type_override=ftype,
                )
            )
        for prop, value in property_map(name, ttype, config.crm.properties).items():
            if prop in STANDARD.get(ttype, set()):
                continue
            v = VALUES[value]
            if ttype == "bottlecrm":  # the custom field's key, as created in the CRM
                prop = prop.removeprefix("custom_fields.")
            out.append(PropertySpec(name, ttype, prop, f"{v.label} (guestsync)", v.kind, value))
    return out


def unlisted(
    config: Config, specs: list[PropertySpec], targets: list[str] | None = None
) -> dict[str, str]:
    """target -> why `required()` lists nothing for it (so `--print` says so plainly)."""
    listed = {s.target for s in specs}
    out: dict[str, str] = {}
    for name, opts in config.targets.items():
        if (targets and name not in targets) or name in listed:
            continue
        out[name] = NO_CUSTOM_FIELDS.get(
            opts.type, "none needed: the property mapping for this target is empty"
        ) + (
            ""
            if name in config.crm.properties or opts.type in DEFAULTS_TYPES
            else f"; to send visits, segment, consent… add crm.properties.{name}"
        )
    return out


def notes(config: Config, targets: list[str] | None = None) -> dict[str, str]:
    """target -> a setting to change before the first push (printed by `--print`).

    Zoho matches an upsert only on `duplicate_check_fields`; when the list leaves out the
    system field Email, only the listed fields are checked (Zoho upsert docs,
    https://www.zoho.com/crm/developer/docs/api/v8/upsert-records.html), so a contact that
    already has the guest's email gets a duplicate instead of our id."""
    out: dict[str, str] = {}
    for name, opts in config.targets.items():
        if (targets and name not in targets) or opts.type != "zoho":
            continue
        fields = getattr(opts, "duplicate_check_fields", None) or [opts.id_field]
        if "Email" not in fields:
            out[name] = (
                f"note: duplicate_check_fields is {fields}: add Email "
                f"(duplicate_check_fields: [{', '.join(fields)}, Email]), else a contact that "
                "already has the guest's email is duplicated, not updated"
            )
    return out


def hubspot_definition(spec: PropertySpec) -> dict[str, Any]:
    """The body of POST /crm/v3/properties/contacts for one property."""
    ptype, field_type = FIELD_TYPES["hubspot"][spec.kind].split("/")
    body: dict[str, Any] = {
        "name": spec.name,
        "label": spec.label,
        "type": ptype,
        "fieldType": field_type,
        "groupName": HUBSPOT_GROUP,
        "description": f"Written by guestsync: {spec.value}",
    }
    if spec.kind == "bool":
        body["options"] = [
            {"label": "Yes", "value": "true", "displayOrder": 0},
            {"label": "No", "value": "false", "displayOrder": 1},
        ]
    if spec.unique:
        body["hasUniqueValue"] = True
    return body


def create_hubspot(
    options: Any, specs: list[PropertySpec], *, session: requests.Session | None = None
) -> Mapping[str, str]:
    """Create each property; returns name -> "created" | "exists" | error message."""
    http = HttpClient(
        str(options.base_url),
        target="hubspot",
        headers={"Authorization": f"Bearer {options.token.get_secret_value()}"},
        timeout=options.timeout,
        session=session,
    )
    out: dict[str, str] = {}
    for spec in specs:
        try:
            http.request("POST", HUBSPOT_PROPERTIES, json=hubspot_definition(spec))
            out[spec.name] = "created"
        except AuthError:
            raise  # a token without the schema scope fails every property alike
        except PermanentError as exc:
            # 409 Conflict: a property of that name exists already (HubSpot error docs).
            out[spec.name] = "exists" if getattr(exc, "status", None) == 409 else str(exc)
    return out


# BottleCRM (django-crm 1.35) custom field definitions: GET lists them, POST creates one
# (org admins only; a personal access token needs the `custom-fields:write` scope, or no
# scope list at all). Read from the installed django-crm's common/views/custom_field_views.py.
BOTTLECRM_FIELDS = "/api/custom-fields/"


def create_bottlecrm(
    options: Any, specs: list[PropertySpec], *, session: requests.Session | None = None
) -> Mapping[str, str]:
    """Define each custom field on Contact; returns key -> "created" | "exists" | error."""
    http = HttpClient(
        str(options.base_url),
        target="bottlecrm",
        headers={"Authorization": f"Bearer {options.token.get_secret_value()}"},
        timeout=options.timeout,
        session=session,
    )
    listed = http.request(
        "GET",
        BOTTLECRM_FIELDS,
        params={"target_model": "Contact", "include_counts": "false"},
    ).json()
    have = {d.get("key") for d in listed.get("definitions") or []}
    out: dict[str, str] = {}
    for spec in specs:
        if spec.name in have:
            out[spec.name] = "exists"
            continue
        body = {
            "target_model": "Contact",
            "key": spec.name,
            "label": spec.label[:128],
            "field_type": spec.field_type,
        }
        try:
            http.request("POST", BOTTLECRM_FIELDS, json=body)
            out[spec.name] = "created"
        except AuthError:
            raise
        except PermanentError as exc:
            out[spec.name] = str(exc)
    return out
