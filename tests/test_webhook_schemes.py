"""Each signature scheme: valid, tampered body, wrong secret, stale and future timestamps,
missing and malformed headers, rotated secret. Signatures here are computed in the test,
from the vendor documents (platform-apis.md §3), never by the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from guestsync.config.webhooks import WebhookOptions
from guestsync.webhooks.schemes import SCHEMES, SignatureError, SignedRequest, build_scheme

NOW = 1_700_000_000
BODY = b'{"id":"evt_1","name":"\xe6\x9e\x97\xe5\xb0\x8f\xe5\xa7\x90"}'


def scheme(name: str, *secrets: str, **kw):
    return build_scheme(WebhookOptions(scheme=name, secrets=list(secrets), **kw))


def ok(s, body: bytes, headers: dict, *, url: str = "", now: float = NOW) -> None:
    s.verify(SignedRequest(body, headers, url), now=now)


def bad(s, body: bytes, headers: dict, *, url: str = "", now: float = NOW) -> str:
    with pytest.raises(SignatureError) as info:
        s.verify(SignedRequest(body, headers, url), now=now)
    return info.value.reason


# -- Standard Webhooks: an independent signer written from the spec -----------------------
# spec: standard-webhooks/standard-webhooks spec/standard-webhooks.md
#   signed content = "{msg_id}.{timestamp}.{body}"; key = base64-decoded secret after
#   "whsec_"; header "webhook-signature" = space-delimited "v1,<base64 HMAC-SHA256>".


def sw_sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


SW_OLD = "whsec_" + base64.b64encode(b"old-secret-bytes-0123456789abcdef").decode()
SW_NEW = "whsec_" + base64.b64encode(b"new-secret-bytes-fedcba9876543210").decode()


def sw_headers(sig: str, *, ts: int = NOW, msg_id: str = "msg_2Kx") -> dict:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def test_standard_webhooks_valid_tampered_wrong_secret():
    s = scheme("standard", SW_NEW)
    ok(s, BODY, sw_headers(sw_sign(SW_NEW, "msg_2Kx", NOW, BODY)))
    assert bad(s, BODY + b" ", sw_headers(sw_sign(SW_NEW, "msg_2Kx", NOW, BODY))) == (
        "signature does not match"
    )
    assert "does not match" in bad(s, BODY, sw_headers(sw_sign(SW_OLD, "msg_2Kx", NOW, BODY)))
    # the id is signed too: a replay under another id fails
    sig = sw_sign(SW_NEW, "msg_2Kx", NOW, BODY)
    assert "does not match" in bad(s, BODY, sw_headers(sig, msg_id="msg_other"))


def test_standard_webhooks_timestamps_both_ways():
    s = scheme("standard", SW_NEW)
    for ts, word in ((NOW - 301, "old"), (NOW + 301, "future")):
        assert word in bad(s, BODY, sw_headers(sw_sign(SW_NEW, "m", ts, BODY), ts=ts, msg_id="m"))
    ok(s, BODY, sw_headers(sw_sign(SW_NEW, "m", NOW - 299, BODY), ts=NOW - 299, msg_id="m"))
    wide = scheme("standard", SW_NEW, tolerance=3600)
    ok(wide, BODY, sw_headers(sw_sign(SW_NEW, "m", NOW - 900, BODY), ts=NOW - 900, msg_id="m"))


def test_standard_webhooks_several_signatures_and_rotation():
    both = scheme("standard", SW_OLD, SW_NEW)
    ok(both, BODY, sw_headers(sw_sign(SW_OLD, "msg_2Kx", NOW, BODY)))
    ok(both, BODY, sw_headers(sw_sign(SW_NEW, "msg_2Kx", NOW, BODY)))
    # sender signs with both keys during its rotation, plus an unknown version entry
    header = " ".join(["v1a,ZWQyNTUxOQ==", "v1,AAAA", sw_sign(SW_NEW, "msg_2Kx", NOW, BODY)])
    ok(scheme("standard", SW_NEW), BODY, sw_headers(header))


@pytest.mark.parametrize(
    "headers, reason",
    [
        ({}, "missing header webhook-id"),
        ({"webhook-id": "m", "webhook-timestamp": str(NOW)}, "missing header webhook-signature"),
        (sw_headers("v1,abc", ts=0) | {"webhook-timestamp": "yesterday"}, "malformed timestamp"),
        (sw_headers("v2,abc"), "malformed webhook-signature (no v1 entry)"),
        (sw_headers("v1,ünïcode"), "malformed webhook-signature"),
    ],
)
def test_standard_webhooks_missing_or_malformed_headers(headers, reason):
    assert bad(scheme("standard", SW_NEW), BODY, headers) == reason


def test_standard_webhooks_secret_must_be_whsec_base64():
    with pytest.raises(ValueError, match="whsec_"):
        WebhookOptions(scheme="standard", secrets=["whsec_not base64!"])


# -- generic HMAC ------------------------------------------------------------------------


def hmac_hex(secret: str, msg: bytes) -> str:
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def test_generic_hmac_hex_with_prefix_and_rotation():
    s = scheme("hmac", "s-old", "s-new", header="X-Zap-Signature", prefix="sha256=")
    for secret in ("s-old", "s-new"):
        ok(s, BODY, {"X-Zap-Signature": "sha256=" + hmac_hex(secret, BODY)})
    assert "does not match" in bad(s, BODY, {"X-Zap-Signature": "sha256=" + hmac_hex("x", BODY)})
    assert "does not match" in bad(
        s, BODY + b"!", {"X-Zap-Signature": "sha256=" + hmac_hex("s-new", BODY)}
    )
    assert bad(s, BODY, {}) == "missing header X-Zap-Signature"
    assert "malformed" in bad(s, BODY, {"X-Zap-Signature": hmac_hex("s-new", BODY)})


def test_generic_hmac_base64_with_signed_timestamp_template():
    s = scheme(
        "hmac",
        "n8n-secret",
        header="X-Signature",
        encoding="base64",
        timestamp_header="X-Timestamp",
        template="{timestamp}.{body}",
    )

    def sign(ts: int, body: bytes = BODY) -> dict:
        mac = hmac.new(b"n8n-secret", f"{ts}.".encode() + body, hashlib.sha256).digest()
        return {"X-Signature": base64.b64encode(mac).decode(), "X-Timestamp": str(ts)}

    ok(s, BODY, sign(NOW))
    assert "does not match" in bad(s, BODY, sign(NOW) | {"X-Timestamp": str(NOW + 1)})
    assert "old" in bad(s, BODY, sign(NOW - 400), now=NOW)
    assert "future" in bad(s, BODY, sign(NOW + 400), now=NOW)
    assert bad(s, BODY, {"X-Signature": "abc"}) == "missing header X-Timestamp"
    # a body containing the literal text {timestamp} is signed as is
    odd = b'{"note":"{timestamp}"}'
    ok(s, odd, sign(NOW, odd))


# -- Square ------------------------------------------------------------------------------

URL = "https://hooks.example.com/webhooks/square"


def square_sig(key: str, url: str, body: bytes) -> str:
    # square/square-python-sdk legacy webhooks_helper.py
    mac = hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def test_square_signs_the_subscribed_url_plus_body():
    s = scheme("square", "sq-key", notification_url=URL)
    h = "x-square-hmacsha256-signature"
    ok(s, BODY, {h: square_sig("sq-key", URL, BODY)}, url="http://127.0.0.1:8080/x")
    assert "does not match" in bad(s, BODY, {h: square_sig("sq-key", URL + "/", BODY)})
    assert "does not match" in bad(s, BODY + b"x", {h: square_sig("sq-key", URL, BODY)})
    assert "does not match" in bad(s, BODY, {h: square_sig("other", URL, BODY)})
    assert bad(s, BODY, {}) == f"missing header {h}"
    assert bad(s, BODY, {h: "sïg"}) == f"malformed {h}"
    rotated = scheme("square", "sq-old", "sq-key", notification_url=URL)
    ok(rotated, BODY, {h: square_sig("sq-old", URL, BODY)})
    ok(rotated, BODY, {h: square_sig("sq-key", URL, BODY)})


def test_square_without_notification_url_is_a_config_error_that_says_why():
    # issue 23: behind a proxy the request URL is not the subscribed one: all rejected
    with pytest.raises(ValueError, match=r"notification_url is required.*proxy"):
        WebhookOptions(scheme="square", secrets=["k"])


# -- inline (GitHub style) ----------------------------------------------------------------


def test_inline_accepts_sha1_and_sha256():
    s = scheme("inline", "in-secret")
    sha1 = "sha1=" + hmac.new(b"in-secret", BODY, hashlib.sha1).hexdigest()
    sha256 = "sha256=" + hmac_hex("in-secret", BODY)
    ok(s, BODY, {"X-Hub-Signature": sha1})
    ok(s, BODY, {"X-Hub-Signature-256": sha256})
    ok(s, BODY, {"X-Hub-Signature": sha1, "X-Hub-Signature-256": sha256})
    assert "does not match" in bad(s, BODY + b" ", {"X-Hub-Signature": sha1})
    assert "does not match" in bad(
        s, BODY, {"X-Hub-Signature-256": "sha256=" + hmac_hex("nope", BODY)}
    )
    # the stronger header decides: a good sha1 does not rescue a bad sha256
    assert "does not match" in bad(
        s, BODY, {"X-Hub-Signature": sha1, "X-Hub-Signature-256": "sha256=00"}
    )
    assert "missing" in bad(s, BODY, {})
    assert "malformed" in bad(s, BODY, {"X-Hub-Signature": "md5=abc"})
    rotated = scheme("inline", "in-old", "in-secret")
    ok(rotated, BODY, {"X-Hub-Signature": sha1})


# -- Toast -------------------------------------------------------------------------------


def toast_body(ts: str) -> bytes:
    return json.dumps({"timestamp": ts, "eventType": "orders_updated", "guid": "g1"}).encode()


def toast_sig(secret: str, body: bytes, ts: str) -> str:
    # https://doc.toasttab.com/doc/devguide/apiMessageSigning.html: body + timestamp
    mac = hmac.new(secret.encode(), body + ts.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def test_toast_signs_body_plus_timestamp():
    ts = "2023-11-14T22:13:20.000Z"  # == NOW
    body = toast_body(ts)
    s = scheme("toast", "t-secret")
    ok(s, body, {"Toast-Signature": toast_sig("t-secret", body, ts)})
    assert "does not match" in bad(s, body, {"Toast-Signature": toast_sig("x", body, ts)})
    tampered = body.replace(b"g1", b"g2")
    assert "does not match" in bad(
        s, tampered, {"Toast-Signature": toast_sig("t-secret", body, ts)}
    )
    assert bad(s, body, {}) == "missing header Toast-Signature"
    ok(
        scheme("toast", "old", "t-secret"),
        body,
        {"Toast-Signature": toast_sig("t-secret", body, ts)},
    )


def test_toast_timestamps_stale_and_future():
    s = scheme("toast", "t", tolerance=300)
    for ts, word in (("2023-11-14T22:00:00Z", "old"), ("2023-11-14T22:30:00Z", "future")):
        body = toast_body(ts)
        assert word in bad(s, body, {"Toast-Signature": toast_sig("t", body, ts)})
    body = b'{"eventType":"x"}'
    assert "missing timestamp" in bad(s, body, {"Toast-Signature": "abc"})


def test_every_registered_scheme_turns_garbage_headers_into_signature_errors():
    garbage = {
        "X-Signature": "\x00\xff",
        "webhook-id": "",
        "x-square-hmacsha256-signature": "=",
        "X-Hub-Signature": "sha1=zz",
        "Toast-Signature": "%%",
    }
    for name in SCHEMES:
        secret = SW_NEW if name == "standard" else "k"
        url = {"notification_url": URL} if name == "square" else {}
        with pytest.raises(SignatureError):
            scheme(name, secret, **url).verify(SignedRequest(b"{}", garbage, ""), now=NOW)


def test_signed_request_exposes_query_parameters_for_schemes_that_sign_them():
    req = SignedRequest(b"{}", {}, lambda: "https://h.example/webhooks/jdy?timestamp=17&nonce=ab")
    assert req.query == {"timestamp": "17", "nonce": "ab"}


# -- issue 23: what the vendors' own libraries accept ---------------------------------------


def test_toast_accepts_the_last_resend_about_15_minutes_later():
    ts = "2023-11-14T21:55:00.000Z"  # NOW - 1,100 s: Toast's 10-minute resend, late
    body = toast_body(ts)
    ok(scheme("toast", "t"), body, {"Toast-Signature": toast_sig("t", body, ts)})
    old = "2023-11-14T21:52:00.000Z"  # NOW - 1,280 s
    body = toast_body(old)
    assert "old" in bad(scheme("toast", "t"), body, {"Toast-Signature": toast_sig("t", body, old)})


def test_standard_webhooks_secret_without_base64_padding():
    # the reference library pads before decoding (libraries/python/standardwebhooks)
    key = b"0123456789abcdefghij0"  # 21 bytes: base64 ends in one "="
    unpadded = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    s = scheme("standard", unpadded)
    mac = hmac.new(key, b"m." + str(NOW).encode() + b"." + BODY, hashlib.sha256).digest()
    headers = {
        "webhook-id": "m",
        "webhook-timestamp": str(NOW),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    ok(s, BODY, headers)


def stripe_header(secret: str, t: int, body: bytes) -> str:
    # stripe/stripe-python:stripe/_webhook.py: hex HMAC-SHA256 of "{t}.{payload}"
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def test_generic_hmac_verifies_stripe_style_t_v1_headers():
    s = scheme("hmac", "whsec_abc", header="Stripe-Signature", signature_format="t_v1")
    h = "Stripe-Signature"
    ok(s, BODY, {h: stripe_header("whsec_abc", NOW, BODY)})
    two = stripe_header("whsec_abc", NOW, BODY) + ",v1=" + "0" * 64  # any v1 may match
    ok(s, BODY, {h: two})
    assert "old" in bad(s, BODY, {h: stripe_header("whsec_abc", NOW - 400, BODY)})
    assert "does not match" in bad(s, BODY, {h: stripe_header("other", NOW, BODY)})
    assert "malformed" in bad(s, BODY, {h: "v1=abc"})


def test_generic_hmac_verifies_hubspot_v3_signatures():
    # HubSpot/hubspot-api-python:hubspot/utils/signature.py (v3): base64 HMAC-SHA256 of
    # method + uri + body + timestamp (ms, X-HubSpot-Request-Timestamp)
    uri = "https://hooks.example.com/webhooks/hubspot"
    ts = str(NOW * 1000)
    mac = hmac.new(b"app-secret", f"POST{uri}".encode() + BODY + ts.encode(), hashlib.sha256)
    s = scheme(
        "hmac",
        "app-secret",
        header="X-HubSpot-Signature-v3",
        encoding="base64",
        timestamp_header="X-HubSpot-Request-Timestamp",
        timestamp_unit="ms",
        template="{method}{uri}{body}{timestamp}",
        notification_url=uri,
    )
    headers = {
        "X-HubSpot-Signature-v3": base64.b64encode(mac.digest()).decode(),
        "X-HubSpot-Request-Timestamp": ts,
    }
    ok(s, BODY, headers, url="http://127.0.0.1:8080/webhooks/hubspot")
    stale = {**headers, "X-HubSpot-Request-Timestamp": str((NOW - 400) * 1000)}
    assert "old" in bad(s, BODY, stale)
