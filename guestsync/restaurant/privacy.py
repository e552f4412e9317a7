"""Privacy rules: a forgotten guest's later records are suppressed; PII is masked in logs.

`guestsync forget` (actions/forget.py) deletes every local row about a guest and asks each
CRM to delete its contact. What stays is a salted SHA-256 of each email and phone the
guest was known by, in `suppressions` (`contact_hash`), and one line in `forget_log` with
no plain personal data. The salt is random per store, so the hashes cannot be matched
against another list.

Later records carrying a suppressed email or phone are dropped in the process stage
(inbox row marked `suppressed`, raw content cleared), unless they carry a marketing
opt-in given after the guest was forgotten: the guest came back and consented again, so
the suppression is lifted and the record processed as new.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import Any

from ..models import SourceRecord
from ..store.protocols import RestaurantStore
from . import consent


def contact_hash(salt: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\x00{kind}\x00{value}".encode()).hexdigest()


def _record_hashes(store: RestaurantStore, record: SourceRecord) -> list[str]:
    g = record.guest
    pairs = [("email", g.email), ("phone", g.phone)]
    if not any(v for _, v in pairs):
        return []
    salt = store.privacy_salt()
    return [contact_hash(salt, k, v) for k, v in pairs if v]


def admit(store: RestaurantStore, record: SourceRecord) -> bool:
    """False when `record` is about a forgotten guest (see the module docstring)."""
    hashes = _record_hashes(store, record)
    since = store.suppressed_since(hashes)
    if since is None:
        return True
    forgotten_at = datetime.fromisoformat(since)
    said = consent.statements(record.guest, seen_at=forgotten_at, source=record.source)
    if any(s.granted and s.at > forgotten_at for s in said):
        store.lift_suppressions(hashes)  # re-consented after the forget request
        return True
    return False


# -- masking personal data in logs -----------------------------------------------------

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# International (+…) or local trunk-prefixed (0…) numbers; dates and ids are left alone.
_PHONE = re.compile(r"(?<![\w+])(\+\d[\d \-()]{6,}\d|0\d[\d \-]{6,}\d)(?![\w])")


def mask(text: str) -> str:
    """Emails and phone numbers in `text`, masked: a***@example.com, +88691****678."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)

    def phone(m: re.Match[str]) -> str:
        s = m.group(1)
        digits = [c for c in s if c.isdigit()]
        if len(digits) < 8:
            return s
        head = 5 if s.startswith("+") else 2
        plus = "+" if s.startswith("+") else ""
        stars = "*" * (len(digits) - head - 3)
        return plus + "".join(digits[:head]) + stars + "".join(digits[-3:])

    return _PHONE.sub(phone, text)


class MaskPii(logging.Filter):
    """A logging filter that masks emails and phones in the formatted message, and in the
    traceback of `log.exception(...)` (an error message may quote a bad email or phone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Formatters use `exc_text` when it is set, so the traceback is masked once here.
            record.exc_text = mask(_TRACEBACKS.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


_installed = False


def installed() -> bool:
    """Whether log masking is on (other outputs, such as /healthz, follow it)."""
    return _installed


def install_log_masking() -> None:
    """Mask PII in every log record from here on (`crm.privacy.mask_logs`, default on)."""
    global _installed
    if _installed:
        return
    base = logging.getLogRecordFactory()
    masker = MaskPii()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        rec = base(*args, **kwargs)
        masker.filter(rec)
        return rec

    logging.setLogRecordFactory(factory)
    _installed = True
