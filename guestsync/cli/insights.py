"""CRM insight commands: report, forget, refresh, targets setup (issue 8)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from ..actions import crm_setup, report
from ..actions import forget as forgetting
from ..errors import ConfigError
from ..process import outbox
from ..store import utcnow
from .app import Ctx, cli, err, out, pass_ctx


@cli.command("report")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as one self-contained HTML page (charts inline, no CDN).",
)
@click.option("--top", default=10, show_default=True, help="How many dishes to list.")
@pass_ctx
def report_cmd(ctx: Ctx, html_file: Path | None, top: int) -> None:
    """Summary for managers: guests by segment, new guests this month by source, no-show
    rate by source, top dishes."""
    hub = ctx.hub()
    try:
        rep = report.build(hub.store, now=utcnow(), tz=hub.activity.tz, top=top)
    finally:
        hub.close()
    report.render(rep, out)
    if html_file is not None:
        html_file.write_text(report.html(rep), encoding="utf-8")
        out.print(f"wrote {html_file}")


@cli.command()
@click.option("--email", help="Forget the guest(s) with this email.")
@click.option("--phone", help="Forget the guest(s) with this phone (any format).")
@click.option("--guest", "guest_id", metavar="ID", help="Forget this guest id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--log", "show_log", is_flag=True, help="List past forget requests and stop.")
@pass_ctx
def forget(
    ctx: Ctx,
    email: str | None,
    phone: str | None,
    guest_id: str | None,
    yes: bool,
    show_log: bool,
) -> None:
    """Delete a guest's personal data here and in every CRM that supports deletion.

    A salted hash of each email and phone is kept so later records about the guest are
    suppressed (unless they opt in again); the request is logged without personal data.
    Exit status: 0 done, 1 some CRM could not delete (see the ids printed), 2 nobody found.
    """
    if show_log:
        hub = ctx.hub()
        try:
            for row in hub.store.forget_log():
                click.echo(
                    f"#{row['id']} {row['requested_at']} {row['status']}: {row['guests']}"
                    f" guest(s), {row['rows_deleted']} row(s); targets {row['targets']}"
                )
        finally:
            hub.close()
        return
    if sum(x is not None for x in (email, phone, guest_id)) != 1:
        raise ConfigError("name exactly one of --email, --phone or --guest")
    if not yes:
        click.confirm(
            "Delete this guest's data here and in the CRMs? This cannot be undone", abort=True
        )
    hub = ctx.hub()
    try:
        result = forgetting.forget(
            hub.store,
            hub.targets,
            email=email,
            phone=phone,
            guest_id=guest_id,
            region=hub.config.defaults.region,
            retry={name: t.retry for name, t in hub.config.targets.items()},
            pace={name: hub.pacer(name) for name in hub.targets},
            sleep=hub.sleep,
        )
    finally:
        hub.close()
    if not result.guest_ids:
        out.print("no guest found (a suppression entry was still recorded)")
        sys.exit(2)
    out.print(
        f"forgot {len(result.guest_ids)} guest(s): {result.rows_deleted} row(s) deleted; "
        f"forget log #{result.log_id}"
    )
    for name, outcome in result.targets.items():
        line = f"{name}: {outcome['status']}"
        if outcome["status"] == "queued":
            line += " — the CRM said later; the next delivery run retries the delete"
        elif outcome.get("crm_ids"):
            line += f" — delete by hand in the CRM: {', '.join(map(str, outcome['crm_ids']))}"
        if outcome.get("error"):
            line += f" ({outcome['error']})"
        (out if outcome["status"] in ("deleted", "not linked") else err).print(escape(line))
    sys.exit(0 if result.complete else 1)


@cli.command()
@pass_ctx
def refresh(ctx: Ctx) -> None:
    """Recompute every guest's aggregates and segment now, and queue changed CRM payloads.

    `sync` does this once a day by itself (segments move with the calendar).
    """
    hub = ctx.hub()
    try:
        queued = outbox.refresh_all(hub.store, hub.targets, hub.activity)
        segments = hub.store.guests_by_segment()
    finally:
        hub.close()
    out.print(f"{sum(segments.values())} guest(s) recomputed, {queued} CRM update(s) queued")


@cli.group()
def targets() -> None:
    """CRM targets: one-time setup."""


@targets.command("setup")
@click.option("--print", "print_only", is_flag=True, help="List the properties; change nothing.")
@click.option("--create", is_flag=True, help="Create missing properties (HubSpot and BottleCRM).")
@click.option("--target", "names", multiple=True, help="Only this target (repeatable).")
@pass_ctx
def targets_setup(ctx: Ctx, print_only: bool, create: bool, names: tuple[str, ...]) -> None:
    """List the custom CRM properties guestsync writes (per target), or create them.

    Without --create this only prints. --create calls HubSpot's properties API and
    BottleCRM's custom-fields API (an org admin's token); for Salesforce, Zoho and Fxiaoke
    create the listed custom fields in the CRM's setup pages.
    """
    hub = ctx.hub()
    hub.close()
    specs = crm_setup.required(hub.config, list(names) or None)
    # Plain aligned lines (not a table): easy to copy into the CRM's setup pages.
    width = max((len(s.name) + 9 for s in specs), default=10)
    click.echo(f"{'target':<12} {'property':<{width}} {'type':<28} holds")
    for s in specs:
        prop = s.name + (" (unique)" if s.unique else "")
        click.echo(f"{s.target:<12} {prop:<{width}} {s.field_type:<28} {s.value}")
    for name, why in crm_setup.unlisted(hub.config, specs, list(names) or None).items():
        click.echo(f"{name:<12} {why}")
    if print_only or not create:
        return
    failed = False
    for name in dict.fromkeys(s.target for s in specs):
        opts = hub.config.targets[name]
        mine = [s for s in specs if s.target == name]
        creators = {"hubspot": crm_setup.create_hubspot, "bottlecrm": crm_setup.create_bottlecrm}
        if opts.type not in creators:
            err.print(f"{name}: {opts.type} fields are created in the CRM's setup pages")
            continue
        for prop, outcome in creators[opts.type](opts, mine).items():
            ok = outcome in ("created", "exists")
            failed |= not ok
            (out if ok else err).print(f"{name}: {prop}: {escape(outcome)}")
    sys.exit(1 if failed else 0)
