"""The guest page: find a guest as `guestsync guests search` does (a name in any script,
a phone in any format, an email), then see what `guests show` and `guests explain` print,
merge another guest in (`guests merge`) and take a wrongly merged source record out
(`guests unmerge`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..actions import guests as guest_admin
from ..errors import GuestsyncError
from . import i18n
from .review import field_rows, guard_reason
from .state import Console


def add_routes(bp: Blueprint, console: Console) -> None:
    @bp.get("/guests")
    def guests_page() -> Any:
        q = request.args.get("q", "").strip()
        found = []
        if q:
            with console.lock:
                found = guest_admin.search(
                    console.store, q, region=console.config.defaults.region, limit=50
                )
        return render_template("guests.html", page="guests", q=q, found=found)

    @bp.get("/guests/<guest_id>")
    def guest_page(guest_id: str) -> Any:
        with console.lock:
            if not console.store.guest_exists(guest_id):
                abort(404)
            data = guest_admin.profile(console.store, guest_id)
            log = guest_admin.explain(console.store, guest_id)
        for row in log:
            row["field_rows"] = field_rows(row.get("fields") or {})
            row["guard"] = guard_reason(row.get("fields") or {})
        return render_template("guest.html", page="guests", data=data, log=log)

    @bp.post("/guests/<guest_id>/merge")
    def merge(guest_id: str) -> Any:
        try:
            with console.lock:
                other = guest_admin.expand_id(console.store, request.form.get("other", ""))
                admin = guest_admin.Admin(console.store, console.targets, console.config.identity)
                _, queued = admin.merge(guest_id, other)
        except GuestsyncError as e:
            flash(str(e), "error")
        else:
            flash(i18n.label("merged", n=queued), "ok")
        return redirect(url_for("console.guest_page", guest_id=guest_id))

    @bp.post("/guests/<guest_id>/unmerge")
    def unmerge(guest_id: str) -> Any:
        link = request.form.get("link", "")
        try:
            with console.lock:
                admin = guest_admin.Admin(console.store, console.targets, console.config.identity)
                touched, queued = admin.unmerge(guest_id, link)
                warnings = admin.merged_in_crm(guest_id, touched)
        except GuestsyncError as e:
            flash(str(e), "error")
        else:
            flash(i18n.label("unmerged", n=queued), "ok")
            for line in warnings:
                flash(line, "error")
        return redirect(url_for("console.guest_page", guest_id=guest_id))
