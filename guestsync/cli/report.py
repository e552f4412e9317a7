"""`guestsync report` (the marketer's summary, actions/report.py) and `guestsync refresh`
(recompute every guest's aggregates and queue what changed)."""

from __future__ import annotations

from pathlib import Path

import click

from ..actions import report, report_html, report_labels
from ..process import outbox
from ..store import utcnow
from .app import Ctx, cli, out, pass_ctx


@cli.command("report")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as one self-contained HTML page (charts inline, no CDN).",
)
@click.option("--top", default=10, show_default=True, help="How many dishes to list.")
@click.option(
    "--lang",
    type=click.Choice(report_labels.LANGS),
    default=None,
    help="Language of the labels [default: from defaults.region: zh-TW for TW, HK and MO, "
    "zh-CN for CN and SG, else en].",
)
@pass_ctx
def report_cmd(ctx: Ctx, html_file: Path | None, top: int, lang: str | None) -> None:
    """Summary for managers: guests by segment, new guests this month (by their first
    booking or bill) by source, spend per month, VIP and at-risk guests with their last
    visit, no-show rate by weekday and by source, top dishes."""
    hub = ctx.hub(secrets=False)
    config = hub.config
    try:
        rep = report.build(
            hub.store,
            now=utcnow(),
            tz=hub.activity.tz,
            top=top,
            lang=lang or report_labels.lang_for_region(config.defaults.region),
            sources=config.sources,
            currency=config.crm.currency,
        )
    finally:
        hub.close()
    report.render(rep, out)
    if html_file is not None:
        html_file.write_text(report_html.html(rep), encoding="utf-8")
        out.print(f"wrote {html_file}")


@cli.command()
@pass_ctx
def refresh(ctx: Ctx) -> None:
    """Recompute every guest's aggregates and segment now, and queue changed CRM payloads.

    `sync` does this once a day by itself (segments move with the calendar).
    """
    hub = ctx.hub(secrets=False)
    try:
        queued = outbox.refresh_all(hub.store, hub.targets, hub.activity)
        segments = hub.store.guests_by_segment()
    finally:
        hub.close()
    out.print(f"{sum(segments.values())} guest(s) recomputed, {queued} CRM update(s) queued")
