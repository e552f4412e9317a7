"""The web console under /console: review possible duplicates, look up guests and see
delivery from a browser, behind the admin token.

A face, like the admin API beside it: every page reads the store and every button calls
the same library function as the matching CLI command (actions/guests.py,
actions/dead_letters.py, delivery's quota pause), so a decision made in the browser is
recorded exactly as `guestsync review accept` records it. Server-rendered (Jinja2), with
its CSS and a few lines of JS served from here: no build step and nothing from a CDN,
so it works on a restaurant's offline back-office machine.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask

from ..config import Config
from ..store import Store
from . import auth, guests, pipeline, review
from .state import Console

__all__ = ["register"]


def register(
    app: Flask,
    config: Config,
    store: Store,
    lock: threading.Lock,
    targets: Mapping[str, Any],
) -> None:
    """Mount the console on `app`. `targets` (name -> Target) are what a merge, an
    unmerge or a dead-letter retry re-queues for; `lock` is the app's store lock."""
    # A fresh key per process: a restart logs everyone out, and no key sits in a file.
    app.secret_key = app.secret_key or secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="guestsync_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=config.server.host not in ("127.0.0.1", "localhost", "::1"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    bp = Blueprint(
        "console",
        __name__,
        url_prefix="/console",
        template_folder="templates",
        static_folder="static",
    )
    console = Console(config=config, store=store, lock=lock, targets=targets)
    auth.add_routes(bp, console)
    review.add_routes(bp, console)
    pipeline.add_routes(bp, console)
    guests.add_routes(bp, console)
    app.register_blueprint(bp)
