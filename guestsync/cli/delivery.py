"""Delivery commands: outbox, dead-letters list|show|retry, and the dry-run report."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from rich.markup import escape
from rich.table import Table

from ..actions.dead_letters import retry_dead_letters
from ..delivery.batches import lift_quota_pause, quota_paused_until
from ..delivery.crm_ops import supports_merge
from ..delivery.plan import TargetPlan, plan_target
from ..store import utcnow
from .app import Ctx, cli, err, out, pass_ctx
from .timefmt import local


def _age(since: str | None) -> str:
    if not since:
        return "-"
    seconds = (utcnow() - datetime.fromisoformat(since)).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{max(0, seconds):.0f}s"


@cli.command()
@pass_ctx
def outbox(ctx: Ctx) -> None:
    """Queue depth per target: pending records, age of the oldest, attempts, dead letters."""
    hub = ctx.hub(secrets=False)
    try:
        store = hub.store
        t = Table(title=f"outbox (times in {hub.config.defaults.timezone})")
        for col in ("target", "pending", "oldest pending", "max attempts", "delivered"):
            t.add_column(col, justify="left" if col == "target" else "right")
        t.add_column("dead letters", justify="right")
        t.add_column("merges/deletes queued", justify="right")
        t.add_column("quota paused until")
        depths = {d.target: d for d in store.outbox_overview()}
        for name in sorted(set(hub.targets) | set(depths)):
            d = depths.get(name)
            ops = store.pending_ops(name)
            t.add_row(
                name,
                str(d.pending if d else 0),
                _age(d.oldest_pending if d else None),
                str(d.max_attempts if d else 0),
                str(d.done if d else 0),
                str(len(store.dead_letter_details(target=name))),
                str(len(ops)),
                local(quota_paused_until(store, name), hub.config.defaults.timezone),
            )
        out.print(t)
    finally:
        hub.close()


@cli.command()
@click.argument("target")
@pass_ctx
def resume(ctx: Ctx, target: str) -> None:
    """Deliver to TARGET again although its CRM said the quota is used up.

    A used-up daily quota (Fxiaoke's, for one) pauses the target until the reset time the
    CRM gave, across runs and processes; `guestsync outbox` shows until when. Use this
    once the quota is raised or reset early. If it is still used up, the next push pauses
    the target again, and nothing is lost meanwhile."""
    hub = ctx.hub()
    try:
        if target not in hub.targets:
            known = ", ".join(hub.targets) or "none"
            raise click.ClickException(f"no target {target!r} in the config (targets: {known})")
        until = lift_quota_pause(hub.store, target)
        if until:
            when = local(until, hub.config.defaults.timezone)
            out.print(f"{target}: quota pause until {when} lifted; the next push delivers")
        else:
            out.print(f"{target}: not paused")
    finally:
        hub.close()


@cli.group("dead-letters")
def dead_letters() -> None:
    """Records a CRM refused for good (with its message): list, show, and retry them."""


@dead_letters.command("list")
@click.option("--target", help="Only this target.")
@click.option("--all", "show_all", is_flag=True, help="Include dead letters already retried.")
@pass_ctx
def dl_list(ctx: Ctx, target: str | None, show_all: bool) -> None:
    """List dead letters: id, target, guest, attempts, when, and the CRM's message."""
    hub = ctx.hub(secrets=False)
    try:
        letters = hub.store.dead_letter_details(target=target, include_retried=show_all)
        tz = hub.config.defaults.timezone
    finally:
        hub.close()
    # One line per letter (no table): long CRM messages stay whole and greppable.
    out.print(f"{len(letters)} dead letter(s)  [dim]id  target  guest  attempts  created  error[/]")
    for d in letters:
        retried = " [dim](retried)[/]" if d.retried_at else ""
        out.print(
            f"{d.id}  {escape(d.target)}  {d.guest_id}  {d.attempts}  {local(d.created_at, tz)}  "
            f"{escape(d.error)}{retried}",
            highlight=False,
        )


@dead_letters.command("show")
@click.argument("dead_letter_id", type=int)
@pass_ctx
def dl_show(ctx: Ctx, dead_letter_id: int) -> None:
    """Show one dead letter in full: the CRM's message and the payload that was refused."""
    hub = ctx.hub(secrets=False)
    try:
        d = hub.store.dead_letter_detail(dead_letter_id)
        tz = hub.config.defaults.timezone
    finally:
        hub.close()
    if d is None:
        raise click.ClickException(f"no dead letter {dead_letter_id}")
    out.print(f"dead letter {d.id}: target {d.target}, guest {d.guest_id}")
    out.print(f"created {local(d.created_at, tz, seconds=True)}, after {d.attempts} attempt(s)")
    if d.retried_at:
        out.print(f"retried {local(d.retried_at, tz, seconds=True)}")
    out.print(f"error: {escape(d.error)}", highlight=False)
    click.echo(json.dumps(d.payload, indent=2, ensure_ascii=False, sort_keys=True))


@dead_letters.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--target", help="Only dead letters of this target.")
@click.option("--all", "retry_all", is_flag=True, help="Retry every dead letter not yet retried.")
@pass_ctx
def dl_retry(ctx: Ctx, ids: tuple[int, ...], target: str | None, retry_all: bool) -> None:
    """Put dead letters (IDS, or --all) back in the outbox; the next sync delivers them.

    Each is projected again from the guest as it is now, so fix the mapping or data first.
    """
    if not ids and not retry_all:
        raise click.UsageError("name dead-letter IDS or use --all")
    hub = ctx.hub()
    try:
        done = retry_dead_letters(hub.store, hub.targets, ids=ids, target=target)
    finally:
        hub.close()
    out.print(f"{len(done)} dead letter(s) re-queued; run `guestsync sync` to deliver them")
    if ids and len(done) < len(ids):
        err.print(f"[yellow]not found or target not configured[/]: {sorted(set(ids) - set(done))}")
        sys.exit(1)


def print_plans(plans: list[TargetPlan], *, limit: int = 50) -> None:
    """The dry-run report: per target, what would be created, updated, merged, deleted."""
    for p in plans:
        out.print(
            f"[bold]{escape(p.target)}[/]: {len(p.creates)} to create, {len(p.updates)} to "
            f"update, {len(p.merges)} to merge, {len(p.deletes)} to delete"
        )
        shown = 0
        for label, changes in (("create", p.creates), ("update", p.updates)):
            for c in changes:
                if shown >= limit:
                    break
                shown += 1
                where = f" ({c.crm_id})" if c.crm_id else ""
                out.print(f"  {label} {c.guest_id}{where}", highlight=False)
                for name, (old, new) in c.fields.items():
                    if label == "create":
                        out.print(f"      {name}: {escape(repr(new))}", highlight=False)
                    else:
                        out.print(
                            f"      {name}: {escape(repr(old))} -> {escape(repr(new))}",
                            highlight=False,
                        )
        if p.merges and not p.can_merge:
            out.print(
                f"  [yellow]{escape(p.target)} cannot merge contacts[/]: each loser's "
                "contact stays in the CRM (merge them there by hand); only our link is dropped"
            )
        for keep, lose, keep_crm, lose_crm in p.merges:
            out.print(f"  merge {lose} ({lose_crm}) into {keep} ({keep_crm or 'not yet pushed'})")
        for op in p.deletes:
            out.print(f"  delete {op.guest_id} ({op.crm_id})")
        hidden = len(p.creates) + len(p.updates) - shown
        if hidden > 0:
            out.print(f"  … and {hidden} more")


def dry_run_plans(hub, targets: list[str] | None) -> list[TargetPlan]:
    hub.check_targets(targets)
    return [
        plan_target(hub.store, name, can_merge=supports_merge(hub.targets[name]))
        for name in targets or list(hub.targets)
    ]
