"""`guestsync targets setup`: the CRM properties the payloads need (actions/crm_setup.py)."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from ..actions import crm_setup
from .app import Ctx, cli, err, out, pass_ctx


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
    for name, note in crm_setup.notes(hub.config, list(names) or None).items():
        click.echo(f"{name:<12} {note}")
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
