"""The `guestsync` command: thin shells over the library (sync_engine, config, store).

Each module here adds the commands of one area to the `cli` group; `main` is the entry
point, which turns guestsync errors into one-line messages and exit codes.
"""

from . import (  # noqa: F401  (registers the commands)
    core,
    crm_setup,
    delivery,
    export,
    forget,
    guests,
    mapping,
    replay,
    report,
    review,
    serve,
    sources,
    storage,
)
from .app import cli, main

__all__ = ["cli", "main"]
