"""The `guestsync` command: thin shells over the library (sync_engine, config, store).

Each module here adds the commands of one area to the `cli` group; `main` is the entry
point, which turns guestsync errors into one-line messages and exit codes.
"""

from . import (
    backfill,  # noqa: F401
    core,  # noqa: F401  (registers the commands)
)
from .app import cli, main

__all__ = ["cli", "main"]
