"""Webhook signature schemes: small strategy objects, one per way a sender signs.

Each scheme checks the raw request bytes (never re-serialized JSON) against every active
secret (two during a rotation), compares in constant time, and enforces a timestamp
tolerance both ways (stale AND future) where the sender signs a timestamp. Anything wrong
(missing header, malformed header, bad signature, out-of-tolerance time) is a
`SignatureError` with a short reason, which the server answers with 401; never a 500.

Adding a scheme: write one class with `name`, `from_options(opts)` and `verify()`, and
add one line to `SCHEMES` (the config's `scheme:` accepts every key of `SCHEMES`).
Exact computations: /work/shared/reference/platform-apis.md §3.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs, urlsplit

DEFAULT_TOLERANCE = 300.0
TOAST_TOLERANCE = 1200.0  # see ToastScheme


class SignatureError(Exception):
    """The request is not proven to come from the sender: answer 401 with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Headers(Protocol):
    """Request headers as an HTTP server hands them over: looked up regardless of case
    (werkzeug's `Headers`, not a dict), and listed by `items()`."""

    def get(self, key: str, /) -> str | None: ...

    def __getitem__(self, key: str, /) -> str: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass(frozen=True)
class SignedRequest:
    """What a scheme may look at: raw body, headers (case-insensitive mapping), URL (a
    string, or a function giving it: rebuilding the URL costs, and few schemes need it)."""

    body: bytes
    headers: Headers
    url_of: str | Callable[[], str] = ""

    @property
    def url(self) -> str:
        return self.url_of() if callable(self.url_of) else self.url_of

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (e.g. Jiandaoyun signs ?timestamp=…&nonce=…): first values."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}


class Scheme(Protocol):
    name: ClassVar[str]

    @classmethod
    def from_options(cls, opts: Any) -> Scheme:
        """Build from the source's `webhook:` options (secrets, header, tolerance, …)."""
        ...

    def verify(self, req: SignedRequest, *, now: float) -> None:
        """Return if the request is authentic; raise `SignatureError` otherwise."""
        ...


def _header(req: SignedRequest, name: str) -> str:
    value = req.headers.get(name)
    if value is None or not str(value).strip():
        raise SignatureError(f"missing header {name}")
    return str(value).strip()


def _ascii(value: str, what: str) -> bytes:
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        raise SignatureError(f"malformed {what}") from None


def _any_match(expected: Sequence[bytes], given: Sequence[bytes]) -> bool:
    """Constant time per comparison; every pair is compared (no early exit on secret)."""
    ok = False
    for e in expected:
        for g in given:
            ok |= hmac.compare_digest(e, g)
    return ok


def _check_time(ts: float, *, now: float, tolerance: float | None) -> None:
    if tolerance is None:
        return
    if ts < now - tolerance:
        raise SignatureError("timestamp too old (replay?)")
    if ts > now + tolerance:
        raise SignatureError("timestamp in the future")


def _int_ts(value: str) -> float:
    try:
        return float(int(value))
    except ValueError:
        raise SignatureError("malformed timestamp") from None


def _secrets(opts: Any) -> tuple[bytes, ...]:
    return tuple(s.get_secret_value().encode() for s in opts.secrets)


def _tol(opts: Any, default: float = DEFAULT_TOLERANCE) -> float | None:
    """`tolerance: 0` in the config switches the check off; unset means the default."""
    if opts.tolerance is None:
        return default
    return opts.tolerance or None


def _encode(digest: bytes, encoding: str) -> bytes:
    return digest.hex().encode() if encoding == "hex" else base64.b64encode(digest)


def _hmac(key: bytes, msg: bytes, alg: str = "sha256") -> bytes:
    return hmac.digest(key, msg, alg)  # one-shot, in C (OpenSSL): no HMAC object per call


def _stripe_header(value: str, header: str) -> tuple[str, list[bytes]]:
    """`t=<unix s>,v1=<hex>[,v1=<hex>…]` (Stripe-Signature; BottleCRM's outbound header has
    the same form): the timestamp and every v1 signature (several during a secret roll;
    any may match, stripe/stripe-python:stripe/_webhook.py)."""
    ts, sigs = "", []
    for part in value.split(","):
        key, _, val = part.strip().partition("=")
        if key == "t":
            ts = val
        elif key == "v1":
            sigs.append(_ascii(val.lower(), header))
    if not ts or not sigs:
        raise SignatureError(f"malformed {header} (expected t=…,v1=…)")
    return ts, sigs


@dataclass(frozen=True)
class HmacScheme:
    """Generic HMAC (Zapier, n8n, home-grown senders): header, hex or base64, an optional
    prefix (`sha256=`), optional signed timestamp header and a signed-payload template
    such as `{timestamp}.{body}`.

    Two other common forms fit the same scheme:
    - `signature_format: t_v1`: a Stripe-style header `t=…,v1=…` carrying the timestamp and
      the hex signature(s) of `{timestamp}.{body}` (stripe/stripe-python:stripe/_webhook.py);
    - HubSpot v3: base64 of HMAC-SHA256 over `{method}{uri}{body}{timestamp}`, the timestamp
      in milliseconds in `X-HubSpot-Request-Timestamp` (`timestamp_unit: ms`), `{uri}` the
      URL exactly as HubSpot calls it (`notification_url`), method POST
      (HubSpot/hubspot-api-python:hubspot/utils/signature.py).
    """

    name: ClassVar[str] = "hmac"
    secrets: tuple[bytes, ...]
    header: str = "X-Signature"
    encoding: str = "hex"
    prefix: str = ""
    algorithm: str = "sha256"
    timestamp_header: str | None = None
    template: str = "{body}"
    tolerance: float | None = DEFAULT_TOLERANCE
    signature_format: str = "plain"  # or t_v1 (Stripe style)
    timestamp_unit: str = "s"  # or ms (HubSpot v3)
    uri: str | None = None  # {uri} in the template; default: the URL as we received it

    @classmethod
    def from_options(cls, opts: Any) -> HmacScheme:
        return cls(
            _secrets(opts),
            header=opts.header or "X-Signature",
            encoding=opts.encoding,
            prefix=opts.prefix,
            algorithm=opts.algorithm,
            timestamp_header=opts.timestamp_header,
            template=opts.template,
            tolerance=_tol(opts),
            signature_format=opts.signature_format,
            timestamp_unit=opts.timestamp_unit,
            uri=opts.notification_url,
        )

    def message(self, body: bytes, timestamp: str = "", uri: str = "") -> bytes:
        parts = [
            p.replace("{timestamp}", timestamp)
            .replace("{method}", "POST")  # the webhook endpoint takes POST only
            .replace("{uri}", uri)
            .encode()
            for p in self.template.split("{body}")
        ]
        return body.join(parts)

    def _uri(self, req: SignedRequest) -> str:
        return (self.uri or req.url) if "{uri}" in self.template else ""

    def verify(self, req: SignedRequest, *, now: float) -> None:
        given = _header(req, self.header)
        if self.signature_format == "t_v1":
            ts, sigs = _stripe_header(given, self.header)
            _check_time(_int_ts(ts), now=now, tolerance=self.tolerance)
            msg = self.message(req.body, ts, self._uri(req))
            expected = [_hmac(k, msg, self.algorithm).hex().encode() for k in self.secrets]
            if not _any_match(expected, sigs):
                raise SignatureError("signature does not match")
            return
        ts = ""
        if self.timestamp_header:
            ts = _header(req, self.timestamp_header)
            unit = 1000 if self.timestamp_unit == "ms" else 1
            _check_time(_int_ts(ts) / unit, now=now, tolerance=self.tolerance)
        if self.prefix:
            if not given.startswith(self.prefix):
                raise SignatureError(f"malformed {self.header} (expected {self.prefix}…)")
            given = given[len(self.prefix) :]
        sig = _ascii(given.lower() if self.encoding == "hex" else given, self.header)
        msg = self.message(req.body, ts, self._uri(req))
        expected = [_encode(_hmac(k, msg, self.algorithm), self.encoding) for k in self.secrets]
        if not _any_match(expected, [sig]):
            raise SignatureError("signature does not match")


def standard_secret(secret: str) -> bytes:
    """A Standard Webhooks secret: `whsec_` + base64 of the key bytes, padding optional:
    the reference library adds it before decoding, so senders hand out unpadded secrets
    (standard-webhooks/standard-webhooks:libraries/python/standardwebhooks/webhooks.py)."""
    key = secret.removeprefix("whsec_").strip()
    try:
        return base64.b64decode(key + "=" * (-len(key) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret is whsec_ followed by base64") from None


@dataclass(frozen=True)
class StandardWebhooksScheme:
    """https://www.standardwebhooks.com (spec: standard-webhooks/standard-webhooks:
    spec/standard-webhooks.md): sign `{id}.{timestamp}.{body}`; the signature header holds
    space-separated `v1,<base64>` entries, any of which may match (rotation)."""

    name: ClassVar[str] = "standard"
    secrets: tuple[bytes, ...]  # already base64-decoded key bytes
    tolerance: float | None = DEFAULT_TOLERANCE

    @classmethod
    def from_options(cls, opts: Any) -> StandardWebhooksScheme:
        keys = tuple(standard_secret(s.get_secret_value()) for s in opts.secrets)
        return cls(keys, tolerance=_tol(opts))

    def verify(self, req: SignedRequest, *, now: float) -> None:
        msg_id = _header(req, "webhook-id")
        ts = _header(req, "webhook-timestamp")
        header = _header(req, "webhook-signature")
        _check_time(_int_ts(ts), now=now, tolerance=self.tolerance)
        given = [
            _ascii(part[3:], "webhook-signature")
            for part in header.split(" ")
            if part.startswith("v1,")
        ]
        if not given:
            raise SignatureError("malformed webhook-signature (no v1 entry)")
        msg = msg_id.encode() + b"." + ts.encode() + b"." + req.body
        expected = [base64.b64encode(_hmac(k, msg)) for k in self.secrets]
        if not _any_match(expected, given):
            raise SignatureError("signature does not match")


@dataclass(frozen=True)
class SquareScheme:
    """Square: base64 HMAC-SHA256 over the subscribed notification URL + body
    (square/square-python-sdk: webhooks_helper.py). The URL is the one registered with
    Square, not our bind address, so it is configured (`notification_url`)."""

    name: ClassVar[str] = "square"
    secrets: tuple[bytes, ...]
    notification_url: str | None = None
    header: str = "x-square-hmacsha256-signature"

    @classmethod
    def from_options(cls, opts: Any) -> SquareScheme:
        return cls(_secrets(opts), notification_url=opts.notification_url)

    def verify(self, req: SignedRequest, *, now: float) -> None:
        sig = _ascii(_header(req, self.header), self.header)
        url = (self.notification_url or req.url).encode()
        expected = [base64.b64encode(_hmac(k, url + req.body)) for k in self.secrets]
        if not _any_match(expected, [sig]):
            raise SignatureError("signature does not match")


@dataclass(frozen=True)
class InlineScheme:
    """inline (Taiwan) signs like GitHub: `X-Hub-Signature: sha1=<hex>` and/or
    `X-Hub-Signature-256: sha256=<hex>` over the body (GitHub ✅, inline ⚠️ per the
    reference). The stronger header is checked when present."""

    name: ClassVar[str] = "inline"
    secrets: tuple[bytes, ...]

    @classmethod
    def from_options(cls, opts: Any) -> InlineScheme:
        return cls(_secrets(opts))

    def verify(self, req: SignedRequest, *, now: float) -> None:
        pairs = (("X-Hub-Signature-256", "sha256"), ("X-Hub-Signature", "sha1"))
        found = next(((h, a) for h, a in pairs if req.headers.get(h)), None)
        if found is None:
            raise SignatureError("missing header X-Hub-Signature(-256)")
        header, alg = found
        value = str(req.headers[header]).strip()
        if not value.startswith(f"{alg}="):
            raise SignatureError(f"malformed {header} (expected {alg}=…)")
        sig = _ascii(value[len(alg) + 1 :].lower(), header)
        expected = [_hmac(k, req.body, alg).hex().encode() for k in self.secrets]
        if not _any_match(expected, [sig]):
            raise SignatureError("signature does not match")


def _toast_timestamp(req: SignedRequest) -> str:
    """Toast signs body + timestamp, the timestamp being the payload's `timestamp` field
    (⚠️ partial in the reference: Toast's Java sample as reproduced publicly,
    https://doc.toasttab.com/doc/devguide/apiMessageSigning.html). Isolated here."""
    try:
        value = json.loads(req.body).get("timestamp")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str | int) or value == "":
        raise SignatureError("missing timestamp in the Toast payload")
    return str(value)


def _parse_toast_time(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return _int_ts(value) / (1000 if len(value) > 11 else 1)


@dataclass(frozen=True)
class ToastScheme:
    """Toast: `Toast-Signature` = base64 HMAC-SHA256(secret, body + timestamp). Toast
    resends after 5 and 10 minutes (https://doc.toasttab.com/doc/devguide/apiRetrySupport.html),
    and whether a resend is re-signed with a new timestamp is not documented: the last
    resend arrives about 15 minutes after the first try (10 min + each attempt's timeout
    and queueing), which a 900 s tolerance rejected. The default is therefore 1,200 s
    (configurable); replays within it are caught by the event `guid` dedupe."""

    name: ClassVar[str] = "toast"
    secrets: tuple[bytes, ...]
    tolerance: float | None = TOAST_TOLERANCE
    timestamp_of: Callable[[SignedRequest], str] = field(default=_toast_timestamp)

    @classmethod
    def from_options(cls, opts: Any) -> ToastScheme:
        return cls(_secrets(opts), tolerance=_tol(opts, TOAST_TOLERANCE))

    def verify(self, req: SignedRequest, *, now: float) -> None:
        sig = _ascii(_header(req, "Toast-Signature"), "Toast-Signature")
        ts = self.timestamp_of(req)
        _check_time(_parse_toast_time(ts), now=now, tolerance=self.tolerance)
        msg = req.body + ts.encode()
        expected = [base64.b64encode(_hmac(k, msg)) for k in self.secrets]
        if not _any_match(expected, [sig]):
            raise SignatureError("signature does not match")


@dataclass(frozen=True)
class JiandaoyunScheme:
    """Jiandaoyun (简道云) pushes to `<url>?timestamp=…&nonce=…` with
    `X-JDY-Signature = sha1("nonce:body:secret:timestamp").hexdigest()`: plain SHA-1 over
    the raw body, no HMAC (https://hc.jiandaoyun.com/open/11507 and the vendor's
    gitee.com/jiandaoyun/webhook-demo-python; the doc's example swaps the two header
    values, its text and demo code are right). The timestamp is Unix seconds ⚠️
    (milliseconds are accepted too)."""

    name: ClassVar[str] = "jiandaoyun"
    secrets: tuple[bytes, ...]
    tolerance: float | None = DEFAULT_TOLERANCE
    header: str = "X-JDY-Signature"

    @classmethod
    def from_options(cls, opts: Any) -> JiandaoyunScheme:
        return cls(_secrets(opts), tolerance=_tol(opts))

    def verify(self, req: SignedRequest, *, now: float) -> None:
        sig = _ascii(_header(req, self.header).lower(), self.header)
        query = req.query
        nonce, ts = query.get("nonce"), query.get("timestamp")
        if nonce is None or ts is None:
            raise SignatureError("missing nonce/timestamp query parameter")
        sent = _int_ts(ts)
        _check_time(sent / 1000 if sent > 1e12 else sent, now=now, tolerance=self.tolerance)
        head, tail = f"{nonce}:".encode(), f":{ts}".encode()
        expected = [
            hashlib.sha1(head + req.body + b":" + k + tail).hexdigest().encode()
            for k in self.secrets
        ]
        if not _any_match(expected, [sig]):
            raise SignatureError("signature does not match")


SCHEMES: dict[str, type[Scheme]] = {
    "hmac": HmacScheme,
    "standard": StandardWebhooksScheme,
    "square": SquareScheme,
    "inline": InlineScheme,
    "toast": ToastScheme,
    "jiandaoyun": JiandaoyunScheme,
}


def build_scheme(opts: Any) -> Scheme:
    """The scheme named by `opts.scheme` (connector_options.WebhookOptions), built once."""
    return SCHEMES[opts.scheme].from_options(opts)
