"""The YAML options of every connector type, as pydantic models.

They live here, not beside each connector, so that the config can be validated and its
JSON Schema printed without importing any connector code. Each model's `type` literal is
the name used in `type:` in guestsync.yaml; `connectors.SOURCES` / `connectors.TARGETS`
map the same names to the classes (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AliasChoices, Field, HttpUrl, SecretStr, field_validator, model_validator

from ..cron import check_cron
from .base import Options, RetryOptions
from .pull import RestSourceOptions, SquareSourceOptions
from .webhooks import WebhookOptions, WebhookSourceOptions, jiandaoyun_webhook


class CsvSourceOptions(Options):
    """Files exported by a booking or POS system, read as they come."""

    type: Literal["csv"]
    paths: list[str] = Field(
        default_factory=list,
        description="Files or globs, relative to this config file. `import-csv` may name others.",
    )
    mapping: str = Field(description="Mapping file for this source (relative to this config).")
    stream: str = Field(default="bookings", description="Name of the record stream.")
    encoding: str = Field(
        default="auto",
        description="Text encoding of the files; `auto` detects UTF-8 (BOM), Big5, GBK, Shift-JIS.",
    )
    delimiter: str | None = Field(
        default=None, min_length=1, max_length=1, description="Sniffed from the header if unset."
    )
    archive: str | None = Field(
        default=None, description="Move each imported file into this folder (relative to config)."
    )
    rejects: bool = Field(default=False, description="Write <file>.rejects.csv beside the input.")
    schedule: str | None = Field(default=None, description="Cron expression, e.g. '0 3 * * *'.")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    def mapping_files(self) -> dict[str, str]:
        return {self.stream: self.mapping}


class JiandaoyunSourceOptions(Options):
    """Jiandaoyun (简道云) form entries: pushed by its webhook, backfilled through API v5."""

    type: Literal["jiandaoyun"]
    mapping: str = Field(description="Mapping file for the form's entries (relative).")
    stream: str = Field(default="entries", description="Name of the record stream.")
    secret: SecretStr | None = Field(
        default=None, description="Webhook secret (推送设置 > 签名密钥); write it as ${JDY_SECRET}."
    )
    previous_secret: SecretStr | None = Field(
        default=None,
        description="The secret before a rotation, still accepted while Jiandaoyun switches "
        "(pushes already queued there are signed with it); remove it afterwards.",
    )
    timestamp_tolerance: int = Field(
        default=300, ge=0, description="Seconds a signed timestamp may be off; 0 = no check."
    )
    api_key: SecretStr | None = Field(default=None, description="API key for the backfill.")
    app_id: str | None = Field(default=None, description="App id (for the backfill).")
    entry_id: str | None = Field(default=None, description="Form id (for the backfill).")
    base_url: HttpUrl = HttpUrl("https://api.jiandaoyun.com")
    timeout: float = Field(default=30.0, gt=0)
    schedule: str | None = Field(default=None, description="Cron for the backfill pull.")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    @property
    def webhook(self) -> WebhookOptions | None:
        """`POST /webhooks/<name>` (scheme `jiandaoyun`) once a secret is set."""
        return jiandaoyun_webhook(self)


SourceOptions = Annotated[
    CsvSourceOptions
    | RestSourceOptions
    | SquareSourceOptions
    | WebhookSourceOptions
    | JiandaoyunSourceOptions,
    Field(discriminator="type"),
]
SOURCE_MODELS: tuple[type, ...] = get_args(get_args(SourceOptions)[0])  # + plugins (plugins.py)


class DeliveryRetryOptions(RetryOptions):
    """Retry within a run, plus when a record pending over many runs becomes a dead letter."""

    give_up_after_attempts: int = Field(
        default=20, ge=1, description="Failed attempts (over all runs) before a dead letter."
    )
    give_up_after_hours: float = Field(
        default=72.0, gt=0, description="Hours a record may stay pending before a dead letter."
    )


class CrmTargetOptions(Options):
    """What every CRM target shares: pacing, retry and timeouts (see delivery.py)."""

    rate: float | None = Field(
        default=None,
        gt=0,
        description="Requests per second to pace at (default: the CRM's documented limit).",
    )
    rate_account: str | None = Field(
        default=None,
        description="Name of the rate budget; targets writing to one CRM account share it "
        "(default: derived from the account's credentials).",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    retry: DeliveryRetryOptions = Field(default_factory=DeliveryRetryOptions)


class HubSpotTargetOptions(CrmTargetOptions):
    """HubSpot CRM v3 contacts, upserted in batches keyed by our guest id."""

    type: Literal["hubspot"]
    token: SecretStr = Field(description="Private-app token; write it as ${HUBSPOT_TOKEN}.")
    base_url: HttpUrl = HttpUrl("https://api.hubapi.com")
    id_property: str = Field(
        default="guestsync_id",
        description="Unique-valued contact property holding the guestsync guest id.",
    )
    batch_size: int = Field(default=100, ge=1, le=100)
    create_id_property: bool = Field(
        default=False,
        description="Create `id_property` (unique values) on first use; the token then "
        "needs the crm.schemas.contacts.write scope.",
    )
    email_fallback: bool = Field(
        default=True,
        description="When a guest's email already belongs to a contact without our id, "
        "upsert that contact by email (and so give it our id) instead of failing.",
    )
    tier: Literal["free", "starter", "professional", "enterprise"] = Field(
        default="free",
        description="The portal's subscription tier, which sets HubSpot's API limits for "
        "private apps: free/starter 100 requests per 10 s and 250,000 a day, professional "
        "190 per 10 s and 625,000 a day, enterprise 190 per 10 s and 1,000,000 a day.",
    )
    portal_timezone: str = Field(
        default="UTC",
        description="The portal's time zone (Settings > Account defaults): HubSpot resets "
        "the daily limit at its midnight, and delivery pauses until then when it is used up.",
    )


class SalesforceTargetOptions(CrmTargetOptions):
    """Salesforce contacts, upserted by an External ID field through sObject Collections."""

    type: Literal["salesforce"]
    login_url: HttpUrl = Field(
        default=HttpUrl("https://login.salesforce.com"),
        description="OAuth host: login.salesforce.com, test.salesforce.com (sandbox) or "
        "your My Domain.",
    )
    instance_url: HttpUrl | None = Field(
        default=None, description="API host; default: the one the token answer names."
    )
    client_id: str = Field(description="Connected app consumer key.")
    client_secret: SecretStr | None = Field(default=None, description="${SALESFORCE_SECRET}")
    refresh_token: SecretStr = Field(description="Write it as ${SALESFORCE_REFRESH_TOKEN}.")
    api_version: str = Field(default="v61.0", pattern=r"^v\d+\.\d$")
    sobject: str = Field(default="Contact")
    external_id_field: str = Field(
        default="Guest_Key__c",
        description="Text field marked External ID and Unique, holding the guestsync id.",
    )
    batch_size: int = Field(default=200, ge=1, le=200)


class ZohoTargetOptions(CrmTargetOptions):
    """Zoho CRM contacts, upserted with duplicate_check_fields (v8 records API)."""

    type: Literal["zoho"]
    accounts_url: HttpUrl = Field(
        default=HttpUrl("https://accounts.zoho.com"),
        description="Accounts server of your data centre: accounts.zoho.com, .eu, .in, "
        ".com.au, .jp, .com.cn, ...",
    )
    api_domain: HttpUrl | None = Field(
        default=None, description="API host; default: the api_domain the token answer names."
    )
    client_id: str
    client_secret: SecretStr = Field(description="Write it as ${ZOHO_CLIENT_SECRET}.")
    refresh_token: SecretStr = Field(description="Write it as ${ZOHO_REFRESH_TOKEN}.")
    module: str = Field(default="Contacts")
    id_field: str = Field(
        default="Guestsync_ID",
        description="Custom single-line field with 'Do not allow duplicate values' on.",
    )
    duplicate_check_fields: list[str] | None = Field(
        default=None,
        description="Fields Zoho matches on, in order (default: [id_field]; add Email to "
        "adopt contacts that existed before guestsync).",
    )
    batch_size: int = Field(default=100, ge=1, le=100)


class BottleCrmTargetOptions(CrmTargetOptions):
    """BottleCRM (django-crm) contacts: no upsert, so guests are matched by our id,
    then email, and PATCHed; our guest id is kept in the contact's `source_ref`."""

    type: Literal["bottlecrm"]
    base_url: HttpUrl = Field(description="The CRM's address, e.g. https://crm.example.com")
    token: SecretStr = Field(description="Personal access token (bcrm_pat_…); ${BOTTLECRM_TOKEN}")
    batch_size: int = Field(default=1, ge=1, le=100, description="Contacts per delivery batch.")
    name_placeholder: str = Field(
        default="-", min_length=1, description="Sent for a required name part we do not know."
    )


class RestAuth(Options):
    """How a generic REST CRM wants its credentials; secrets as ${ENV}."""

    kind: Literal["none", "bearer", "basic", "header"] = "none"
    token: SecretStr | None = Field(default=None, description="bearer: the token.")
    username: str | None = Field(default=None, description="basic: the user name.")
    password: SecretStr | None = Field(default=None, description="basic: the password.")
    header: str = Field(default="X-API-Key", description="header: the header's name.")
    value: SecretStr | None = Field(default=None, description="header: the key.")

    @model_validator(mode="after")
    def _complete(self) -> RestAuth:
        need = {"bearer": ["token"], "basic": ["username", "password"], "header": ["value"]}
        missing = [f for f in need.get(self.kind, []) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"auth kind {self.kind!r} needs {', '.join(missing)}")
        return self


class RestRequest(Options):
    """One call: templates are Jinja2 (sandboxed). A string that is one `{{ … }}`
    keeps the value's type, so `"{{ fields }}"` inserts an object, not its text."""

    method: Literal["POST", "PUT", "PATCH"] = "POST"
    path: str = Field(description="URL path template, e.g. /contacts/{{ crm_id }}")
    record: Any = Field(
        default="{{ fields }}",
        description="Per-record body part; sees guest_id, crm_id, fields.",
    )
    body: Any = Field(
        default=None,
        description="Request body; sees `records` (the rendered record parts). Default: "
        "the one record when batch_size is 1, else the list of records.",
    )
    results_path: str | None = Field(
        default=None, description="JMESPath to the per-record results (default: the body)."
    )
    id_path: str = Field(default="id", description="JMESPath to the CRM id in one result.")
    key_path: str | None = Field(
        default=None,
        description="JMESPath to our guest id in one result; without it, results match "
        "records by position.",
    )
    error_path: str | None = Field(
        default=None, description="JMESPath to a per-record error message in one result."
    )
    created_path: str | None = Field(
        default=None,
        description="JMESPath to a boolean in one result: the CRM created the record "
        "(default: created when we did not know its CRM id).",
    )


DEFAULT_REST_FIELDS = {
    "guest_id": "guest.id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "guest.email",
    "phone": "guest.phone",
}


class RestTargetOptions(CrmTargetOptions):
    """Any CRM with a JSON REST API, described in YAML instead of code."""

    type: Literal["rest"]
    base_url: HttpUrl
    auth: RestAuth = Field(default_factory=RestAuth)
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers.")
    batch_size: int = Field(default=1, ge=1, le=1000)
    fields: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REST_FIELDS),
        description="CRM field -> Jinja2 expression over `guest`, `first_name`, `last_name`.",
    )
    upsert: RestRequest = Field(description="Creates or updates; used for every record.")
    update: RestRequest | None = Field(
        default=None, description="If set, used instead for records whose CRM id is known."
    )


class FxiaokeTargetOptions(CrmTargetOptions):
    """Fxiaoke (纷享销客) CRM objects (contacts by default), created or updated one by one.

    The field names are the CRM's API names; the defaults are unverified guesses
    (platform-apis.md §4.3: "Fxiaoke fields ❓"): check them in 对象管理 before going live.
    """

    type: Literal["fxiaoke"]
    app_id: str = Field(description="Application id (appId).")
    app_secret: SecretStr = Field(description="Application secret; write it as ${FXK_SECRET}.")
    permanent_code: SecretStr = Field(description="Permanent authorization code of the tenant.")
    open_user_id: str = Field(description="currentOpenUserId of an admin: calls act as them.")
    base_url: HttpUrl = HttpUrl("https://open.fxiaoke.com")
    object_api_name: str = Field(default="ContactObj", description="ContactObj or AccountObj.")
    id_field: str = Field(
        default="guestsync_id__c", description="Custom text field holding our guest id."
    )
    name_field: str = "name"
    phone_field: str | None = Field(default="mobile1", description="None: do not send phones.")
    email_field: str | None = "email"
    match_on_phone: bool = Field(
        default=True, description="Adopt an existing record with this phone and no guest id."
    )
    extra_fields: dict[str, Any] = Field(
        default_factory=dict, description="Constant fields sent with every record (owner …)."
    )
    rate: float | None = Field(
        default=2.9,
        gt=0,
        # `requests_per_second` was this knob's name in the first cut: still read, same knob.
        validation_alias=AliasChoices("rate", "requests_per_second"),
        description="Data calls per second, each paced (burst 1: at 2.9 no 20-second window "
        "holds more than 59; Fxiaoke allows 60 per 20 s ❓). null: no pacing.",
    )
    quota_timezone: str = Field(default="Asia/Shanghai", description="Daily quota resets here.")
    batch_size: int = Field(default=20, ge=1, le=100)


class KingdeeTargetOptions(CrmTargetOptions):
    """Kingdee Cloud Galaxy (金蝶云星空) customers (BD_Customer), saved in batches."""

    type: Literal["kingdee"]
    server_url: HttpUrl = Field(description="e.g. https://yourco.ik3cloud.com/k3cloud/")
    acct_id: str = Field(description="Data centre (账套) id.")
    user_name: str = Field(description="User the integration acts as.")
    app_id: str = Field(description="Third-party app id, `<clientId>_<code>` as issued.")
    app_secret: SecretStr = Field(description="App secret; write it as ${KINGDEE_APP_SECRET}.")
    xor_code: SecretStr | None = Field(
        default=None, description="x-kdapi-secpwd, only if Kingdee gave you one."
    )
    lcid: int = 2052
    org_num: int = Field(default=0, description="Organisation number for the signed headers.")
    org_number: str = Field(default="100", description="FNumber of the create/use org.")
    number_prefix: str = Field(default="GS", description="Customer FNumber = prefix + guest id.")
    fields: dict[str, str] = Field(
        default_factory=lambda: {"phone": "FTEL", "email": "FEMAIL"},
        description="Canonical guest field -> BD_Customer field key (unverified defaults).",
    )
    batch_size: int = Field(default=50, ge=1, le=500)


TargetOptions = Annotated[
    HubSpotTargetOptions
    | SalesforceTargetOptions
    | ZohoTargetOptions
    | BottleCrmTargetOptions
    | RestTargetOptions
    | FxiaokeTargetOptions
    | KingdeeTargetOptions,
    Field(discriminator="type"),
]
TARGET_MODELS: tuple[type, ...] = get_args(get_args(TargetOptions)[0])
