"""What `guestsync report` shows: the figures read from the store (`Report`) and the
sections they are laid out in (`Section`), which the terminal and the HTML page draw.

A section is one of three kinds, each drawn by the template of its name
(report_templates/<kind>.html) and by `report.render` in the terminal:

- `kpis`: a row of figures (`Kpi`);
- `bars`: a bar chart (`Bar`: label, value, the text shown beside it, a stable colour);
- `table`: columns and rows of text (`numeric` columns are right-aligned).

A new section (membership tiers, points…) is a function returning one of these, added
to `report_sections.SECTIONS`; a section needing its own drawing names its `template`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    colour: str
    share: float = 0.0  # of the section's largest value, 0..1 (set by `Section.bars_of`)


@dataclass
class Section:
    key: str  # the section's id in the page: stable, for links, tests and stylesheets
    title: str
    kind: str  # kpis | bars | table
    kpis: list[Kpi] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # indexes of right-aligned columns
    rows: list[list[str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (series, colour)
    note: str | None = None
    empty: str | None = None  # shown instead of the chart or table when it has nothing
    more: str | None = None  # "… and 12 more" under a list cut short
    template: str | None = None  # a template of its own instead of `<kind>.html`

    @property
    def template_name(self) -> str:
        return self.template or f"{self.kind}.html"

    @classmethod
    def bars_of(cls, key: str, title: str, bars: list[Bar], **kw: Any) -> Section:
        """A bar chart, each bar's `share` of the largest set."""
        top = max((b.value for b in bars), default=0.0) or 1.0
        scaled = [Bar(b.label, b.value, b.text, b.colour, max(0.0, b.value / top)) for b in bars]
        return cls(key, title, "bars", bars=scaled, **kw)


@dataclass
class Report:
    generated: datetime
    month_start: date
    lang: str = "en"
    title: str = ""
    subtitle: str = ""  # "generated <when>"
    totals: dict[str, float | int | None] = field(default_factory=dict)
    segments: dict[str, int] = field(default_factory=dict)
    new_by_source: dict[str, int] = field(default_factory=dict)
    no_shows: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (n, due)
    top_items: list[tuple[str, float, int]] = field(default_factory=list)
    # month (its 1st day) -> currency -> (bills, total)
    spend: dict[date, dict[str, tuple[int, float]]] = field(default_factory=dict)
    no_shows_by_weekday: list[tuple[int, int]] = field(default_factory=list)  # Monday first
    vip: tuple[int, list[dict[str, Any]]] = (0, [])
    at_risk: tuple[int, list[dict[str, Any]]] = (0, [])
    sections: list[Section] = field(default_factory=list)

    def no_show_rate(self, source: str) -> float | None:
        n, due = self.no_shows[source]
        return n / due if due else None
