"""`guestsync forget`: a privacy request, carried out by actions/forget.py."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from ..actions import forget as forgetting
from ..errors import ConfigError
from .app import Ctx, cli, err, out, pass_ctx


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
