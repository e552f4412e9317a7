"""`guestsync mapping suggest`: a first mapping for an export, from its headers and values.

IT staff start from a working profile instead of a blank file. Each column is matched by
its header (姓名/名字/name, 手機/手机/電話/mobile, 電子郵件/电子邮箱/email, 訂位日期/预订日期
/date …), and a column whose header says nothing is recognised by its values (an email
has an @, a phone is 8 to 15 digits, a date and a time have their shapes). The result is
plain mapping YAML, the same format as the shipped profiles: the caller compiles it and
previews it on the sample before anyone relies on it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Header words per canonical field, most specific first (a header is matched by the
# first field whose word it contains, so 訂位日期 is a date before 訂位 is anything).
HEADER_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("id", ("訂位編號", "订位编号", "预订编号", "預約編號", "訂單編號", "订单号", "booking id",
            "reservation id", "order id", "編號", "编号")),
    ("email", ("電子郵件", "电子邮箱", "電子信箱", "郵件", "邮箱", "電郵", "e-mail", "email",
               "mail")),
    ("phone", ("手機", "手机", "電話", "电话", "mobile", "phone", "tel", "cell")),
    ("date", ("日期", "date")),
    ("time", ("時間", "时间", "time")),
    ("party_size", ("人數", "人数", "party", "pax", "covers", "guests")),
    ("status", ("狀態", "状态", "status")),
    ("venue", ("分店", "门店", "門市", "店家", "venue", "branch", "store", "location")),
    ("requests", ("備註", "备注", "note", "remark", "request")),
    ("name", ("姓名", "名字", "顧客", "顾客", "客人", "name", "customer")),
)  # fmt: skip
STATUS_MAP = {
    "已確認": "confirmed", "已确认": "confirmed", "confirmed": "confirmed", "booked": "confirmed",
    "待確認": "requested", "待确认": "requested", "pending": "requested",
    "已入座": "seated", "seated": "seated", "已完成": "completed", "completed": "completed",
    "已取消": "cancelled", "取消": "cancelled", "cancelled": "cancelled", "canceled": "cancelled",
    "未到": "no_show", "未到店": "no_show", "no-show": "no_show", "no show": "no_show",
}  # fmt: skip

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s\-()]{8,20}$")
_DATES = {"%Y-%m-%d": r"\d{4}-\d{1,2}-\d{1,2}", "%Y/%m/%d": r"\d{4}/\d{1,2}/\d{1,2}"}
_TIME = re.compile(r"^\d{1,2}:\d{2}$")


@dataclass
class Suggestion:
    yaml: str  # the mapping, ready to save
    columns: dict[str, str]  # canonical field -> the column it reads
    unused: list[str]  # columns it found no use for


def _norm(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().casefold()


def _by_header(header: str) -> str | None:
    h = _norm(header)
    return next((f for f, words in HEADER_WORDS if any(w in h for w in words)), None)


def _share(values: Sequence[str], test: re.Pattern[str]) -> float:
    filled = [v.strip() for v in values if v and v.strip()]
    return sum(bool(test.match(v)) for v in filled) / len(filled) if filled else 0.0


def _by_values(values: Sequence[str]) -> str | None:
    if _share(values, _EMAIL) >= 0.8:
        return "email"
    if _share(values, _TIME) >= 0.8:
        return "time"
    if any(_share(values, re.compile(f"^{p}$")) >= 0.8 for p in _DATES.values()):
        return "date"
    if _share(values, _PHONE) >= 0.8 and sum(c.isdigit() for v in values for c in v) > 0:
        digits = [sum(c.isdigit() for c in v) for v in values if v and v.strip()]
        if digits and min(digits) >= 8:
            return "phone"
    return None


def _date_format(values: Sequence[str]) -> str:
    for fmt, pattern in _DATES.items():
        if _share(values, re.compile(f"^{pattern}")) >= 0.8:
            return fmt
    return "%Y-%m-%d"


def _q(text: str) -> str:
    """A YAML scalar: JSON strings are valid YAML and quote whatever needs it."""
    return json.dumps(text, ensure_ascii=False)


def suggest(
    header: Sequence[str], rows: Sequence[dict[str, str | None]], *, region: str
) -> Suggestion:
    """A mapping for a CSV with this header, judged on these sample rows."""
    found: dict[str, str] = {}
    for col in header:
        values = [r.get(col) or "" for r in rows]
        field = _by_header(col) or _by_values(values)
        if field and field not in found:
            found[field] = col
    reservation = "date" in found
    lines = [
        f"# Suggested by `guestsync mapping suggest` from {len(rows)} sample row(s): check it",
        "# with `guestsync mapping preview THIS_FILE SAMPLE.csv` before relying on it.",
        f"entity: {'reservation' if reservation else 'guest'}",
        "fields:",
    ]
    if "id" in found:
        lines.append(f"  id: {{column: {_q(found['id'])}}}  # else the row's content gives the id")
    prefix = "guest." if reservation else ""
    if "name" in found:
        col = _q(found["name"])
        lines += [
            f"  {prefix}full_name: {{column: {col}, transforms: [strip]}}",
            f"  {prefix}family_name: {{column: {col}, transforms: [{{name_split: family}}]}}",
            f"  {prefix}given_name: {{column: {col}, transforms: [{{name_split: given}}]}}",
        ]
    if "phone" in found:
        lines.append(
            f"  {prefix}phone: {{column: {_q(found['phone'])}, transforms: [strip,"
            f" {{phone: {{region: {region}, invalid: keep}}}}]}}"
        )
    if "email" in found:
        lines.append(
            f"  {prefix}email: {{column: {_q(found['email'])}, transforms: [strip,"
            " {email: {invalid: drop}}]}"
        )
    if reservation:
        fmt = _date_format([r.get(found["date"]) or "" for r in rows])
        if "time" in found:
            path = _q(json.dumps([found["date"], found["time"]], ensure_ascii=False))
            lines += [
                "  start_at:",
                f"    path: {path}",
                f'    transforms: [{{join: " "}}, {{datetime: {{formats: ["{fmt} %H:%M"]}}}}]',
                "    required: true",
            ]
        else:
            lines.append(
                f"  start_at: {{column: {_q(found['date'])}, transforms:"
                f' [{{datetime: {{formats: ["{fmt}"]}}}}], required: true}}'
            )
        if "party_size" in found:
            lines.append(f"  party_size: {{column: {_q(found['party_size'])}, transforms: [int]}}")
        seen = (
            {(r.get(found["status"]) or "").strip() for r in rows} if "status" in found else set()
        )
        known = {v: STATUS_MAP[v.casefold()] for v in sorted(seen) if v.casefold() in STATUS_MAP}
        if known:  # the export's own words for the statuses it showed in the sample
            pairs = ", ".join(f"{_q(k)}: {v}" for k, v in known.items())
            lines.append(
                f"  status: {{column: {_q(found['status'])}, transforms:"
                f" [{{enum: {{map: {{{pairs}}}, default: confirmed}}}}]}}"
            )
        for field in ("venue", "requests"):
            if field in found:
                lines.append(f"  {field}: {{column: {_q(found[field])}, transforms: [strip]}}")
    used = set(found.values())
    return Suggestion("\n".join(lines) + "\n", found, [c for c in header if c not in used])
