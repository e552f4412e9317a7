"""Every mapping transform, with the edge cases real exports throw at it (issue 3)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from guestsync.mapping.context import Context, KeepRaw
from guestsync.mapping.transforms import with_invalid
from guestsync.normalize import split_name

CTX = Context(region="TW", timezone="Asia/Taipei")
TAIPEI = timezone(timedelta(hours=8))


def t(name: str, args: Any = None, ctx: Context = CTX):
    return with_invalid(name, args, ctx)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("strip", "  Amy  ", "Amy"),
        ("strip", "   ", None),
        ("strip", 42, 42),
        ("lower", "AMY@X.COM", "amy@x.com"),
        ("upper", "twd", "TWD"),
        ("email", " Amy.Lin@Example.COM ", "amy.lin@example.com"),
        ("phone", "0912-345-678", "+886912345678"),
        ("phone", "０９１２ ３４５ ６７８", "+886912345678"),  # full-width digits
        ("phone", "00852 9123 4567", "+85291234567"),
        ("int", "1,200", 1200),
        ("int", "4.0", 4),
        ("int", 7, 7),
    ],
)
def test_simple_transforms(name, value, expected):
    assert t(name)(value) == expected


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("phone", "12-34", "not a possible phone number"),
        ("email", "not-an-email", "not a valid email"),
        ("int", "4.5", "not a whole number"),
        ("int", True, "yes/no"),
        ("int", "NaN", "not a whole number"),
        ("decimal", "abc", "not a number"),
        ("decimal", "Infinity", "finite"),
        ("bool", "maybe", "not a yes/no value"),
        ("date", "2026-02-30", "not a"),
        ("datetime", "tomorrow", "not a date and time"),
    ],
)
def test_bad_values_raise_a_readable_reason(name, value, reason):
    with pytest.raises(ValueError, match=reason):
        t(name)(value)


@pytest.mark.parametrize(
    ("name", "args", "bad"),
    [
        ("date", {"invalid": "drop"}, "1990-02-30"),
        ("date", {"invalid": "drop", "calendar": "roc"}, "79/13/01"),
        ("datetime", {"invalid": "drop"}, "someday"),
        ("int", {"invalid": "drop"}, "many"),
        ("decimal", {"invalid": "drop"}, "lots"),
        ("bool", {"invalid": "drop"}, "maybe"),
        ("enum", {"invalid": "drop", "map": {"a": "A"}}, "b"),
        ("email", {"invalid": "drop"}, "not an address"),
        ("phone", {"invalid": "drop"}, "12-34"),
    ],
)
def test_invalid_drop_empties_the_field_with_a_reason(name, args, bad):
    with pytest.raises(KeepRaw) as info:
        t(name, args)(bad)
    assert info.value.value is None and info.value.reason.startswith("dropped: ")


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("date", {"invalid": "keep"}, "`invalid: keep` is for email and phone"),
        ("strip", {"invalid": "drop"}, "can refuse a value"),
        ("date", {"invalid": "maybe"}, "`reject` (default), `drop` or `keep`"),
    ],
)
def test_invalid_is_checked_when_the_mapping_compiles(name, args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        t(name, args)


def test_invalid_reject_is_the_default():
    for args in (None, {"invalid": "reject"}):
        with pytest.raises(ValueError, match="not a date"):
            t("date", args)("1990-02-30")


def test_invalid_keep_keeps_an_email_as_written():
    with pytest.raises(KeepRaw) as info:
        t("email", {"invalid": "keep"})(" not an address ")
    assert info.value.value == "not an address"


def test_phone_region_option_and_keep_mode():
    assert t("phone", {"region": "HK"})("9123 4567") == "+85291234567"
    assert t("phone", "CN")("138 0013 8000") == "+8613800138000"
    keep = t("phone", {"invalid": "keep"})
    assert keep("0912 345 678") == "+886912345678"
    with pytest.raises(KeepRaw) as info:
        keep(" 12-34 ")
    assert info.value.value == "12-34" and "not a possible" in info.value.reason


@pytest.mark.parametrize(
    ("args", "value", "expected"),
    [
        (None, "NT$1,234.50", Decimal("1234.50")),
        (None, "HK$ 88", Decimal("88")),
        (None, "TWD 1200", Decimal("1200")),
        (None, "88元", Decimal("88")),
        (None, "¥12.5", Decimal("12.5")),
        (None, "(12.30)", Decimal("-12.30")),
        (None, 0.1, Decimal("0.1")),  # from the float's text, not its binary value
        (None, 3, Decimal(3)),
        ({"minor_units": 2}, 1500, Decimal("15.00")),
        ({"places": 2}, "1.005", Decimal("1.01")),
        (0, "2.5", Decimal("3")),
    ],
)
def test_decimal_is_exact(args, value, expected):
    out = t("decimal", args)(value)
    assert isinstance(out, Decimal) and out == expected and str(out) == str(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("1", True),
        ("TRUE", True),
        ("是", True),
        (True, True),
        ("no", False),
        ("n", False),
        ("0", False),
        ("false", False),
        ("否", False),
        (False, False),
    ],
)
def test_bool_words(value, expected):
    assert t("bool")(value) is expected
    assert t("bool", {"invert": True})(value) is (not expected)


def test_bool_extra_words_and_conflicts():
    assert t("bool", {"true": ["訂閱"], "false": ["退訂"]})("退訂") is False
    with pytest.raises(ValueError, match="both"):
        t("bool", {"true": ["ok"], "false": ["OK"]})


def test_split_and_join():
    assert t("split")("蝦, 花生、 蛋，；") == ["蝦", "花生", "蛋"]
    assert t("split", "|")("a|b,c") == ["a", "b,c"]
    assert t("split")(["a ", "", None, "b"]) == ["a", "b"]
    assert t("join", "-")(["2026", None, " 12 "]) == "2026-12"
    assert t("join")([None, " "]) is None


def test_enum_with_default_and_without():
    m = t("enum", {"map": {"Booked": "confirmed", "No Show": "no_show"}, "default": "confirmed"})
    assert m(" no show ") == "no_show" and m("whatever") == "confirmed"
    strict = t("enum", {"map": {"a": 1}})
    with pytest.raises(ValueError, match="not one of"):
        strict("b")
    with pytest.raises(ValueError, match="unknown option"):
        t("enum", {"map": {"a": 1}, "defualt": 2})


def test_template_is_sandboxed_and_compiled_once():
    assert t("template", "+{{ value }}")("886") == "+886"
    with pytest.raises(ValueError, match="template error"):
        t("template", "{{ value ")
    # The sandbox hides internals: nothing about Python's classes leaks into a field.
    assert t("template", "{{ value.__class__.__mro__ }}")("x") is None
    with pytest.raises(ValueError, match=r"not allowed|template failed"):
        t("template", "{{ value.__class__.__mro__[1].__subclasses__() }}")("x")


@pytest.mark.parametrize(
    ("full", "given", "family"),
    [
        ("陳小明", "小明", "陳"),
        ("陈小明", "小明", "陈"),
        ("歐陽娜娜", "娜娜", "歐陽"),
        ("欧阳娜娜", "娜娜", "欧阳"),
        ("司馬相如", "相如", "司馬"),
        ("諸葛亮", "亮", "諸葛"),
        ("上官婉兒", "婉兒", "上官"),
        ("張簡美玲", "美玲", "張簡"),  # Taiwanese double surname
        ("王 小 明", "小明", "王"),
        ("林", None, "林"),
        ("歐陽", None, "歐陽"),
        ("約翰·史密斯", "約翰", "史密斯"),
        ("Amy Lin", "Amy", "Lin"),
        ("Mary Ann  Smith", "Mary Ann", "Smith"),
        ("Lin, Amy", "Amy", "Lin"),
        ("Amy", "Amy", None),
        ("  ", None, None),
    ],
)
def test_name_split(full, given, family):
    assert split_name(full) == (given, family)
    assert t("name_split", "given")(full) == given
    assert t("name_split", {"part": "family"})(full) == family


def test_name_split_family_first_latin_and_bad_args():
    assert split_name("LIN Mei-ling", family_first=True) == ("Mei-ling", "LIN")
    with pytest.raises(ValueError, match="which part"):
        t("name_split")


def test_datetime_zones_formats_and_epochs():
    dt = t("datetime")
    assert dt("2026-12-24T19:30:00+08:00") == datetime(2026, 12, 24, 19, 30, tzinfo=TAIPEI)
    assert dt("2026-12-24T11:30:00Z") == datetime(2026, 12, 24, 19, 30, tzinfo=TAIPEI)
    naive = dt("2026-12-24 19:30")
    assert naive.tzinfo is not None and naive.utcoffset() == timedelta(hours=8)
    hk = t("datetime", {"timezone": "Asia/Hong_Kong"})("2026-12-24 19:30")
    assert str(hk.tzinfo) == "Asia/Hong_Kong"
    assert dt(1524200000000) == dt(1524200000) == dt("1524200000")
    fmt = t("datetime", {"formats": ["%d/%m/%Y %I:%M %p"]})
    assert fmt("24/12/2026 07:30 PM").hour == 19
    assert dt(date(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=dt(date(2026, 1, 2)).tzinfo)
    with pytest.raises(ValueError, match="unknown time zone"):
        t("datetime", {"timezone": "Mars/Olympus"})
    with pytest.raises(ValueError, match="strptime"):
        t("datetime", {"formats": [12]})


def test_date_formats_no_year_and_roc():
    d = t("date", {"formats": ["%d/%m/%Y"]})
    assert d("24/12/2026") == date(2026, 12, 24)
    assert d("2026-12-24") == date(2026, 12, 24)  # ISO still accepted
    assert d("2026年12月24日") == date(2026, 12, 24)
    assert d("2026-12-24T23:30:00Z") == date(2026, 12, 25)  # local date in Taipei
    with pytest.raises(ValueError, match="no year"):
        t("date")("0000-05-01")
    assert t("date", {"no_year": 1904})("0000-02-29") == date(1904, 2, 29)
    assert t("date", {"no_year": "drop"})("0000-05-01") is None
    roc = t("date", {"calendar": "roc"})
    assert roc("115/01/02") == roc("民國115年1月2日") == date(2026, 1, 2)
    with pytest.raises(ValueError, match="calendar"):
        t("date", {"calendar": "lunar"})


TEMPLATES = [
    "inline:{{ member.id }}",
    "{{ a }} {{ b }}",
    '{{ record["Booking ID"] }}/{{ record.a }}',
    "{{ a.b.c }}!",
    "{{ a.items }}",  # dict attribute: Jinja2's own answer, not a key lookup
    "{% if a %}x{{ a }}{% endif %}",
    "{{ range }}",
]
RECORDS = [
    {"member": {"id": "M1"}, "a": 1, "b": None, "Booking ID": "B 1"},
    {"member": None, "a": "text", "b": [1, 2]},
    {"a": {"b": {"c": 3.5}}, "member": {"id": True}},
    {"a": {"b": "not a dict"}},
    {"a": {"items": "k"}},
    {},
]


@pytest.mark.parametrize("text", TEMPLATES)
def test_record_template_fast_path_answers_as_jinja_does(text):
    from jinja2.sandbox import SandboxedEnvironment

    from guestsync.mapping.templating import _ENV, compile_record_template

    assert isinstance(_ENV, SandboxedEnvironment)
    render = compile_record_template(text)
    for raw in RECORDS:
        expected = _ENV.from_string(text).render({**raw, "record": raw}).strip() or None
        assert render(raw) == expected, (text, raw)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("2026/12/24 下午 07:30:00", 19, 30),
        ("2026/12/24 上午 11:05", 11, 5),
        ("2026/12/24 下午 12:00", 12, 0),
        ("2026/12/24 19:30", 19, 30),
        ("2026年12月24日 19:30", 19, 30),
        ("２０２６/１２/２４ 下午 ０７:３０", 19, 30),  # full-width from CJK input methods
    ],
)
def test_datetime_accepts_local_windows_and_excel_forms(text, hour, minute):
    dt = t("datetime")(text)
    assert (dt.year, dt.month, dt.day, dt.hour, dt.minute) == (2026, 12, 24, hour, minute)
    assert dt.utcoffset() == timedelta(hours=8)
