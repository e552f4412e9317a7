"""The report's sections, in the order shown: one function each, from the figures (and
the store, still open, for a section that reads its own) to a `Section`, or None to leave
it out. Another section is one more function in `SECTIONS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from ..store import Store
from .report_figures import Bar, Kpi, Report, Section
from .report_labels import Words, colour


@dataclass(frozen=True)
class Context:
    store: Store
    report: Report
    words: Words
    tz: ZoneInfo
    sources: dict[str, Any]  # the config's sources by name (for their readable names)
    currency: str | None = None  # the one bills without a currency were paid in

    def source(self, key: str) -> str:
        return self.words.source(key, self.sources.get(key))


def number(x: float | int | None, na: str) -> str:
    if x is None:
        return na
    return f"{x:,.0f}" if float(x) == int(x) else f"{x:,.2f}"


def percent(x: float | None, na: str) -> str:
    return na if x is None else f"{x * 100:.1f} %"


def _day(value: Any, words: Words) -> str:
    try:
        return words.day(date.fromisoformat(str(value)))
    except ValueError:
        return words("na")


def kpis(ctx: Context) -> Section:
    t, w, na = ctx.report.totals, ctx.words, ctx.words("na")
    new = sum(ctx.report.new_by_source.values())
    return Section(
        "kpis",
        w("title"),
        "kpis",
        kpis=[
            Kpi(w("kpi_guests"), number(t.get("guests"), na)),
            Kpi(w("kpi_new"), number(new, na)),
            Kpi(w("kpi_visits"), number(t.get("visits"), na)),
            Kpi(w("kpi_reservations"), number(t.get("reservations"), na)),
            Kpi(w("kpi_orders"), number(t.get("orders"), na)),
            Kpi(w("kpi_rating"), number(t.get("average_rating"), na)),
        ],
    )


def segments(ctx: Context) -> Section:
    w = ctx.words
    bars = [Bar(w.segment(s), n, number(n, ""), colour(s)) for s, n in ctx.report.segments.items()]
    return Section.bars_of(
        "segments",
        w("segments"),
        bars,
        columns=[w("col_segment"), w("col_guests")],
        note=w("segments_note"),
        empty=None if bars else w("none"),
    )


def new_guests(ctx: Context) -> Section:
    w = ctx.words
    bars = [
        Bar(ctx.source(s), n, number(n, ""), colour(f"source:{s}"))
        for s, n in ctx.report.new_by_source.items()
    ]
    return Section.bars_of(
        "new-guests",
        w("new_by_source", date=w.day(ctx.report.month_start)),
        bars,
        columns=[w("col_source"), w("col_new")],
        note=w("new_note"),
        empty=None if bars else w("none"),
    )


def spend(ctx: Context) -> Section:
    """Every month since the first with a bill, in the main currency (the one bills
    without a currency are counted in, first); other currencies where they have bills."""
    w = ctx.words
    months = ctx.report.spend
    main = ctx.currency
    currencies = sorted({c for m in months.values() for c in m}, key=lambda c: (c != main, c))
    several = len(currencies) > 1
    bars, started = [], False
    for month, by_currency in months.items():
        started = started or bool(by_currency)
        for cur in currencies if started else ():
            bills, total = by_currency.get(cur, (0, 0.0))
            if bills or cur == currencies[0]:
                label = w.month(month) + (f" · {cur}" if several and cur else "")
                amount = f"{cur} {number(total, '')}".strip()
                text = w("spend_of", amount=amount, bills=bills)
                bars.append(Bar(label, total, text, colour(f"currency:{cur}")))
    return Section.bars_of(
        "spend",
        w("spend"),
        bars,
        columns=[w("col_month"), w("col_spend")],
        legend=[(c, colour(f"currency:{c}")) for c in currencies] if several else [],
        note=w("spend_note", tz=ctx.tz.key),
        empty=None if bars else w("none"),
    )


def no_shows_by_weekday(ctx: Context) -> Section:
    w, na = ctx.words, ctx.words("na")
    bars = []
    for day, (n, due) in enumerate(ctx.report.no_shows_by_weekday):
        rate = n / due if due else None
        text = w("rate_of", rate=percent(rate, na), due=due)
        bars.append(Bar(w.weekday(day), rate or 0.0, text, "#d9534f"))
    has = any(due for _, due in ctx.report.no_shows_by_weekday)
    return Section.bars_of(
        "no-shows-weekday",
        w("no_show_weekday"),
        bars if has else [],
        columns=[w("col_weekday"), w("col_rate")],
        note=w("no_show_note"),
        empty=None if has else w("none"),
    )


def no_shows_by_source(ctx: Context) -> Section:
    w, na, rep = ctx.words, ctx.words("na"), ctx.report
    bars = [
        Bar(
            ctx.source(src),
            rep.no_show_rate(src) or 0.0,
            w("rate_of", rate=percent(rep.no_show_rate(src), na), due=due),
            colour(f"source:{src}"),
        )
        for src, (_, due) in rep.no_shows.items()
    ]
    return Section.bars_of(
        "no-shows-source",
        w("no_show_source"),
        bars,
        columns=[w("col_source"), w("col_rate")],
        empty=None if bars else w("none"),
    )


def _guest_list(ctx: Context, key: str, listed: tuple[int, list[dict[str, Any]]]) -> Section:
    w = ctx.words
    total, guests = listed
    rows = [
        [
            g["name"] or g["id"],
            str(g["visits"]),
            _day(g["last_visit"], w) if g["last_visit"] else w("na"),
            ", ".join(f"{c} {number(float(v), '')}" for c, v in g["spend"].items()) or "—",
        ]
        for g in guests
    ]
    return Section(
        key,
        w(key.replace("-", "_"), n=total),
        "table",
        columns=[w("col_guest"), w("col_visits"), w("col_last_visit"), w("col_spend")],
        numeric={1, 3},
        rows=rows,
        empty=None if rows else w("none"),
        more=w("more", n=total - len(rows)) if total > len(rows) else None,
    )


def vip(ctx: Context) -> Section:
    return _guest_list(ctx, "vip", ctx.report.vip)


def at_risk(ctx: Context) -> Section:
    return _guest_list(ctx, "at-risk", ctx.report.at_risk)


def top_dishes(ctx: Context) -> Section:
    w = ctx.words
    bars = [
        Bar(name, qty, w("sold_by", qty=number(qty, ""), guests=guests), "#e0a526")
        for name, qty, guests in ctx.report.top_items
    ]
    return Section.bars_of(
        "top-dishes",
        w("top_dishes"),
        bars,
        columns=[w("col_dish"), w("col_sold")],
        empty=None if bars else w("none"),
    )


SECTIONS: tuple[Callable[[Context], Section | None], ...] = (
    kpis,
    segments,
    new_guests,
    spend,
    vip,
    at_risk,
    no_shows_by_weekday,
    no_shows_by_source,
    top_dishes,
)
