"""The YAML options of every connector type, as pydantic models.

They live here, not beside each connector, so that the config can be validated and its
JSON Schema printed without importing any connector code. Each model's `type` literal is
the name used in `type:` in guestsync.yaml; `connectors.SOURCES` / `connectors.TARGETS`
map the same names to the classes (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator

from .options_base import Options, RetryOptions
from .pull_options import RestSourceOptions, SquareSourceOptions, check_cron


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


SourceOptions = Annotated[
    CsvSourceOptions | RestSourceOptions | SquareSourceOptions, Field(discriminator="type")
]


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
