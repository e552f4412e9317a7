"""Guest commands: show, explain, search, merge, unmerge, blocking, weights; and `generate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from ..actions import guests as guest_admin
from ..identity.em import to_yaml, weight_table
from ..sync_engine import Hub
from ..testing.synthetic import write
from .app import Ctx, cli, err, out, pass_ctx


@cli.group()
def guests() -> None:
    """Look up golden guests, see why records were merged, merge or split them by hand."""


def _admin(hub: Hub) -> guest_admin.Admin:
    return guest_admin.Admin(hub.store, hub.targets, hub.config.identity)


def _done(what: str, touched: set[str], queued: int) -> None:
    out.print(f"{what}; {len(touched)} guest(s) recomputed, {queued} CRM push(es) queued")


@guests.command()
@click.argument("guest_id")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
def show(ctx: Ctx, guest_id: str, as_json: bool) -> None:
    """Show a golden guest: its profile, segment, visits, spend and consent in force, every
    linked source record, its CRM record ids and open reviews."""
    hub = ctx.hub(secrets=False)
    try:
        guest_id = guest_admin.expand_id(hub.store, guest_id)
        data = guest_admin.profile(hub.store, guest_id)
    finally:
        hub.close()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    if data.get("asked_for"):
        out.print(f"{escape(guest_id)} was merged into {data['id']}")
    t = Table(title=f"guest {data['id']}", show_header=False)
    for k, v in data["golden"].items():
        if k != "id":
            t.add_row(k, escape(_text(v)))
    out.print(t)
    for name, value in data.items():
        if name in ("id", "asked_for", "golden"):
            continue
        if not value:
            continue
        out.print(f"[bold]{name}[/]")
        if isinstance(value, dict):  # label -> text (e.g. activity: segment, visits …)
            for k, v in value.items():
                out.print(f"  {escape(str(k))}: {escape(_text(v))}")
            continue
        for item in value if isinstance(value, list) else [value]:
            out.print(f"  {escape(_text(item))}")


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)


def _fields_text(fields: dict[str, Any]) -> str:
    """Per field its level and weight, the term-frequency adjustment inside that weight
    (a common name weighs less), what the family guard did not count, and its reason."""
    parts = []
    for k, v in fields.items():
        if k == "_guard":
            continue
        text = f"{k} {v['level']} ({v['w']:+.1f}"
        if v.get("tf"):
            text += f", tf {v['tf']:+.1f}"
        if v.get("dropped"):
            text += f", guard dropped {v['dropped']:+.1f}"
        parts.append(text + ")")
    if reason := fields.get("_guard", {}).get("reason"):
        parts.append(f"guard: {reason}")
    return ", ".join(parts)


@guests.command()
@click.argument("guest_id")
@pass_ctx
def explain(ctx: Ctx, guest_id: str) -> None:
    """Why this guest is what it is: every match decision, with the score of each field."""
    hub = ctx.hub(secrets=False)
    try:
        guest_id = guest_admin.expand_id(hub.store, guest_id)
        rows = guest_admin.explain(hub.store, guest_id)
        ids = [r["guest_id"] for r in rows if r["guest_id"]]
        short = guest_admin.short_ids(
            hub.store, ids + [r["candidate"] for r in rows if r["candidate"]]
        )
    finally:
        hub.close()
    t = Table(title=f"decisions about {guest_id}")
    for col in ("record", "went to", "compared with", "score", "fields", "outcome"):
        t.add_column(col)
    for r in rows:
        fields = _fields_text(r["fields"])
        record = ":".join(x for x in (r["source"], r["external_id"]) if x) or "-"
        t.add_row(
            escape(record),
            short.get(r["guest_id"] or "", ""),
            escape(r["candidate_ref"] or short.get(r["candidate"] or "", "-")),
            "" if r["score"] is None else f"{r['score']:.1f}",
            escape(fields),
            r["outcome"],
        )
    out.print(t)


@guests.command()
@click.argument("text")
@click.option("--limit", default=20, show_default=True, help="At most this many guests.")
@pass_ctx
def search(ctx: Ctx, text: str, limit: int) -> None:
    """Find guests by name (陳小明 finds 陈小明 and Chen Xiao Ming), email or phone."""
    hub = ctx.hub(secrets=False)
    try:
        found = guest_admin.search(hub.store, text, region=hub.config.defaults.region, limit=limit)
        short = guest_admin.short_ids(hub.store, [g.id for g in found if g.id])
    finally:
        hub.close()
    t = Table(title=f"guests matching {text!r}")
    for col in ("id", "name", "email", "phone"):
        t.add_column(col)
    for g in found:
        t.add_row(short.get(g.id or "", ""), escape(g.display_name()), g.email or "", g.phone or "")
    out.print(t)


@guests.command()
@click.argument("keep")
@click.argument("lose")
@pass_ctx
def merge(ctx: Ctx, keep: str, lose: str) -> None:
    """Merge guest LOSE into KEEP (one real person); re-queues the guest for the CRM.

    LOSE keeps pointing at KEEP; `guests unmerge KEEP --link ...` undoes it.
    """
    hub = ctx.hub()
    try:
        keep, lose = guest_admin.expand_id(hub.store, keep), guest_admin.expand_id(hub.store, lose)
        touched, queued = _admin(hub).merge(keep, lose)
    finally:
        hub.close()
    _done(f"merged {lose} into {keep}", touched, queued)


@guests.command()
@click.argument("guest_id")
@click.option(
    "--link",
    "link",
    required=True,
    metavar="SOURCE:EXTERNAL_ID",
    help="The source record to take out of this guest.",
)
@pass_ctx
def unmerge(ctx: Ctx, guest_id: str, link: str) -> None:
    """Take a source record out of a guest: the guest it was merged from comes back (or a
    new guest is made); both are recomputed, kept apart, and re-queued for the CRM."""
    hub = ctx.hub()
    try:
        admin = _admin(hub)
        guest_id = guest_admin.expand_id(hub.store, guest_id)
        touched, queued = admin.unmerge(guest_id, link)
        warnings = admin.merged_in_crm(guest_id, touched)
    finally:
        hub.close()
    _done(f"took {link} out of {guest_id}", touched, queued)
    for line in warnings:
        err.print(escape(line))


@guests.command("blocking")
@pass_ctx
def blocking_cmd(ctx: Ctx) -> None:
    """How many candidate pairs each blocking rule produces on the linked records, how
    many their union (`identity.blocking`) gives, and how many records share no key with
    any other (they can only be guests of their own)."""
    hub = ctx.hub()
    try:
        rep = guest_admin.blocking(hub.store, hub.config.identity)
    finally:
        hub.close()
    table = Table("rule", "in use", "keys", "pairs", "capped keys")
    for r in rep.rules:
        table.add_row(
            r.rule, "yes" if r.enabled else "no", str(r.keys), str(r.pairs), str(r.capped)
        )
    out.print(table)
    out.print(
        f"{rep.records} records; the rules in use give {rep.union_pairs} distinct pairs; "
        f"{rep.alone} records share no key with another"
    )


@guests.command()
@click.option("--iterations", default=200, show_default=True, help="Most EM iterations.")
@pass_ctx
def weights(ctx: Ctx, iterations: int) -> None:
    """Estimate m/u weights from your data: u from random pairs of your records, m by EM
    over the pairs the match log compared. Prints the weights now and estimated per level,
    whether EM converged, the fields that keep their weights and why, and an
    `identity: fields:` block to paste into guestsync.yaml."""
    hub = ctx.hub()
    try:
        config = hub.config.identity
        found = guest_admin.weights(hub.store, config, iterations=iterations)
    finally:
        hub.close()
    if found is None:
        raise click.ClickException("no compared pairs in the match log yet: run a sync first")
    est, compared = found
    table = Table("field", "level", "weight now", "estimated", "note")
    for f, level, before, after, note in weight_table(est, config):
        table.add_row(f, level, f"{before:+.2f}", f"{after:+.2f}", escape(note))
    out.print(table)
    state = "converged" if est.converged else "did NOT converge (raise --iterations)"
    out.print(
        f"# {compared} compared pairs, {est.u_pairs} random pairs for u; EM {state} after "
        f"{est.iterations} iteration(s) (last change {est.change:.2g}); estimated share of "
        f"matches {est.prior:.3f}"
    )
    for f, why in est.kept.items():
        err.print(f"{f}: keeps its configured weights: {escape(why)}")
    moved = ", ".join(f"{n} {a} -> {b}" for (a, b), n in sorted(est.changed.items()))
    out.print(
        f"# with thresholds merge {est.merge:g} / review {est.review:g}, "
        + (
            f"compared pairs decided differently: {moved}"
            if moved
            else "no compared pair is decided differently"
        )
    )
    click.echo(to_yaml(est, config))


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--guests", "people", default=1000, show_default=True, help="Real people.")
@click.option("--per-guest", default=3.0, show_default=True, help="Mean records per person.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same data.")
def generate(out_dir: Path, people: int, per_guest: float, seed: int) -> None:
    """Write seeded synthetic guest records with realistic dirt (records.jsonl) and the
    ground truth (truth.csv: record id, person id), to measure dedupe quality."""
    n = write(out_dir, people, per_guest, seed=seed)
    out.print(f"wrote {n} records of {people} people to {out_dir}")
