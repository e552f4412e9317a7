"""Marketing consent per channel (email, sms): which statement is in force.

Every explicit statement a source record makes is kept (`consent_events`), with when the
guest made it (the statement's own time, else when the record was seen) and where. The
statement in force per channel is the newest one; on a tie an opt-out wins. So an opt-in
never overrides a newer opt-out, whatever order the records arrive in.

A `Guest.marketing_consent` speaks for every channel; `email_consent` / `sms_consent`
for one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..models import Consent, Guest

CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Statement:
    channel: str
    granted: bool
    at: datetime
    source: str | None = None


def statements(guest: Guest, *, seen_at: datetime, source: str) -> list[Statement]:
    """The consent statements one source record makes, one per channel."""
    out: dict[str, Statement] = {}

    def add(channel: str, c: Consent | None) -> None:
        if c is not None:
            out[channel] = Statement(channel, c.granted, c.at or seen_at, c.source or source)

    for ch in CHANNELS:
        add(ch, guest.marketing_consent)
    add("email", guest.email_consent)  # a channel-specific statement beats the general one
    add("sms", guest.sms_consent)
    return list(out.values())


def effective(events: Iterable[Statement]) -> dict[str, Statement]:
    """The statement in force per channel: newest wins, opt-out wins a tie."""
    best: dict[str, Statement] = {}
    for s in events:
        cur = best.get(s.channel)
        if cur is None or (s.at, not s.granted) > (cur.at, not cur.granted):
            best[s.channel] = s
    return best


# Each channel's view names, spelled once (the view is made for every guest queued).
_NAMES = tuple(
    (ch, f"{ch}_opt_in", f"{ch}_opt_out", f"{ch}_consent_at", f"{ch}_consent_source")
    for ch in CHANNELS
)


def view(state: dict[str, Statement]) -> dict[str, object]:
    """Flat values for the CRM property mapping (`email_opt_in`, `sms_consent_at`, …)."""
    out: dict[str, object] = {}
    for ch, opt_in, opt_out, at, source in _NAMES:
        s = state.get(ch)
        out[opt_in] = s.granted if s else None
        out[opt_out] = (not s.granted) if s else None
        out[at] = s.at if s else None
        out[source] = s.source if s else None
    return out
