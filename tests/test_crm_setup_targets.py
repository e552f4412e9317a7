"""`guestsync targets setup --print` for every target type: the custom fields each needs
(property mapping defaults and the field that holds the guestsync id), or plainly none."""

from __future__ import annotations

from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.restaurant.properties import HUBSPOT, SALESFORCE, ZOHO, properties

CONFIG = """\
store: {path: hub.db}
targets:
  hs: {type: hubspot, token: t, base_url: "http://hubspot.test"}
  sf:
    type: salesforce
    client_id: cid
    client_secret: s
    refresh_token: r
  zo: {type: zoho, client_id: cid, client_secret: s, refresh_token: r}
  bottle: {type: bottlecrm, base_url: "http://crm.test", token: t}
  fxk:
    type: fxiaoke
    app_id: FSAID_test
    app_secret: s
    permanent_code: p
    open_user_id: FSUID_admin
  kd:
    type: kingdee
    server_url: "http://kd.test/k3cloud/"
    acct_id: a
    user_name: u
    app_id: "224466_X"
    app_secret: s
  api:
    type: rest
    base_url: "http://api.test"
    upsert: {path: /contacts}
"""


def _lines(make_config) -> dict[str, list[str]]:
    cfg = make_config(CONFIG)
    result = CliRunner().invoke(cli, ["-c", str(cfg), "targets", "setup", "--print"])
    assert result.exit_code == 0, result.output
    out: dict[str, list[str]] = {}
    for line in result.output.splitlines()[1:]:
        name, _, rest = line.partition(" ")
        out.setdefault(name, []).append(rest.strip())
    return out


def test_print_lists_every_configured_target(make_config):
    lines = _lines(make_config)
    assert set(lines) == {"hs", "sf", "zo", "bottle", "fxk", "kd", "api"}
    sf = "\n".join(lines["sf"])
    assert "GS_Visit_Count__c" in sf and "GS_Segment__c" in sf and "Number(16, 2)" in sf
    assert "HasOptedOutOfEmail" not in sf  # a standard Contact field: nothing to create
    assert "(unique)" in sf and "External ID" in sf  # the guestsync id field
    zo = "\n".join(lines["zo"])
    assert "GS_Visit_Count" in zo and "Email_Opt_Out" not in zo
    assert "Do not allow duplicate values" in zo
    assert any(x.startswith("gs_visit_count") for x in lines["hs"])
    assert any("guestsync_id__c (unique)" in x for x in lines["fxk"])
    bottle = "\n".join(lines["bottle"])  # custom_fields{} keys, BottleCRM field types
    assert "gs_visit_count" in bottle and "custom_fields." not in bottle and "checkbox" in bottle
    for name in ("kd", "api"):
        (why,) = lines[name]
        assert why.startswith("none needed") and f"crm.properties.{name}" in why


def test_text_longer_than_a_salesforce_or_zoho_text_field_is_cut_not_rejected():
    view = {"last_feedback": "很好吃" * 200, "segment": "vip"}
    for props, ttype in ((SALESFORCE, "salesforce"), (ZOHO, "zoho")):
        out = properties(props, view, target_type=ttype)
        (text,) = [v for k, v in out.items() if "Last_Feedback" in k]
        assert len(text) == 255 and text.endswith("…") and text.startswith("很好吃")
    hs = properties(HUBSPOT, view, target_type="hubspot")
    assert hs["gs_last_feedback"] == "很好吃" * 200  # HubSpot text holds 65,536


def test_print_says_zoho_needs_email_among_duplicate_check_fields(make_config):
    # issue 23: without Email, Zoho checks only the listed fields and duplicates a contact
    # that already has the guest's email
    zo = "\n".join(_lines(make_config)["zo"])
    assert "add Email" in zo and "duplicated" in zo
    fixed = CONFIG.replace(
        "refresh_token: r}", "refresh_token: r, duplicate_check_fields: [Guestsync_ID, Email]}"
    )
    cfg = make_config(fixed)
    result = CliRunner().invoke(cli, ["-c", str(cfg), "targets", "setup", "--print"])
    assert "add Email" not in result.output


def test_hubspot_setup_lists_date_of_birth_and_creates_it_where_missing(make_config):
    """Issue 23: the HubSpot target sends birthdays only to a portal that has
    `date_of_birth`; `targets setup --create` makes sure it has it."""
    from guestsync.actions.crm_setup import hubspot_definition, required
    from guestsync.config import load_config

    specs = [s for s in required(load_config(make_config(CONFIG))) if s.target == "hs"]
    (dob,) = [s for s in specs if s.name == "date_of_birth"]
    body = hubspot_definition(dob)
    assert (body["type"], body["fieldType"]) == ("date", "date") and dob.value == "birthday"
    assert any(x.startswith("date_of_birth") for x in _lines(make_config)["hs"])
