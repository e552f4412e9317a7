"""The signed headers of Kingdee Cloud Galaxy (金蝶云星空) WebAPI, as the vendor SDK builds them.

Source ✅: PyPI `kingdee-cdp-webapi-sdk` 8.2.0, `k3cloud_webapi_sdk/core/webapi_client.py`
(`WebApiClient.BuildHeader`), `util/hmac_util.py`, `util/encode_util.py`
(platform-apis.md §1.5). We do not depend on that SDK: importing it switches off urllib3's
insecure-request warning for the whole process and it posts with `verify=False` (no TLS
certificate check), through module-level `requests.post` with 120 s timeouts, and reports
every failure as a bare RuntimeError. The signature itself is the few lines below; the
tests check them against the SDK's own `BuildHeader`.

    b64hex(k, m) = Base64( lower-case hex string of HMAC-SHA256(k, m) )
    X-Api-Signature = b64hex(client secret, "POST\\n" + quote(path, safe="") + "\\n\\n"
                             + "x-api-nonce:" + nonce + "\\nx-api-timestamp:" + ts + "\\n")
    X-Kd-Signature  = b64hex(app secret, app id + app data)
    app data        = "<acct id>,<user name>,<lcid>,<org num>"

The app id is issued as `<clientId>_<code>`; the client secret is derived from `<code>` by
the SDK's `DecodeAppSecret` (Base64-decode, XOR with a fixed rot13'd key, Base64-encode).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import hmac
import string
from urllib.parse import quote, urlsplit

# encode_util.generate_code(): four 8-character groups (a random digit between them is
# dropped again by extend_byte_array), rot13'd; x-kdapi-secpwd replaces the groups.
_DEFAULT_XOR = "0054s397p6234378o09pn7q3r5qropr7"
_B64_CHARS = set(string.ascii_letters + string.digits + "+/")


def b64hex(key: str, message: str) -> str:
    digest = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode("utf-8")).decode("ascii")


def client_credentials(app_id: str, xor_code: str | None = None) -> tuple[str, str]:
    """(client id, client secret) from an app id `<clientId>_<code>`; ("", "") otherwise."""
    parts = app_id.split("_")
    if len(parts) != 2:
        return "", ""
    client_id, code = parts
    # DecodeAppSecret: only a 32-character code in the Base64 alphabet (no padding) decodes.
    if len(code) != 32 or not set(code) <= _B64_CHARS:
        return client_id, ""
    try:
        raw = base64.b64decode(code, validate=True)
    except binascii.Error:
        return client_id, ""
    key = codecs.encode((xor_code or _DEFAULT_XOR)[:32], "rot13").encode("utf-8")
    return client_id, base64.b64encode(bytes(b ^ k for b, k in zip(raw, key, strict=False))).decode(
        "ascii"
    )


def signed_headers(
    url: str,
    *,
    app_id: str,
    app_secret: str,
    acct_id: str,
    user_name: str,
    lcid: int,
    org_num: int,
    timestamp: str,
    nonce: str,
    xor_code: str | None = None,
) -> dict[str, str]:
    """The headers `BuildHeader` sends with a POST to `url` (a full URL or a path)."""
    path = (urlsplit(url).path or "/") if url.startswith("http") else url
    client_id, client_secret = client_credentials(app_id, xor_code)
    api_sign = (
        f"POST\n{quote(path, safe='', encoding='utf-8')}\n\n"
        f"x-api-nonce:{nonce}\nx-api-timestamp:{timestamp}\n"
    )
    app_data = f"{acct_id},{user_name},{lcid},{org_num}"
    return {
        "X-Api-ClientID": client_id,
        "X-Api-Auth-Version": "2.0",
        "x-api-timestamp": timestamp,
        "x-api-nonce": nonce,
        "x-api-signheaders": "x-api-timestamp,x-api-nonce",
        "X-Api-Signature": b64hex(client_secret, api_sign),
        "X-Kd-Appkey": app_id,
        "X-Kd-Appdata": base64.b64encode(app_data.encode("utf-8")).decode("ascii"),
        "X-Kd-Signature": b64hex(app_secret, app_id + app_data),
    }
