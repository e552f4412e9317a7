"""What every console view needs: the config, the app's store and its lock, the targets."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..store import Store


@dataclass(frozen=True)
class Console:
    config: Config
    store: Store
    lock: threading.Lock  # the app's one connection is shared by waitress's threads
    targets: Mapping[str, Any]  # name -> Target, for re-queuing after a decision
