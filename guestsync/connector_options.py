"""The YAML options of every connector type, as pydantic models.

They live here, not beside each connector, so that the config can be validated and its
JSON Schema printed without importing any connector code. Each model's `type` literal is
the name used in `type:` in guestsync.yaml; `connectors.SOURCES` / `connectors.TARGETS`
map the same names to the classes (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CsvSourceOptions(Options):
    """Files exported by a booking or POS system, read as they come."""

    type: Literal["csv"]
    paths: list[str] = Field(
        default_factory=list,
        description="Files or globs, relative to this config file. `import-csv` may name others.",
    )
    mapping: str = Field(description="Mapping file for this source (relative to this config).")
    stream: str = Field(default="bookings", description="Name of the record stream.")
    encoding: str = Field(default="utf-8-sig", description="Text encoding of the files.")
    delimiter: str = Field(default=",", min_length=1, max_length=1)


class JiandaoyunSourceOptions(Options):
    """Jiandaoyun (简道云) form entries: pushed by its webhook, backfilled through API v5."""

    type: Literal["jiandaoyun"]
    mapping: str = Field(description="Mapping file for the form's entries (relative).")
    stream: str = Field(default="entries", description="Name of the record stream.")
    secret: SecretStr | None = Field(
        default=None, description="Webhook secret (推送设置 > 签名密钥); write it as ${JDY_SECRET}."
    )
    timestamp_tolerance: int = Field(
        default=300, ge=0, description="Seconds a signed timestamp may be off; 0 = no check."
    )
    api_key: SecretStr | None = Field(default=None, description="API key for the backfill.")
    app_id: str | None = Field(default=None, description="App id (for the backfill).")
    entry_id: str | None = Field(default=None, description="Form id (for the backfill).")
    base_url: HttpUrl = HttpUrl("https://api.jiandaoyun.com")
    timeout: float = Field(default=30.0, gt=0)


SourceOptions = Annotated[CsvSourceOptions | JiandaoyunSourceOptions, Field(discriminator="type")]


class RetryOptions(Options):
    max_attempts: int = Field(default=6, ge=1, le=50, description="Tries per batch per run.")
    initial_wait: float = Field(default=0.5, ge=0, description="Seconds before the 1st retry.")
    max_wait: float = Field(default=60.0, ge=0, description="Cap on one wait, in seconds.")


class HubSpotTargetOptions(Options):
    """HubSpot CRM v3 contacts, upserted in batches keyed by our guest id."""

    type: Literal["hubspot"]
    token: SecretStr = Field(description="Private-app token; write it as ${HUBSPOT_TOKEN}.")
    base_url: HttpUrl = HttpUrl("https://api.hubapi.com")
    id_property: str = Field(
        default="guestsync_id",
        description="Unique-valued contact property holding the guestsync guest id.",
    )
    batch_size: int = Field(default=100, ge=1, le=100)
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    retry: RetryOptions = Field(default_factory=RetryOptions)


class FxiaokeTargetOptions(Options):
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
    requests_per_second: float | None = Field(
        default=2.9, gt=0, description="Pace of data calls; Fxiaoke allows 60 per 20 s (❓)."
    )
    quota_timezone: str = Field(default="Asia/Shanghai", description="Daily quota resets here.")
    batch_size: int = Field(default=20, ge=1, le=100)
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    retry: RetryOptions = Field(default_factory=RetryOptions)


class KingdeeTargetOptions(Options):
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
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    retry: RetryOptions = Field(default_factory=RetryOptions)


TargetOptions = Annotated[
    HubSpotTargetOptions | FxiaokeTargetOptions | KingdeeTargetOptions,
    Field(discriminator="type"),
]
