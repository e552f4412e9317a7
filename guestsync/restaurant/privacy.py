"""Privacy: forgetting a guest, suppressing their later records, masking PII in logs.

Forget (`guestsync forget`): every target that supports deletion (`SupportsDelete`) is
asked to delete the guest's contact; then every local row about the guest is deleted
(golden record, source links, raw inbox rows, reservations, orders, feedback, aggregates,
consent, outbox, CRM links, dead letters). What stays is a salted SHA-256 of each email and
phone the guest was known by, in `suppressions`, and one line in `forget_log` with no
plain personal data. The salt is random per store, so the hashes cannot be matched
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..connectors.base import CrmRef, Target
from ..errors import ConfigError, GuestsyncError, RetryableError
from ..models import SourceRecord
from ..normalize import email_address, phone_e164
from ..store import Store
from . import consent


def contact_hash(salt: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\x00{kind}\x00{value}".encode()).hexdigest()


def _record_hashes(store: Store, record: SourceRecord) -> list[str]:
    g = record.guest
    pairs = [("email", g.email), ("phone", g.phone)]
    if not any(v for _, v in pairs):
        return []
    salt = store.privacy_salt()
    return [contact_hash(salt, k, v) for k, v in pairs if v]


def admit(store: Store, record: SourceRecord) -> bool:
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


@dataclass
class ForgetResult:
    guest_ids: list[str]
    rows_deleted: int = 0
    targets: dict[str, Any] = field(default_factory=dict)  # target -> outcome
    log_id: int = 0

    @property
    def complete(self) -> bool:
        return all(v.get("status") in ("deleted", "not linked") for v in self.targets.values())


def forget(
    store: Store,
    targets: Mapping[str, Target],
    *,
    email: str | None = None,
    phone: str | None = None,
    guest_id: str | None = None,
    region: str = "TW",
) -> ForgetResult:
    """Delete a guest everywhere we can (see the module docstring)."""
    if sum(x is not None for x in (email, phone, guest_id)) != 1:
        raise ConfigError("name exactly one of --email, --phone or --guest")
    salt = store.privacy_salt()
    selector_hashes: list[tuple[str, str]] = []
    try:
        if email is not None:
            email = email_address(email)
            selector_hashes.append(("email", contact_hash(salt, "email", email)))
        if phone is not None:
            phone = phone_e164(phone, region)
            selector_hashes.append(("phone", contact_hash(salt, "phone", phone)))
    except ValueError as exc:
        raise ConfigError(f"cannot forget: {exc}") from None
    if guest_id is not None:
        ids = {guest_id} if store.get_guest(guest_id) else set()
        selector = f"guest:{guest_id}"
    else:
        ids = store.guest_ids_by_contact(email=email, phone=phone)
        selector = f"{selector_hashes[0][0]}:{selector_hashes[0][1]}"
    # Identity merges: the guest this id was merged into, and every guest merged into it,
    # are the same person (their old rows and CRM contacts hold the same data).
    ids = store.merged_family(ids)
    result = ForgetResult(sorted(ids))
    links = {gid: store.crm_links_of(gid) for gid in result.guest_ids}
    for name, target in targets.items():
        refs = [CrmRef(gid, lk[name]) for gid, lk in links.items() if name in lk]
        result.targets[name] = _delete_in(target, refs)
    hashes = list(selector_hashes)
    with store.atomic():
        contacts = {c for gid in result.guest_ids for c in store.guest_contacts(gid)}
        contacts |= {(k, v) for k, v in (("email", email), ("phone", phone)) if v}
        hashes += [(k, contact_hash(salt, k, v)) for k, v in contacts]
        for gid in result.guest_ids:
            result.rows_deleted += store.erase_guest(gid)
        # Raw rows never linked to the guest (rejected ones) may still name them. Only
        # exact spellings are found: an email in any case, a phone as E.164.
        result.rows_deleted += store.erase_raw_mentions(sorted(v for _, v in contacts))
        store.add_suppressions(hashes)
        result.log_id = store.log_forget(
            selector=selector,
            guests=len(result.guest_ids),
            rows=result.rows_deleted,
            targets=result.targets,
            status="done" if result.complete else "partial",
        )
        _queue_retries(store, result.targets, result.log_id)
    return result


def _delete_in(target: Target, refs: Sequence[CrmRef]) -> dict[str, Any]:
    """One target's outcome: deleted | not linked | unsupported | queued | failed.

    `queued`: the CRM said "later" (rate limit, 5xx, timeout); the deletes are kept in the
    delivery queue (`_queue_retries`) and retried by the next delivery run with the
    target's retry policy. `failed` and `unsupported` list the CRM ids to delete by hand.
    """
    if not refs:
        return {"status": "not linked"}
    if not callable(getattr(target, "delete", None)):  # the SupportsDelete capability
        # The CRM ids are not personal data; they let someone delete these by hand.
        return {"status": "unsupported", "crm_ids": [r.crm_id for r in refs]}
    try:
        results = target.delete(refs)  # type: ignore[attr-defined]  # SupportsDelete
    except RetryableError as exc:
        return {"status": "queued", "error": str(exc), "crm_ids": [r.crm_id for r in refs]}
    except GuestsyncError as exc:
        return {"status": "failed", "error": str(exc), "crm_ids": [r.crm_id for r in refs]}
    failed = [r for r in results if not r.ok]
    if failed:
        by_gid = {r.guest_id: r.crm_id for r in refs}
        return {
            "status": "queued" if all(r.retryable for r in failed) else "failed",
            "error": "; ".join(r.error or "rejected" for r in failed),
            "crm_ids": [by_gid.get(r.guest_id) for r in failed],
        }
    return {"status": "deleted", "count": len(refs)}


def _queue_retries(store: Store, outcomes: Mapping[str, dict[str, Any]], log_id: int) -> None:
    """Deletes the CRM answered "later" go to the delivery queue (crm_ops), under an id
    that is not the forgotten guest's (every row naming that id is gone)."""
    for target, outcome in outcomes.items():
        if outcome.get("status") != "queued":
            continue
        for i, crm_id in enumerate(outcome["crm_ids"]):
            if crm_id:
                store.queue_delete(target, f"forget#{log_id}.{i}", crm_id)


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
