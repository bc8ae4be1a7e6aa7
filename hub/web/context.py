"""Request helpers: the caller, the JSON body, paging; authorisation by role.

The wired Hub is ``hub.context.current_hub`` (one for the web, the CLI and the worker).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from flask import g, request

from connectors._limits import check_payload
from hub.context import current_hub
from hub.errors import MalformedBody, PermissionDenied, ValidationFailed
from hub.services.assignment import Cause
from hub.services.directory.keys import Principal, authenticate


def principal() -> Principal:
    return g.principal


def bearer_token() -> str | None:
    """The key in ``Authorization: Bearer <key>``, None when there is none."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def authenticate_request() -> None:
    g.principal = authenticate(current_hub(), bearer_token())


def require(*roles: str) -> Callable:
    """Only keys with one of these roles may call the view."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.principal.role not in roles:
                raise PermissionDenied(
                    f"a key with role {g.principal.role} may not do this (needs {', '.join(roles)})"
                )
            return view(*args, **kwargs)

        return wrapper

    return decorator


def visible_user_id() -> str | None:
    """account_manager keys see only the customers assigned to their user."""
    p = principal()
    return (p.user_id or "no-user") if p.role == "account_manager" else None


def json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw:
        raise MalformedBody("the request body is empty; send JSON")
    try:
        body = request.get_json(force=True, silent=False)
    except Exception as exc:  # werkzeug raises BadRequest with an HTML body; we answer JSON
        raise MalformedBody("the request body is not valid JSON") from exc
    # The same bounds as vendor payloads: NUL (PostgreSQL refuses it), depth, 64-bit numbers.
    check_payload(body, "the request body")
    return body


def request_cause(kind: str = "api_request") -> Cause:
    request_id = request.headers.get("X-Request-Id") or str(uuid.uuid4())
    return Cause(kind=kind, ref=request_id[:200], actor=principal().actor)


def paging(default_limit: int = 50, max_limit: int = 500) -> tuple[int, int]:
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", default_limit))
    except ValueError as exc:
        raise ValidationFailed("offset and limit must be integers") from exc
    if offset < 0 or not 1 <= limit <= max_limit:
        raise ValidationFailed(f"offset must be >= 0 and limit between 1 and {max_limit}")
    return offset, limit
