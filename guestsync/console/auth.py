"""Who may use the console, and the headers every page carries.

The console answers only where the admin API does: 404 while `server.admin_token` is
unset, 403 to clients outside `server.admin_from` (localhost by default). A person logs
in once with the admin token; the signed session cookie (HttpOnly, SameSite=Strict) then
stands for it, so the token never sits in a page, a URL or a log line. Every POST carries
the session's CSRF token in a hidden field (SameSite alone does not cover older browsers
or a sibling site on the same host); a GET never changes anything.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from . import i18n
from .state import Console

PUBLIC = {"console.login", "console.static"}
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def csrf_token() -> str:
    """The session's CSRF token, made on first use (the login form needs one too)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _csrf_ok() -> bool:
    given = request.form.get("csrf", "")
    expected = session.get("csrf")
    return bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: a login link must not send anyone elsewhere."""
    if target and target.startswith("/console/") and not urlsplit(target).netloc:
        return target
    return url_for("console.review_page")


def add_routes(bp: Blueprint, console: Console) -> None:
    token = console.config.server.admin_token

    @bp.before_request
    def guard() -> Any:
        if token is None:
            abort(404)
        if request.remote_addr not in console.config.server.admin_from:
            abort(403)
        g.lang = i18n.pick(request.args.get("lang"), session.get("lang"), request)
        if request.args.get("lang") in i18n.LANGS:
            session["lang"] = g.lang
        if request.method == "POST" and not _csrf_ok():
            abort(403, "missing or wrong CSRF token")
        if request.endpoint in PUBLIC or session.get("user") == "admin":
            return None
        if request.method != "GET":
            abort(401)
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))

    @bp.after_request
    def secure_headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        if request.endpoint != "console.static":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @bp.app_context_processor
    def helpers() -> dict[str, Callable[..., Any]]:
        return {
            "t": i18n.label,
            "level": i18n.level,
            "csrf_token": csrf_token,
            "lang": lambda: g.get("lang", "en"),
        }

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        failed = False
        if request.method == "POST":
            assert token is not None  # guard answered 404 otherwise
            given = request.form.get("token", "")
            if hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
                lang = session.get("lang")
                session.clear()  # a fresh session (and CSRF token) after logging in
                session.permanent = True
                session["user"] = "admin"
                if lang:
                    session["lang"] = lang
                return redirect(_safe_next(request.form.get("next")))
            failed = True
        status = 401 if failed else 200
        page = render_template(
            "login.html", failed=failed, next=_safe_next(request.args.get("next"))
        )
        return page, status

    @bp.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("console.login"))
