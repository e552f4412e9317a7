"""The one base of every model in guestsync.yaml (unknown keys are errors, so a typo
never passes silently), the retry policy options, and where a source's mappings are."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Options(BaseModel):
    """A block of guestsync.yaml: an unknown key is an error that names it.

    An empty secret is an error too: `token: ${HUBSPOT_TOKEN}` with the variable exported
    but empty would otherwise pass `validate` and only fail at the CRM (as a 401)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _secret_not_empty(cls, value: Any) -> Any:
        secrets = value if isinstance(value, list) else [value]
        for secret in secrets:
            if isinstance(secret, SecretStr) and not secret.get_secret_value().strip():
                raise ValueError(
                    "is empty; set it (e.g. export the environment variable it names) "
                    "to the secret the vendor gave you"
                )
        return value


class RetryOptions(Options):
    max_attempts: int = Field(default=6, ge=1, le=50, description="Tries per batch per run.")
    initial_wait: float = Field(default=0.5, ge=0, description="Seconds before the 1st retry.")
    max_wait: float = Field(default=60.0, ge=0, description="Cap on one wait, in seconds.")


def source_mappings(options: Any) -> dict[str, str]:
    """The mapping file of each stream of a source: its `mapping_files()` when it has
    several streams, else its one `mapping:` (under its `stream:` name if it has one)."""
    files = getattr(options, "mapping_files", None)
    if callable(files):
        return files()
    return {getattr(options, "stream", None) or "default": options.mapping}
