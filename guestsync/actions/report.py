"""`guestsync report`: what a restaurant manager wants to see, in the terminal or as a
self-contained HTML page (report_html.py: a Jinja2 template, inline CSS, no script, no
CDN, opens offline), in Traditional Chinese, Simplified Chinese or English.

`build` reads the figures from the store (every query one pass over its rows: see
benchmarks/bench_report.py) and lays them out as sections (report_sections.py); the
terminal and the page draw the same sections. Times are bucketed into months and
weekdays of `tz` here, from the store's UTC hours, so a bill paid at 23:30 in Taipei
counts in Taipei's day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from ..restaurant.segments import SEGMENTS
from ..store import Store
from . import loyalty_report
from .report_figures import Report
from .report_labels import Words
from .report_sections import SECTIONS, Context

MONTHS = 12  # spend per month, and the no-show rate by weekday, over this many months
LISTED = 20  # guests listed per VIP / at-risk table


def _months_back(month_start: date, n: int) -> date:
    y, m = divmod(month_start.year * 12 + month_start.month - 1 - n, 12)
    return date(y, m + 1, 1)


def _local(hour: str, tz: ZoneInfo) -> datetime:
    return datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC).astimezone(tz)


def build(
    store: Store,
    *,
    now: datetime,
    tz: ZoneInfo,
    top: int = 10,
    lang: str = "en",
    sources: Mapping[str, Any] | None = None,
    currency: str | None = None,
) -> Report:
    """The report as of `now`; `sources` (the config's, by name) make their names
    readable, `currency` is the one bills without a currency were paid in."""
    local = now.astimezone(tz)
    month_start = local.date().replace(day=1)
    since = datetime.combine(month_start, time(0), tzinfo=tz)
    until = datetime.combine(_months_back(month_start, -1), time(0), tzinfo=tz)
    first_month = _months_back(month_start, MONTHS - 1)
    window = datetime.combine(first_month, time(0), tzinfo=tz)
    segs = store.guests_by_segment()
    order = {s: i for i, s in enumerate(SEGMENTS)}

    spend: dict[date, dict[str, tuple[int, float]]] = {
        _months_back(month_start, n): {} for n in range(MONTHS - 1, -1, -1)
    }
    for hour, cur, bills, total in store.spend_by_hour(window):
        at = _local(hour, tz)
        month = spend.get(date(at.year, at.month, 1))
        if month is None:  # a bill dated after now
            continue
        n, t = month.get(cur or currency or "", (0, 0.0))
        month[cur or currency or ""] = (n + bills, t + total)
    weekdays = [[0, 0] for _ in range(7)]
    for hour, no_shows, due in store.no_shows_by_hour(window):
        day = weekdays[_local(hour, tz).weekday()]
        day[0] += no_shows
        day[1] += due

    rep = Report(
        generated=local,
        month_start=month_start,
        lang=lang,
        totals=store.activity_totals(),
        segments=dict(sorted(segs.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))),
        new_by_source=store.new_guests_by_source(since, until),
        no_shows=store.no_shows_by_source(),
        top_items=store.top_items(limit=top),
        spend=spend,
        no_shows_by_weekday=[(n, due) for n, due in weekdays],
        vip=store.guests_in_segment("vip", limit=LISTED),
        at_risk=store.guests_in_segment("at_risk", limit=LISTED),
    )
    words = Words(lang)
    rep.title = words("title")
    rep.subtitle = words("generated", when=f"{local:%Y-%m-%d %H:%M %Z}")
    ctx = Context(store, rep, words, tz, dict(sources or {}), currency)
    makers = (*SECTIONS, *loyalty_report.SECTIONS)  # membership after the rest
    rep.sections = [s for make in makers if (s := make(ctx)) is not None]
    return rep


def render(report: Report, console: Console) -> None:
    """The report's sections in the terminal: figures on a line, charts and lists as
    tables."""
    console.print(f"[bold]{report.title}[/]  [dim]{report.generated:%Y-%m-%d %H:%M %Z}[/]")
    for s in report.sections:
        if s.kind == "kpis":
            console.print("  ".join(f"[bold]{k.value}[/] {k.label}" for k in s.kpis))
            continue
        if s.empty:
            console.print(f"[bold]{s.title}[/]: {s.empty}")
            continue
        tab = Table(title=s.title)
        if s.kind == "bars":
            tab.add_column(s.columns[0] if s.columns else "")
            tab.add_column(s.columns[1] if len(s.columns) > 1 else "", justify="right")
            for bar in s.bars:
                tab.add_row(bar.label, bar.text)
        else:
            for i, col in enumerate(s.columns):
                tab.add_column(col, justify="right" if i in s.numeric else "left")
            for row in s.rows:
                tab.add_row(*row)
        console.print(tab)
        if s.more:
            console.print(f"  {s.more}")
