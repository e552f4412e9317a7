"""The YAML options of every connector type, as pydantic models.

They live here, not beside each connector, so that the config can be validated and its
JSON Schema printed without importing any connector code. Each model's `type` literal is
the name used in `type:` in guestsync.yaml; `connectors.SOURCES` / `connectors.TARGETS`
map the same names to the classes (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from .webhooks.options import WebhookSourceOptions


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


SourceOptions = Annotated[CsvSourceOptions | WebhookSourceOptions, Field(discriminator="type")]


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


TargetOptions = Annotated[HubSpotTargetOptions, Field(discriminator="type")]
