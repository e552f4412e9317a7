"""Mapping files: validated at load with file, line and field; compiled once (issue 3)."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import jmespath
import pytest

from guestsync.errors import BadRecordError, ConfigError
from guestsync.mapping import compile_mapping
from guestsync.mapping.context import Context
from guestsync.models import OrderChannel
from guestsync.yamlfile import load_yaml

CTX = Context()


def mapping(text: str):
    return compile_mapping(load_yaml("m.yaml", text=textwrap.dedent(text)), CTX)


def config_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        mapping(text)
    return info.value


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (
            """\
            entity: guest
            fields:
              email: {column: E, transforms: [strip, emial]}
            """,
            3,
            "fields.email.transforms.1",
            "unknown transform 'emial'",
        ),
        (
            """\
            entity: guest
            fields:
              phone: {path: 'customer.[phone'}
            """,
            3,
            "fields.phone.path",
            "bad JMESPath",
        ),
        (
            """\
            entity: reservation
            fields:
              start_at: {path: at, transforms: [datetime]}
              guest.nickname: {column: Nick}
            """,
            4,
            "fields.guest.nickname",
            "unknown canonical field",
        ),
        (
            """\
            entity: reservation
            fields:
              start_at: {path: at}
              status:
                column: S
                transforms: [{enum: {map: {ok: confirmd}}}]
            """,
            6,
            "fields.status.transforms.0",
            "'confirmd' is not a valid status",
        ),
        (
            """\
            entity: order
            fields:
              channel: {default: online}
            """,
            3,
            "fields.channel.default",
            "'online' is not a valid channel",
        ),
        (
            """\
            entity: guest
            fields:
              phone:
                column: P
                transforms: [{phone: {invalid: maybe}}]
            """,
            5,
            "fields.phone.transforms.0",
            "`invalid:` is `reject` (default), `drop` or `keep`",
        ),
        (
            """\
            entity: guest
            fields:
              notes: {template: "{{ a "}
            """,
            3,
            "fields.notes.template",
            "template error",
        ),
        (
            """\
            entity: guest
            fields:
              email: {path: [a, b]}
            """,
            3,
            "fields.email.path",
            "first_of",
        ),
        (
            """\
            entity: guest
            fields:
              email: {first_of: [a, 'b[']}
            """,
            3,
            "fields.email.first_of.1",
            "bad JMESPath",
        ),
    ],
)
def test_config_errors_name_file_line_and_field(body, line, field, message):
    err = config_error(body)
    assert (err.file, err.line, err.field) == ("m.yaml", line, field)
    assert message in str(err)


def test_first_non_empty_of_columns_and_paths_and_templates():
    m = mapping(
        """\
        entity: guest
        fields:
          phone: {column: [Mobile, Phone], transforms: [phone]}
          email: {first_of: [contact.email, email], transforms: [email]}
          full_name: {template: '{{ record["First Name"] }} {{ last }}'}
        """
    )
    rec = m.apply(
        {"Mobile": " ", "Phone": "0912345678", "email": "A@B.CO", "First Name": "Amy", "last": "L"},
        source="s",
        stream="x",
        external_id="1",
    )
    assert rec.guest.phone == "+886912345678"
    assert rec.guest.email == "a@b.co"
    assert rec.guest.full_name == "Amy L"
    assert m.columns == set()  # alternatives are not required in a CSV header


def test_consent_from_a_yes_no_value_carries_time_and_source():
    m = mapping(
        """\
        entity: reservation
        fields:
          start_at: {path: at, transforms: [datetime]}
          updated_at: {path: changed, transforms: [datetime]}
          guest.marketing_consent: {path: optin, transforms: [bool]}
        """
    )
    raw = {"at": "2026-12-24 19:00", "changed": "2026-12-01T10:00:00+08:00", "optin": "是"}
    rec = m.apply(raw, source="pos", stream="x", external_id="1")
    consent = rec.guest.marketing_consent
    assert consent is not None and consent.granted is True and consent.source == "pos"
    assert consent.at == rec.updated_at


def test_order_items_from_a_jmespath_projection_are_decimal():
    m = mapping(
        """\
        entity: order
        fields:
          id: {path: id}
          placed_at: {path: at, transforms: [datetime]}
          total: {path: total, transforms: [decimal]}
          channel: {path: type, transforms: [{enum: {map: {eat_in: dine_in, to_go: takeout}}}]}
          items: {path: "lines[].{name: name, quantity: qty, unit_price: price}"}
          guest.phone: {path: member.phone, transforms: [phone]}
        """
    )
    raw = {
        "id": "O1",
        "at": "2026-12-24T19:00:00+08:00",
        "total": "NT$1,230.50",
        "type": "to_go",
        "lines": [{"name": "牛肉麵", "qty": 2, "price": "280.25"}, {"name": "Tea", "qty": 1}],
        "member": {"phone": "0912345678"},
    }
    rec = m.apply(raw, source="pos", stream="orders", external_id=m.external_id(raw))
    assert rec.external_id == "O1" and rec.order is not None
    assert rec.order.total == Decimal("1230.50") and rec.order.channel is OrderChannel.takeout
    assert [(i.name, i.quantity, i.unit_price) for i in rec.order.items] == [
        ("牛肉麵", Decimal(2), Decimal("280.25")),
        ("Tea", Decimal(1), None),
    ]


def test_feedback_entity_and_record_level_validation_error():
    m = mapping(
        """\
        entity: feedback
        fields:
          rating: {column: Stars, transforms: [decimal]}
          comment: {column: Text, transforms: [strip]}
        """
    )
    assert m.apply(
        {"Stars": "4.5", "Text": "好吃"}, source="s", stream="f", external_id="1"
    ).feedback
    with pytest.raises(BadRecordError, match="rating"):
        m.apply({"Stars": "11"}, source="s", stream="f", external_id="2")


def test_all_field_errors_of_a_record_are_reported_together():
    m = mapping(
        """\
        entity: reservation
        fields:
          start_at: {column: When, transforms: [datetime], required: true}
          party_size: {column: N, transforms: [int]}
        """
    )
    with pytest.raises(BadRecordError) as info:
        m.apply({"When": "", "N": "two"}, source="s", stream="x", external_id="1")
    text = info.value.render()
    assert "start_at: required value is missing (column 'When')" in text
    assert "party_size: not a whole number (value: 'two')" in text


def test_compiled_once_no_jmespath_compiling_per_record(monkeypatch):
    m = mapping(
        """\
        entity: guest
        fields:
          email: {path: contact.email, transforms: [email]}
          notes: {template: "{{ a }}"}
        """
    )

    def boom(*a, **k):
        raise AssertionError("compiled per record")

    monkeypatch.setattr(jmespath, "compile", boom)
    monkeypatch.setattr("guestsync.mapping.templating._ENV.from_string", boom)
    for i in range(3):
        rec = m.apply(
            {"contact": {"email": f"a{i}@b.co"}, "a": "x"}, source="s", stream="x", external_id="1"
        )
        assert rec.guest.email == f"a{i}@b.co" and rec.guest.notes == "x"


def test_default_is_used_when_empty_and_required_with_default_never_fails():
    m = mapping(
        """\
        entity: guest
        fields:
          language: {column: Lang, transforms: [strip, lower], default: zh-tw, required: true}
          tags: {column: Tags, transforms: [split]}
        """
    )
    rec = m.apply({"Lang": " ", "Tags": " , "}, source="s", stream="x", external_id="1")
    assert rec.guest.language == "zh-tw" and rec.guest.tags == []


def test_transforms_without_options_refuse_them():
    err = config_error(
        """\
        entity: guest
        fields:
          email: {column: E, transforms: [{email: {dns: true}}]}
        """
    )
    assert err.line == 3 and "takes no options" in str(err)


@pytest.mark.parametrize(
    ("transform", "value"),
    [("datetime", 10**30), ("decimal", "1e999999999"), ("int", [1, 2]), ("date", {"a": 1})],
)
def test_odd_values_reject_the_record_never_crash(transform, value):
    m = mapping(
        f"""\
        entity: guest
        fields:
          notes: {{path: v, transforms: [{transform}]}}
        """
    )
    with pytest.raises(BadRecordError) as info:
        m.apply({"v": value}, source="s", stream="x", external_id="1")
    assert info.value.render().startswith("notes: ")


def test_order_items_with_each_convert_cents_and_name_bad_items():
    m = mapping(
        """\
        entity: order
        fields:
          id: {path: id}
          total: {path: total_money.amount, transforms: [{decimal: {minor_units: 2}}]}
          items:
            path: line_items
            each:
              name: {path: name, required: true}
              quantity: {path: quantity, transforms: [decimal]}
              unit_price: {path: base_price_money.amount, transforms: [{decimal: {minor_units: 2}}]}
        """
    )
    raw = {
        "id": "O1",
        "total_money": {"amount": 56050, "currency": "TWD"},
        "line_items": [
            {"name": "牛肉麵", "quantity": "2", "base_price_money": {"amount": 28025}},
            {"name": "Tea", "quantity": "1"},
        ],
    }
    rec = m.apply(raw, source="sq", stream="orders", external_id="O1")
    assert rec.order is not None and rec.order.total == Decimal("560.50")
    assert [(i.name, i.quantity, i.unit_price) for i in rec.order.items] == [
        ("牛肉麵", Decimal(2), Decimal("280.25")),
        ("Tea", Decimal(1), None),
    ]
    raw["line_items"].append({"quantity": "x"})
    with pytest.raises(BadRecordError) as info:
        m.apply(raw, source="sq", stream="orders", external_id="O1")
    text = info.value.render()
    assert text.startswith("items: item 3: items.name: required value is missing")
    assert "items.quantity: not a number" in text


def test_each_is_checked_at_load():
    err = config_error(
        """\
        entity: order
        fields:
          items:
            path: lines
            each:
              price: {path: p}
        """
    )
    assert (err.line, err.field) == (6, "fields.items.each.price")
    err = config_error(
        """\
        entity: order
        fields:
          venue: {path: v, each: {name: {path: n}}}
        """
    )
    assert err.line == 3 and "list of objects" in str(err)


def test_a_repeated_raw_value_is_transformed_once_and_its_warnings_repeat(monkeypatch):
    """Each distinct raw text goes through a field's transforms once (the memo); a value
    kept raw is not remembered, so every record that has it carries its warning."""
    from guestsync import normalize

    calls: list[str] = []
    real = normalize.phone_e164
    monkeypatch.setattr(normalize, "phone_e164", lambda v, r: calls.append(v) or real(v, r))
    m = mapping(
        """\
        entity: guest
        fields:
          phone: {column: P, transforms: [{phone: {invalid: keep}}]}
          tags: {column: T, transforms: [{split: ","}]}
        """
    )
    a = [
        m.apply({"P": "0912-345-678", "T": "vip,wine"}, source="s", stream="g", external_id="1")
        for _ in range(3)
    ]
    assert {r.guest.phone for r in a} == {"+886912345678"} and calls == ["0912-345-678"]
    bad = [m.apply({"P": "12"}, source="s", stream="g", external_id="2") for _ in range(2)]
    assert all(r.guest.phone == "12" and r.warnings for r in bad)
    a[0].guest.tags.append("changed")  # a list is never shared between records
    assert a[1].guest.tags == ["vip", "wine"]


def test_invalid_drop_keeps_the_record_without_the_field_and_warns():
    """Issue 21: an impossible birthday from one source drops the birthday, not the
    guest (the record keeps its name and phone); `required` still rejects."""
    m = mapping(
        """\
        entity: guest
        fields:
          full_name: {column: N}
          birthday: {column: B, transforms: [{date: {invalid: drop}}]}
          email: {column: E, transforms: [{email: {invalid: drop}}], default: none@example.com}
        """
    )
    r = m.apply(
        {"N": "林淑芬", "B": "1990-02-30", "E": "nope"}, source="s", stream="g", external_id="1"
    )
    assert r.guest.full_name == "林淑芬" and r.guest.birthday is None
    assert r.guest.email == "none@example.com"
    assert any(w.startswith("birthday: dropped: ") for w in r.warnings)
    assert any(w.startswith("email: dropped: ") for w in r.warnings)
    ok = m.apply({"N": "x", "B": "1990-02-03"}, source="s", stream="g", external_id="2")
    assert str(ok.guest.birthday) == "1990-02-03" and not ok.warnings
    strict = mapping(
        """\
        entity: guest
        fields:
          birthday: {column: B, required: true, transforms: [{date: {invalid: drop}}]}
        """
    )
    with pytest.raises(BadRecordError, match="required"):
        strict.apply({"B": "1990-02-30"}, source="s", stream="g", external_id="3")


def test_columns_joined_by_a_path_are_transformed_once_per_distinct_texts(monkeypatch):
    """A JMESPath list of columns ([Date, Time]) is remembered by its texts together:
    one parse per distinct pair, the right value for each, and a bad pair still rejects
    every record that has it, naming the field."""
    import unicodedata
    from types import SimpleNamespace

    from guestsync.mapping import dates

    calls: list[str] = []
    counted = SimpleNamespace(
        normalize=lambda form, t: calls.append(t) or unicodedata.normalize(form, t)
    )
    monkeypatch.setattr(dates, "unicodedata", counted)  # once per text parsed
    m = mapping(
        """\
        entity: reservation
        fields:
          id: {column: B}
          start_at:
            path: '[D, T]'
            transforms: [{join: " "}, {datetime: {formats: ["%Y-%m-%d %H:%M"]}}]
            required: true
        """
    )
    rows = [{"B": str(i), "D": "2026-12-0" + str(1 + i % 2), "T": "18:30"} for i in range(6)]
    got = [m.apply(r, source="s", stream="b", external_id=r["B"]) for r in rows]
    assert [r.reservation.start_at.day for r in got] == [1, 2, 1, 2, 1, 2]
    assert sorted(calls) == ["2026-12-01 18:30", "2026-12-02 18:30"]
    bad = {"B": "9", "D": "2026-13-01", "T": "18:30"}
    for _ in range(2):
        with pytest.raises(BadRecordError) as err:
            m.apply(bad, source="s", stream="b", external_id="9")
        assert err.value.field == "start_at"
