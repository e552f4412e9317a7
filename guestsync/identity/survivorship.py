"""Golden record: which value of each field survives across a guest's source records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..models import GUEST_FIELDS, Guest


def golden(guest_id: str, records: Sequence[tuple[datetime, Guest]]) -> Guest:
    """Most recent non-empty value per field; consent from the newest explicit statement.

    `records` are (time seen, guest as that source described them). Computed from all
    linked records every time, so it is the same whatever order they arrived in.
    """
    ordered = sorted(records, key=lambda r: r[0])
    values: dict[str, object] = {}
    for _, g in ordered:
        for field in GUEST_FIELDS:
            if field == "marketing_consent":
                continue
            v = getattr(g, field)
            if v not in (None, "", []):
                values[field] = v
    consents = [(c.at or seen, c) for seen, g in ordered if (c := g.marketing_consent)]
    if consents:
        values["marketing_consent"] = max(consents, key=lambda x: x[0])[1]
    return Guest(id=guest_id, **values)
