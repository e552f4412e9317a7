"""Versioned schema migrations. Each `mNNNN_name.py` module here registers its migrations
on `migrations`; they are applied in module-name order. Add a module; never edit an
applied migration.
"""

from __future__ import annotations

import importlib
import pkgutil

from sqlite_utils.migrations import Migrations

migrations = Migrations("guestsync")


def load_all() -> Migrations:
    """Import every migration module once, in order; returns the registered set."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("m"):
            importlib.import_module(f"{__name__}.{info.name}")
    return migrations
