"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .csv_source import CsvSource
from .hubspot import HubSpotTarget
from .salesforce import SalesforceTarget
from .zoho import ZohoTarget

SOURCES: dict[str, type] = {"csv": CsvSource}
TARGETS: dict[str, type] = {
    "hubspot": HubSpotTarget,
    "salesforce": SalesforceTarget,
    "zoho": ZohoTarget,
}

__all__ = [
    "SOURCES",
    "TARGETS",
    "CsvSource",
    "HubSpotTarget",
    "RecordResult",
    "Target",
    "ZohoTarget",
]
