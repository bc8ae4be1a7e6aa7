"""`hub db upgrade|downgrade`: Alembic migrations with the configured database URL."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli import hub_of_app
from hub.db import migrate


@click.group(cls=AppGroup)
def db() -> None:
    """Database migrations."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    migrate.upgrade(hub_of_app().settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(hub_of_app().settings.database_url, revision)
    click.echo(f"database at {revision}")
