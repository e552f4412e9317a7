"""guestsync: a sync hub between restaurant booking/POS systems and the CRM.

Four durable stages (see the README): inbox -> process -> outbox -> deliver.

The names below are the public face of the library: build a `Config` with
`load_config`, open a `Hub` on it and call its stages (`sync`, `import_csv`, `process`,
`deliver`), or read and write the `Store` directly; every error guestsync raises is a
`GuestsyncError`, branched by what the caller should do (see `guestsync.errors`).
Everything else is importable but internal: it may change in any release.
"""

from .config import Config, load_config
from .errors import (
    AuthError,
    BadRecordError,
    ConfigError,
    ConfigErrors,
    GuestsyncError,
    PermanentError,
    ProtocolError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteError,
    RetryableError,
)
from .store import Store
from .sync_engine import Hub

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "BadRecordError",
    "Config",
    "ConfigError",
    "ConfigErrors",
    "GuestsyncError",
    "Hub",
    "PermanentError",
    "ProtocolError",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RemoteError",
    "RetryableError",
    "Store",
    "__version__",
    "load_config",
]
