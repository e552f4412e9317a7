"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .csv_source import CsvSource
from .hubspot import HubSpotTarget
from .webhook_source import WebhookSource

SOURCES: dict[str, type] = {"csv": CsvSource, "webhook": WebhookSource}
TARGETS: dict[str, type] = {"hubspot": HubSpotTarget}

__all__ = [
    "SOURCES",
    "TARGETS",
    "CsvSource",
    "HubSpotTarget",
    "RecordResult",
    "Target",
    "WebhookSource",
]
