"""Senders for the tests: sign bodies the way each platform documents (platform-apis.md §3),
independently of guestsync.webhooks.schemes, and a config with one source per platform."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "config" / "samples" / "webhooks"
SQUARE_URL = "https://hooks.example.com/webhooks/square"
STD_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-test-key-32byte").decode()


def booking(i: int) -> bytes:
    """A generic webhook booking of guest `i`: a name, email and phone of its own."""
    return json.dumps(
        {
            "id": f"zap-{i}",
            "name": f"Guest {i}",
            "email": f"guest{i}@example.com",
            "phone": f"+8869{i:08d}",
            "start_at": "2026-12-01T19:00:00+08:00",
            "party_size": 2,
        }
    ).encode()


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def square_headers(body: bytes, key: str = "sq-key", url: str = SQUARE_URL) -> dict[str, str]:
    mac = hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    return {"x-square-hmacsha256-signature": base64.b64encode(mac).decode()}


def inline_headers(body: bytes, secret: str = "in-secret") -> dict[str, str]:
    return {"X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}


def toast_headers(body: bytes, secret: str = "t-secret") -> dict[str, str]:
    ts = json.loads(body)["timestamp"]
    mac = hmac.new(secret.encode(), body + str(ts).encode(), hashlib.sha256).digest()
    return {"Toast-Signature": base64.b64encode(mac).decode()}


def hmac_headers(body: bytes, secret: str = "zap-secret") -> dict[str, str]:
    return {"X-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


SOURCES = f"""\
  square:
    type: webhook
    platform: square
    mapping: mappings/square_webhook_customers.yaml
    stream_mappings: {{customers: mappings/square_webhook_customers.yaml,
                      bookings: mappings/square_webhook_bookings.yaml}}
    webhook: {{scheme: square, secrets: [sq-key], notification_url: "{SQUARE_URL}"}}
  inline:
    type: webhook
    platform: inline
    mapping: mappings/inline_reservations.yaml
    webhook: {{scheme: inline, secrets: [in-secret]}}
  toast:
    type: webhook
    platform: toast
    mapping: mappings/toast_guests.yaml
    webhook: {{scheme: toast, secrets: [t-secret], tolerance: 0}}
  zap:
    type: webhook
    mapping: mappings/generic_booking.yaml
    stream: bookings
    webhook: {{scheme: hmac, secrets: [zap-secret], header: X-Signature, prefix: "sha256=",
              event_id_header: X-Event-Id, max_body: 4096}}
  std:
    type: webhook
    mapping: mappings/generic_booking.yaml
    stream: bookings
    webhook: {{scheme: standard, secrets: ["{STD_SECRET}"]}}
"""


def standard_headers(body: bytes, msg_id: str, ts: int, secret: str = STD_SECRET) -> dict:
    """Standard Webhooks, from the spec: v1 = b64(HMAC-SHA256(key, f"{id}.{ts}.{body}"))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    sig = "v1," + base64.b64encode(mac).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def webhook_config(crm_url: str = "http://127.0.0.1:9", *, extra: str = "") -> str:
    return (
        "store: {path: hub.db}\n"
        "sources:\n" + SOURCES + "targets:\n"
        "  hubspot:\n"
        "    type: hubspot\n"
        "    token: test-token\n"
        f"    base_url: {crm_url}\n"
        "    retry: {max_attempts: 10, initial_wait: 0, max_wait: 0}\n" + extra
    )
