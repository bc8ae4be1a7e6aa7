"""The `hub` console script: Flask CLI with the hub's own command groups.

Settings come from the environment and a .env file in the working directory (`hub init-env`
writes the local ones). Every error a command can expect reaches the shell as one line saying
what to do, never a traceback (``HubGroup``, with the messages of ``hub.commands.errors``).

Only this module registers commands: ``create_cli_app`` is the web app (``hub.app``) with the
command groups added, so the app and the web never import the CLI.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from hub.commands.errors import EXPECTED, cli_message
from hub.commands.init_env import init_env

# hub/commands/serve.py still imports the Hub by this name; new code uses hub.context.current_hub.


def register_commands(app: Flask) -> None:
    from hub.commands import db, demo, dispatch, imports, keys, recipes, runs, serve, try_webhook, users

    for group in (db.db, keys.keys, demo.demo, serve.serve, recipes.recipes, runs.runs,
                  imports.import_command, try_webhook.try_webhook, users.users, dispatch.dispatch):
        app.cli.add_command(group)


def create_cli_app() -> Flask:
    from hub.app import create_app  # on first use: `hub init-env` builds no app

    app = create_app()
    register_commands(app)
    return app


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


@click.group(cls=HubGroup, create_app=create_cli_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """The hub: vendor webhooks in, YAML recipes, one assignment service with source precedence."""


main.add_command(init_env)  # needs no app: it writes the settings the app is built from
