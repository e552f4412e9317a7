"""The report's words in Traditional Chinese, Simplified Chinese and English.

The console's approach (guestsync/console/i18n.py): a small dict per language, an unknown
key falling back to English and then to the key itself, so a missing label shows but is
never an error. The report runs outside a request (no Flask `g`), so it takes the
language as an argument; its default comes from the config's phone region, the one place
a config says where the restaurant is.

Source names are shown as a person would say them ("POS export (CSV 匯出)"), not as
config keys ("pos_export"); series keep one colour from report to report (`colour`).
"""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any

LANGS = ("zh-TW", "zh-CN", "en")
# Where Traditional characters are read; mainland China and Singapore read Simplified.
TRADITIONAL = {"TW", "HK", "MO"}
SIMPLIFIED = {"CN", "SG"}

EN = {
    "title": "Guests at a glance",
    "generated": "generated {when}",
    "kpi_guests": "guests",
    "kpi_new": "new this month",
    "kpi_visits": "visits",
    "kpi_reservations": "reservations",
    "kpi_orders": "bills",
    "kpi_rating": "average rating",
    "segments": "Guests by segment",
    "new_by_source": "New guests since {date}, by source",
    "new_note": "A guest is new in the month of their first booking or bill, whenever "
    "their records were imported.",
    "spend": "Spend per month",
    "spend_note": "Bills of the last 12 months, by the month they were paid in ({tz}).",
    "no_show_weekday": "No-show rate by weekday",
    "no_show_source": "No-show rate by source",
    "no_show_note": "No-shows / bookings that were due (completed, seated or no-show), "
    "last 12 months.",
    "top_dishes": "Top dishes",
    "vip": "VIP guests ({n})",
    "at_risk": "At-risk guests ({n}): regulars not seen for a while",
    "col_guest": "Guest",
    "col_visits": "Visits",
    "col_last_visit": "Last visit",
    "col_spend": "Spend",
    "col_source": "Source",
    "col_new": "New guests",
    "col_no_shows": "No-shows",
    "col_due": "Due",
    "col_rate": "Rate",
    "col_dish": "Dish",
    "col_sold": "Sold",
    "col_guests": "Guests",
    "col_segment": "Segment",
    "col_month": "Month",
    "col_bills": "Bills",
    "col_weekday": "Weekday",
    "rate_of": "{rate} of {due}",
    "spend_of": "{amount} · bills: {bills}",
    "sold_by": "{qty} sold · guests: {guests}",
    "none": "No data yet.",
    "more": "… and {n} more",
    "segments_note": "Segments: see README, “Segments”.",
    "seg_vip": "VIP",
    "seg_regular": "regular",
    "seg_new": "new",
    "seg_at_risk": "at risk",
    "seg_lapsed": "lapsed",
    "seg_one_time": "one visit",
    "seg_occasional": "occasional",
    "seg_prospect": "no visit yet",
    "seg_not computed": "not computed",
    "kind_csv": "CSV export",
    "kind_square": "Square",
    "kind_jiandaoyun": "Jiandaoyun",
    "kind_rest": "API",
    "kind_webhook": "webhook",
    "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
    "month": "{d:%b %Y}",
    "day": "{d.day} {d:%b %Y}",
    "na": "n/a",
}

ZH_TW = {
    "title": "賓客概況",
    "generated": "產生於 {when}",
    "kpi_guests": "賓客",
    "kpi_new": "本月新客",
    "kpi_visits": "到店次數",
    "kpi_reservations": "訂位",
    "kpi_orders": "帳單",
    "kpi_rating": "平均評分",
    "segments": "賓客分群",
    "new_by_source": "{date} 起的新客（依來源）",
    "new_note": "賓客的第一筆訂位或帳單落在哪個月，就算那個月的新客，與資料何時匯入無關。",
    "spend": "每月消費",
    "spend_note": "近 12 個月的帳單，依結帳月份（{tz}）。",
    "no_show_weekday": "各星期幾的未到率",
    "no_show_source": "各來源的未到率",
    "no_show_note": "未到 ÷ 應到的訂位（完成、已入座或未到），近 12 個月。",
    "top_dishes": "熱門餐點",
    "vip": "VIP 賓客（{n} 位）",
    "at_risk": "流失風險（{n} 位）：一陣子沒來的常客",
    "col_guest": "賓客",
    "col_visits": "到店次數",
    "col_last_visit": "最近到店",
    "col_spend": "消費",
    "col_source": "來源",
    "col_new": "新客",
    "col_no_shows": "未到",
    "col_due": "應到",
    "col_rate": "比率",
    "col_dish": "餐點",
    "col_sold": "售出",
    "col_guests": "賓客",
    "col_segment": "分群",
    "col_month": "月份",
    "col_bills": "帳單",
    "col_weekday": "星期",
    "rate_of": "{rate}（應到 {due}）",
    "spend_of": "{amount} · {bills} 張帳單",
    "sold_by": "售出 {qty} · {guests} 位賓客",
    "none": "尚無資料。",
    "more": "…另有 {n} 位",
    "segments_note": "分群規則見 README「Segments」。",
    "seg_vip": "VIP",
    "seg_regular": "常客",
    "seg_new": "新客",
    "seg_at_risk": "流失風險",
    "seg_lapsed": "已流失",
    "seg_one_time": "只來過一次",
    "seg_occasional": "偶爾來",
    "seg_prospect": "尚未到店",
    "seg_not computed": "尚未計算",
    "kind_csv": "CSV 匯出",
    "kind_square": "Square",
    "kind_jiandaoyun": "簡道雲",
    "kind_rest": "API",
    "kind_webhook": "Webhook",
    "weekdays": "週一 週二 週三 週四 週五 週六 週日",
    "month": "{d.year}年{d.month}月",
    "day": "{d.year}年{d.month}月{d.day}日",
    "na": "無",
}

ZH_CN = {
    **ZH_TW,
    "title": "宾客概况",
    "generated": "生成于 {when}",
    "kpi_guests": "宾客",
    "kpi_new": "本月新客",
    "kpi_visits": "到店次数",
    "kpi_reservations": "订位",
    "kpi_orders": "账单",
    "kpi_rating": "平均评分",
    "segments": "宾客分群",
    "new_by_source": "{date} 起的新客（按来源）",
    "new_note": "宾客的第一笔订位或账单落在哪个月，就算那个月的新客，与数据何时导入无关。",
    "spend": "每月消费",
    "spend_note": "近 12 个月的账单，按结账月份（{tz}）。",
    "no_show_weekday": "每周各天的爽约率",
    "no_show_source": "各来源的爽约率",
    "no_show_note": "爽约 ÷ 应到的订位（完成、已入座或爽约），近 12 个月。",
    "top_dishes": "热门菜品",
    "vip": "VIP 宾客（{n} 位）",
    "at_risk": "流失风险（{n} 位）：一段时间没来的常客",
    "col_guest": "宾客",
    "col_visits": "到店次数",
    "col_last_visit": "最近到店",
    "col_spend": "消费",
    "col_source": "来源",
    "col_new": "新客",
    "col_no_shows": "爽约",
    "col_due": "应到",
    "col_rate": "比率",
    "col_dish": "菜品",
    "col_sold": "售出",
    "col_guests": "宾客",
    "col_segment": "分群",
    "col_month": "月份",
    "col_bills": "账单",
    "col_weekday": "星期",
    "rate_of": "{rate}（应到 {due}）",
    "spend_of": "{amount} · {bills} 张账单",
    "sold_by": "售出 {qty} · {guests} 位宾客",
    "none": "暂无数据。",
    "more": "…另有 {n} 位",
    "segments_note": "分群规则见 README“Segments”。",
    "seg_regular": "常客",
    "seg_at_risk": "流失风险",
    "seg_lapsed": "已流失",
    "seg_one_time": "只来过一次",
    "seg_occasional": "偶尔来",
    "seg_prospect": "尚未到店",
    "seg_not computed": "尚未计算",
    "kind_csv": "CSV 导出",
    "kind_jiandaoyun": "简道云",
    "weekdays": "周一 周二 周三 周四 周五 周六 周日",
    "na": "无",
}

LABELS = {"en": EN, "zh-TW": ZH_TW, "zh-CN": ZH_CN}
# Words of a source's key written in capitals when it is shown ("pos_export": "POS export").
ACRONYMS = {"pos", "csv", "api", "crm", "sms", "vip", "hk", "tw", "cn", "sg", "mo"}

# One colour per series, the same in every report: segments by name, anything else
# (sources, currencies) by a checksum of its key.
PALETTE = ("#2f6fdf", "#2fa37c", "#e0a526", "#d9534f", "#8e6bd8", "#1f9bb8", "#c2571a", "#6b7a8f")
SEGMENT_COLOURS = {
    "vip": "#8e6bd8",
    "regular": "#2f6fdf",
    "new": "#2fa37c",
    "at_risk": "#e0a526",
    "lapsed": "#d9534f",
    "one_time": "#1f9bb8",
    "occasional": "#6b7a8f",
    "prospect": "#9aa3ad",
}


def lang_for_region(region: str) -> str:
    """The report's default language for the config's `defaults.region`."""
    region = region.upper()
    if region in TRADITIONAL:
        return "zh-TW"
    return "zh-CN" if region in SIMPLIFIED else "en"


class Words:
    """The labels of one language: `words("key", n=3)`; `words.segment("vip")`, …"""

    def __init__(self, lang: str) -> None:
        if lang not in LABELS:
            raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
        self.lang = lang
        self.table = LABELS[lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self.table.get(key) or EN.get(key) or key
        return text.format(**values) if values else text

    def segment(self, name: str) -> str:
        key = f"seg_{name}"
        return self(key) if key in EN else name

    def weekday(self, n: int) -> str:
        """Monday is 0, as `date.weekday()`."""
        return self("weekdays").split()[n]

    def month(self, d: date) -> str:
        return self("month", d=d)

    def day(self, d: date) -> str:
        return self("day", d=d)

    def source(self, key: str, options: Any | None) -> str:
        """A source as a person names it: the config key made readable, with what kind of
        source it is ("Booking site (CSV export)"); a plugin's kind shows as its type."""
        words = key.replace("_", " ").replace("-", " ").split() or [key]
        words = [w.upper() if w.lower() in ACRONYMS else w for w in words]
        name = " ".join(words)
        name = name[:1].upper() + name[1:]
        if options is None:
            return name
        kind = str(getattr(options, "type", "") or "")
        platform = getattr(options, "platform", None)
        if kind == "webhook" and platform and platform != "generic":
            what = f"{platform.capitalize() if platform != 'inline' else platform} webhook"
        else:
            what = self(f"kind_{kind}") if f"kind_{kind}" in EN else kind
        if not what or what.lower() in name.lower():
            return name
        if name.lower() in what.lower():  # `inline` as an inline webhook: "Inline webhook"
            return what[:1].upper() + what[1:]
        return f"{name} ({what})"


def colour(series: str) -> str:
    """The colour of a series, stable across reports and runs."""
    if series in SEGMENT_COLOURS:
        return SEGMENT_COLOURS[series]
    return PALETTE[zlib.crc32(series.encode("utf-8")) % len(PALETTE)]
