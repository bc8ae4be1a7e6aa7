"""The `hub` console script: Flask CLI with the hub's own command groups.

Settings come from the environment and a .env file in the working directory (`hub init-env`
writes the local ones). Every error a command can expect reaches the shell as one line saying
what to do, never a traceback: the hub's own errors, a database that is down or not migrated,
a setting that cannot be read (``HubGroup``). A traceback still means a bug.
"""

from __future__ import annotations

import click
from flask import Flask, current_app, has_app_context
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from hub.commands.init_env import init_env
from hub.errors import HubError
from hub.services.hub import Hub

# PostgreSQL's undefined_table and undefined_column; SQLite says it in words.
_MISSING_SCHEMA_STATES = {"42P01", "42703"}
_MISSING_SCHEMA_WORDS = ("no such table", "no such column")
UPGRADE = "run `hub db upgrade`"
EXPECTED = (HubError, DBAPIError, ArgumentError)  # ArgumentError: a HUB_DATABASE_URL that is no URL


def hub_of_app() -> Hub:
    return current_app.extensions["hub"]


def register_commands(app: Flask) -> None:
    from hub.commands import db, demo, imports, keys, recipes, runs, serve, try_webhook

    for group in (db.db, keys.keys, demo.demo, serve.serve, recipes.recipes, runs.runs,
                  imports.import_command, try_webhook.try_webhook):
        app.cli.add_command(group)


def _create_app() -> Flask:
    from hub.app import create_app

    return create_app()


class HubGroup(FlaskGroup):
    """Flask's group, with the errors a command can expect turned into one line each."""

    def invoke(self, ctx: click.Context) -> object:
        # The app is built here too (looking a command up loads it), so bad settings land here.
        try:
            return super().invoke(ctx)
        except EXPECTED as exc:
            raise click.ClickException(cli_message(exc)) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        # `hub --help` with unreadable settings: say why in one line, list what works without them.
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except EXPECTED as exc:
            click.echo(f"Error: {cli_message(exc)}", err=True)
            return sorted(self.commands)
        return super().list_commands(ctx)


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
    return " at " + make_url(hub_of_app().settings.database_url).render_as_string(hide_password=True)


@click.group(cls=HubGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """The hub: vendor webhooks in, YAML recipes, one assignment service with source precedence."""


main.add_command(init_env)  # needs no app: it writes the settings the app is built from
