"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .bottlecrm import BottleCrmTarget
from .csv_source import CsvSource
from .hubspot import HubSpotTarget
from .rest import RestTarget
from .rest_source import RestSource
from .salesforce import SalesforceTarget
from .square import SquareSource
from .webhook_source import WebhookSource
from .zoho import ZohoTarget

SOURCES: dict[str, type] = {
    "csv": CsvSource,
    "rest": RestSource,
    "square": SquareSource,
    "webhook": WebhookSource,
}
TARGETS: dict[str, type] = {
    "hubspot": HubSpotTarget,
    "salesforce": SalesforceTarget,
    "zoho": ZohoTarget,
    "bottlecrm": BottleCrmTarget,
    "rest": RestTarget,
}

__all__ = [
    "SOURCES",
    "TARGETS",
    "BottleCrmTarget",
    "CsvSource",
    "HubSpotTarget",
    "RecordResult",
    "RestSource",
    "RestTarget",
    "SalesforceTarget",
    "SquareSource",
    "Target",
    "WebhookSource",
    "ZohoTarget",
]
