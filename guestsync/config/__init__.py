"""guestsync.yaml: load, substitute ${ENV} secrets, validate, report errors by file and line."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
)

from ..errors import ConfigError, ConfigErrors
from ..identity.settings import IdentityConfig
from ..yamlfile import Loc, YamlDoc, load_yaml
from . import plugins
from .base import Options, source_mappings
from .connectors import SOURCE_MODELS, TARGET_MODELS, SourceOptions, TargetOptions
from .crm import CrmConfig
from .exports import ExportJobOptions

DEFAULT_CONFIG = "guestsync.yaml"
CONFIG_ENV = "GUESTSYNC_CONFIG"
UNSET_PREFIX = "unset-environment-variable-"  # stands for an unset ${VAR} (lazy secrets)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class StoreConfig(Options):
    path: str = Field(default="guestsync.db", description="SQLite file, relative to this file.")
    url: str | None = Field(
        default=None,
        description="PostgreSQL instead of the SQLite file: postgresql://user:${PGPASSWORD}@host/db",
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("a store url is postgresql://user:password@host:port/database")
        return v


class Defaults(Options):
    region: str = Field(default="TW", description="Phone region for numbers without +country.")
    timezone: str = Field(default="Asia/Taipei", description="Zone for times without offset.")

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        v = v.upper()
        if v not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {v!r}; use an ISO code such as TW, HK, CN")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r}; use an IANA name such as Asia/Taipei"
            ) from None
        return v


class ServerConfig(Options):
    """`guestsync serve`: where the HTTP server listens, and the admin token."""

    host: str = Field(default="127.0.0.1", description="Bind address (0.0.0.0 to expose).")
    port: int = Field(default=8080, ge=0, le=65535)
    threads: int = Field(
        default=8,
        ge=1,
        le=64,
        description=(
            "HTTP worker threads (serve's intake processes: per process, for every route"
            " but the webhooks, which its event loop answers)."
        ),
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for /admin/*; write it as ${GUESTSYNC_ADMIN}."
    )
    admin_from: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Client addresses allowed on /admin/* (with the token); localhost only.",
    )
    worker_interval: float = Field(
        default=1.0, gt=0, description="Seconds the worker waits when the queues are empty."
    )
    stop_grace: float = Field(
        default=3.0,
        gt=0,
        description="Seconds the worker process has at stop to end its step before it is "
        "ended (its window is rolled back and done again at the next start).",
    )


class Config(Options):
    """The whole guestsync.yaml."""

    version: int = Field(default=1, ge=1, le=1)
    store: StoreConfig = Field(default_factory=StoreConfig)
    defaults: Defaults = Field(default_factory=Defaults)
    server: ServerConfig = Field(default_factory=ServerConfig)
    sources: dict[str, SourceOptions] = Field(default_factory=dict)
    targets: dict[str, TargetOptions] = Field(default_factory=dict)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    crm: CrmConfig = Field(default_factory=CrmConfig)  # segments, CRM properties, privacy
    exports: dict[str, ExportJobOptions] = Field(default_factory=dict)  # scheduled CSV exports

    _path: Path = PrivateAttr(default=Path(DEFAULT_CONFIG))
    # ${VAR}s left unset by a config loaded with secrets=False: one error each, with line
    _unset: list[ConfigError] = PrivateAttr(default_factory=list)

    def unset_env(self, section: str, name: str) -> list[ConfigError]:
        """The unset ${VAR}s in one source or target (`section` is sources or targets);
        a connector built with any of them must not call out (sync_engine.Hub)."""
        return [e for e in self._unset if (e.field or "").startswith(f"{section}.{name}.")]

    @property
    def path(self) -> Path:
        return self._path

    def resolve(self, relative: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else (self._path.parent / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def store_location(self) -> str | Path:
        """What `open_store` opens: the PostgreSQL URL if set, else the SQLite file. A
        ${VAR} of the URL left unset (a config loaded with secrets=False) is an error here:
        every command opens the store."""
        url = self.store.url
        if url is None:
            return self.store_path
        if UNSET_PREFIX in url:
            raise next(e for e in self._unset if (e.field or "").startswith("store"))
        return url


def _union(models: tuple[type, ...]) -> Any:
    union: Any = models[0]
    for model in models[1:]:
        union = union | model
    return Annotated[union, Field(discriminator="type")]


@functools.cache
def _with_plugins(sources: tuple[type, ...], targets: tuple[type, ...]) -> type[Config]:
    fields: dict[str, Any] = {
        "sources": (dict[str, _union(sources)], Field(default_factory=dict)),  # type: ignore[misc]
        "targets": (dict[str, _union(targets)], Field(default_factory=dict)),  # type: ignore[misc]
    }
    return create_model("Config", __base__=Config, __doc__=Config.__doc__, **fields)


def config_model() -> type[Config]:
    """Config, or (third-party connectors installed: plugins.py) a subclass whose
    `sources:`/`targets:` also take the plugins' options models."""
    sources = plugins.options_models("sources", SOURCE_MODELS)
    targets = plugins.options_models("targets", TARGET_MODELS)
    if sources == SOURCE_MODELS and targets == TARGET_MODELS:
        return Config
    return _with_plugins(sources, targets)


def substitute_env(
    doc: YamlDoc,
    environ: dict[str, str] | os._Environ[str],
    *,
    unset: dict[Loc, list[str]] | None = None,
) -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string; an unset VAR is an error.

    With `unset` (a dict to fill), an unset VAR is not an error: its reference is left
    as a placeholder and its location recorded, for a command that never calls the CRM
    (`status`, `report`): IT staff read queues on a box where the CRM tokens are not
    exported. A command that does call it resolves the config again, strictly."""
    errors: list[ConfigError] = []

    def sub(value: Any, loc: Loc) -> Any:
        if isinstance(value, dict):
            return {k: sub(v, (*loc, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v, (*loc, i)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "${" not in value:
            return value

        def one(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            if unset is not None:
                unset.setdefault(loc, []).append(name)
                return f"{UNSET_PREFIX}{name}"
            errors.append(
                doc.error(
                    f"environment variable {name} is not set "
                    f"(export it, or write ${{{name}:-default}})",
                    loc,
                )
            )
            return ""

        return _ENV_REF.sub(one, value)

    data = sub(doc.data, ())
    if errors:
        raise ConfigErrors(errors)
    return data


def _message(err: Mapping[str, Any]) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown setting (check the spelling; `guestsync schema` lists every key)"
    if err["type"] == "missing":
        return "required setting is missing"
    if err["type"] == "union_tag_invalid":
        return (
            f"unknown type {err['input'].get('type')!r}; valid types: {err['ctx']['expected_tags']}"
        )
    if err["type"] == "union_tag_not_found":
        return "missing `type:` (which connector is this?)"
    return msg


def validation_errors(doc: YamlDoc, exc: ValidationError) -> ConfigErrors:
    """Turn pydantic's errors into one line each, with file, line and dotted field."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type") if err["type"] == "union_tag_invalid" else loc
        # Drop the discriminator tag pydantic inserts into locations of union members.
        shown = [p for i, p in enumerate(loc) if not _is_tag(loc, i, doc)]
        out.append(doc.error(_message(err), tuple(shown)))
    return ConfigErrors(out)


def _is_tag(loc: tuple, i: int, doc: YamlDoc) -> bool:
    if i < 2 or loc[0] not in ("sources", "targets"):
        return False
    if i != 2:
        return False
    entry = doc.data.get(loc[0], {}).get(loc[1]) if isinstance(doc.data, dict) else None
    # pydantic puts the union tag (the `type:`) at index 2 of every error inside a source
    # or target, even when a setting has the same name (`type: webhook` has `webhook:`)
    return isinstance(entry, dict) and entry.get("type") == loc[2]


def parse_config(
    doc: YamlDoc,
    *,
    environ: dict[str, str] | os._Environ[str] | None = None,
    secrets: bool = True,
) -> Config:
    """`secrets=False`: unset ${VAR}s are allowed and recorded (see `substitute_env`)."""
    environ = os.environ if environ is None else environ
    unset: dict[Loc, list[str]] | None = None if secrets else {}
    data = substitute_env(doc, environ, unset=unset)
    if not isinstance(data, dict):
        raise doc.error("the file must be a mapping of settings (sources:, targets:, …)")
    try:
        config = config_model().model_validate(data)
    except ValidationError as exc:
        if unset:  # a placeholder that is not a valid value (a URL, say): say what is unset
            substitute_env(doc, environ)
        raise validation_errors(doc, exc) from None
    config._path = Path(doc.file)
    config._unset = [doc.error(_unset_message(names), loc) for loc, names in (unset or {}).items()]
    for name, src in config.sources.items():
        for stream, file in source_mappings(src).items():
            mapping = config.resolve(file)
            if not mapping.is_file():
                where, shipped = _mapping_setting(src, stream)
                hint = (
                    " (the shipped profile: copy config/mappings/ beside this file, or run"
                    f" `guestsync mapping copy {mapping.stem}` in this file's folder)"
                )
                raise doc.error(
                    f"mapping file {str(mapping)!r} not found{hint if shipped else ''}",
                    ("sources", name, *where),
                )
    return config


def _unset_message(names: list[str]) -> str:
    listed = ", ".join(names)
    return (
        f"environment variable {listed} is not set, and this command needs it "
        f"(export it, or write ${{{names[0]}:-default}})"
    )


def _mapping_setting(src: Any, stream: str) -> tuple[tuple[str, ...], bool]:
    """Where in a source's settings the mapping of `stream` is named, and whether it is a
    shipped default that the file does not name at all (Square)."""
    if stream in (getattr(src, "stream_mappings", None) or {}):
        return ("stream_mappings", stream), False
    streams = getattr(src, "streams", None)
    if isinstance(streams, dict) and stream in streams:
        if getattr(streams[stream], "mapping", None) is None:
            return ("streams",), True
        return ("streams", stream, "mapping"), False
    return ("mapping",), False


def find_config(path: str | Path | None) -> Path:
    """The config to use: the argument, else $GUESTSYNC_CONFIG, else ./guestsync.yaml."""
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(
    path: str | Path | None = None,
    *,
    environ: dict[str, str] | None = None,
    secrets: bool = True,
) -> Config:
    """Read, substitute and validate guestsync.yaml. `secrets=False` is for commands that
    never call a CRM or a platform: an unset ${VAR} is then not an error (`unset_env`)."""
    p = find_config(path)
    if not p.exists():
        raise ConfigError(
            "config file not found (run `guestsync init` to write a starter file)", file=str(p)
        )
    return parse_config(load_yaml(p), environ=environ, secrets=secrets)


def json_schema() -> dict[str, Any]:
    schema = config_model().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "guestsync.yaml"
    return schema
