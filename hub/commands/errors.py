"""The errors a command can expect, as one line saying what to do: the hub's own errors, a
database that is down or not migrated, a setting that cannot be read. A traceback still means
a bug. Used by ``hub.cli`` for every command, and by commands that report an error and go on.
"""

from __future__ import annotations

from flask import has_app_context
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from hub.context import current_hub
from hub.errors import HubError

# PostgreSQL's undefined_table and undefined_column; SQLite says it in words.
_MISSING_SCHEMA_STATES = {"42P01", "42703"}
_MISSING_SCHEMA_WORDS = ("no such table", "no such column")
UPGRADE = "run `hub db upgrade`"
EXPECTED = (HubError, DBAPIError, ArgumentError)  # ArgumentError: a HUB_DATABASE_URL that is no URL


def cli_message(exc: Exception) -> str:
    """One line: what went wrong and what to do about it."""
    database = exc if isinstance(exc, DBAPIError) else exc.__cause__
    if isinstance(database, DBAPIError):
        message = _database_message(database)
    elif isinstance(exc, ArgumentError):
        message = f"HUB_DATABASE_URL is not a database URL ({exc}): fix it in the environment or .env"
    else:
        message = str(exc)
    return " ".join(message.split())


def _database_message(exc: DBAPIError) -> str:
    at = _database_url()
    state = getattr(exc.orig, "sqlstate", None)
    if state in _MISSING_SCHEMA_STATES or any(w in str(exc.orig).lower() for w in _MISSING_SCHEMA_WORDS):
        return f"the database{at} is not migrated (its tables are missing or older than the code): {UPGRADE}"
    if isinstance(exc, OperationalError) and at.startswith(" at sqlite"):
        return f"cannot open the database{at}: {UPGRADE} to create it, or fix HUB_DATABASE_URL"
    if isinstance(exc, OperationalError):
        return (f"cannot reach the database{at}: start it or fix HUB_DATABASE_URL (a new database "
                f"needs `hub db upgrade` first)")
    return f"the database{at} refused the command: {type(exc.orig).__name__}: {exc.orig}"


def _database_url() -> str:
    """` at URL` without its password, when the app (and so the settings) could be built."""
    if not has_app_context():
        return ""
    return " at " + make_url(current_hub().settings.database_url).render_as_string(hide_password=True)
