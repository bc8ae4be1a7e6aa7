"""`hub db upgrade|downgrade`: Alembic migrations with the configured database URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from alembic.util import CommandError
from flask.cli import AppGroup

from hub.context import current_hub
from hub.db import migrate


@contextmanager
def _revision_errors() -> Iterator[None]:
    """Alembic's own errors (an unknown revision, a database ahead of the code) as one line."""
    try:
        yield
    except CommandError as exc:
        raise click.ClickException(f"{exc}: revisions are the files in hub/db/migrations/versions; "
                                   "`hub db upgrade` alone goes to the newest") from exc


@click.group(cls=AppGroup)
def db() -> None:
    """Database migrations."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    with _revision_errors():
        migrate.upgrade(current_hub().settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    with _revision_errors():
        migrate.downgrade(current_hub().settings.database_url, revision)
    click.echo(f"database at {revision}")
