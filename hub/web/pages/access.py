"""Who is looking at a page: the session cookie, roles, CSRF, and the account-manager scope.

Every page request reads its cookie once (``load_viewer``); forms and htmx posts must echo the
session's CSRF token (a hidden ``csrf_token`` field or the ``X-CSRF-Token`` header that hub.js
adds to every htmx request). The sign-in form, which has no session yet, uses a double-submit
cookie instead. Cookies are HttpOnly, SameSite=Lax, and Secure over https (or always, with
HUB_SECURE_COOKIES).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import g, request
from werkzeug.wrappers import Response

from hub.context import current_hub
from hub.errors import AuthenticationRequired, PermissionDenied
from hub.services.directory.sign_in import SignedIn, signed_in

SESSION_COOKIE = "hub_session"
SIGN_IN_CSRF_COOKIE = "hub_sign_in_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Roles of users (hub.services.directory.workflows.USER_ROLES) as the pages group them.
EVERYONE = ("admin", "ops", "viewer", "account_manager")
OPS_READERS = ("admin", "ops", "viewer")
REPLAYERS = ("admin", "ops")
ADMINS = ("admin",)


class CsrfRefused(PermissionDenied):
    code = "csrf_refused"


def load_viewer() -> None:
    g.viewer = signed_in(current_hub(), request.cookies.get(SESSION_COOKIE))


def viewer() -> SignedIn:
    found: SignedIn | None = g.get("viewer")
    if found is None:
        raise AuthenticationRequired("sign in to see this page")
    return found


def allow(*roles: str) -> Callable:
    """Only signed-in users with one of these roles may open the page (others get a 403 page)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = viewer()
            if who.role not in roles:
                raise PermissionDenied(f"this page is not open to the {who.role} role")
            return view(*args, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]  # read by the navigation and a test
        return wrapper

    return decorator


def can(*roles: str) -> bool:
    """For templates: show an action only to the roles that may take it."""
    who = g.get("viewer")
    return who is not None and who.role in roles


def visible_user_id() -> str | None:
    """An account manager sees only their own customers, as with their API key."""
    who = viewer()
    return who.user_id if who.role == "account_manager" else None


def check_csrf() -> None:
    """Every state-changing request of a page must carry its session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    who = g.get("viewer")
    expected = who.csrf_token if who else request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("this form has expired or did not come from this hub: "
                          "reload the page and try again")


def csrf_token() -> str:
    """The token for this page's forms; before sign-in, a fresh double-submit value."""
    who = g.get("viewer")
    if who is not None:
        return who.csrf_token
    if "sign_in_csrf" not in g:
        g.sign_in_csrf = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    return str(g.sign_in_csrf)


def _secure() -> bool:
    return request.is_secure or current_hub().settings.secure_cookies


def set_cookies(response: Response) -> Response:
    """After each page: the sign-in form's double-submit cookie when one was handed out."""
    if "sign_in_csrf" in g and request.cookies.get(SIGN_IN_CSRF_COOKIE) != g.sign_in_csrf:
        response.set_cookie(SIGN_IN_CSRF_COOKIE, g.sign_in_csrf, httponly=True, samesite="Lax",
                            secure=_secure(), max_age=3600)
    return response


def start_session(response: Response, token: str) -> Response:
    hours = current_hub().settings.session_hours
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=_secure(),
                        max_age=hours * 3600)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE)
    return response


def end_session(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE)
    return response
