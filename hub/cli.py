"""The `hub` console script: Flask CLI with the hub's own command groups."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from hub.bootstrap import Hub


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


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """The hub: vendor webhooks in, YAML recipes, one assignment service with source precedence."""
