"""The pages: server-rendered Flask + Jinja2, enhanced with htmx, for ops, admins and integrators.

One blueprint per page family, each a thin view that calls one service and renders one template;
this package wires them, loads the viewer and checks CSRF before any of them runs, and turns the
hub's errors into pages (a sign-in redirect, a 403, a 404, a 400 naming the bad parameter).
Static files (htmx, Chart.js, the stylesheet) are committed under ``static/``: nothing is loaded
from another host, so the pages work offline.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, redirect, render_template, request
from markupsafe import Markup

from hub.errors import AuthenticationRequired, HubError
from hub.presentation import iso
from hub.web.pages import access, sign_in

log = logging.getLogger(__name__)
HTMX = "vendor/htmx-2.0.11.min.js"
CHART = "vendor/chart-4.6.1.umd.min.js"


PAGE_MODULES: tuple[str, ...] = (
    "dashboard",
    "runs",
    "events",
    "connections",
    "recipes",
    "customers",
    "customer_page",
    "bulk",
    "imports",
    "directory",
)


def page_modules() -> list[Any]:
    """The page families, in navigation order; each module has a blueprint ``bp``."""
    return [importlib.import_module(f"hub.web.pages.{name}") for name in PAGE_MODULES]


def build_blueprint() -> Blueprint:
    pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static")
    pages.register_blueprint(sign_in.bp)
    for module in page_modules():
        pages.register_blueprint(module.bp)

    @pages.before_request
    def _viewer() -> Any:
        if request.endpoint == "pages.static":  # files need no viewer: no query per stylesheet
            return None
        access.load_viewer()
        if request.endpoint in sign_in.PUBLIC:
            access.check_csrf()
            return None
        if g.viewer is None:
            return _to_sign_in()
        access.check_csrf()
        return None

    @pages.after_request
    def _headers(response: Response) -> Response:
        access.set_cookies(response)
        if request.endpoint != "pages.static":
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy",
                                        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        return response

    @pages.errorhandler(HubError)
    def _error(exc: HubError) -> Any:
        if isinstance(exc, AuthenticationRequired):
            return _to_sign_in()
        if exc.http_status >= 500:
            log.warning("%s: %s", exc.code, exc.message)
        return render_template("pages/error.html", error=exc), exc.http_status

    @pages.app_template_global()
    def csrf_token() -> str:
        return access.csrf_token()

    @pages.app_template_global()
    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(access.csrf_token())

    @pages.app_template_global()
    def can(*roles: str) -> bool:
        return access.can(*roles)

    @pages.app_template_filter("when")
    def when(value: datetime | None) -> Markup:
        """A time as <time>: UTC in the markup and on hover; hub.js shows it in the viewer's zone."""
        if value is None:
            return Markup('<span class="muted">—</span>')
        stamp = iso(value)
        return Markup('<time datetime="{0}" title="{0}">{1} UTC</time>').format(
            stamp, value.strftime("%Y-%m-%d %H:%M:%S"))

    @pages.app_context_processor
    def _globals() -> dict[str, Any]:
        return {"HTMX": HTMX, "CHART": CHART, "access": access}

    return pages


def _to_sign_in() -> Any:
    """To the sign-in form, coming back here after; an htmx refresh is told to leave the page."""
    if request.headers.get("HX-Request"):
        response = Response(status=401)
        response.headers["HX-Redirect"] = "/sign-in"
        return response
    target = request.full_path.rstrip("?") if request.method == "GET" else "/"
    return redirect("/sign-in?" + urlencode({"next": target}), 303)
