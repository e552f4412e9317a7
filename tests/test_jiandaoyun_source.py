"""Jiandaoyun source: the documented push signature (computed here from the formula, not
by the code under test), parsing into inbox entries, removal marks through the pipeline,
and the API v5 backfill (`responses`)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import responses
from werkzeug.datastructures import Headers

from guestsync.config import load_config
from guestsync.config.connectors import JiandaoyunSourceOptions, RetryOptions
from guestsync.connectors.jiandaoyun import LIST_PATH, JiandaoyunSource
from guestsync.intake.pull import pull
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.webhooks.schemes import JiandaoyunScheme, SignatureError, SignedRequest

NOW = 1_763_900_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "jdy-secret"


def documented_signature(nonce: str, body: bytes, secret: str, timestamp: str) -> str:
    # https://hc.jiandaoyun.com/open/11507 and the vendor's webhook-demo-python
    content = ":".join([nonce, body.decode("utf-8"), secret, timestamp]).encode("utf-8")
    return hashlib.sha1(content).hexdigest()


def push(op: str, data_id: str = "6560a1b2c3d4e5f600000001", deliver: str = "d-1", **widgets):
    data = {"_id": data_id, "createTime": "2026-11-20T12:00:00.000Z", **widgets}
    data.setdefault("updateTime", "2026-11-20T12:00:00.000Z")
    body = json.dumps(
        {"op": op, "data": data, "opTime": 1763640000000}, ensure_ascii=False
    ).encode()
    query = {"nonce": "a1b2c3", "timestamp": str(NOW)}
    headers = {
        "X-JDY-Signature": documented_signature("a1b2c3", body, SECRET, str(NOW)),
        "X-JDY-DeliverId": deliver,
        "Content-Type": "application/json",
    }
    return body, headers, query


class _Verifier:
    """The one Jiandaoyun scheme (webhooks/schemes.py), given body, headers and query."""

    def __init__(self, secrets: tuple[str, ...], tolerance: int) -> None:
        keys = tuple(s.encode() for s in secrets)
        self.scheme = JiandaoyunScheme(keys, tolerance=tolerance or None)

    def verify(self, body: bytes, headers: dict, query: dict) -> None:
        req = SignedRequest(body, Headers(headers), "https://hub.example/w?" + urlencode(query))
        self.scheme.verify(req, now=NOW + 10)


def _scheme(*secrets: str, tolerance: int = 300) -> _Verifier:
    return _Verifier(secrets or (SECRET,), tolerance)


def test_a_documented_signature_verifies():
    body, headers, query = push("data_create", _widget_1="陳小明")
    _scheme().verify(body, headers, query)
    _scheme("old-secret", SECRET).verify(body, headers, query)  # during rotation


def test_a_rotated_secret_is_accepted_from_the_config_while_the_old_one_still_is():
    from guestsync.webhooks.schemes import build_scheme

    body, headers, query = push("data_create", _widget_1="陳小明")  # signed with SECRET
    req = SignedRequest(body, Headers(headers), "https://hub.example/w?" + urlencode(query))
    opts = {"type": "jiandaoyun", "mapping": "m.yaml", "secret": "new-secret"}
    rotating = JiandaoyunSourceOptions(**opts, previous_secret=SECRET)
    build_scheme(rotating.webhook).verify(req, now=NOW)
    with pytest.raises(SignatureError, match="does not match"):  # rotation over
        build_scheme(JiandaoyunSourceOptions(**opts).webhook).verify(req, now=NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b, h, q: (b + b" ", h, q), "does not match"),
        (lambda b, h, q: (b, {**h, "X-JDY-Signature": "0" * 40}, q), "does not match"),
        (lambda b, h, q: (b, {"X-JDY-DeliverId": "d-1"}, q), "missing"),
        (lambda b, h, q: (b, h, {"timestamp": q["timestamp"]}), "missing"),
        (lambda b, h, q: (b, h, {**q, "nonce": "other"}), "does not match"),
        (lambda b, h, q: (b"\xff\xfe", h, q), "does not match"),
    ],
)
def test_tampered_or_incomplete_pushes_are_rejected(change, reason):
    body, headers, query = change(*push("data_create", _widget_1="x"))
    with pytest.raises(SignatureError, match=reason):
        _scheme().verify(body, headers, query)


def test_wrong_secret_is_rejected():
    body, headers, query = push("data_create")
    with pytest.raises(SignatureError, match="does not match"):
        _scheme("not-the-secret").verify(body, headers, query)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_and_future_timestamps_are_rejected(offset):
    body = b'{"op":"data_create","data":{"_id":"1"}}'
    ts = str(NOW + 10 + offset)
    headers = {"X-JDY-Signature": documented_signature("n", body, SECRET, ts)}
    with pytest.raises(SignatureError, match="timestamp"):
        _scheme().verify(body, headers, {"nonce": "n", "timestamp": ts})
    _scheme(tolerance=0).verify(body, headers, {"nonce": "n", "timestamp": ts})


def test_millisecond_timestamps_are_understood():
    body = b'{"op":"data_create","data":{"_id":"1"}}'
    ts = str((NOW + 5) * 1000)
    headers = {"x-jdy-signature": documented_signature("n", body, SECRET, ts)}
    _scheme().verify(body, headers, {"nonce": "n", "timestamp": ts})


def _source(**kw) -> JiandaoyunSource:
    opts = JiandaoyunSourceOptions(type="jiandaoyun", mapping="m.yaml", secret=SECRET, **kw)
    return JiandaoyunSource(
        "forms",
        opts,
        clock=lambda: NOW,
        sleep=lambda s: None,
        retry=RetryOptions(max_attempts=5, initial_wait=0, max_wait=0),
    )


def test_a_push_becomes_one_inbox_entry_keyed_by_entry_id_and_delivery():
    src = _source()
    [entry] = src.receive(*push("data_update", _widget_1="王芳"))
    assert (entry.source, entry.stream, entry.external_id) == (
        "forms",
        "entries",
        "6560a1b2c3d4e5f600000001",
    )
    raw = json.loads(entry.raw)
    assert raw["op"] == "data_update" and raw["deliverId"] == "d-1"
    assert raw["data"]["_widget_1"] == "王芳"
    # the same delivery again is the same entry (the inbox keeps one); a new delivery is not
    assert src.receive(*push("data_update", _widget_1="王芳"))[0] == entry
    other = src.receive(*push("data_update", deliver="d-2", _widget_1="王芳"))[0]
    assert other.content_hash != entry.content_hash


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"op": "form_update", "data": {"_id": "1"}}', b'{"op": "data_create"}'],
)
def test_pushes_that_are_not_form_events_are_refused(body):
    with pytest.raises(ValueError):
        _source().parse(body, {})


def test_without_a_secret_every_push_is_refused():
    src = JiandaoyunSource(
        "forms", JiandaoyunSourceOptions(type="jiandaoyun", mapping="m.yaml"), clock=lambda: NOW
    )
    with pytest.raises(SignatureError, match="no webhook secret"):
        src.receive(*push("data_create"))


# -- through the pipeline --------------------------------------------------------------

W = "_widget_17000000000"  # the example form's widget ids in jiandaoyun_feedback.yaml


def _hub(make_config) -> Hub:
    cfg = make_config(
        f"""\
        store: {{path: hub.db}}
        defaults: {{region: CN, timezone: Asia/Shanghai}}
        sources:
          forms:
            type: jiandaoyun
            mapping: mappings/jiandaoyun_feedback.yaml
            secret: {SECRET}
            timestamp_tolerance: 0
        """
    )
    return Hub(load_config(cfg), sleep=lambda s: None)


def _feed(hub: Hub, *pushes) -> None:
    src = hub.sources["forms"]
    for p in pushes:
        with hub.store.atomic():
            hub.store.add_to_inbox(src.receive(*p))


def test_create_remove_recover_marks_the_link_and_keeps_the_guest(make_config):
    hub = _hub(make_config)
    fields = {
        f"{W}01": "李娜",
        f"{W}02": {"phone": "13800138000", "verified": True},
        f"{W}03": "Li.Na@Example.cn",
        f"{W}04": 9,
        f"{W}05": "小笼包很好吃",
    }
    _feed(hub, push("data_create", deliver="d1", **fields))
    stats = hub.process()
    assert (stats.processed, stats.rejected) == (1, 0), stats.errors
    [guest] = list(hub.store.all_guests())
    assert (guest.full_name, guest.phone, guest.email) == (
        "李娜",
        "+8613800138000",
        "li.na@example.cn",
    )
    key = ("forms", "entries", "6560a1b2c3d4e5f600000001")
    assert hub.store.link_removed_at(*key) is None

    _feed(hub, push("data_remove", deliver="d2", **fields))
    assert hub.process().processed == 1
    assert hub.store.link_removed_at(*key) is not None
    assert [g.id for g in hub.store.all_guests()] == [guest.id]  # the guest stays

    _feed(hub, push("data_recover", deliver="d3", **fields))
    hub.process()
    assert hub.store.link_removed_at(*key) is None
    assert hub.store.count_guests() == 1
    hub.close()


def test_removal_of_an_entry_never_seen_creates_nothing(make_config):
    hub = _hub(make_config)
    _feed(hub, push("data_remove", data_id="ffff", **{f"{W}01": "路人"}))
    assert hub.process().processed == 1
    assert hub.store.count_guests() == 0
    hub.close()


# -- backfill over API v5 ---------------------------------------------------------------

API = "https://api.jiandaoyun.com"


def _rows(start: int, n: int) -> list[dict]:
    return [{"_id": f"{i:024x}", f"{W}01": f"客人{i}"} for i in range(start, start + n)]


@responses.activate
def test_pull_pages_by_100_and_resumes_from_the_stored_cursor(tmp_path: Path):
    src = _source(api_key="k3y", app_id="app1", entry_id="form1")
    responses.post(API + LIST_PATH, json={"data": _rows(0, 100)})
    responses.post(API + LIST_PATH, status=400, json={"code": 8303, "msg": "too fast"})
    responses.post(API + LIST_PATH, json={"data": _rows(100, 100)})
    responses.post(API + LIST_PATH, status=429, json={"code": 8304, "msg": "busy"})
    responses.post(API + LIST_PATH, json={"data": _rows(200, 37)})
    store = Store.open(tmp_path / "s.db")
    stats = pull(store, src)
    assert (stats.pages, stats.records, stats.new) == (3, 237, 237)
    assert store.get_cursor("forms", "entries") == f"{236:024x}"
    sent = [json.loads(c.request.body) for c in responses.calls]
    assert sent[0] == {"app_id": "app1", "entry_id": "form1", "limit": 100}
    assert sent[2]["data_id"] == f"{99:024x}" and sent[4]["data_id"] == f"{199:024x}"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer k3y"

    responses.calls.reset()
    responses.replace(responses.POST, API + LIST_PATH, json={"data": _rows(237, 2)})
    again = pull(store, src)
    assert again.new == 2
    assert json.loads(responses.calls[0].request.body)["data_id"] == f"{236:024x}"
    store.close()


def test_without_api_settings_there_is_nothing_to_pull(tmp_path: Path, make_config):
    stats = pull(Store.open(":memory:"), _source())
    assert (stats.pages, stats.records) == (0, 0)

    from click.testing import CliRunner

    from guestsync.cli import cli

    _hub(make_config).close()
    result = CliRunner().invoke(
        cli, ["-c", str(tmp_path / "guestsync.yaml"), "pull", "--source", "forms"]
    )
    assert result.exit_code != 0
    assert "api_key, app_id and entry_id" in result.output


@pytest.mark.parametrize(
    ("profile", "widgets", "expect"),
    [
        (
            "jiandaoyun_signup.yaml",
            {"_widget_1700000000101": " 赵敏 ", "_widget_1700000000102": {"phone": "13912345678"}},
            {"guest.full_name": "赵敏", "guest.phone": "+8613912345678"},
        ),
        (
            "jiandaoyun_reservation.yaml",
            {
                "_widget_1700000000201": "周杰",
                "_widget_1700000000202": "13812345678",
                "_widget_1700000000203": 4,
                "_widget_1700000000204": "2026-12-24T11:30:00.000Z",
            },
            {
                "reservation.party_size": 4,
                "reservation.start_at": datetime(2026, 12, 24, 19, 30, tzinfo=SHANGHAI),
            },
        ),
    ],
)
def test_shipped_profiles_map_a_push(profile, widgets, expect):
    from guestsync.mapping import load_mapping
    from guestsync.mapping.context import Context

    from .conftest import MAPPINGS

    m = load_mapping(MAPPINGS / profile, Context(region="CN", timezone="Asia/Shanghai"))
    [entry] = _source().parse(*push("data_create", **widgets)[:2])
    record = m.apply(json.loads(entry.raw), source="f", stream="entries", external_id="x")
    for path, value in expect.items():
        got: object = record
        for part in path.split("."):
            got = getattr(got, part)
        assert got == value, path
    assert record.deleted is False
