"""`guestsync report`: what a restaurant manager wants to see, in the terminal or as a
self-contained HTML page (inline CSS and SVG charts; no script, no CDN, opens offline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from html import escape
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from ..restaurant.segments import SEGMENTS
from ..store import Store
from . import loyalty_report


@dataclass
class Report:
    generated: datetime
    month_start: date
    totals: dict[str, float | int | None] = field(default_factory=dict)
    segments: dict[str, int] = field(default_factory=dict)
    new_by_source: dict[str, int] = field(default_factory=dict)
    no_shows: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (n, due)
    top_items: list[tuple[str, float, int]] = field(default_factory=list)
    loyalty: loyalty_report.LoyaltyFigures = field(default_factory=loyalty_report.LoyaltyFigures)

    def no_show_rate(self, source: str) -> float | None:
        n, due = self.no_shows[source]
        return n / due if due else None


def build(store: Store, *, now: datetime, tz: ZoneInfo, top: int = 10) -> Report:
    local = now.astimezone(tz)
    month_start = local.date().replace(day=1)
    since = datetime.combine(month_start, time(0), tzinfo=tz)
    segs = store.guests_by_segment()
    order = {s: i for i, s in enumerate(SEGMENTS)}
    return Report(
        generated=local,
        month_start=month_start,
        totals=store.activity_totals(),
        segments=dict(sorted(segs.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))),
        new_by_source=store.new_guests_by_source(since),
        no_shows=store.no_shows_by_source(),
        top_items=store.top_items(limit=top),
        loyalty=loyalty_report.build(store, now=now, month_start=since),
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f} %"


def _qty(q: float) -> str:
    return str(int(q)) if q == int(q) else f"{q:g}"


def render(report: Report, console: Console) -> None:
    t = report.totals
    console.print(
        f"[bold]Guests {t.get('guests', 0)}[/]  visits {t.get('visits', 0)}  "
        f"reservations {t.get('reservations', 0)}  orders {t.get('orders', 0)}  "
        f"feedback {t.get('feedback', 0)}  average rating {t.get('average_rating') or 'n/a'}"
    )
    tab = Table(title="Guests by segment")
    tab.add_column("segment")
    tab.add_column("guests", justify="right")
    for seg, n in report.segments.items():
        tab.add_row(seg, str(n))
    console.print(tab)
    tab = Table(title=f"New guests since {report.month_start:%d %b %Y}, by source")
    tab.add_column("source")
    tab.add_column("new guests", justify="right")
    for src, n in report.new_by_source.items():
        tab.add_row(src, str(n))
    console.print(tab)
    tab = Table(title="No-shows by source")
    for col in ("source", "no-shows", "due", "rate"):
        tab.add_column(col, justify="left" if col == "source" else "right")
    for src, (n, due) in report.no_shows.items():
        tab.add_row(src, str(n), str(due), _pct(report.no_show_rate(src)))
    console.print(tab)
    tab = Table(title="Top dishes")
    for col in ("dish", "sold", "guests"):
        tab.add_column(col, justify="left" if col == "dish" else "right")
    for name, qty, guests in report.top_items:
        tab.add_row(name, _qty(qty), str(guests))
    console.print(tab)
    loyalty_report.render(report.loyalty, console)


# -- HTML ------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans TC","PingFang TC",sans-serif;
margin:2rem auto;max-width:60rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}
.kpis{display:flex;flex-wrap:wrap;gap:1rem}.kpi{background:#f4f6f8;border-radius:8px;
padding:.7rem 1rem;min-width:7rem}.kpi b{display:block;font-size:1.4rem}
table{border-collapse:collapse;margin-top:.5rem}td,th{padding:.25rem .8rem;text-align:left;
border-bottom:1px solid #e3e6ea}td.n{text-align:right}svg text{font-size:12px;fill:#222}
.muted{color:#777;font-size:.85rem}
"""
_COLOURS = ("#2f6fdf", "#2fa37c", "#e0a526", "#d9534f", "#8e6bd8", "#5bc0de", "#999", "#bbb")


def _bars(rows: list[tuple[str, float, str]], *, colour: str | None = None) -> str:
    """A horizontal bar chart as inline SVG: (label, value, shown text) per bar."""
    if not rows:
        return '<p class="muted">no data yet</p>'
    top = max(v for _, v, _ in rows) or 1
    h, label_w, bar_w = 24, 180, 360
    parts = [
        f'<svg role="img" width="{label_w + bar_w + 80}" height="{h * len(rows) + 4}"'
        ' xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value, text) in enumerate(rows):
        y = i * h + 2
        w = max(1, round(bar_w * value / top)) if value else 0
        fill = colour or _COLOURS[i % len(_COLOURS)]
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{h - 8}" rx="3" fill="{fill}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + 16}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def html(report: Report) -> str:
    t = report.totals
    kpis = "".join(
        f'<div class="kpi"><b>{escape(str(v if v is not None else "n/a"))}</b>{escape(k)}</div>'
        for k, v in (
            ("guests", t.get("guests")),
            ("visits", t.get("visits")),
            ("reservations", t.get("reservations")),
            ("orders", t.get("orders")),
            ("average rating", t.get("average_rating")),
        )
    )
    seg = _bars([(s, n, str(n)) for s, n in report.segments.items()])
    new = _bars([(s, n, str(n)) for s, n in report.new_by_source.items()], colour="#2fa37c")
    ns = _bars(
        [
            (src, report.no_show_rate(src) or 0.0, f"{_pct(report.no_show_rate(src))} of {due}")
            for src, (_, due) in report.no_shows.items()
        ],
        colour="#d9534f",
    )
    dishes = _bars(
        [(n, q, f"{_qty(q)} sold, {g} guests") for n, q, g in report.top_items], colour="#e0a526"
    )
    gen = f"{report.generated:%Y-%m-%d %H:%M %Z}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>guestsync report {escape(gen)}</title><style>{_CSS}</style></head><body>"
        f'<h1>Guests at a glance</h1><p class="muted">generated {escape(gen)}</p>'
        f'<div class="kpis">{kpis}</div>'
        f"<h2>Guests by segment</h2>{seg}"
        f"<h2>New guests since {report.month_start:%d %b %Y}, by source</h2>{new}"
        f"<h2>No-show rate by source</h2>{ns}"
        f"<h2>Top dishes</h2>{dishes}{loyalty_report.html(report.loyalty)}"
        '<p class="muted">Segments: see README, "Segments". No-show rate = no-shows / '
        "reservations that were due (completed, seated or no-show).</p></body></html>\n"
    )
