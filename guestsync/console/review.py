"""The review queue: one possible duplicate at a time, side by side, field by field.

Each decision goes through `actions.guests.Admin`, the call behind `guestsync review
accept|reject`: the merge, the review's status, the match log and the CRM re-queue happen
in one transaction, exactly as from the CLI. Skip is a plain link (a GET changes nothing).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..actions import guests as guest_admin
from ..errors import GuestsyncError
from ..models import Guest
from ..restaurant import aggregates
from ..store.identity import ReviewItem
from . import i18n
from .state import Console

# match-log field -> how to read it off a golden record
FIELD_VALUES = {
    "name": lambda g: g.display_name(),
    "loyalty": lambda g: ", ".join(g.loyalty_ids),
}


def field_value(guest: Guest | None, field: str) -> str:
    """A guest's value for a match-log field, as text ("" when it has none)."""
    if guest is None:
        return ""
    read = FIELD_VALUES.get(field)
    value = read(guest) if read else getattr(guest, field, None)
    return "" if value is None else str(value)


def field_rows(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The match log's `fields` JSON as rows: level, weight, the term-frequency adjustment
    inside that weight (a common name weighs less) and what the family guard dropped."""
    return [
        {
            "field": name,
            "level": v.get("level", ""),
            "w": v.get("w"),
            "tf": v.get("tf"),
            "dropped": v.get("dropped"),
        }
        for name, v in fields.items()
        if not name.startswith("_") and isinstance(v, dict)
    ]


def guard_reason(fields: dict[str, Any]) -> str | None:
    guard = fields.get("_guard")
    return guard.get("reason") if isinstance(guard, dict) else None


def side(console: Console, guest_id: str, ref: str) -> dict[str, Any]:
    """One side of the pair: its golden record, the record that was compared, and the
    guest's bookings and consent (aggregates.summary: what `guests show` prints)."""
    guest = console.store.get_guest(guest_id)
    return {
        "id": guest_id,
        "ref": ref,
        "guest": guest,
        "name": guest.display_name() if guest else "?",
        "activity": aggregates.summary(console.store, guest_id) if guest else {},
    }


def view(console: Console, item: ReviewItem) -> dict[str, Any]:
    """Each side as its guest is now: a guest merged since the item was queued shows the
    guest that absorbed it (and if both sides are one guest now, the page says so)."""
    left = side(console, guest_admin.current_id(console.store, item.guest_id), item.record_ref)
    right = side(console, guest_admin.current_id(console.store, item.candidate), item.candidate_ref)
    rows = field_rows(item.fields)
    shown = {r["field"] for r in rows}
    for r in rows:
        r["left"] = field_value(left["guest"], r["field"])
        r["right"] = field_value(right["guest"], r["field"])
    for extra in ("name", "email", "phone", "birthday", "address", "loyalty"):
        if extra not in shown:  # not compared, but a person wants to see it
            a, b = field_value(left["guest"], extra), field_value(right["guest"], extra)
            if a or b:
                rows.append({"field": extra, "left": a, "right": b, "level": "", "w": None})
    return {
        "item": item,
        "left": left,
        "right": right,
        "rows": rows,
        "guard": guard_reason(item.fields),
        "same": left["id"] == right["id"],
    }


def _name(console: Console, guest_id: str) -> str:
    """A guest's name as it is now (it may have been merged since), or its short id."""
    gid = guest_admin.current_id(console.store, guest_id)
    return field_value(console.store.get_guest(gid), "name") or gid[:8]


def next_open(items: list[ReviewItem], after: int | None) -> ReviewItem | None:
    """The first open item after `after` (skipped ones come round again at the end)."""
    if after is not None:
        later = [i for i in items if i.id > after]
        if later:
            return later[0]
    return items[0] if items else None


def add_routes(bp: Blueprint, console: Console) -> None:
    def admin() -> guest_admin.Admin:
        return guest_admin.Admin(console.store, console.targets, console.config.identity)

    @bp.get("/")
    def index() -> Any:
        return redirect(url_for("console.review_page"))

    @bp.get("/review")
    def review_page() -> Any:
        after = request.args.get("after", type=int)
        with console.lock:
            items = sorted(console.store.reviews(status="open", limit=10_000), key=lambda i: i.id)
            current = next_open(items, after)
            shown = view(console, current) if current else None
            upcoming = [(i, _name(console, i.guest_id)) for i in items if i != current][:10]
        return render_template(
            "review.html", view=shown, count=len(items), upcoming=upcoming, page="review"
        )

    @bp.post("/review/<int:item_id>/<any(accept, reject):decision>")
    def decide(item_id: int, decision: str) -> Any:
        try:
            with console.lock:
                if decision == "accept":
                    _touched, queued = admin().accept(item_id)
                    flash(i18n.label("accepted", n=queued), "ok")
                else:
                    admin().reject(item_id)
                    flash(i18n.label("rejected"), "ok")
        except GuestsyncError as e:
            flash(str(e), "error")
        return redirect(url_for("console.review_page", after=item_id))

    @bp.post("/review/bulk-accept")
    def bulk_accept() -> Any:
        """Accept every open item scoring at least `min_score`, one transaction each (as
        many `review accept` calls): one that fails does not undo the others."""
        floor = request.form.get("min_score", type=float)
        if floor is None:
            flash("min_score must be a number", "error")
            return redirect(url_for("console.review_page"))
        done = 0
        with console.lock:
            for item in console.store.reviews(status="open", limit=10_000):
                if item.score < floor:
                    continue
                try:
                    admin().accept(item.id)
                    done += 1
                except GuestsyncError as e:  # e.g. already decided through a chain
                    flash(str(e), "error")
        flash(i18n.label("bulk_done", n=done), "ok")
        return redirect(url_for("console.review_page"))
