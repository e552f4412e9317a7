"""The report as one self-contained HTML page, from the Jinja2 templates in
report_templates/: `report.html` lays out the sections, each drawn by the template of its
kind (`kpis.html`, `bars.html`, `table.html`) or its own. Inline CSS, no script, nothing
fetched: it opens offline and can be mailed. Charts are HTML and CSS, not fixed-size SVG,
so labels wrap instead of being cut off, at a phone's width as at a desktop's.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .report_figures import Report

_ENV = Environment(
    loader=PackageLoader("guestsync", "actions/report_templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(report: Report) -> str:
    return _ENV.get_template("report.html").render(report=report)
